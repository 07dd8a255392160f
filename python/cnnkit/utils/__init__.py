"""Utilities: seeding and label encoding."""

from cnnkit.utils.random import global_generator, set_random_seed

__all__ = ["global_generator", "set_random_seed"]
