"""Turn the sentences of a page's "Compatibility & Validation" section into rules.

The phrasings come from ``spec/platform.yaml`` (``ruleKinds.<kind>.phrasings``):
each is compiled to a regular expression in which a backticked capital letter
(`` `A` ``) stands for a parameter path and ``N`` for a whole number; `` `A...` `` stands
for two or more backticked paths joined by "or" or by commas, `` `A+` `` for two or more
joined by "and" or by commas ("`a`, `b`, and `c`"), `` `S` `` for the object the
sentence's other paths are relative to ("Inside `inputs`, ...", "... (in `inputs`)"), and
`` `V` `` (`` `V...` ``) for a value (values) as written ("must be `7`") and a bare ``W``
for words the rule does not need. Letters before
"is provided" / "is not provided" (negated: the paths' absence), "cannot be used with" or
"and ... cannot be used together" are the rule's condition, the others its consequence; a
path written ``a/b`` is the pair a and b. A sentence stating two consequences of one
condition ("When `a` is provided, `duration` is limited to `5` and dimensions are limited
to ...") is read as one sentence per consequence. Adding a phrasing to the platform file is
all it takes for the importer to read it; the rule each kind makes of a match is
that kind's ``from_sentence`` (``kinds.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..spec.kinds import Sentence, codegen_kind, split_paths
from ..spec.model import Platform

SECTION = "Compatibility & Validation"
_LETTER = re.compile(r"`([A-Z])(\.\.\.|\+)?`|\bN\b|\bW\b")
_PATH = r"`[^`]+`"
_LIST = rf"{_PATH}(?:(?:,\s*or\s+|,\s*|\s+or\s+){_PATH})+"
_AND_LIST = rf"{_PATH}(?:(?:,\s*and\s+|,\s*|\s+and\s+){_PATH})+"
_CUTS = ("is provided", "is not provided", "cannot be used with", "cannot be used together")
SCOPE = "S"  # the letter naming the object a sentence's paths are relative to
VALUE = "V"  # the letter standing for a value as written ("must be `7`")
# "When `a` is provided, <one consequence> and <another>.": read as two sentences.
_TWO = re.compile(
    r"^(?P<head>When .+? is (?:not )?provided), (?P<first>.+?) and "
    r"(?P<second>dimensions are limited to .+)$"
)


@dataclass(frozen=True)
class Phrasing:
    kind: str
    text: str
    regex: re.Pattern[str]
    condition: tuple[str, ...]  # letters before "is provided"
    consequence: tuple[str, ...]  # the other letters, in order
    any_consequence: bool  # "`B` or `C` is required": any one of them
    lists: frozenset[str] = frozenset()  # letters standing for several paths (`A...`)
    negated: bool = False  # "is not provided"


def compile_phrasing(kind: str, text: str) -> Phrasing:
    pattern, letters, pos = "", [], 0
    lists: set[str] = set()
    for m in _LETTER.finditer(text):
        pattern += re.escape(text[pos : m.start()])
        if m.group(2):
            pattern += f"(?P<{m.group(1)}>{_LIST if m.group(2) == '...' else _AND_LIST})"
            lists.add(m.group(1))
        if m.group(1):
            pattern += "" if m.group(2) else f"`(?P<{m.group(1)}>[^`]+)`"
            if m.group(1) not in (SCOPE, VALUE):
                letters.append((m.group(1), m.start()))
        elif m.group(0) == "W":
            pattern += r"[\w ]+?"
        else:
            pattern += r"(?P<N>\d+)"
        pos = m.end()
    pattern += re.escape(text[pos:])
    cut = min((at for at in map(text.find, _CUTS) if at >= 0), default=-1)
    condition = tuple(ch for ch, at in letters if cut >= 0 and at < cut)
    if text.endswith("cannot be used together.") and letters:  # the first forbids the rest
        condition = (letters[0][0],)
    consequence = tuple(ch for ch, _ in letters if ch not in condition)
    tail = text[cut:] if cut >= 0 else text
    any_consequence = len(consequence) > 1 and re.search(r"` or `", tail) is not None
    return Phrasing(
        kind,
        text,
        re.compile(pattern + r"\s*$"),
        condition,
        consequence,
        any_consequence,
        frozenset(lists),
        "is not provided" in text,
    )


def phrasings(platform: Platform) -> list[Phrasing]:
    """Every phrasing of every rule kind of the platform, longest first (most specific)."""
    found = [
        compile_phrasing(kind, text)
        for kind, spec in platform.rule_kinds.items()
        for text in spec.phrasings
        if "`" in text
    ]
    return sorted(found, key=lambda p: -len(p.text))


def _operand(value: str, scope: str) -> str | list[str]:
    parts = [f"{scope}{p}" for p in split_paths(value)]
    return parts[0] if len(parts) == 1 else parts


def _captures(m: re.Match[str], letter: str, phrasing: Phrasing) -> list[str]:
    """The backticked texts a letter matched: one, or several for a list letter."""
    if letter in phrasing.lists:
        return re.findall(r"`([^`]+)`", m[letter])
    return [m[letter]]


def _paths(m: re.Match[str], phrasing: Phrasing, letters: Sequence[str], scope: str) -> list[str]:
    return [
        f"{scope}{p}"
        for ch in letters
        for text in _captures(m, ch, phrasing)
        for p in split_paths(text)
    ]


def rule_from_sentence(sentence: str, known: Sequence[Phrasing]) -> dict[str, Any] | None:
    """The rule a sentence states (without ``id`` uniqueness), or None if no phrasing fits.
    Each kind builds its own rule from what the phrasing captured (``kinds.py``)."""
    return _rule(sentence, sentence, known)


def rules_from_sentence(sentence: str, known: Sequence[Phrasing]) -> list[dict[str, Any]]:
    """Every rule a sentence states: one, or one per consequence of a two-consequence
    sentence (each quoting the whole sentence); [] if no phrasing fits (any part)."""
    two = _TWO.match(sentence)
    if two is None:
        rule = _rule(sentence, sentence, known)
        return [] if rule is None else [rule]
    parts = [f"{two['head']}, {two['first']}.", f"{two['head']}, {two['second']}"]
    rules = [_rule(part, sentence, known) for part in parts]
    return [r for r in rules if r is not None] if None not in rules else []


def _rule(text: str, quote: str, known: Sequence[Phrasing]) -> dict[str, Any] | None:
    for phrasing in known:
        m = phrasing.regex.match(text)
        kind = codegen_kind(phrasing.kind)
        if m is None or not kind.reads_sentences:
            continue
        scope = f"{m[SCOPE]}." if SCOPE in m.groupdict() else ""
        return kind.from_sentence(
            Sentence(
                text=text,
                condition=_paths(m, phrasing, phrasing.condition, scope),
                consequence=_paths(m, phrasing, phrasing.consequence, scope),
                operands=[
                    _operand(t, scope)
                    for ch in phrasing.consequence
                    for t in _captures(m, ch, phrasing)
                ],
                number=int(m["N"]) if "N" in m.groupdict() else None,
                any_consequence=phrasing.any_consequence,
                source={"section": SECTION, "quote": quote},
                values=_captures(m, VALUE, phrasing) if VALUE in m.groupdict() else [],
                negated=phrasing.negated,
                phrasing=phrasing.text,
            )
        )
    return None
