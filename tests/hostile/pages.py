"""Docs pages and spec files built to be hard for the docs loop: many independent rules, a
contradiction among them, one very long line, nested YAML aliases. Written from
``tests/data/pages/acme-motion-2.md`` (a page this project wrote), so each is a page the
importer otherwise reads cleanly; ``benchmarks/docs_loop.py`` times the same inputs.
"""

from __future__ import annotations

import itertools
from pathlib import Path

PAGES = Path(__file__).resolve().parents[1] / "data" / "pages"
BASE = (PAGES / "acme-motion-2.md").read_text(encoding="utf-8")
COMPAT_END = "---\n\nThe following dimension combinations are supported:"
BEFORE_DURATION = "### [duration](https://runware.ai/docs/models/acme-motion-2#request-duration)"


def _section(name: str) -> str:
    return (
        f"### [{name}](https://runware.ai/docs/models/acme-motion-2#request-{name.lower()})\n\n"
        "- **Type**: `integer`\n- **Min**: `0`\n- **Max**: `9`\n\nA made-up knob.\n\n"
    )


def many_rules(pairs: int, *, contradiction: bool = True) -> str:
    """The page with ``pairs`` pairs of optional parameters, each pair bound by three rules
    ("`aN` and `bN` must be used together.", and each requiring the other), every pair
    independent of the others: 3 x ``pairs`` rules. With ``contradiction``, two more
    sentences make ``knot`` impossible ("When `knot` is provided, `tie` cannot be used." and
    "... is required."); its parameters are named in fewer rules than the pairs', so a search
    that takes the most-named first meets the contradiction last, after every pair."""
    names = [f"{p}{n}" for n in range(pairs) for p in "ab"]
    if contradiction:
        names += ["knot", "tie"]
    sections = "".join(_section(name) for name in names)
    sentences = []
    for n in range(pairs):
        sentences += [
            f"`a{n}` and `b{n}` must be used together.",
            f"When `a{n}` is provided, `b{n}` is required.",
            f"When `b{n}` is provided, `a{n}` is required.",
        ]
    if contradiction:
        sentences += [
            "When `knot` is provided, `tie` cannot be used.",
            "When `knot` is provided, `tie` is required.",
        ]
    text = BASE.replace(BEFORE_DURATION, sections + BEFORE_DURATION, 1)
    block = "".join(f"---\n\n{s}\n\n" for s in sentences)
    return text.replace(COMPAT_END, block + COMPAT_END, 1)


def long_lines(chars: int) -> str:
    """The page with a heading, a fact and an example title each ``chars`` long, made of the
    run that backtracking patterns split in every way (spaces before a last letter; " (")."""
    spaces = " " * chars
    text = BASE.replace("## Pricing", f"## a{spaces}b\n\n## Pricing", 1)
    text = text.replace("- **Max**: `10`", f"- **Max**: `1{spaces}0`", 1)
    title = "a (" * (chars // 3)
    return text.replace("## Examples\n", f"## Examples\n\n### {title}\n", 1)


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A model spec of a few hundred bytes whose aliases expand to width**levels nodes."""
    names = [chr(ord("a") + i) for i in range(levels)]
    lines = ["specVersion: 1", "kind: model", "id: acme:bomb@1"]
    lines.append(f"{names[0]}: &{names[0]} [{', '.join(['x'] * width)}]")
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * width)}]")
    return "\n".join(lines) + "\n"
