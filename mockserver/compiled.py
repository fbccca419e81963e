"""The request path compiled with mypyc: the same source, about a third less CPU per request.

What is left of a validated ``POST /v1`` is the interpreter's own cost, hundreds of small
Python calls with no one part large (``docs/performance.md``). mypyc (shipped with mypy)
compiles the modules in ``MODULES`` from their type annotations into C extensions, unchanged.

- ``python -m mockserver.compiled build`` compiles them (needs mypy, setuptools, a C compiler
  and the Python headers) into a per-user cache folder named after the interpreter and every
  source file of the two packages (``build_dir``): a build is found again for the same code,
  and never used for other code. ``./dev`` runs it; without a compiler it says so and the
  mock runs as Python.
- The server process (``python -m mockserver``) then imports those modules from the build
  (``activate``, before anything imports them), and its ``--workers`` processes too
  (``ACTIVE``, an environment variable they inherit, read only beside the CLI's
  ``WORKER_ARGS``). ``--pure-python`` or
  ``RUNWARE_MOCK_PURE_PYTHON=1`` runs the source as it is. The start-up line says which.
- Nothing else changes: tests import the source (no test process activates a build unless
  a test does so itself), and ``tests/mock/test_compiled.py`` checks that a compiled and a
  pure-Python server answer the same requests with the same bytes.

Compiled code checks its annotations at run time and calls other compiled code directly;
module attributes patched from outside are not seen by it. Modules that mypyc cannot compile
as they are stay Python (``benchmarks/hot_path.py --compiled`` measures the difference).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# The modules a validated POST /v1 spends its time in (benchmarks/hot_path.py), compiled as they
# stand. Not here: the HTTP protocols (mockserver.protocols: subclasses of uvicorn's classes).
MODULES = (
    "mockserver.core.engine",
    "mockserver.core.answer",
    "mockserver.core.journal",
    "mockserver.core.reply",
    "mockserver.core.replay",
    "mockserver.core.ids",
    "mockserver.store.memory",
    "mockserver.store.expiry",
    "mockserver.store.protocol",
    "mockserver.base.security",
    "mockserver.http.rest",
    "mockserver.http.base_url",
    "runware_contract.values",
    "runware_contract.rule_kinds",
    "runware_contract.runtime",
)
ACTIVE = "RUNWARE_MOCK_COMPILED"  # the build a server process activated (its workers read it)
PURE = "RUNWARE_MOCK_PURE_PYTHON"  # 1: never activate
WORKER_ARGS = "RUNWARE_MOCK_WORKER_ARGS"  # the CLI's command line, for its --workers processes
MANIFEST = "manifest.json"
# What this process's request path runs, for the start-up line (``start`` sets it).
status = "Python"

SETUP = """
import sys
from mypyc.build import mypycify
from setuptools import setup

out, temp, *paths = sys.argv[1:]
setup(
    name="runware-mock-compiled",
    ext_modules=mypycify(paths, opt_level="3"),
    script_args=["build_ext", "--build-lib", out, "--build-temp", temp],
)
"""


def sources(modules: Sequence[str] = MODULES) -> dict[str, Path]:
    """Each module's source file, found without importing it (or its package's other
    modules: ``runware_contract``'s ``__init__`` imports the rest)."""
    found: dict[str, Path] = {}
    for name in modules:
        top, _, rest = name.partition(".")
        spec = importlib.util.find_spec(top)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(f"no package {top!r} to compile {name} from")
        root = Path(next(iter(spec.submodule_search_locations)))
        found[name] = root.joinpath(*rest.split(".")).with_suffix(".py")
    return found


def _package_sources(modules: Sequence[str] = MODULES) -> list[tuple[str, Path]]:
    """Every module of the packages ``modules`` come from, by its path in the package
    (compiled code checks the annotations of what it calls in the others too: a change
    anywhere there makes it a build for other code)."""
    roots = {path.parents[len(name.split(".")) - 2] for name, path in sources(modules).items()}
    found = [(p.relative_to(r.parent).as_posix(), p) for r in roots for p in r.rglob("*.py")]
    return sorted(found)


def build_key(modules: Sequence[str] = MODULES) -> str:
    """What a build is for: this interpreter's ABI, how it is built, the modules compiled
    and every source file of their packages, hashed."""
    digest = hashlib.sha256()
    abi = (sys.implementation.cache_tag, sysconfig.get_platform(), sys.abiflags,
           sysconfig.get_config_var("EXT_SUFFIX"), SETUP, *modules)  # fmt: skip
    digest.update(repr(abi).encode())
    for name, path in _package_sources(modules):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "runware-mock" / "compiled"


def build_dir(modules: Sequence[str] = MODULES) -> Path:
    """Where the build of the current source is (whether or not it exists)."""
    return cache_root() / build_key(modules)


class _FromBuild(importlib.abc.MetaPathFinder):
    """Finds the modules of one build (and the shared library they all import) there."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        return None if file is None else importlib.util.spec_from_file_location(fullname, file)


def activate(where: Path | None = None) -> str:
    """Import ``MODULES`` from the build of the current source from now on, when there is
    one, it loads, and none of them is imported yet; what the request path runs, as the
    start-up line says it."""
    try:
        key = build_key()
    except (ImportError, OSError) as exc:  # an install without the modules (or unreadable)
        return f"Python (no source to match a compiled build with: {exc})"
    where = cache_root() / key if where is None else where
    try:
        manifest = json.loads((where / MANIFEST).read_text())
        files = {name: where / file for name, file in manifest["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "Python (no compiled build of this code: python -m mockserver.compiled build)"
    if manifest.get("key") != key or where.name != key:
        return f"Python (the compiled build in {where} is of other code)"
    if not set(MODULES) <= files.keys() or not all(f.is_file() for f in files.values()):
        return f"Python (the compiled build in {where} is incomplete)"
    early = sorted(name for name in MODULES if name in sys.modules)
    if early:
        return f"Python ({', '.join(early)} imported before the build could be used)"
    finder = _FromBuild(files)
    sys.meta_path.insert(0, finder)
    try:  # the library every compiled module runs in: one that cannot load is not used
        for name in files.keys() - set(MODULES):
            importlib.import_module(name)
    except ImportError as exc:
        sys.meta_path.remove(finder)
        return f"Python (the compiled build in {where} does not load: {exc})"
    os.environ[ACTIVE] = str(where)
    return f"compiled ({len(MODULES)} modules, mypyc)"


def deactivate() -> None:
    """Forget any build activated in this process (its finder; modules already imported
    from it stay)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _FromBuild)]
    os.environ.pop(ACTIVE, None)


def pure_python_asked(argv: Sequence[str]) -> bool:
    """``--pure-python`` among the arguments, as argparse reads it (any unambiguous
    abbreviation: ``--pur`` on), or ``RUNWARE_MOCK_PURE_PYTHON=1``."""
    flag = "--pure-python"
    return os.environ.get(PURE) == "1" or any(
        len(a) >= len("--pur") and flag.startswith(a) for a in argv
    )


def start(argv: Sequence[str]) -> str:
    """What ``python -m mockserver`` runs first: the compiled request path unless told not
    to (``--pure-python``, ``RUNWARE_MOCK_PURE_PYTHON=1``)."""
    global status
    deactivate()  # whatever the environment said: this process decides (and its workers)
    status = "Python (--pure-python)" if pure_python_asked(argv) else activate()
    return status


def inherit() -> None:
    """A ``--workers`` process (spawned by the CLI, which sets ``WORKER_ARGS``): the build
    its parent server activated, if it is the build of this code."""
    where = os.environ.get(ACTIVE)
    if where and os.environ.get(WORKER_ARGS):
        global status
        status = activate(Path(where))


def build(modules: Sequence[str] = MODULES) -> Path:
    """Compile ``modules`` into ``build_dir``; nothing to do, and nothing said, when that
    build is there already."""
    where = build_dir(modules)
    if (where / MANIFEST).is_file():
        return where
    if importlib.util.find_spec("mypyc") is None:
        raise BuildFailed("mypy is not installed (pip install mypy; ./dev installs it)")
    if not any(shutil.which(cc) for cc in (os.environ.get("CC", "cc"), "cc", "gcc")):
        raise BuildFailed("no C compiler (Debian: apt-get install gcc)")
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        raise BuildFailed("no Python headers (Debian: apt-get install python3-dev)")
    paths = sources(modules)
    print(
        f"compiling the mock's request path ({len(modules)} modules) with mypyc: about a "
        "minute, once per version of its source",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="runware-mock-build-") as work:
        # a folder of its own: the C sources go to ./build, and no project file is read
        setup = Path(work) / "setup_compiled.py"
        setup.write_text(textwrap.dedent(SETUP))
        out = Path(work) / "lib"
        run = subprocess.run(
            [sys.executable, str(setup), str(out), str(Path(work) / "temp")]
            + [str(p) for p in paths.values()],
            cwd=work,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise BuildFailed((run.stdout + run.stderr)[-4000:])
        where.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{where.name}.", dir=where.parent))
        try:
            _stage(out, staging, where, modules)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # renamed into place, or given up
    print(f"compiled into {where}", file=sys.stderr)
    return where


def _stage(out: Path, staging: Path, where: Path, modules: Sequence[str]) -> None:
    """The extensions built in ``out`` as a build folder, moved to ``where`` whole."""
    files: dict[str, str] = {}
    for built in out.rglob("*.so"):
        relative = built.relative_to(out)
        stem = relative.name.split(".")[0]
        name = ".".join((*relative.parts[:-1], stem))  # or the shared library's own
        file = name + relative.name[len(stem) :]  # the ABI suffix kept: an extension's
        shutil.copy2(built, staging / file)
        files[name] = file
    missing = set(modules) - set(files)
    if missing:
        raise BuildFailed(f"mypyc built no extension for {', '.join(sorted(missing))}")
    manifest = {"key": where.name, "files": files, "python": sys.version}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1))
    if where.is_dir() and not (where / MANIFEST).is_file():
        shutil.rmtree(where)  # what a crashed build left
    try:
        staging.rename(where)  # whole or not at all
    except OSError:  # another build of the same source finished first: that one stays
        if not (where / MANIFEST).is_file():
            raise


class BuildFailed(Exception):
    """mypyc or the C compiler failed (their output, cut to its end)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mockserver.compiled",
        description="Compile the mock's request path with mypyc (see the module's docstring).",
    )
    parser.add_argument("command", choices=["build", "where"])
    args = parser.parse_args(argv)
    if args.command == "where":
        print(build_dir())
        return 0
    try:
        build()
    except (BuildFailed, OSError) as exc:
        print(f"not compiled (the mock runs as Python): {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
