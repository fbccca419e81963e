"""Spec loader and code generator for the Runware contract kit."""

from .spec_loader import SpecError, load_specs
from .spec_model import SpecSet

__all__ = ["SpecError", "SpecSet", "load_specs"]
