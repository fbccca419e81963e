"""codegen's sub-packages follow the pipeline, and their imports run one way.

runtime (shipped into generated/) <- spec <- docs, emit <- cli, regenerate, diff,
page_review. ``docs`` and ``emit`` never import each other, nor another sub-package's private
names; ``spec`` imports neither; ``runtime`` imports nothing of codegen but itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

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
    for node in ast.walk(ast.parse(source)):
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
    protocol. Sessions (per process) are not the store's business."""
    assert store_imports(STORE / "protocol.py") == set()
    for backend in ("memory.py", "sqlite.py"):
        assert store_imports(STORE / backend) == {"mockserver.store.protocol"}, backend
    assert store_imports(STORE / "memory.py", "from ..sessions import Session\n") == {
        "mockserver.sessions"
    }  # the check resolves relative imports, so it would see a backend reaching out
