"""Sessions: `nox` with no arguments runs what CI runs (through `./dev test`)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nox

nox.options.sessions = [
    "spec",
    "check",
    "lint",
    "tests",
    "sdk_runware_0_5",
    "sdk_runware_1_8",
    "sdk_js",
    "schemathesis",
    "install_client",
    "install_testing",
    "install_mock",
    "dev_script",
]
nox.options.reuse_existing_virtualenvs = True

SOURCES = ["codegen", "mockserver", "tests", "benchmarks", "noxfile.py", "setup.py"]


@nox.session
def spec(session: nox.Session) -> None:
    """Check every spec file against the meta-schema and the cross-reference checks."""
    session.install("-e", ".[codegen]")
    session.run("python", "-m", "codegen", "lint-spec")


@nox.session
def check(session: nox.Session) -> None:
    """Fail with a diff when generated/ is not what the spec generates."""
    session.install("-e", ".[codegen]")
    session.run("python", "-m", "codegen", "check")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate generated/ from spec/ (commit the result)."""
    session.install("-e", ".[codegen]")
    session.run("python", "-m", "codegen", "generate")


@nox.session
def regenerate(session: nox.Session) -> None:
    """A changed docs page, end to end: `nox -s regenerate -- PAGE.md [--fail-on LEVEL]
    [--allow-breaking] [pytest args]`. Imports the page into spec/, prints the classified spec
    diff (also in build/spec-diff.txt and .json), regenerates generated/, then runs the tests.
    ERR changes stop it before generating unless --allow-breaking; with --fail-on, changes at
    that level do (the spec is left as it was either way)."""
    usage = "usage: nox -s regenerate -- PAGE.md [--fail-on LEVEL] [--allow-breaking] [pytest args]"
    if not session.posargs:
        session.error(usage)
    page, *rest = session.posargs
    flags: list[str] = []
    while rest[:1] in (["--fail-on"], ["--allow-breaking"]):
        taken = rest[:2] if rest[0] == "--fail-on" else rest[:1]
        flags += taken
        rest = rest[len(taken) :]
    session.install("-e", ".[test]")
    session.run("python", "-m", "codegen", "regenerate", page, *flags)
    session.run("pytest", *rest)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy --strict."""
    session.install("-e", ".[test,dev]")
    session.run("ruff", "check", *SOURCES)
    session.run("ruff", "format", "--check", *SOURCES)
    session.run("mypy")


@nox.session
def schemathesis(session: nox.Session) -> None:
    """Schemathesis against the mock's generated OpenAPI (an external oracle)."""
    session.install("-e", ".[test]", "schemathesis>=4,<5")
    session.run("pytest", "tests/contract/test_schemathesis.py", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The property suite with the long `fuzz` Hypothesis profile (not part of CI)."""
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "tests/runtime/test_properties.py",
        *session.posargs,
        env={"HYPOTHESIS_PROFILE": "fuzz"},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (not part of CI): generator and validate() against fastjsonschema; the mock
    against Prism 5 (needs Node.js; installs Prism and autocannon from npm)."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/codegen_bench.py")
    session.run("python", "benchmarks/mock_vs_prism.py", *session.posargs)


@nox.session
def load(session: nox.Session) -> None:
    """Load and memory benchmark (not part of CI): 50,000 requests from 100 REST/WebSocket
    clients against the memory and SQLite stores; server RSS after 100,000 tasks."""
    session.install("-e", ".[mock]")
    session.run("python", "benchmarks/load.py", *session.posargs)


@nox.session
def mutation(session: nox.Session) -> None:
    """Mutation testing (`nox -s mutation [-- TARGET... --timeout S]`, targets in
    tests/mutation/run.py): cosmic-ray's mutants of the runtime, the consistency analysis, the
    docs importer, the spec diff and the mock's engine, stores, completion, delivery, security,
    limits, scenarios and WebSocket code, each run against the tests whose coverage reaches the
    mutated line, in a temporary copy of the checkout (an interrupted run leaves no mutant
    behind) where the generated package's runtime copies are links to the mutated sources.
    Scores per module, before (main's tests) and after, in build/mutation.json. Not part of CI."""
    session.install("-e", ".[test]", "cosmic-ray==8.7.0", "coverage>=7.10")
    here = Path.cwd()
    report = here / "build" / "mutation.json"
    # MUTATION_WORK: a folder kept between runs (its coverage maps and partial results), so an
    # interrupted run resumes; remove it after changing tests (its maps would miss them).
    kept = os.environ.get("MUTATION_WORK")
    with contextlib.ExitStack() as stack:
        if kept:
            tmp = str(Path(kept).resolve())
            shutil.rmtree(Path(tmp) / "checkout", ignore_errors=True)
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="runware-mutation-"))
        copy = Path(tmp) / "checkout"
        skip = shutil.ignore_patterns(".git", ".venv", ".nox", "build", "*cache*", "*.egg-info")
        shutil.copytree(here, copy, ignore=skip, symlinks=True)
        for source in (copy / "codegen" / "runtime").glob("*.py"):
            linked = copy / "generated" / "runware_contract" / source.name
            if linked.exists() and source.name != "__init__.py":
                linked.unlink()
                linked.symlink_to(source)
        env = {
            "PYTHONPATH": f"{copy}{os.pathsep}{copy / 'generated'}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        with session.chdir(copy):
            session.run(
                "python", "-m", "tests.mutation.run", f"--origin={here}", f"--work={tmp}",
                f"--report={report}", *session.posargs, env=env,
            )  # fmt: skip


@nox.session
def tests(session: nox.Session) -> None:
    """The pytest suite (Hypothesis runs in its derandomized CI profile)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def sdk_runware_0_5(session: nox.Session) -> None:
    """The official runware 0.5.24 SDK (WebSocket) against the mock, in its own environment."""
    session.install("-e", ".[test]", "runware==0.5.24")
    env = {"RUNWARE_VIDEO_INITIAL_TIMEOUT": "2000", "RUNWARE_VIDEO_POLLING_DELAY": "200"}
    session.run("pytest", "tests/sdk/test_runware_0_5.py", *session.posargs, env=env)


@nox.session
def sdk_runware_1_8(session: nox.Session) -> None:
    """The official runware-sdk 1.8.0 (REST and WebSocket) against the mock, in its own env."""
    session.install("-e", ".[test]", "runware-sdk==1.8.0")
    session.run("pytest", "tests/sdk/test_runware_sdk_1_8.py", *session.posargs)


@nox.session
def sdk_js(session: nox.Session) -> None:
    """The official JS SDK (@runware/sdk-js 1.3.2, pinned by tests/sdk/js/package-lock.json)
    against the mock serving an image model; needs Node.js and npm."""
    session.install("-e", ".[test]")
    session.run("npm", "ci", "--no-audit", "--no-fund", "--prefix", "tests/sdk/js", external=True)
    env = {"RUNWARE_SDK_JS": "1"}
    session.run("pytest", "tests/sdk/test_sdk_js.py", *session.posargs, env=env)


@nox.session
def hostile(session: nox.Session) -> None:
    """The hostile suite, long attacks included: each attack on a real mock process and its
    effect (/health latency, RSS growth, deliveries, statuses) in one table (not part of CI,
    which runs the quick half inside `tests`)."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/hostile", "--hostile-full", *session.posargs)


def _consumer() -> ModuleType:
    """tests/consumer/project.py (standard library only), loaded from its file: the
    consumer's layout and README's blocks, without this repository on sys.path."""
    spec = importlib.util.spec_from_file_location("project", "tests/consumer/project.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _consumer_project(session: nox.Session) -> Iterator[None]:
    """tests/consumer/ laid out in a temporary folder outside the repository, the session's
    working directory for the block: its tests import the package installed in the session's
    venv, never this source tree, and no pytest configuration of this repository applies."""
    with tempfile.TemporaryDirectory(prefix="runware-consumer-") as tmp:
        session.run("python", "tests/consumer/project.py", tmp)
        with session.chdir(tmp):
            yield


def _fresh_wheel(session: nox.Session, tmp: Path) -> str:
    """The kit's wheel, built from a copy of this tree whose build/lib still holds a module
    the tree no longer has (what an earlier build leaves after a module left generated/):
    the wheel must hold only what the tree holds (setup.py's build_py starts empty), and the
    dashboard's static files."""
    copy = tmp / "tree"
    skip = shutil.ignore_patterns(".git", ".venv", ".nox", "build", "*cache*", "*.egg-info")
    shutil.copytree(Path.cwd(), copy, ignore=skip)
    stale = copy / "build" / "lib" / "runware_contract" / "removed_module.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("raise ImportError('a module left over from an earlier build')\n")
    session.run("python", "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp), str(copy))
    (wheel,) = tmp.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    leftovers = [name for name in names if name.endswith(stale.name)]
    if leftovers:
        session.error(f"the wheel holds {leftovers}, which the tree no longer has")
    # the dashboard's page is package data: a wheel without it serves a 500 at /__admin/ui
    static = [f"mockserver/http/dashboard/static/{n}" for n in ("index.html", "app.js", "app.css")]
    if missing := [name for name in static if name not in names]:
        session.error(f"the wheel lacks the dashboard's {missing}")
    return str(wheel)


@nox.session(reuse_venv=False)
def install_client(session: nox.Session) -> None:
    """A fresh venv with the kit alone (`pip install .`, a built wheel): which distributions it
    brings (pydantic, httpx and theirs), the client and validators working, and a one-line
    message naming the extra from everything that needs one (pytest added for the plugin)."""
    with tempfile.TemporaryDirectory(prefix="runware-wheel-") as tmp:
        session.install(_fresh_wheel(session, Path(tmp)))
    with _consumer_project(session):
        session.run("python", "installed.py")
        session.install("pytest")
        session.run("pytest", "-p", "no:cacheprovider", "test_client_only.py", *session.posargs)
        # the messages' hint works as written: pip reads the extra from the installed kit
        session.run("python", "-m", "pip", "install", "--dry-run", "runware-contract-kit[testing]")


@nox.session(reuse_venv=False)
def install_testing(session: nox.Session) -> None:
    """A fresh venv with README's `pip install 'PATH[testing]'` (PATH: this tree): README's
    second path, its files as written, in a consumer's folder (Hypothesis's default settings),
    and the other fixtures (the per-test mock, respx on api.runware.ai, real video files)."""
    consumer = _consumer()
    session.run(*consumer.install_command(str(Path.cwd())))
    with _consumer_project(session):
        session.run(
            "pytest",
            "-p",
            "no:cacheprovider",
            consumer.PROPERTY_TEST,
            "test_fixtures.py",
            *session.posargs,
        )


@nox.session(reuse_venv=False)
def install_mock(session: nox.Session) -> None:
    """A fresh venv with `pip install .[mock,codegen]` (a built wheel, no source tree in
    reach): `runware-mock --page PAGE.md` and `--spec DIR` start and serve the model, built
    against the platform spec the package ships."""
    session.install(".[mock,codegen]")
    with _consumer_project(session):
        session.run("python", "mock_page.py")


@nox.session
def dev_script(session: nox.Session) -> None:
    """./dev for real in a temporary copy, installs included (they need PyPI, so they stay out
    of the offline `tests` session)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-p", "no:cacheprovider", "tests/test_dev_script.py", "--with-pypi")
