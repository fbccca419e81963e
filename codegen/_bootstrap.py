"""`python -m codegen` from an interpreter without the project's dependencies.

A bare `python` (a git hook, a new shell) lacks ruamel.yaml and friends; when the
project's `.venv` (made by `./dev`) exists, the command re-runs itself there instead of
failing with ModuleNotFoundError.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def rerun_in_project_venv(error: ModuleNotFoundError) -> None:
    """Re-exec `python -m codegen ARGS` with .venv's interpreter. Without one, the command
    says what to install in one line and exits with status 2; an import of the library
    raises ``ModuleNotFoundError`` with the same hint."""
    venv_python = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "python"
    running_as_main = sys.argv[:1] in (["-m"], [str(Path(__file__).with_name("__main__.py"))])
    if running_as_main and venv_python.exists() and Path(sys.prefix) != venv_python.parents[1]:
        os.execv(str(venv_python), [str(venv_python), "-m", "codegen", *sys.argv[1:]])
    hint = (
        f"{error} (in a clone, run ./dev first to install the project; elsewhere, "
        "pip install 'runware-contract-kit[codegen]')"
    )
    if running_as_main:
        print(f"python -m codegen: {hint}", file=sys.stderr)
        raise SystemExit(2)
    raise ModuleNotFoundError(hint) from error
