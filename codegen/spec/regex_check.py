"""Patterns a backtracking regex engine runs in super-linear time on (``lint-spec`` refuses them).

Python's ``re`` and most JSON Schema validators backtrack. A pattern is slow when one run of
characters can be split between two unbounded quantifiers in many ways: ``[^\\s/?#]+[^\\s]*``
(quadratic on a long run followed by a failing character), ``(a+)+`` (exponential). The check
looks, for every unbounded quantifier whose part can start with a character set A, at what can
follow it (the rest of its sequence, the enclosing groups' rest, and inside a repeated group
the group again): an unbounded quantifier that can start with a character of A, reached
without passing an item that must start with a character outside A, is reported (quadratic);
so is a repeated part that can match nothing, or one holding a choice (a variable quantifier,
alternatives) that the next character does not decide (exponential). An item that must begin
outside A ends A's run at one place only, which is what makes ``[^;,]+;`` or
``(;[a-z]+=[^;,]+)*`` safe.
Character sets are compared over the Latin range plus a few characters of other classes.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

with warnings.catch_warnings():  # the parser is only reachable under its deprecated name
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants as c
    import sre_parse

ALPHABET = frozenset(map(chr, range(0x250))) | frozenset("\u2028\u3000\u00a0\u0663\u4e2d")
_CATEGORIES = {
    name: frozenset(ch for ch in ALPHABET if re.fullmatch(rx, ch))
    for name, rx in (
        (c.CATEGORY_DIGIT, r"\d"),
        (c.CATEGORY_NOT_DIGIT, r"\D"),
        (c.CATEGORY_SPACE, r"\s"),
        (c.CATEGORY_NOT_SPACE, r"\S"),
        (c.CATEGORY_WORD, r"\w"),
        (c.CATEGORY_NOT_WORD, r"\W"),
    )
}
_REPEATS = (c.MAX_REPEAT, c.MIN_REPEAT)  # possessive repeats never backtrack
Item = tuple[Any, Any]


class Unsupported(ValueError):
    """A construct the check does not model (lookarounds, back references, ...)."""


def _charset(op: Any, av: Any) -> frozenset[str]:
    if op is c.LITERAL:
        return frozenset({chr(av)})
    if op is c.NOT_LITERAL:
        return ALPHABET - {chr(av)}
    if op is c.ANY:
        return ALPHABET - {"\n"}
    if op is c.CATEGORY:
        return _CATEGORIES[av]
    if op is c.IN:
        negate = False
        found: set[str] = set()
        for sub_op, sub_av in av:
            if sub_op is c.NEGATE:
                negate = True
            elif sub_op is c.RANGE:
                found |= {ch for ch in ALPHABET if sub_av[0] <= ord(ch) <= sub_av[1]}
            else:
                found |= _charset(sub_op, sub_av)
        return ALPHABET - found if negate else frozenset(found)
    raise Unsupported(f"{op} is not supported")


def _children(op: Any, av: Any) -> list[list[Item]]:
    """The sequences inside a compound item (a group's, each branch's, a repeat's body)."""
    if op is c.SUBPATTERN:
        return [list(av[3])]
    if op is c.BRANCH:
        return [list(branch) for branch in av[1]]
    if op in _REPEATS or op is c.POSSESSIVE_REPEAT or op is c.ATOMIC_GROUP:
        return [list(av[2] if op is not c.ATOMIC_GROUP else av)]
    return []


def _nullable(items: list[Item]) -> bool:
    return all(_item_nullable(op, av) for op, av in items)


def _item_nullable(op: Any, av: Any) -> bool:
    if op is c.AT:
        return True
    if op in _REPEATS or op is c.POSSESSIVE_REPEAT:
        return bool(av[0] == 0) or _nullable(list(av[2]))
    if op is c.BRANCH:
        return any(_nullable(list(b)) for b in av[1])
    if op is c.SUBPATTERN or op is c.ATOMIC_GROUP:
        return _nullable(_children(op, av)[0])
    return False


def _first(items: list[Item]) -> frozenset[str]:
    """The characters a match of ``items`` can start with."""
    found: frozenset[str] = frozenset()
    for op, av in items:
        found |= _item_first(op, av)
        if not _item_nullable(op, av):
            break
    return found


def _item_first(op: Any, av: Any) -> frozenset[str]:
    if op is c.AT:
        return frozenset()
    kids = _children(op, av)
    if kids:
        return frozenset().union(*(_first(k) for k in kids))
    return _charset(op, av)


def _unbounded(op: Any, av: Any) -> bool:
    return op in _REPEATS and av[1] == c.MAXREPEAT


def _reaches(run: frozenset[str], follow: list[Item]) -> bool:
    """Whether an unbounded quantifier that can continue ``run`` follows before a boundary."""
    for op, av in follow:
        if _item_first(op, av) & run:
            if _unbounded(op, av):
                return True
            if any(_reaches(run, kid) for kid in _children(op, av)):
                return True
        elif not _item_nullable(op, av):
            return False  # must start outside the run: the run ends at one place
    return False


def _either(one: list[Item], other: list[Item]) -> list[Item]:
    """A synthetic alternation: what follows the end of a repeated part."""
    return [(c.BRANCH, (None, [one, other]))]


def _choice(items: list[Item], follow: list[Item]) -> bool:
    """Whether a choice inside a repeated part (a variable quantifier, or alternatives) cannot
    be told apart by the next character: each iteration could then match in two ways."""
    for index, (op, av) in enumerate(items):
        after = items[index + 1 :] + follow
        if op in _REPEATS or op is c.POSSESSIVE_REPEAT:
            body = list(av[2])
            if op is not c.POSSESSIVE_REPEAT and av[0] != av[1] and _first(body) & _first(after):
                return True
            if _choice(body, _either(body + after, after) if av[1] > 1 else after):
                return True
        elif op is c.BRANCH:
            firsts = [_first(list(b) + after) for b in av[1]]
            if any(a & b for i, a in enumerate(firsts) for b in firsts[i + 1 :]):
                return True
            if any(_choice(list(b), after) for b in av[1]):
                return True
        elif (op is c.SUBPATTERN or op is c.ATOMIC_GROUP) and _choice(_children(op, av)[0], after):
            return True
    return False


def _scan(items: list[Item], follow: list[Item]) -> str | None:
    for index, (op, av) in enumerate(items):
        after = items[index + 1 :] + follow
        if _unbounded(op, av):
            body = list(av[2])
            if _nullable(body):
                return "a repeated part can match the empty string"
            if _reaches(_first(body), after):
                return "two unbounded quantifiers can split one run of characters"
            if _choice(body, _either(body + after, after)):
                return "a repeated part can match the same text in more than one way"
        if op is c.BRANCH:
            for branch in av[1]:
                if (problem := _scan(list(branch), after)) is not None:
                    return problem
        elif op in _REPEATS or op is c.POSSESSIVE_REPEAT:
            body = list(av[2])
            again = _either(body + after, after) if av[1] > 1 else after
            if (problem := _scan(body, again)) is not None:
                return problem
        elif op is c.SUBPATTERN or op is c.ATOMIC_GROUP:
            if (problem := _scan(_children(op, av)[0], after)) is not None:
                return problem
        elif op not in (c.AT, c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN, c.CATEGORY):
            raise Unsupported(f"{op} is not supported")
    return None


def backtracking_problem(pattern: str) -> str | None:
    """Why ``pattern`` (matched whole) can take super-linear time, or None when it cannot."""
    parsed: Any = sre_parse.parse(pattern)  # the stubs type its items loosely
    try:
        return _scan(list(parsed), [])
    except Unsupported as exc:
        return f"cannot be checked for backtracking ({exc})"
