"""Models: Sequential, and load_model for files written by Model.save."""

from cnnkit.models.saving import load_model
from cnnkit.models.sequential import Sequential

__all__ = ["Sequential", "load_model"]
