"""Sessions: `nox -s spec lint tests` is what CI runs (through `./dev test`)."""

from __future__ import annotations

import nox

nox.options.sessions = ["spec", "lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

SOURCES = ["codegen", "tests", "noxfile.py"]


@nox.session
def spec(session: nox.Session) -> None:
    """Check every spec file against the meta-schema and the cross-reference checks."""
    session.install("-e", ".")
    session.run("python", "-m", "codegen", "lint-spec")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict."""
    session.install("-e", ".[test,dev]")
    session.run("ruff", "check", *SOURCES)
    session.run("ruff", "format", "--check", *SOURCES)
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """The pytest suite (Hypothesis runs in its derandomized CI profile)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)
