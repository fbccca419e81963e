"""The spec files' YAML as ruamel round-trip trees: reading and writing byte for byte,
building nodes in the spec's style, and editing entries without moving the comments and
blank lines that separate them."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, MutableMapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

# Page-stated keys of a parameter, in the order new keys are placed.
KEY_ORDER = ["path", "group", "anchor", "type", "docsType", "items", "required", "docsRequired",
             "const", "format", "minimum", "maximum", "minLength", "maxLength", "minItems",
             "maxItems", "multipleOf", "default", "enum", "pairedWith", "codes", "derived",
             "description", "docsPath", "docsDigest", "notes", "curated"]  # fmt: skip


def yaml_rt() -> YAML:
    """The round-trip YAML settings that reproduce the spec files byte for byte."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def dump(tree: Any) -> str:
    out = io.StringIO()
    yaml_rt().dump(tree, out)
    return out.getvalue()


def place(target: MutableMapping[str, Any], key: str, value: Any) -> None:
    """Set ``key``, placing a new key where KEY_ORDER puts it among the existing ones."""
    if key in target or not isinstance(target, CommentedMap):
        target[key] = value
        return
    rank = KEY_ORDER.index(key) if key in KEY_ORDER else len(KEY_ORDER)
    keys = list(target.keys())
    pos = next(
        (i for i, k in enumerate(keys) if k in KEY_ORDER and KEY_ORDER.index(k) > rank), len(keys)
    )
    tail = take_tail(target) if pos == len(keys) else None
    target.insert(pos, key, value)
    give_tail(target, tail)


# ruamel keeps the lines after an entry (a blank line, the next group's heading comment)
# on the entry's last scalar; entries that gain or lose their last key, or leave a list,
# hand those lines on so the file's layout survives.


def _tail_slot(node: Any) -> tuple[dict[Any, list[Any]], Any, int] | None:
    """Where the comment after ``node``'s last line is kept: (ca.items, key, position)."""
    if isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        last = node[key]
        if isinstance(last, CommentedMap | CommentedSeq) and not last.fa.flow_style():
            return _tail_slot(last)
        return node.ca.items, key, 2 if isinstance(node, CommentedMap) else 0
    return None


def take_tail(node: Any) -> Any:
    slot = _tail_slot(node)
    entry = slot[0].get(slot[1]) if slot else None
    if slot is None or not entry or entry[slot[2]] is None:
        return None
    token, entry[slot[2]] = entry[slot[2]], None
    return token


def give_tail(node: Any, token: Any) -> None:
    slot = _tail_slot(node)
    if token is None or slot is None:
        return
    entry = slot[0].setdefault(slot[1], [None, None, None, None])
    if entry[slot[2]] is None:
        entry[slot[2]] = token


def delete_key(target: CommentedMap, key: str) -> None:
    """Delete ``key``, keeping the lines that followed the entry."""
    tail = take_tail(target)
    del target[key]
    give_tail(target, tail)


def remove_item(seq: CommentedSeq, item: Any) -> None:
    """Remove ``item``; the lines after it follow the item before."""
    at = next(i for i, x in enumerate(seq) if x is item)
    tail = take_tail(item)
    del seq[at]
    if at > 0:
        give_tail(seq[at - 1], tail)


def same(a: Any, b: Any) -> bool:
    """Equal as JSON (so 1 is not True and not 1.0; ruamel's scalar types are their values)."""
    return json.dumps(as_data(a), sort_keys=True) == json.dumps(as_data(b), sort_keys=True)


def as_data(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): as_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_data(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


def spec_node(value: Any) -> Any:
    """Plain data as ruamel nodes; small maps of scalars in flow style, like the spec's."""
    if isinstance(value, Mapping):
        out = CommentedMap((k, spec_node(v)) for k, v in value.items())
        if all(not isinstance(v, (Mapping, list)) for v in value.values()) and len(value) <= 6:
            out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq(spec_node(v) for v in value)
        if all(not isinstance(v, (Mapping, list)) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def block_node(value: Any) -> Any:
    """Examples keep block style (as in the spec file) at every level."""
    if isinstance(value, Mapping):
        return CommentedMap((k, block_node(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(block_node(v) for v in value)
    return value


def entry_node(value: Mapping[str, Any]) -> CommentedMap:
    return CommentedMap((k, spec_node(v)) for k, v in value.items())
