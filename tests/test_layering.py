"""codegen's and mockserver's sub-packages, and their imports run one way.

runtime (shipped into generated/) <- spec <- docs, emit <- cli, regenerate, diff,
page_review. ``docs`` and ``emit`` never import each other, nor another sub-package's private
names; ``spec`` imports neither; ``runtime`` imports nothing of codegen but itself.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.source_trees import parse

CODEGEN = REPO / "codegen"
# sub-package -> the sub-packages it may import from
ALLOWED = {
    "runtime": {"runtime"},
    "spec": {"spec", "runtime"},
    "docs": {"docs", "spec", "runtime"},
    "emit": {"emit", "spec", "runtime"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, source: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line, absolute module, names) of every import in ``path``, relative ones resolved."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names = [a.name for a in node.names]
            if node.module is None:  # from . import x: each name is a module
                for name in names:
                    yield node.lineno, f"{module}.{name}", []
            else:
                yield node.lineno, module, names


def violations(path: Path, source: str | None = None) -> list[str]:
    """What is wrong with the imports of ``path`` (or of ``source`` as if it were there)."""
    layer = module_name(path).split(".")[1]
    found = []
    text = path.read_text(encoding="utf-8") if source is None else source
    for line, module, names in imports(path, text):
        parts = module.split(".")
        if parts[0] != "codegen" or len(parts) < 2 or parts[1] not in ALLOWED:
            if parts[0] == "codegen" and layer in ALLOWED and len(parts) > 1:
                found.append(f"{path.name}:{line} imports top-level {module}")
            continue
        target = parts[1]
        where = f"{path.relative_to(REPO)}:{line}"
        if target not in ALLOWED[layer]:
            found.append(f"{where}: {layer} imports {module}")
        elif target != layer:
            private = [n for n in names if n.startswith("_")]
            if private:
                found.append(f"{where}: {layer} imports private {private} of {module}")
    return found


LAYERED = sorted(p for p in CODEGEN.rglob("*.py") if p.parent != CODEGEN)


@pytest.mark.parametrize("path", LAYERED, ids=[str(p.relative_to(CODEGEN)) for p in LAYERED])
def test_imports_run_one_way(path: Path) -> None:
    assert violations(path) == []


def test_the_checker_sees_a_wrong_way_import() -> None:
    """The check itself: a spec module importing emit, and docs using emit's private name."""
    spec = CODEGEN / "spec" / "model.py"
    docs = CODEGEN / "docs" / "page.py"
    assert violations(spec) == [] and violations(docs) == []
    for original, line in (
        (spec, "from ..emit.tables import rule_table\n"),
        (docs, "from ..spec.loader import _validator\n"),
        (docs, "from ..emit import generate\n"),
    ):
        assert len(violations(original, line)) == 1, line


def test_every_module_is_in_a_layer() -> None:
    top = {p.name for p in CODEGEN.glob("*.py")}
    assert top == {
        "__init__.py",
        "__main__.py",
        "_bootstrap.py",
        "cli.py",
        "diff.py",
        "page_review.py",
        "regenerate.py",
    }
    assert {p.name for p in CODEGEN.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        ALLOWED
    )


def store_imports(path: Path, source: str | None = None) -> set[str]:
    """The mockserver modules a store module imports."""
    text = path.read_text(encoding="utf-8") if source is None else source
    return {m for _, m, _ in imports(path, text) if m.startswith("mockserver.")}


STORE = REPO / "mockserver" / "store"


def test_store_backends_depend_only_on_the_protocol() -> None:
    """protocol <- memory, sqlite <- the package: no cycle, and a new backend needs only the
    protocol (the memory store also its expiry index, which needs nothing). Sessions (per
    process) are not the store's business."""
    assert store_imports(STORE / "protocol.py") == set()
    assert store_imports(STORE / "expiry.py") == set()
    protocol, expiry = "mockserver.store.protocol", "mockserver.store.expiry"
    assert store_imports(STORE / "memory.py") == {protocol, expiry}
    assert store_imports(STORE / "sqlite.py") == {protocol}
    assert store_imports(STORE / "memory.py", "from ..sessions import Session\n") == {
        "mockserver.sessions"
    }  # the check resolves relative imports, so it would see a backend reaching out


# ── mockserver/: by role, imports one way ─────────────────────────────────────────────

MOCK = REPO / "mockserver"
# layer -> the layers it may import from (itself included). Bottom to top: base (security,
# logs, the request line); store; media; core (the Runware reply, engine, models); lifecycle
# (what happens after a task is accepted); protocols (uvicorn subclasses); http (the app and
# its routes). The package's top-level modules (cli, testing, pytest_plugin, extras) are the
# entry points above them all.
MOCK_ALLOWED = {
    "base": {"base"},
    "store": {"store"},
    "media": {"media"},
    "core": {"core", "store", "media", "base"},
    "lifecycle": {"lifecycle", "core", "store", "media", "base"},
    "protocols": {"protocols", "core", "base"},
    "http": {"http", "protocols", "lifecycle", "core", "store", "media", "base"},
}
MOCK_TOP = {
    "__init__.py",
    "__main__.py",
    "cli.py",
    "compiled.py",
    "extras.py",
    "pytest_plugin.py",
    "serving.py",
    "testing.py",
}


def mock_violations(path: Path, source: str | None = None) -> list[str]:
    """Imports of ``path`` (or ``source`` as if it were there) into a layer above its own,
    or into the package's top-level (entry-point) modules. TYPE_CHECKING imports count."""
    layer = module_name(path).split(".")[1]
    text = path.read_text(encoding="utf-8") if source is None else source
    found = []
    for line, module, _ in imports(path, text):
        parts = module.split(".")
        if parts[0] != "mockserver" or len(parts) < 2:
            continue
        where = f"{path.relative_to(REPO)}:{line}"
        if parts[1] not in MOCK_ALLOWED[layer]:
            found.append(f"{where}: {layer} imports {module}")
    return found


MOCK_LAYERED = sorted(p for p in MOCK.rglob("*.py") if p.parent != MOCK)


@pytest.mark.parametrize("path", MOCK_LAYERED, ids=[str(p.relative_to(MOCK)) for p in MOCK_LAYERED])
def test_mock_imports_run_one_way(path: Path) -> None:
    assert mock_violations(path) == []


def mock_graph() -> dict[str, set[str]]:
    """Every mockserver module -> the mockserver modules it imports (a name imported from a
    package counts as that package's submodule when there is one)."""
    paths = {module_name(p): p for p in MOCK.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        deps = set()
        for _, module, names in imports(path, path.read_text(encoding="utf-8")):
            if not module.startswith("mockserver"):
                continue
            subs = {f"{module}.{n}" for n in names} & paths.keys()
            deps |= subs or ({module} & paths.keys())
        graph[name] = deps - {name}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, if it has any (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_mock_modules_import_no_circle() -> None:
    graph = mock_graph()
    assert cycle(graph) is None
    # the check itself: the circle the package had (app <-> its routes) is seen
    graph["mockserver.http.rest"] = graph["mockserver.http.rest"] | {"mockserver.http.app"}
    assert cycle(graph) == ["mockserver.http.app", "mockserver.http.rest", "mockserver.http.app"]


def test_the_mock_checker_sees_an_upward_import() -> None:
    """An engine reaching up to the HTTP layer, the reply into lifecycle, a protocol into the
    routes (even for types only), the bottom layer into the store: each is one violation."""
    for path, line in (
        (MOCK / "core" / "engine.py", "from ..http.app import MockServer\n"),
        (MOCK / "core" / "reply.py", "from mockserver.lifecycle import delivery\n"),
        (
            MOCK / "protocols" / "direct.py",
            "if TYPE_CHECKING:\n    from ..http.rest import Rest\n",
        ),
        (MOCK / "base" / "logs.py", "from ..store import Store\n"),
        (MOCK / "media" / "rendering.py", "from .. import cli\n"),
    ):
        assert mock_violations(path) == []
        assert len(mock_violations(path, line)) == 1, line


def test_every_mock_module_is_in_a_layer() -> None:
    assert {p.name for p in MOCK.glob("*.py")} <= MOCK_TOP
    assert {p.name for p in MOCK.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        MOCK_ALLOWED
    )


def test_the_engine_needs_no_web_framework() -> None:
    """core/ and lifecycle/ run without Starlette or uvicorn: the Runware reply is in
    core/reply.py, its Starlette responses in http/responses.py."""
    code = (
        "import sys, mockserver.core.engine, mockserver.core.answer, "
        "mockserver.lifecycle.completion\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]"


def test_tests_are_laid_out_by_subject() -> None:
    """tests/ by subject, as the code is laid out; each mock test module is named after the
    module (or store backend) of mockserver/ it tests."""
    tests = REPO / "tests"
    assert {"codegen", "runtime", "mock"} <= {p.name for p in tests.iterdir() if p.is_dir()}
    top = {p.name for p in tests.glob("test_*.py")}
    assert top == {"test_boundaries.py", "test_dev_script.py", "test_layering.py", "test_readme.py"}
    names = {p.stem if p.is_file() else p.name for p in MOCK.rglob("*") if p.suffix in (".py", "")}
    for path in sorted((tests / "mock").glob("test_*.py")):
        assert path.stem.removeprefix("test_") in names, path.name
