"""Sessions: `nox` with no arguments runs what CI runs (through `./dev test`)."""

from __future__ import annotations

import nox

nox.options.sessions = ["spec", "check", "lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

SOURCES = ["codegen", "mockserver", "tests", "benchmarks", "noxfile.py"]


@nox.session
def spec(session: nox.Session) -> None:
    """Check every spec file against the meta-schema and the cross-reference checks."""
    session.install("-e", ".")
    session.run("python", "-m", "codegen", "lint-spec")


@nox.session
def check(session: nox.Session) -> None:
    """Fail with a diff when generated/ is not what the spec generates."""
    session.install("-e", ".")
    session.run("python", "-m", "codegen", "check")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate generated/ from spec/ (commit the result)."""
    session.install("-e", ".")
    session.run("python", "-m", "codegen", "generate")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict."""
    session.install("-e", ".[test,dev]")
    session.run("ruff", "check", *SOURCES)
    session.run("ruff", "format", "--check", *SOURCES)
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (not part of CI): generator wall time, validate() vs fastjsonschema."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/codegen_bench.py", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The pytest suite (Hypothesis runs in its derandomized CI profile)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)
