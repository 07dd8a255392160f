"""Utilities: seeding and label encoding."""

from cnnkit.utils.np_utils import to_categorical
from cnnkit.utils.random import global_generator, set_random_seed

__all__ = ["global_generator", "set_random_seed", "to_categorical"]
