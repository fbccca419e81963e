"""Turn the sentences of a page's "Compatibility & Validation" section into rules.

The phrasings come from ``spec/platform.yaml`` (``ruleKinds.<kind>.phrasings``):
each is compiled to a regular expression in which a backticked capital letter
(`` `A` ``) stands for a parameter path and ``N`` for a whole number. Letters before
"is provided" are the rule's condition, the others its consequence; a path
written ``a/b`` is the pair a and b. Adding a phrasing to the platform file is
all it takes for the importer to read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SECTION = "Compatibility & Validation"
_LETTER = re.compile(r"`([A-Z])`|\bN\b")


@dataclass(frozen=True)
class Phrasing:
    kind: str
    text: str
    regex: re.Pattern[str]
    condition: tuple[str, ...]  # letters before "is provided"
    consequence: tuple[str, ...]  # the other letters, in order
    any_consequence: bool  # "`B` or `C` is required": any one of them


def compile_phrasing(kind: str, text: str) -> Phrasing:
    pattern, letters, pos = "", [], 0
    for m in _LETTER.finditer(text):
        pattern += re.escape(text[pos : m.start()])
        if m.group(1):
            pattern += f"`(?P<{m.group(1)}>[^`]+)`"
            letters.append((m.group(1), m.start()))
        else:
            pattern += r"(?P<N>\d+)"
        pos = m.end()
    pattern += re.escape(text[pos:])
    cut = text.find("is provided")
    condition = tuple(ch for ch, at in letters if cut >= 0 and at < cut)
    consequence = tuple(ch for ch, _ in letters if ch not in condition)
    tail = text[cut:] if cut >= 0 else text
    any_consequence = len(consequence) > 1 and re.search(r"` or `", tail) is not None
    return Phrasing(
        kind, text, re.compile(pattern + r"\s*$"), condition, consequence, any_consequence
    )


def phrasings(platform: Mapping[str, Any]) -> list[Phrasing]:
    """Every phrasing of every rule kind in the platform data, longest first (most specific)."""
    found = [
        compile_phrasing(kind, text)
        for kind, spec in platform["ruleKinds"].items()
        for text in spec.get("phrasings", [])
        if "`" in text
    ]
    return sorted(found, key=lambda p: -len(p.text))


def _paths(value: str) -> list[str]:
    return [part.strip() for part in value.split("/") if part.strip()]


def _operand(value: str) -> str | list[str]:
    parts = _paths(value)
    return parts[0] if len(parts) == 1 else parts


def _words(paths: Sequence[str], joiner: str) -> str:
    return f" {joiner} ".join(paths)


def slug(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", last).lower()


def _id(*parts: Sequence[str] | str) -> str:
    words: list[str] = []
    for part in parts:
        if isinstance(part, str):
            words.append(part)
        else:
            words.append("-".join(slug(p) for p in part))
    return "-".join(words)


def rule_from_sentence(sentence: str, known: Sequence[Phrasing]) -> dict[str, Any] | None:
    """The rule a sentence states (without ``id`` uniqueness), or None if no phrasing fits."""
    for phrasing in known:
        m = phrasing.regex.match(sentence)
        if m is None:
            continue
        cond = [p for ch in phrasing.condition for p in _paths(m[ch])]
        cons = [p for ch in phrasing.consequence for p in _paths(m[ch])]
        source = {"section": SECTION, "quote": sentence}
        kind = phrasing.kind
        if kind == "exactlyOne":
            ops = [_operand(m[ch]) for ch in phrasing.consequence]
            flat = [o if isinstance(o, str) else "/".join(o) for o in ops]
            names = [o if isinstance(o, str) else " and ".join(o) for o in ops]
            return {
                "id": _id(_paths(flat[0]), "or", _paths(flat[1])),
                "kind": kind,
                "params": ops,
                "message": f"Give exactly one of {_words(names, 'or')}.",
                "source": source,
            }
        if kind == "requires":
            clause = "anyOf" if phrasing.any_consequence else "allOf"
            return {
                "id": _id(cond, "require", cons),
                "kind": kind,
                "when": {"anyOf": cond},
                "then": {clause: cons},
                "message": f"{_words(cond, 'or')} needs "
                f"{_words(cons, 'or' if clause == 'anyOf' else 'and')}.",
                "source": source,
            }
        if kind == "forbids":
            return {
                "id": _id(cond, "forbid", cons),
                "kind": kind,
                "when": {"anyOf": cond},
                "forbid": cons,
                "message": f"{_words(cons, 'and')} cannot be used with {_words(cond, 'or')}.",
                "source": source,
            }
        if kind == "limitItems":
            target, limit = cons[-1], int(m["N"])
            return {
                "id": _id([target], "limit-with", cond),
                "kind": kind,
                "when": {"anyOf": cond},
                "target": target,
                "maxItems": limit,
                "message": f"With {_words(cond, 'or')}, {target} takes at most {limit} items.",
                "source": source,
            }
        if kind == "together":
            both = cond + cons
            return {
                "id": _id(both, "together"),
                "kind": kind,
                "params": both,
                "message": f"{_words(both, 'and')} must be given together.",
                "source": source,
            }
    return None
