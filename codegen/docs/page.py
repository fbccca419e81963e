"""Read a Runware model docs page (markdown) into positioned parts.

The reader knows the page layout Runware uses for model pages: front matter, a
facts list, ``## Pricing``, ``## Compatibility & Validation`` (sentences split by
``---`` and a dimension table), ``## Request Parameters`` (bold group labels,
``###``/``####`` parameter sections with fact bullets, prose, allowed values and
"Learn more" links), ``## Response Parameters`` and ``## Examples``. Every line is
either taken into a part or reported as a ``PageWarning`` with its line number;
nothing is dropped silently. What the parts mean for the spec is the importer's (``facts``)
business, not this module's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# Every pattern runs in time linear in the line (a page is untrusted input): no lazy part
# followed by an optional run that can split the same characters (`.+?\s*$` is quadratic
# on a long run of spaces), no unbounded part that can re-scan what another matched.
HEADING = re.compile(r"^(?P<level>#{1,4}) (?P<text>.*\S)\s*$")
PARAM_HEADING = re.compile(r"^\[(?P<name>[^\]]+)\]\((?P<url>[^)#\s]*)#(?P<anchor>[a-z0-9-]+)\)$")
FACT = re.compile(r"^- \*\*(?P<key>[^*]+)\*\*: (?P<value>.*\S)\s*$")
# The facts a parameter section states in its bullet list, before its description.
FACT_KEYS = {"Path", "Type", "Required", "Min", "Max", "Step", "Default", "Value", "Format",
             "Paired with"}  # fmt: skip
BOLD_LABEL = re.compile(r"^\*\*(?P<label>[^*:]+)\*\*\s*$")
ALLOWED = re.compile(r"^\*\*Allowed values\*\*:\s*(?P<inline>.*)$")
ALLOWED_ITEM = re.compile(r"^- `(?P<value>[^`]+)`\s*(?P<description>.*)$")
LEARN_MORE = re.compile(r"^\*\*Learn more\*\*")
LINK_ITEM = re.compile(r"^- \[[^\]]+\]\([^)]+\)")
TABLE_ROW = re.compile(r"^\|(?P<cells>.*)\|\s*$")
WATCH = re.compile(r"^\[Watch video\]\((?P<url>[^)]+)\)\s*$")
# An image example's picture: ``![title](url)``, the URL possibly empty as published.
PICTURE = re.compile(r"^!\[[^\]\n]*\]\((?P<url>[^)\s]*)\)\s*$")
EXAMPLE_TITLE = re.compile(r"^(?P<title>.+) \((?P<kind>[^()]+)\)$")
NESTED_IN = re.compile(r"nested inside the \\?`(?P<path>[A-Za-z0-9_.]+)\\?` object")


@dataclass(frozen=True)
class PageWarning:
    """Something on the page the reader (or the importer) did not understand."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class Text:
    """One line of page text and where it was."""

    line: int
    text: str


@dataclass
class Section:
    """A ``###``/``####`` parameter section of the request or response list."""

    name: str
    anchor: str
    line: int
    level: int
    group: str | None  # the bold group label above it (request parameters only)
    facts: dict[str, Text] = field(default_factory=dict)  # Type, Path, Min, ... as written
    allowed: list[tuple[Text, str]] = field(default_factory=list)  # (value, its description)
    prose: list[Text] = field(default_factory=list)

    def description(self) -> str:
        """The section's prose as plain text (markdown emphasis, escapes and wrapping removed)."""
        return plain("\n".join(t.text for t in self.prose))

    def digest(self) -> str:
        """A short fingerprint of the prose, to notice rewording without keeping the words."""
        return digest(self.description())

    def full_text(self) -> str:
        """Facts, prose and allowed values as plain text: where a quoted sentence must be."""
        lines = [f"{k}: {v.text}" for k, v in self.facts.items()]
        lines += [t.text for t in self.prose]
        lines += [f"{v.text} {d}" for v, d in self.allowed]
        return plain("\n".join(lines))


@dataclass
class Group:
    label: str
    line: int
    nested_in: str | None  # "inputs", "providerSettings.klingai" ...


@dataclass
class Example:
    title: str
    kind: str
    line: int
    video: str | None = None
    image: str | None = None
    request: Any = None
    response: Any = None


@dataclass
class ConstraintTable:
    """ "Parameter constraints vary based on the configuration:" and its table: the first
    column says which configuration (``Dimensions`` or a parameter), the others the values
    each parameter may take in it (cells as written, values backticked)."""

    intro: Text
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, cells)


@dataclass
class DocsPage:
    """Everything read from one page, each part with its line."""

    front: dict[str, str] = field(default_factory=dict)
    title: Text | None = None
    facts: dict[str, Text] = field(default_factory=dict)
    pricing_quote: Text | None = None
    pricing_prose: list[Text] = field(default_factory=list)  # prose lines after the quote
    prices: list[tuple[Text, Text]] = field(default_factory=list)  # (label, price)
    compatibility: list[Text] = field(default_factory=list)  # one per sentence block
    dimension_intro: Text | None = None
    dimensions: list[tuple[Text, Text]] = field(default_factory=list)  # (configuration, WxH)
    constraints: list[ConstraintTable] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    request: list[Section] = field(default_factory=list)
    response: list[Section] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    warnings: list[PageWarning] = field(default_factory=list)
    # Parts with something the reader could not take in ("pricing", "dimensions",
    # "parameters", "response"): a merge keeps the spec's version of those rather than
    # taking a partial page for a shorter one.
    unreadable: set[str] = field(default_factory=set)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(PageWarning(line, message))


def plain(text: str) -> str:
    """Page text without emphasis, bullet marks, escapes or line breaks."""
    text = text.replace("\\`", "`").replace("**", "")
    text = re.sub(r"^\s*- ", "", text, flags=re.M)
    return re.sub(r"\s+", " ", text).strip()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def unquote(value: str) -> str:
    """A fact's value without its backticks."""
    value = value.strip()
    if len(value) >= 2 and value.startswith("`") and value.endswith("`"):
        return value[1:-1]
    return value


# ── reading ────────────────────────────────────────────────────────────────


@dataclass
class _Lines:
    """The page's lines with a cursor; fenced code blocks come back whole."""

    lines: list[str]
    pos: int = 0

    def peek(self) -> str | None:
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    @property
    def number(self) -> int:
        return self.pos + 1

    def take(self) -> str:
        line = self.lines[self.pos]
        self.pos += 1
        return line

    def fence(self) -> tuple[int, str, list[str]]:
        """The fenced block starting here: (first line number, info string, body lines)."""
        start = self.number
        info = self.take().strip()[3:].strip()
        body: list[str] = []
        while (line := self.peek()) is not None:
            self.take()
            if line.strip() == "```":
                return start, info, body
            body.append(line)
        raise _Unclosed(start)


class _Unclosed(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def read_page(text: str) -> DocsPage:
    """Read a model page. Problems become warnings on the result, never exceptions."""
    page = DocsPage()
    lines = _Lines(text.splitlines())
    try:
        _read(page, lines)
    except _Unclosed as exc:
        page.warn(exc.line, "code block is never closed; the rest of the page was not read")
    return page


def _read(page: DocsPage, lines: _Lines) -> None:
    _front_matter(page, lines)
    readers = {
        "Pricing": _pricing,
        "Compatibility & Validation": _compatibility,
        "Request Parameters": _request,
        "Response Parameters": _response,
        "Examples": _examples,
    }
    _intro(page, lines)
    seen: set[str] = set()
    while (line := lines.peek()) is not None:
        number = lines.number
        lines.take()
        m = HEADING.match(line)
        if m and len(m["level"]) == 2:
            reader = readers.get(m["text"])
            if reader is None:
                page.warn(number, f"unknown section {m['text']!r}; its content was not read")
                _skip_section(lines)
            else:
                seen.add(m["text"])
                reader(page, lines)
        elif line.strip():
            page.warn(number, f"text outside any known section: {line.strip()[:60]!r}")
    for missing in [name for name in readers if name not in seen]:
        page.warn(0, f"no ## {missing} section; the spec keeps nothing from it")


def _front_matter(page: DocsPage, lines: _Lines) -> None:
    if lines.peek() != "---":
        page.warn(1, "no front matter (the page should start with ---)")
        return
    lines.take()
    while (line := lines.peek()) is not None:
        number = lines.number
        lines.take()
        if line == "---":
            return
        key, sep, value = line.partition(":")
        if sep and key.strip():
            page.front[key.strip()] = value.strip()
        else:
            page.warn(number, f"front matter line not understood: {line!r}")
    page.warn(1, "front matter is never closed")


def _intro(page: DocsPage, lines: _Lines) -> None:
    """The H1 title, the intro prose and the facts list, up to the first ## heading."""
    while (line := lines.peek()) is not None and not line.startswith("## "):
        number = lines.number
        lines.take()
        if line.startswith("# "):
            page.title = Text(number, line[2:].strip())
        elif m := FACT.match(line):
            page.facts[m["key"]] = Text(number, m["value"])
        elif line.startswith("- "):
            page.warn(number, f"facts line not understood: {line!r}")
        # anything else is the intro's prose, which the spec does not keep


def _skip_section(lines: _Lines) -> None:
    while (line := lines.peek()) is not None and not line.startswith("## "):
        if line.startswith("```"):
            lines.fence()
        else:
            lines.take()


def _blocks(lines: _Lines) -> Iterator[tuple[int, str]]:
    """Non-blank lines up to the next ## heading (fences skipped whole, as one line)."""
    while (line := lines.peek()) is not None and not line.startswith("## "):
        number = lines.number
        if line.startswith("```"):
            _, info, body = lines.fence()
            yield number, "```" + info + "\n" + "\n".join(body)
            continue
        lines.take()
        if line.strip():
            yield number, line


def _pricing(page: DocsPage, lines: _Lines) -> None:
    for number, line in _blocks(lines):
        if m := FACT.match(line):
            page.prices.append((Text(number, m["key"]), Text(number, unquote(m["value"]))))
        elif not line.startswith(("-", "|", "```", "#")):
            if page.pricing_quote is None:
                page.pricing_quote = Text(number, line.strip())
            else:  # the importer reads surcharges in it, or says it could not
                page.pricing_prose.append(Text(number, line.strip()))
        else:
            page.warn(number, f"pricing line not understood: {line[:60]!r}")
            page.unreadable.add("pricing")


CONSTRAINTS_INTRO = "Parameter constraints vary based on the configuration:"


def _compatibility(page: DocsPage, lines: _Lines) -> None:
    table: ConstraintTable | None = None  # the constraint table being read
    for number, line in _blocks(lines):
        if line.strip() == "---":
            table = None
            continue
        if line.strip() == CONSTRAINTS_INTRO:
            table = ConstraintTable(Text(number, line.strip()))
            page.constraints.append(table)
            continue
        if table is not None and (m := TABLE_ROW.match(line)):
            cells = [c.strip() for c in m["cells"].split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            if not table.header:
                table.header = [unquote(c) for c in cells]
            else:
                table.rows.append((number, cells))
            continue
        if m := TABLE_ROW.match(line):
            cells = [unquote(c.strip()) for c in m["cells"].split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            if cells[:2] == ["Configuration", "Dimensions"]:
                continue
            if len(cells) != 2:
                page.warn(number, f"dimension row not understood: {line!r}")
                page.unreadable.add("dimensions")
                continue
            page.dimensions.append((Text(number, cells[0]), Text(number, cells[1])))
        elif line.rstrip().endswith("supported:") and "dimension" in line:
            page.dimension_intro = Text(number, line.strip())
        else:
            page.compatibility.append(Text(number, line.strip()))


def _request(page: DocsPage, lines: _Lines) -> None:
    page.request.extend(_sections(page, lines, request=True))


def _response(page: DocsPage, lines: _Lines) -> None:
    page.response.extend(_sections(page, lines, request=False))


def _sections(page: DocsPage, lines: _Lines, *, request: bool) -> Iterator[Section]:
    group: Group | None = None
    section: Section | None = None
    mode = "facts"  # facts → prose → allowed | learn
    top_level = False  # a ### section has been seen
    for number, line in _blocks(lines):
        heading = HEADING.match(line)
        if heading and len(heading["level"]) in (3, 4):
            m = PARAM_HEADING.match(heading["text"])
            if m is None:
                page.warn(number, f"parameter heading not understood: {line!r}")
                page.unreadable.add("parameters" if request else "response")
                section = None
                continue
            level = len(heading["level"])
            if level == 4 and not top_level:
                page.warn(number, f"{m['name']}: a #### heading with no ### above it")
            top_level = top_level or level == 3
            section = Section(
                name=m["name"],
                anchor=m["anchor"],
                line=number,
                level=level,
                group=group.label if group else None,
            )
            mode = "facts"
            yield section
            continue
        label = BOLD_LABEL.match(line)
        if label and request and label["label"] not in ("Allowed values", "Learn more"):
            group = Group(label["label"], number, None)
            page.groups.append(group)
            section, mode = None, "group"
            continue
        if section is None:
            if mode == "group" and group is not None:
                if m2 := NESTED_IN.search(line):
                    group.nested_in = m2["path"]
                continue  # the group's own prose
            page.warn(number, f"text outside any parameter section: {line[:60]!r}")
            continue
        fact = FACT.match(line)
        if mode == "facts" and fact:
            if fact["key"] in section.facts:
                page.warn(number, f"{section.name}: {fact['key']} is given twice")
            section.facts[fact["key"]] = Text(number, fact["value"])
            continue
        if fact and fact["key"] in FACT_KEYS:
            page.warn(number, f"{section.name}: {fact['key']} after the description; not read")
            continue
        if allowed := ALLOWED.match(line):
            mode = "allowed"
            for value in re.findall(r"`([^`]+)`", allowed["inline"]):
                section.allowed.append((Text(number, value), ""))
            continue
        if LEARN_MORE.match(line):
            mode = "learn"
            continue
        if mode == "allowed" and (item := ALLOWED_ITEM.match(line)):
            section.allowed.append((Text(number, item["value"]), item["description"].strip()))
            continue
        if mode == "learn" and LINK_ITEM.match(line):
            continue  # links to guides: not facts of the model
        mode = "prose" if mode in ("facts", "prose") else mode
        if mode in ("allowed", "learn"):
            page.warn(
                number, f"{section.name}: line after {mode} list not understood: {line[:60]!r}"
            )
            continue
        section.prose.append(Text(number, line))


def _examples(page: DocsPage, lines: _Lines) -> None:
    example: Example | None = None
    expect: str | None = None
    for number, line in _blocks(lines):
        heading = HEADING.match(line)
        if heading and len(heading["level"]) == 3:
            m = EXAMPLE_TITLE.match(heading["text"])
            title, kind = (m["title"], m["kind"]) if m else (heading["text"], "")
            if m is None:
                page.warn(number, f"example title has no (kind): {heading['text']!r}")
            example = Example(title=title, kind=kind, line=number)
            page.examples.append(example)
            continue
        if example is None:
            page.warn(number, f"text before the first example: {line[:60]!r}")
            continue
        if line.strip() == "---":
            continue
        if m := WATCH.match(line):
            example.video = m["url"]
        elif m := PICTURE.match(line):
            example.image = m["url"] or None
        elif line.strip() in ("**Request**:", "**Response**:"):
            expect = line.strip()[2:-3].lower()
        elif line.startswith("```json") and expect is not None:
            body = line.split("\n", 1)[1] if "\n" in line else ""
            try:
                value = json.loads(body)
            except json.JSONDecodeError as exc:
                page.warn(number, f"{example.title}: {expect} JSON does not parse: {exc}")
            else:
                setattr(example, expect, value)
            expect = None
        else:
            page.warn(number, f"{example.title}: line not understood: {line[:60]!r}")
