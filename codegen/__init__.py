"""Spec loader and code generator for the Runware contract kit."""

try:
    from .spec_loader import SpecError, load_specs
    from .spec_model import SpecSet
except ModuleNotFoundError as _missing:  # a bare interpreter: use the project's .venv
    from ._bootstrap import rerun_in_project_venv

    rerun_in_project_venv(_missing)
    raise

__all__ = ["SpecError", "SpecSet", "load_specs"]
