"""Spec loader and code generator for the Runware contract kit.

Sub-packages follow the pipeline: ``runtime`` (the modules the generated package ships),
``spec`` (YAML with positions, the typed model, loader, checks, meta-schema), ``docs``
(a docs page into the spec) and ``emit`` (tables, JSON Schema, OpenAPI, pydantic models,
rendering); ``cli``, ``regenerate`` and ``diff`` sit on top.
"""

from importlib import import_module
from types import ModuleType

try:
    from .spec.loader import SpecError, load_specs
    from .spec.model import SpecSet
except ModuleNotFoundError as _missing:  # a bare interpreter: use the project's .venv
    from ._bootstrap import rerun_in_project_venv

    rerun_in_project_venv(_missing)
    raise

__all__ = ["SpecError", "SpecSet", "load_specs"]

# Modules once at the top of the package, still reachable as ``from codegen import generate``.
_MOVED = {"generate": ".emit.generate", "contract_tables": ".emit.tables"}


def __getattr__(name: str) -> ModuleType:
    if name in _MOVED:
        return import_module(_MOVED[name], __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
