"""Import a Runware model docs page into a model spec, or merge it into an existing one.

``imported_spec(page, platform)`` turns what ``docs_page`` read into a complete
model spec (plain data) holding every fact the page states. Prose is not copied:
descriptions are short generated summaries of the facts (curate them), and each
section's prose is kept only as a fingerprint (``docsDigest``) so rewording shows.

``merge(tree, imported)`` applies the page to an existing spec (a ruamel tree, so
comments and layout survive): values the page states are updated; what the page
does not state (descriptions, notes, ``docs*`` records, ``codes``, item formats,
rules and behaviours read from descriptions, keys listed in a parameter's
``curated``) is kept; and a curated value the page now contradicts is reported,
not overwritten. Every change and every problem becomes a ``Note``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from . import docs_rules
from .docs_page import FACT_KEYS, DocsPage, Section, plain, read_page, unquote

GROUPS = {
    "API Options": "apiOptions",
    "Inputs": "inputs",
    "Generation Parameters": "generation",
    "Provider Settings": "providerSettings",
}
SCALAR_TYPES = {"string", "integer", "number", "boolean", "object"}
PAGE_TYPES = {"float": "number", "int": "integer", "bool": "boolean"}
ARRAY_OF = re.compile(r"^array of (?P<items>[a-z]+?)s?(?: \(\d+ propert(?:y|ies)\))?$")
OBJECT_OF = re.compile(r"^object(?: \(\d+ propert(?:y|ies)\))?$")
PRICE_LABEL = re.compile(
    r"^(?P<res>\S+) · (?P<secs>\d+(?:\.\d+)?)s · \((?P<audio>no audio|audio)\)$"
)
PRICE = re.compile(r"^\$(?P<usd>\d+(?:\.\d+)?)$")
DIMS = re.compile(r"^(?P<w>\d+)x(?P<h>\d+)$")
CONFIG = re.compile(r"^(?P<res>\S+) \((?P<ar>\d+:\d+)\)$")
# Sentences in descriptions that read like a constraint; each must be captured by the
# spec (a rule's or behaviour's quote, or a note) or the importer says so.
RULE_HINT = re.compile(
    r"\b(requires?|required when|cannot|can only|only applies|up to \d+|must|at most|"
    r"at least|defaults? to|limited to|not both)\b",
    re.I,
)
# Page-stated keys of a parameter, in the order new keys are placed.
KEY_ORDER = ["path", "group", "anchor", "type", "docsType", "items", "required", "docsRequired",
             "const", "format", "minimum", "maximum", "minLength", "maxLength", "minItems",
             "maxItems", "multipleOf", "default", "enum", "pairedWith", "codes", "derived",
             "description", "docsPath", "docsDigest", "notes", "curated"]  # fmt: skip
BOUNDS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "multipleOf")
STATED = ("const", "format", *BOUNDS, "default", "pairedWith")
MODEL_FACTS = {"ID": "id", "Status": "status", "Creator": "creator",
               "Release Date": "releaseDate", "Capabilities": "capabilities"}  # fmt: skip


@dataclass(frozen=True)
class Note:
    """One thing the import did or could not do; ``line`` is the page line (0: none)."""

    level: str  # "change", "warning" (not understood / needs a human), "conflict"
    line: int
    message: str
    about: tuple[str, str] | None = None  # (path, docs key) of a reconciliation it reports

    def format(self, page: str) -> str:
        where = f"{page}:{self.line}" if self.line else page
        return f"{where}: {self.level}: {self.message}"


# ── page facts to spec values ──────────────────────────────────────────────


def _typed(text: str, types: Iterable[str]) -> Any:
    """A fact's text as the parameter's JSON type (`95` → 95, `false` → False)."""
    types = set(types)
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if types & {"integer", "number"} and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in types and re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _type_of(token: str) -> tuple[str | None, str | None]:
    """(JSON type, item type) of a page Type such as `array of strings`; (None, None) if unknown."""
    if token in SCALAR_TYPES:
        return token, None
    if token in PAGE_TYPES:
        return PAGE_TYPES[token], None
    if OBJECT_OF.match(token):
        return "object", None
    if m := ARRAY_OF.match(token):
        item = PAGE_TYPES.get(m["items"], m["items"])
        if item in SCALAR_TYPES:
            return "array", item
    return None, None


def _base_token(token: str) -> str:
    return re.sub(r" \(\d+ propert(?:y|ies)\)$", "", token)


def _values_type(values: list[str]) -> str | list[str]:
    kinds = ["integer" if re.fullmatch(r"-?\d+", v) else "string" for v in values]
    found = sorted(set(kinds), key=["string", "integer"].index)
    return found[0] if len(found) == 1 else found


class Importer:
    """One import run: the page, the platform vocabulary, and the notes collected."""

    def __init__(self, page: DocsPage, platform: Mapping[str, Any]) -> None:
        self.page = page
        self.platform = platform
        self.notes: list[Note] = [Note("warning", w.line, w.message) for w in page.warnings]
        self.formats = {
            str(f["docsName"]): name
            for name, f in platform["formats"].items()
            if f.get("docsName") is not None
        }
        self.phrasings = docs_rules.phrasings(platform)
        self.literal: dict[str, dict[str, Any]] = {}  # anchor → what the page literally says
        self.required_lines: dict[str, int] = {}  # path → line of its Required fact
        self.example_names: list[str] = []  # every example the page shows, in order
        self.placeholders: set[str] = set()  # model keys the page did not give (merge keeps ours)

    def note(
        self, level: str, line: int, message: str, about: tuple[str, str] | None = None
    ) -> None:
        self.notes.append(Note(level, line, message, about))

    # ── parameters ──

    def parameter(self, section: Section, parent: str | None, request: bool) -> dict[str, Any]:
        facts = {k: v for k, v in section.facts.items()}
        for key, text in facts.items():
            if key not in FACT_KEYS:
                self.note("warning", text.line, f"{section.name}: unknown fact {key!r} ignored")
        nested = self._nested_in(section) if request else None
        path = f"{parent}.{section.name}" if parent else (
            f"{nested}.{section.name}" if nested else section.name
        )  # fmt: skip
        param: dict[str, Any] = {"path": path}
        literal: dict[str, Any] = {"path": path, "required": False}
        if request and section.group is not None:
            if section.group in GROUPS:
                param["group"] = GROUPS[section.group]
            else:
                self.note("warning", section.line, f"unknown parameter group {section.group!r}")
        param["anchor"] = section.anchor
        if "Path" in facts and unquote(facts["Path"].text) != path:
            literal["path"] = unquote(facts["Path"].text)
            param["docsPath"] = literal["path"]
            self.note(
                "warning",
                facts["Path"].line,
                f"{section.name}: the Path line says {literal['path']}, the heading puts it at "
                f"{path}; kept {path}",
                (path, "docsPath"),
            )
        token = _base_token(unquote(facts["Type"].text)) if "Type" in facts else "string"
        if "Type" not in facts:
            self.note("warning", section.line, f"{section.name}: no Type; taken as string")
        json_type, item_type = _type_of(token)
        literal["type"] = token
        allowed = [v.text for v, _ in section.allowed]
        if json_type is None:
            self.note("warning", facts["Type"].line, f"{section.name}: unknown type {token!r}")
            json_type, literal["unreadable"] = "string", "Type"
        type_: str | list[str] = json_type
        if json_type == "object" and allowed:
            type_ = _values_type(allowed)
            self.note(
                "warning",
                facts["Type"].line,
                f"{section.name}: typed object but its allowed values are "
                f"{'/'.join(allowed)}; typed {type_}",
                (path, "docsType"),
            )
        param["type"] = type_
        if token.split(" ")[0] != json_type or type_ != json_type:
            param["docsType"] = token
        if item_type:
            param["items"] = {"type": item_type}
        types = type_ if isinstance(type_, list) else [type_]
        if "Required" in facts:
            self.required_lines[path] = facts["Required"].line
            if facts["Required"].text.strip() not in ("true", "false"):
                self._unreadable(section, "Required", literal)
            literal["required"] = facts["Required"].text.strip() == "true"
            if literal["required"]:
                param["required"] = True
        if "Value" in facts:
            param["const"] = _typed(unquote(facts["Value"].text), types)
        if "Format" in facts:
            name = unquote(facts["Format"].text)
            if name in self.formats:
                param["format"] = self.formats[name]
            else:
                self.note(
                    "warning", facts["Format"].line, f"{section.name}: unknown format {name!r}"
                )
        lower, upper = {
            "string": ("minLength", "maxLength"),
            "array": ("minItems", "maxItems"),
        }.get(json_type, ("minimum", "maximum"))
        for fact, key in (("Min", lower), ("Max", upper), ("Step", "multipleOf")):
            if fact in facts and (value := self._number(section, fact, literal)) is not None:
                param[key] = value
        if "Default" in facts:
            param["default"] = _typed(unquote(facts["Default"].text), types)
            if isinstance(param["default"], str) and "string" not in types:
                self._unreadable(section, "Default", literal)
        if allowed:
            param["enum"] = [{"value": _typed(v, types)} for v in allowed]
        if "Paired with" in facts:
            param["pairedWith"] = unquote(facts["Paired with"].text)
        param["description"] = self.describe(param, request)
        param["docsDigest"] = section.digest()
        self.literal[section.anchor] = literal
        return param

    def _number(self, section: Section, fact: str, literal: dict[str, Any]) -> int | float | None:
        text = unquote(section.facts[fact].text)
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return _number(text)
        self._unreadable(section, fact, literal)
        return None

    def _unreadable(self, section: Section, fact: str, literal: dict[str, Any]) -> None:
        """A fact whose value cannot be read: said, and the merge keeps the spec's entry."""
        text = section.facts[fact]
        self.note("warning", text.line, f"{section.name}: {fact} {text.text!r} not understood")
        literal.setdefault("unreadable", fact)

    def _nested_in(self, section: Section) -> str | None:
        for group in self.page.groups:
            if group.label == section.group:
                return group.nested_in
        return None

    @staticmethod
    def describe(param: Mapping[str, Any], request: bool) -> str:
        """A plain summary of a parameter's facts, for parameters nobody has described yet."""
        type_ = param["type"]
        kind = "/".join(type_) if isinstance(type_, list) else type_
        if kind == "array" and "items" in param:
            kind = f"array of {param['items']['type']}s"
        words = ["Required" if param.get("required") else "Optional", kind]
        if not request:
            words = ["Always present" if param.get("required") else "Optional", kind]
        if "const" in param:
            words.append(f"fixed to {_text(param['const'])}")
        if "enum" in param:
            words.append("one of " + ", ".join(_text(v["value"]) for v in param["enum"]))
        for key, word in (("minimum", "at least"), ("maximum", "at most"),
                          ("minLength", "at least"), ("maxLength", "at most")):  # fmt: skip
            if key in param:
                unit = " characters" if "Length" in key else ""
                words.append(f"{word} {param[key]}{unit}")
        if "default" in param:
            words.append(f"default {_text(param['default'])}")
        return (
            " ".join(words[:2])
            + ("" if len(words) < 3 else ", " + ", ".join(words[2:]))
            + (" (imported; describe it).")
        )

    def parameters(self, sections: list[Section], request: bool) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        parent: str | None = None
        seen: set[str] = set()
        for section in sections:
            if section.anchor in seen:
                self.note("warning", section.line, f"anchor {section.anchor} appears twice")
                continue
            seen.add(section.anchor)
            param = self.parameter(section, parent if section.level == 4 else None, request)
            if section.level == 3:
                parent = param["path"]
            if request:
                for container in self._containers(param, out):
                    out.append(container)
            out.append(param)
        if request:
            self._reconcile_required(out)
        return out

    def _containers(
        self, param: Mapping[str, Any], done: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Objects the page never heads but nests parameters in (`inputs`, `providerSettings`)."""
        have = {p["path"] for p in done}
        parts = param["path"].split(".")
        missing = []
        for i in range(1, len(parts)):
            path = ".".join(parts[:i])
            if path not in have:
                have.add(path)
                missing.append({
                    "path": path,
                    **({"group": param["group"]} if "group" in param else {}),
                    "type": "object",
                    "derived": True,
                    "description": f"Container for the {path} parameters (no heading on the page).",
                })  # fmt: skip
        return missing

    def _reconcile_required(self, params: list[dict[str, Any]]) -> None:
        """A parameter an exactly-one rule makes conditional cannot be required outright."""
        conditional: set[str] = set()
        for sentence in self.page.compatibility:
            rule = docs_rules.rule_from_sentence(sentence.text, self.phrasings)
            if rule and rule["kind"] == "exactlyOne":
                for op in rule["params"]:
                    conditional.update([op] if isinstance(op, str) else op)
        for param in params:
            if param.get("required") and param["path"] in conditional:
                del param["required"]
                param["docsRequired"] = True
                self.note(
                    "warning",
                    self.required_lines.get(param["path"], 0),
                    f"{param['path']} is marked required, but an exactly-one rule makes it "
                    "conditional; imported as optional (docsRequired keeps the page's word)",
                    (param["path"], "docsRequired"),
                )

    # ── the rest of the page ──

    def facts(self) -> dict[str, Any]:
        page, out = self.page, dict[str, Any]()
        f = page.facts
        for key in MODEL_FACTS:
            if key not in f:
                self.note("warning", page.title.line if page.title else 1, f"no {key} fact")
                self.placeholders.add(MODEL_FACTS[key])
        if not page.front.get("url"):
            self.placeholders.update(("slug", "docs"))
        for key, text in f.items():
            if key not in MODEL_FACTS:
                self.note("warning", text.line, f"unknown model fact {key!r} ignored")
        out["id"] = unquote(f["ID"].text) if "ID" in f else "unknown:model@0"
        out["name"] = page.title.text if page.title else out["id"]
        url = page.front.get("url", "")
        out["slug"] = url.rstrip("/").rsplit("/", 1)[-1] or re.sub(r"\W+", "-", out["id"])
        out["status"] = unquote(f["Status"].text).lower() if "Status" in f else "live"
        out["creator"] = unquote(f["Creator"].text) if "Creator" in f else "unknown"
        out["releaseDate"] = "1970-01-01"
        if "Release Date" in f:
            try:
                when = dt.datetime.strptime(unquote(f["Release Date"].text), "%B %d, %Y")
                out["releaseDate"] = when.date().isoformat()
            except ValueError:
                self.note("warning", f["Release Date"].line, "release date not understood")
                self.placeholders.add("releaseDate")
        caps = unquote(f["Capabilities"].text).split(",") if "Capabilities" in f else []
        out["capabilities"] = [c.strip().lower().replace(" ", "-") for c in caps if c.strip()]
        out["docs"] = url
        return out

    def pricing(self) -> dict[str, Any] | None:
        page = self.page
        rates = []
        for label, price in page.prices:
            lm, pm = PRICE_LABEL.match(label.text), PRICE.match(price.text)
            if lm is None or pm is None:
                self.note(
                    "warning", label.line, f"price not understood: {label.text}: {price.text}"
                )
                continue
            per_second = round(float(pm["usd"]) / float(lm["secs"]), 6)
            rates.append({
                "resolution": lm["res"], "audio": lm["audio"] == "audio",
                "perSecond": per_second, "quote": label.text,
            })  # fmt: skip
        if not rates:
            return None
        out: dict[str, Any] = {"currency": "USD", "unit": "second"}
        if page.pricing_quote:
            out["quote"] = page.pricing_quote.text
        out["rates"] = rates
        out["audioDefault"] = False
        return out

    def dimensions(self) -> dict[str, Any] | None:
        rows = []
        for config, dims in self.page.dimensions:
            dm, cm = DIMS.match(dims.text), CONFIG.match(config.text)
            if dm is None:
                self.note("warning", dims.line, f"dimensions not understood: {dims.text!r}")
                continue
            row: dict[str, Any] = {"label": config.text}
            if cm:
                row |= {"resolution": cm["res"], "aspectRatio": cm["ar"]}
            rows.append(row | {"width": int(dm["w"]), "height": int(dm["h"])})
        return {"params": ["width", "height"], "rows": rows} if rows else None

    def rules(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        ids: set[str] = set()
        for sentence in self.page.compatibility:
            rule = docs_rules.rule_from_sentence(sentence.text, self.phrasings)
            if rule is None:
                self.note(
                    "warning",
                    sentence.line,
                    f"validation sentence not understood (no phrasing fits): {sentence.text!r}",
                )
                continue
            rule["id"] = _unique(rule["id"], ids)
            out.append(rule)
        paired: set[frozenset[str]] = set()
        for section in self.page.request:
            fact = section.facts.get("Paired with")
            if fact is None or section.level != 3:
                continue
            pair = [section.name, unquote(fact.text)]
            if frozenset(pair) in paired:
                continue
            paired.add(frozenset(pair))
            out.append({
                "id": _unique("-".join(docs_rules.slug(p) for p in pair) + "-together", ids),
                "kind": "together",
                "params": pair,
                "message": f"{pair[0]} and {pair[1]} must be given together.",
                "source": {"anchor": section.anchor, "quote": f"Paired with: {pair[1]}"},
            })  # fmt: skip
        if self.page.dimension_intro and self.page.dimensions:
            out.append({
                "id": _unique("supported-dimensions", ids),
                "kind": "dimensions",
                "message": "width x height must be one of the supported dimension combinations.",
                "source": {"section": docs_rules.SECTION, "quote": self.page.dimension_intro.text},
            })  # fmt: skip
        return out

    def examples(self) -> list[dict[str, Any]]:
        out = []
        for ex in self.page.examples:
            name = re.sub(r"[^a-z0-9]+", "-", ex.title.lower()).strip("-")
            if name in self.example_names:
                self.note("warning", ex.line, f"example {ex.title!r} appears twice; kept the first")
                continue
            self.example_names.append(name)  # readable or not: the merge keeps what is not
            if not isinstance(ex.request, dict) or not isinstance(ex.response, dict):
                self.note("warning", ex.line, f"example {ex.title!r} lacks a request or response")
                continue
            item: dict[str, Any] = {
                "name": name,
                "title": ex.title,
                "kind": ex.kind.lower().replace(" ", "-"),
            }
            if ex.video:
                item["video"] = ex.video
            out.append(item | {"request": ex.request, "response": ex.response})
        return out

    def spec(self) -> dict[str, Any]:
        """The whole model spec the page states, ready for the loader."""
        facts = self.facts()
        params = self.parameters(self.page.request, request=True)
        task_type = next((p.get("const") for p in params if p["path"] == "taskType"), None)
        spec: dict[str, Any] = {"specVersion": 1, "kind": "model", "id": facts["id"]}
        spec |= {"name": facts["name"], "slug": facts["slug"]}
        spec["taskType"] = task_type or "videoInference"
        spec |= {k: facts[k] for k in ("status", "creator", "releaseDate", "capabilities", "docs")}
        spec["summary"] = f"{facts['name']} ({facts['id']}), imported from its docs page."
        pricing = self.pricing()
        if pricing is None:
            self.note("warning", 0, "no prices understood; pricing left empty")
        spec["pricing"] = pricing
        if (dims := self.dimensions()) is not None:
            spec["dimensions"] = dims
        spec["parameters"] = params
        spec["response"] = self.parameters(self.page.response, request=False)
        spec["rules"] = self.rules()
        spec["examples"] = self.examples()
        return spec


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


# ── merging into an existing spec ──────────────────────────────────────────


def _place(target: MutableMapping[str, Any], key: str, value: Any) -> None:
    """Set ``key``, placing a new key where KEY_ORDER puts it among the existing ones."""
    if key in target or not isinstance(target, CommentedMap):
        target[key] = value
        return
    rank = KEY_ORDER.index(key) if key in KEY_ORDER else len(KEY_ORDER)
    keys = list(target.keys())
    pos = next(
        (i for i, k in enumerate(keys) if k in KEY_ORDER and KEY_ORDER.index(k) > rank), len(keys)
    )
    tail = _take_tail(target) if pos == len(keys) else None
    target.insert(pos, key, value)
    _give_tail(target, tail)


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


def _take_tail(node: Any) -> Any:
    slot = _tail_slot(node)
    entry = slot[0].get(slot[1]) if slot else None
    if slot is None or not entry or entry[slot[2]] is None:
        return None
    token, entry[slot[2]] = entry[slot[2]], None
    return token


def _give_tail(node: Any, token: Any) -> None:
    slot = _tail_slot(node)
    if token is None or slot is None:
        return
    entry = slot[0].setdefault(slot[1], [None, None, None, None])
    if entry[slot[2]] is None:
        entry[slot[2]] = token


def _delete(target: CommentedMap, key: str) -> None:
    """Delete ``key``, keeping the lines that followed the entry."""
    tail = _take_tail(target)
    del target[key]
    _give_tail(target, tail)


def _remove(seq: CommentedSeq, item: Any) -> None:
    """Remove ``item``; the lines after it follow the item before."""
    at = next(i for i, x in enumerate(seq) if x is item)
    tail = _take_tail(item)
    del seq[at]
    if at > 0:
        _give_tail(seq[at - 1], tail)


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON (so 1 is not True and not 1.0; ruamel's scalar types are their values)."""
    return json.dumps(_plain(a), sort_keys=True) == json.dumps(_plain(b), sort_keys=True)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


def _cm(value: Any) -> Any:
    """Plain data as ruamel nodes; small maps of scalars in flow style, like the spec's."""
    if isinstance(value, Mapping):
        out = CommentedMap((k, _cm(v)) for k, v in value.items())
        if all(not isinstance(v, (Mapping, list)) for v in value.values()) and len(value) <= 6:
            out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq(_cm(v) for v in value)
        if all(not isinstance(v, (Mapping, list)) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


class Merger:
    """Applies an import to a spec tree; collects notes on the importer."""

    def __init__(self, importer: Importer, tree: CommentedMap) -> None:
        self.imp = importer
        self.tree = tree
        self.page_text = {s.anchor: s.full_text() for s in importer.page.request}
        self.page_text |= {s.anchor: s.full_text() for s in importer.page.response}
        self.lines = {s.anchor: s.line for s in importer.page.request + importer.page.response}

    def change(self, line: int, message: str) -> None:
        self.imp.note("change", line, message)

    def run(self, imported: Mapping[str, Any]) -> None:
        for key in ("id", "name", "slug", "taskType", "status", "creator", "releaseDate",
                    "capabilities", "docs"):  # fmt: skip
            if key in self.imp.placeholders:
                continue  # the page lacks it (a warning says so): no news
            if not _same(self.tree.get(key), imported[key]):
                self.change(0, f"{key}: {self.tree.get(key)!r} → {imported[key]!r}")
                self.tree[key] = _cm(imported[key])
        self.pricing(imported.get("pricing"))
        self.dimensions(imported.get("dimensions"))
        self.params("parameters", imported["parameters"])
        self.params("response", imported["response"])
        self.rules(imported["rules"])
        self.examples(imported["examples"])
        self.curated_quotes()
        # A reconciliation the spec already records (its docs* key) is no news.
        recorded = {
            (str(p["path"]), key)
            for p in list(self.tree["parameters"]) + list(self.tree["response"])
            for key in ("docsPath", "docsType", "docsRequired")
            if key in p
        }
        self.imp.notes = [n for n in self.imp.notes if n.about not in recorded]

    def pricing(self, new: Mapping[str, Any] | None) -> None:
        cur = self.tree.get("pricing")
        if new is None or cur is None:
            if new is not None:
                self.tree["pricing"] = _cm(new)
            return
        if "quote" in new and cur.get("quote") != new["quote"]:
            self.change(0, f"pricing quote: {cur.get('quote')!r} → {new['quote']!r}")
            _place(cur, "quote", new["quote"])
        old = {(r["resolution"], r["audio"]): r for r in cur["rates"]}
        rates = CommentedSeq()
        for rate in new["rates"]:
            key = (rate["resolution"], rate["audio"])
            if key in old:
                row = old.pop(key)
                for k in ("perSecond", "quote"):
                    if not _same(row.get(k), rate[k]):
                        self.change(
                            0, f"price {key[0]} audio={key[1]} {k}: {row.get(k)} → {rate[k]}"
                        )
                        row[k] = rate[k]
                rates.append(row)
            else:
                self.change(0, f"price added: {rate['quote']} = {rate['perSecond']}/s")
                rates.append(_cm(rate))
        for key in old:
            self.change(0, f"price removed: {key[0]} audio={key[1]}")
        if (
            old
            or len(rates) != len(cur["rates"])
            or any(a is not b for a, b in zip(rates, cur["rates"], strict=True))
        ):
            cur["rates"] = rates

    def dimensions(self, new: Mapping[str, Any] | None) -> None:
        cur = self.tree.get("dimensions")
        if new is None:
            if cur is not None:
                self.change(0, "dimension table removed")
                del self.tree["dimensions"]
            return
        if cur is None:
            self.change(0, "dimension table added")
            self.tree.insert(list(self.tree.keys()).index("parameters"), "dimensions", _cm(new))
            return
        old = {(r["width"], r["height"]): r for r in cur["rows"]}
        rows = CommentedSeq()
        for row in new["rows"]:
            key = (row["width"], row["height"])
            if key in old:
                existing = old.pop(key)
                for k, v in row.items():
                    if not _same(existing.get(k), v):
                        self.change(
                            0, f"dimension row {key[0]}x{key[1]} {k}: {existing.get(k)} → {v}"
                        )
                        existing[k] = v
                rows.append(existing)
            else:
                self.change(0, f"dimension row added: {row['label']} {key[0]}x{key[1]}")
                rows.append(_cm(row))
        for key in old:
            self.change(0, f"dimension row removed: {key[0]}x{key[1]}")
        if old or len(rows) != len(cur["rows"]):
            rows.fa.set_block_style()
            cur["rows"] = rows

    def params(self, key: str, new: list[dict[str, Any]]) -> None:
        seq: CommentedSeq = self.tree[key]
        by_anchor = {p["anchor"]: p for p in seq if "anchor" in p}
        by_path = {p["path"]: p for p in seq}
        kept: set[int] = set()
        last = -1
        for param in new:
            cur = by_anchor.get(param.get("anchor", "")) if "anchor" in param else None
            if cur is None and (param.get("derived") or "anchor" not in param):
                cur = by_path.get(param["path"])
            line = self.lines.get(param.get("anchor", ""), 0)
            if cur is None:
                last += 1
                entry = _entry(param)  # block style, like the entries around it
                before = seq[last - 1] if last else None
                # In the same group as the entry before, it goes above the next group's heading.
                tail = (
                    _take_tail(before)
                    if before and before.get("group") == param.get("group")
                    else None
                )
                seq.insert(last, entry)
                _give_tail(entry, tail)
                kept.add(id(entry))
                self.change(line, f"{key} {param['path']} added")
                if not param.get("derived"):
                    self.imp.note("warning", line, f"{param['path']}: new; write its description")
                continue
            last = max(last, next(i for i, p in enumerate(seq) if p is cur))
            kept.add(id(cur))
            if not param.get("derived"):
                self.param(cur, param, line)
        for cur in [p for p in seq if id(p) not in kept]:
            if cur.get("derived") and any(p["path"].startswith(cur["path"] + ".") for p in new):
                continue
            self.change(0, f"{key} {cur['path']} removed")
            _remove(seq, cur)
        if not seq:  # ruamel writes a heading comment over an empty list as broken YAML
            seq.ca.comment = None
            self.tree.ca.items.pop(key, None)

    def param(self, cur: CommentedMap, new: Mapping[str, Any], line: int) -> None:
        name = cur["path"]
        literal = self.imp.literal.get(new["anchor"], {})
        if "unreadable" in literal:  # what the page says cannot be told from what it lost
            self.imp.note(
                "conflict", line, f"{name}: its {literal['unreadable']} is not understood; kept"
            )
            return
        curated = set(cur.get("curated", ()))
        # Keys the page states through a docs* record of the reconciled value.
        self._docs_record(cur, "path", "docsPath", literal.get("path", new["path"]), line)
        recorded = cur.get("docsType")
        if recorded is not None and _type_of(str(recorded))[0] != _plain(cur["type"]):
            # The spec reconciled the page's type (frame: "object" holding strings and numbers).
            self._docs_record(cur, "type", "docsType", literal.get("type"), line)
        else:
            if not _same(cur["type"], new["type"]):
                self.change(line, f"{name} type: {_plain(cur['type'])} → {_plain(new['type'])}")
                cur["type"] = _cm(new["type"])
            if "docsType" in new:
                _place(cur, "docsType", new["docsType"])
            elif recorded is not None:
                _delete(cur, "docsType")
        if "items" in new:
            items = cur.get("items")
            if items is None:
                _place(cur, "items", _cm(new["items"]))
                self.change(line, f"{name} items: {new['items']['type']}")
            elif items.get("type") != new["items"]["type"]:
                self.change(
                    line, f"{name} items type: {items.get('type')} → {new['items']['type']}"
                )
                items["type"] = new["items"]["type"]
        elif "items" in cur:
            self.change(line, f"{name} items removed")
            _delete(cur, "items")
        self._docs_record(cur, "required", "docsRequired", literal.get("required", False), line)
        if cur.get("docsRequired") and new.get("required"):
            self.imp.note(
                "conflict",
                line,
                f"{name}: no exactly-one rule makes it conditional any more, and the page says "
                "it is required; the spec keeps it optional (review it)",
            )
        for key in ("group", "anchor"):
            if key in new and cur.get(key) != new[key]:
                self.change(line, f"{name} {key}: {cur.get(key)} → {new[key]}")
                _place(cur, key, new[key])
        for key in STATED:
            if key in curated:
                if key in new and not _same(cur.get(key), new[key]):
                    self.imp.note(
                        "conflict",
                        line,
                        f"{name}: the page now says {key} {new[key]!r}; the spec's curated "
                        f"{key} is {cur.get(key)!r} (kept; review it)",
                    )
                continue
            if key in new and not _same(cur.get(key), new[key]):
                self.change(line, f"{name} {key}: {cur.get(key)!r} → {new[key]!r}")
                _place(cur, key, new[key])
            elif key not in new and key in cur:
                self.change(line, f"{name} {key} {cur[key]!r} removed")
                _delete(cur, key)
        self._enum(cur, new.get("enum"), line)
        if cur.get("docsDigest") != new["docsDigest"]:
            if "docsDigest" in cur:
                self.change(line, f"{name} description changed on the page (review ours)")
            _place(cur, "docsDigest", new["docsDigest"])

    def _docs_record(
        self, cur: CommentedMap, key: str, docs_key: str, page: Any, line: int
    ) -> None:
        """Keys whose page value the spec may reconcile: ``docs_key`` keeps the page's word."""
        name = cur["path"]
        value = cur.get(key, False if key == "required" else None)
        if docs_key in cur:
            if _same(cur[docs_key], page):
                return
            if _same(value, page):
                self.imp.note(
                    "conflict",
                    line,
                    f"{name}: the page now agrees with the spec's {key} ({page!r}); "
                    f"{docs_key} dropped (review the note that explained it)",
                )
                _delete(cur, docs_key)
                return
            self.imp.note(
                "conflict",
                line,
                f"{name}: the page now says {key} {page!r} (was {cur[docs_key]!r}); the spec "
                f"keeps {value!r} (review it)",
            )
            cur[docs_key] = page
            return
        if key == "type" or _same(value, page):
            return
        self.change(line, f"{name} {key}: {value!r} → {page!r}")
        if key == "required" and not page:
            _delete(cur, "required")
        else:
            _place(cur, key, page)

    def _enum(self, cur: CommentedMap, values: list[dict[str, Any]] | None, line: int) -> None:
        name = cur["path"]
        if values is None:
            if "enum" in cur:
                self.change(line, f"{name} allowed values removed")
                _delete(cur, "enum")
            return
        old = {str(e["value"]): e for e in cur.get("enum", [])}
        new_keys = [str(v["value"]) for v in values]
        if list(old) == new_keys:
            return
        for value in new_keys:
            if value not in old:
                self.change(line, f"{name} allowed value added: {value}")
        for value in old:
            if value not in new_keys:
                self.change(line, f"{name} allowed value removed: {value}")
        seq = CommentedSeq(
            old[str(v["value"])] if str(v["value"]) in old else _cm(v) for v in values
        )
        _place(cur, "enum", seq)

    def rules(self, new: list[dict[str, Any]]) -> None:
        seq: CommentedSeq = self.tree["rules"]
        page_rules = [r for r in seq if r["source"].get("section") == docs_rules.SECTION]
        by_quote = {r["source"]["quote"]: r for r in page_rules}
        ids = {r["id"] for r in seq}
        matched: set[int] = set()
        last = -1
        from_fields = {
            (r["source"].get("anchor"), r["source"]["quote"]): r
            for r in seq
            if "anchor" in r["source"]
        }
        for rule in new:
            if "anchor" in rule["source"]:
                if (rule["source"]["anchor"], rule["source"]["quote"]) not in from_fields:
                    rule = dict(rule, id=_unique(rule["id"], ids))
                    seq.append(_cm(rule))
                    self.change(
                        0, f"rule {rule['id']} ({rule['kind']}) added: {rule['source']['quote']}"
                    )
                continue
            cur = by_quote.get(rule["source"]["quote"])
            if cur is None and rule["kind"] == "dimensions":
                cur = next((r for r in page_rules if r["kind"] == "dimensions"), None)
            if cur is None and rule["kind"] == "limitItems":
                cur = self._relimit([r for r in page_rules if id(r) not in matched], rule)
            if cur is not None:
                matched.add(id(cur))
                last = max(last, next(i for i, r in enumerate(seq) if r is cur))
                if cur["source"]["quote"] != rule["source"]["quote"]:
                    cur["source"]["quote"] = rule["source"]["quote"]
                continue
            rule = dict(rule, id=_unique(rule["id"], ids))
            last += 1
            seq.insert(last, _cm(rule))
            self.change(0, f"rule {rule['id']} ({rule['kind']}) added: {rule['source']['quote']}")
        for cur in page_rules:
            if id(cur) not in matched:
                self.change(0, f"rule {cur['id']} removed: its sentence is no longer on the page")
                _remove(seq, cur)

    def _relimit(self, candidates: list[CommentedMap], rule: Mapping[str, Any]) -> Any:
        """The spec's limit rule on the same parameters as ``rule``, its limit set to the page's
        (the rule keeps its id and notes); None if there is none."""
        same = ("kind", "when", "target")
        cur = next((r for r in candidates if all(_same(r.get(k), rule[k]) for k in same)), None)
        if cur is None:
            return None
        self.change(0, f"rule {cur['id']} maxItems: {cur['maxItems']} → {rule['maxItems']}")
        stated = docs_rules.rule_from_sentence(cur["source"]["quote"], self.imp.phrasings)
        if stated is not None and cur.get("message") == stated["message"]:
            cur["message"] = rule["message"]
        else:
            self.imp.note("conflict", 0, f"rule {cur['id']}: review its message for the new limit")
        cur["maxItems"] = rule["maxItems"]
        return cur

    def examples(self, new: list[dict[str, Any]]) -> None:
        seq: CommentedSeq = self.tree["examples"]
        old = {e["name"]: e for e in seq}
        out = CommentedSeq()
        readable = {e["name"]: e for e in new}
        for name in self.imp.example_names:
            cur = old.pop(name, None)
            if name not in readable:
                if cur is not None:
                    self.imp.note("conflict", 0, f"example {name}: unreadable on the page; kept")
                    out.append(cur)
                continue
            example = readable[name]
            if cur is None:
                self.change(0, f"example {example['name']} added")
                out.append(_block(example))
                continue
            for key, value in example.items():
                if not _same(cur.get(key), value):
                    self.change(0, f"example {example['name']} {key} changed")
                    cur[key] = _block(value)
            out.append(cur)
        for name in old:
            self.change(0, f"example {name} removed")
        if old or [e["name"] for e in out] != [e["name"] for e in seq]:
            self.tree["examples"] = out

    def curated_quotes(self) -> None:
        """Rules and behaviours read from a description must still be on the page there."""
        entries = [(r["id"], r["source"]) for r in self.tree["rules"] if "anchor" in r["source"]]
        entries += [(b["id"], b) for b in self.tree.get("behaviours", [])]
        for name, source in entries:
            anchor, quote = source["anchor"], plain(source["quote"])
            text = self.page_text.get(anchor)
            if text is None:
                self.imp.note("conflict", 0, f"{name}: its section #{anchor} is gone from the page")
            elif quote not in text:
                self.imp.note(
                    "conflict",
                    self.lines.get(anchor, 0),
                    f"{name}: its sentence {source['quote']!r} is no longer in #{anchor}",
                )
        self.unread_sentences()

    def unread_sentences(self) -> None:
        """Description sentences that read like a constraint but that the spec does not quote."""
        quotes = [plain(r["source"]["quote"]) for r in self.tree["rules"]]
        quotes += [plain(b["quote"]) for b in self.tree.get("behaviours", [])]
        for p in list(self.tree["parameters"]) + list(self.tree["response"]):
            quotes += [plain(str(n)) for n in p.get("notes", [])]
        for section in self.imp.page.request + self.imp.page.response:
            for text in section.prose + [v for v, _ in section.allowed]:
                for sentence in re.split(r"(?<=[.!?])\s+", plain(text.text)):
                    if RULE_HINT.search(sentence) and not any(
                        sentence.strip(" .") in q or (q and q.strip(" .") in sentence)
                        for q in quotes
                    ):
                        self.imp.note(
                            "warning",
                            text.line,
                            f"{section.name}: sentence may state a rule the spec does not "
                            f"capture: {sentence!r}",
                        )


def _block(value: Any) -> Any:
    """Examples keep block style (as in the spec file) at every level."""
    if isinstance(value, Mapping):
        return CommentedMap((k, _block(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_block(v) for v in value)
    return value


# ── files ──────────────────────────────────────────────────────────────────


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


@dataclass
class ImportResult:
    text: str  # the new spec file's content
    changed: bool
    notes: list[Note]
    spec: dict[str, Any]  # the page's facts as plain data


def import_page(
    page_text: str, platform: Mapping[str, Any], existing: str | None = None
) -> ImportResult:
    """Import a page: a new spec (``existing`` None) or merged into ``existing`` spec text."""
    importer = Importer(read_page(page_text), platform)
    imported = importer.spec()
    if existing is None:
        header = (
            f"# {imported['name']} on Runware, imported from {imported['docs']}.\n"
            "# Descriptions are generated summaries: rewrite them in our own words.\n"
        )
        text = header + dump(_cm_spec(imported))
        return ImportResult(text, True, importer.notes, imported)
    tree = yaml_rt().load(existing)
    Merger(importer, tree).run(imported)
    text = dump(tree)
    return ImportResult(text, text != existing, importer.notes, imported)


def _cm_spec(spec: Mapping[str, Any]) -> CommentedMap:
    out = CommentedMap()
    for key, value in spec.items():
        if key in ("examples",):
            out[key] = _block(value)
        elif key in ("parameters", "response", "rules"):
            out[key] = CommentedSeq(_entry(v) for v in value)
        elif key == "dimensions":
            dims = _cm(value)
            dims["rows"].fa.set_block_style()
            out[key] = dims
        elif key == "pricing" and value is not None:
            pricing = CommentedMap((k, _cm(v)) for k, v in value.items())
            pricing["rates"].fa.set_block_style()
            out[key] = pricing
        else:
            out[key] = _cm(value)
    return out


def _entry(value: Mapping[str, Any]) -> CommentedMap:
    return CommentedMap((k, _cm(v)) for k, v in value.items())


def load_platform(spec_dir: Path) -> dict[str, Any]:
    from .yaml_source import read_yaml

    data = read_yaml(spec_dir / "platform.yaml").data
    assert isinstance(data, dict)
    return data


def default_target(spec_dir: Path, imported: Mapping[str, Any]) -> Path:
    return spec_dir / "models" / f"{imported['slug']}.yaml"


__all__ = [
    "ImportResult",
    "Importer",
    "Note",
    "default_target",
    "import_page",
    "load_platform",
]
