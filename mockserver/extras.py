"""What a missing optional dependency means, in one line naming the extra to install.

A client-only install (``pip install runware-contract-kit``) has the generated package and
nothing of the mock; pytest still loads this package's plugin, and ``mockserver`` still
imports. Anything that needs the mock's dependencies says which extra brings them.

In a clone, a bare ``python -m mockserver`` (a new shell, a git hook: an interpreter
without the extras) runs itself again with the ``.venv`` that ``./dev`` made, as
``python -m codegen`` does (``codegen/_bootstrap.py``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "runware-contract-kit"
_OWN = frozenset({"mockserver", "runware_contract", "codegen"})


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the extra."""


def version() -> str:
    """This kit's version, as installed (``--version`` of both commands)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a clone that was never installed
        return "unknown (not installed)"


def install_hint(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


@contextlib.contextmanager
def needs_extra(extra: str, what: str) -> Iterator[None]:
    """Turn a missing third-party module inside the block into ``MissingExtra``
    ("WHAT needs MODULE, from the [EXTRA] extra: pip install ..."); a missing module of
    this project's own is a bug and stays what it is."""
    try:
        yield
    except ModuleNotFoundError as error:
        module = (error.name or "").partition(".")[0]
        if not module or module in _OWN:
            raise
        raise MissingExtra(
            f"{what} needs {module}, from the [{extra}] extra: {install_hint(extra)}"
        ) from error


def project_venv_python() -> Path | None:
    """The interpreter of the clone's ``.venv`` (made by ``./dev``) when it exists and is
    not the one running: the one to run ``python -m mockserver`` with instead."""
    venv = Path(__file__).resolve().parents[1] / ".venv"
    python = venv / "bin" / "python"
    if not python.exists() or Path(sys.prefix).resolve() == venv.resolve():
        return None
    return python


def rerun_in_project_venv(argv: list[str]) -> None:
    """Replace this process by ``.venv/bin/python -m mockserver ARGV``, if there is one."""
    python = project_venv_python()
    if python is not None:
        os.execv(python, [str(python), "-m", "mockserver", *argv])
