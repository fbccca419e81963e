"""Which distributions the kit brings into this environment: ``python installed.py``.

Standard library only, so it can run in a fresh virtualenv that has nothing but the kit.
"""

from __future__ import annotations

import re
from importlib import metadata

KIT = "runware-contract-kit"
VENV_BASE = frozenset({"pip", "setuptools", "wheel"})  # what a new virtualenv may hold
# what a client-only install used to bring and must not: the mock, the generator, test tools
NOT_FOR_CLIENTS = frozenset(
    {
        "av",
        "datamodel-code-generator",
        "hypothesis",
        "jinja2",
        "jsonschema",
        "orjson",
        "pytest",
        "respx",
        "ruamel-yaml",
        "ruff",
        "starlette",
        "uvicorn",
        "websockets",
    }
)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> set[str]:
    return {canonical(d.metadata["Name"]) for d in metadata.distributions()}


def requires(name: str) -> set[str]:
    """What ``name`` requires without extras. Environment markers count as met, so this can
    only over-count: a distribution outside it was not brought by ``name``."""
    found = set()
    for requirement in metadata.distribution(name).requires or []:
        _, _, marker = requirement.partition(";")
        if re.search(r"\bextra\s*==", marker):
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
        if match:
            found.add(canonical(match.group()))
    return found


def closure(root: str) -> set[str]:
    """``root`` and every installed distribution it requires, transitively."""
    present = installed()
    seen: set[str] = set()
    todo = [canonical(root)]
    while todo:
        name = todo.pop()
        if name in seen or name not in present:
            continue
        seen.add(name)
        todo.extend(requires(name))
    return seen


def megabytes(names: set[str]) -> float:
    total = 0
    for name in names:
        for file in metadata.distribution(name).files or []:
            total += file.size or 0
    return total / 1e6


if __name__ == "__main__":
    brought = closure(KIT) - {KIT}
    print(
        f"{KIT} requires {', '.join(sorted(requires(KIT)))}; with their own requirements "
        f"it brought {len(brought)} distributions, {megabytes(brought):.1f} MB: "
        f"{', '.join(sorted(brought))}"
    )
