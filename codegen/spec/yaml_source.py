"""Read YAML with ruamel.yaml, keeping node positions, and convert to plain Python.

``YamlDocument`` holds both the position-carrying ruamel tree (for error
locations) and a plain ``dict``/``list`` copy (for validation and typing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from .model import Loc


class SpecIssue(Exception):
    """One problem in one spec file, at a position. An ``error`` means the spec cannot be
    served; a ``warning`` is served, with the reason said (``lint-spec`` prints both)."""

    def __init__(self, loc: Loc, message: str, level: str = "error") -> None:
        super().__init__(f"{loc}: {message}")
        self.loc = loc
        self.message = message
        self.level = level

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"

    def line(self) -> str:
        """The issue with its level, as lint-spec prints it."""
        return f"{self.loc}: {self.level}: {self.message}"


def errors(issues: Sequence[SpecIssue]) -> list[SpecIssue]:
    return [i for i in issues if i.level == "error"]


def warnings(issues: Sequence[SpecIssue]) -> list[SpecIssue]:
    return [i for i in issues if i.level != "error"]


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


# How many nodes a document may hold once its aliases are expanded: a few ``&a [*b, *b, ...]``
# lines would otherwise make a small file expand to billions of nodes (plain-data copies and
# validation walk the expansion). A real spec file has a few thousand.
MAX_EXPANDED_NODES = 200_000
# An anchor (``&name`` after a space, ``:``, ``-``, ``[``, ``{`` or ``,``): without one a
# document has no aliases to expand (an alias to no anchor is a YAML error), and is parsed once.
ANCHOR = re.compile(r"(?:^|[\s:\-\[{,])&[^\s,\[\]{}]")


def _expansion_problem(yaml: YAML, text: str, name: str) -> SpecIssue | None:
    """The alias that expands the document past ``MAX_EXPANDED_NODES``, found from the parser's
    events (linear in the text: each anchor's expanded size is counted once, never built)."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # [anchor, nodes so far] of each open collection
    for event in yaml.parse(text):
        if isinstance(event, AliasEvent):
            grown = sizes.get(event.anchor, 1)
        elif isinstance(event, ScalarEvent):
            grown = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, MappingStartEvent | SequenceStartEvent):
            stack.append([event.anchor, 1])
            continue
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            anchor, grown = stack.pop()
            if anchor is not None:
                sizes[anchor] = grown
        else:
            continue
        stack[-1][1] += grown
        if stack[-1][1] + sum(n for _, n in stack[:-1]) > MAX_EXPANDED_NODES:
            mark = event.start_mark
            return SpecIssue(
                Loc(name, mark.line + 1, mark.column + 1),
                f"YAML aliases expand this document past {MAX_EXPANDED_NODES} nodes; "
                "write the values out (or use fewer aliases)",
            )
    return None


def parse_yaml(text: str, name: str) -> YamlDocument:
    """Parse YAML text (named ``name`` in errors); as ``read_yaml``. A document whose aliases
    expand past ``MAX_EXPANDED_NODES`` is refused at the alias, before it is built."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        if ANCHOR.search(text) and (too_big := _expansion_problem(yaml, text, name)) is not None:
            raise too_big
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise SpecIssue(Loc(name, line, col), f"YAML error: {problem}") from exc
    return YamlDocument(file=name, tree=tree, data=to_plain(tree), text=text)
