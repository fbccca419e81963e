"""The flat parameter list as a tree: which parameters nest under which."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import Parameter

ROOT = ""


@dataclass(frozen=True)
class ParamTree:
    """Parameters by path, and each container's direct children in spec order."""

    by_path: Mapping[str, Parameter]
    children: Mapping[str, tuple[Parameter, ...]]

    @classmethod
    def build(cls, params: Iterable[Parameter]) -> ParamTree:
        by_path: dict[str, Parameter] = {}
        children: dict[str, list[Parameter]] = {ROOT: []}
        for p in params:
            by_path[p.path] = p
            children.setdefault(p.parent_path or ROOT, []).append(p)
        return cls(by_path, {k: tuple(v) for k, v in children.items()})

    def kids(self, path: str) -> tuple[Parameter, ...]:
        return self.children.get(path, ())

    def array_scope(self, paths: Iterable[str]) -> str:
        """The deepest array-of-objects path that contains every one of ``paths``
        (ROOT when none does). Rules over paths inside one array hold per item."""
        common: list[str] = []
        for level in zip(*(self.arrays_above(p) for p in paths), strict=False):
            if len(set(level)) != 1:
                break
            common.append(level[0])
        return common[-1] if common else ROOT

    def arrays_above(self, path: str) -> list[str]:
        """Array-of-objects paths strictly above ``path``, outermost first."""
        parts = path.split(".")
        prefixes = (".".join(parts[:i]) for i in range(1, len(parts)))
        return [p for p in prefixes if p in self.by_path and self.by_path[p].is_object_array]


def relative(path: str, scope: str) -> str:
    """``path`` as seen from inside ``scope`` (an item of that array, or the root)."""
    return path[len(scope) + 1 :] if scope else path


def pascal(text: str) -> str:
    return "".join(
        part[:1].upper() + part[1:] for part in text.replace("-", ".").split(".") if part
    )


def singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name
