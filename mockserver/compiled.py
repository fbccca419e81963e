"""The request path compiled with mypyc: the same source, about a third less CPU per request.

What is left of a validated ``POST /v1`` is the interpreter's own cost, hundreds of small
Python calls with no one part large (``docs/performance.md``). mypyc (shipped with mypy)
compiles the modules in ``MODULES`` from their type annotations into C extensions, unchanged.

- ``python -m mockserver.compiled build`` compiles them (needs mypy, setuptools, a C compiler
  and the Python headers) into a per-user cache folder named after the interpreter and the
  modules' source (``build_dir``): a build is found again for the same code, and never used
  for other code. ``./dev`` runs it; without a compiler it says so and the mock runs as
  Python.
- The server process (``python -m mockserver``) then imports those modules from the build
  (``activate``, before anything imports them), and its ``--workers`` processes too
  (``ACTIVE``, an environment variable they inherit). ``--pure-python`` or
  ``RUNWARE_MOCK_PURE_PYTHON=1`` runs the source as it is. The start-up line says which.
- Nothing else changes: tests import the source (``activate`` is never called in a test
  process), and ``tests/mock/test_compiled.py`` checks that a compiled and a pure-Python
  server answer the same requests with the same bytes.

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


def build_key(modules: Sequence[str] = MODULES) -> str:
    """What a build is for: this interpreter's ABI and every module's source, hashed."""
    digest = hashlib.sha256()
    digest.update(f"{sys.implementation.cache_tag} {sysconfig.get_platform()}".encode())
    for name, path in sources(modules).items():
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
    one and none of them is imported yet; what the request path runs, as the start-up line
    says it."""
    try:
        where = build_dir() if where is None else where
    except (ImportError, OSError) as exc:  # an install without the modules (or unreadable)
        return f"Python (no source to match a compiled build with: {exc})"
    try:
        manifest = json.loads((where / MANIFEST).read_text())
        files = {name: where / file for name, file in manifest["files"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return "Python (no compiled build of this code: python -m mockserver.compiled build)"
    if manifest.get("key") != where.name or not all(f.is_file() for f in files.values()):
        return f"Python (the compiled build in {where} is incomplete)"
    early = sorted(name for name in MODULES if name in sys.modules)
    if early:
        return f"Python ({', '.join(early)} imported before the build could be used)"
    sys.meta_path.insert(0, _FromBuild(files))
    os.environ[ACTIVE] = str(where)
    return f"compiled ({len(MODULES)} modules, mypyc)"


def start(argv: Sequence[str]) -> str:
    """What ``python -m mockserver`` runs first: the compiled request path unless told not
    to (``--pure-python``, ``RUNWARE_MOCK_PURE_PYTHON=1``)."""
    global status
    os.environ.pop(ACTIVE, None)  # set again below only for a build this process uses
    if "--pure-python" in argv or os.environ.get(PURE) == "1":
        status = "Python (--pure-python)"
    else:
        status = activate()
    return status


def inherit() -> None:
    """A ``--workers`` process: the build its parent server activated, if any."""
    where = os.environ.get(ACTIVE)
    if where:
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
        try:
            staging.rename(where)  # whole or not at all
        except OSError:  # another build of the same source finished first: that one stays
            shutil.rmtree(staging, ignore_errors=True)
            if not (where / MANIFEST).is_file():
                raise
    print(f"compiled into {where}", file=sys.stderr)
    return where


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
