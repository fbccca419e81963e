"""Read YAML with ruamel.yaml, keeping node positions, and convert to plain Python.

``YamlDocument`` holds both the position-carrying ruamel tree (for error
locations) and a plain ``dict``/``list`` copy (for validation and typing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from .model import Loc


class SpecIssue(Exception):
    """One problem in one spec file, at a position."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(f"{loc}: {message}")
        self.loc = loc
        self.message = message

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"


PathPart = str | int


@dataclass(frozen=True)
class YamlDocument:
    file: str
    tree: Any  # ruamel CommentedMap/CommentedSeq/scalar
    data: Any  # the same content as plain dict/list/str/int/float/bool/None
    text: str

    def loc(self, path: Sequence[PathPart], *, key: bool = False) -> Loc:
        """Position of the value at ``path`` (or of its key, with ``key=True``)."""
        node: Any = self.tree
        best = (0, 0)
        for part in path:
            try:
                if isinstance(node, CommentedMap) and part in node:
                    pos = node.lc.key(part) if key and part == path[-1] else node.lc.value(part)
                elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                    pos = node.lc.item(part)
                else:
                    break
            except (KeyError, TypeError, AttributeError):
                break
            if pos is not None and pos[0] is not None:
                best = (pos[0], pos[1])
            node = node[part]
        return Loc(self.file, best[0] + 1, best[1] + 1)


def to_plain(node: Any) -> Any:
    """Deep-copy a ruamel tree into built-in types (bool stays bool, dates stay strings)."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def read_text(path: Path) -> str:
    """A page or spec file's text (a byte-order mark dropped); a file that is not UTF-8 is a
    ValueError naming it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def read_yaml(path: Path, display_name: str | None = None) -> YamlDocument:
    """Parse one YAML file; syntax errors and duplicate keys become a SpecIssue."""
    return parse_yaml(read_text(path), display_name or str(path))


def parse_yaml(text: str, name: str) -> YamlDocument:
    """Parse YAML text (named ``name`` in errors); as ``read_yaml``."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise SpecIssue(Loc(name, line, col), f"YAML error: {problem}") from exc
    return YamlDocument(file=name, tree=tree, data=to_plain(tree), text=text)
