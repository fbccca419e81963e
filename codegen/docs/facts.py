"""What a Runware model docs page states, as model-spec data.

``Importer`` turns the parts ``page`` read into a complete model spec (plain
data) holding every fact the page states. Prose is not copied: descriptions are
short generated summaries of the facts (to be curated), and each section's prose is
kept only as a fingerprint (``docsDigest``) so rewording shows. Whatever cannot be
read becomes a ``Note`` with its page line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..runtime.rule_kinds import KINDS
from ..spec.kinds import (
    CODEGEN_KINDS,
    SIZE,
    ConstraintRow,
    KindCodegen,
    codegen_kind,
    rule_args,
    typed_value,
)
from ..spec.model import Platform
from . import rules as docs_rules
from .page import FACT_KEYS, DocsPage, Section, unquote

GROUPS = {
    "API Options": "apiOptions",
    "Inputs": "inputs",
    "Generation Parameters": "generation",
    "Core Parameters": "core",
    "Settings": "settings",
    "Features": "features",
    "Provider Settings": "providerSettings",
}
SCALAR_TYPES = {"string", "integer", "number", "boolean", "object"}
PAGE_TYPES = {"float": "number", "int": "integer", "bool": "boolean"}
ARRAY_OF = re.compile(r"^array of (?P<items>[a-z]+?)s?(?: \(\d+ propert(?:y|ies)\))?$")
OBJECT_OF = re.compile(r"^object(?: \(\d+ propert(?:y|ies)\))?$")
# A price label is parts joined by " · " (or " . "): a resolution ("720p", "4K"), a clip
# length ("8s", "2 seconds", with its terms in parentheses: "8s (with audio)"), maybe an
# aspect ratio ("16:9") and bare terms ("No audio", "R2V"). A part "(no audio)" of its own
# after a "1s" makes the row a rate (the price over the seconds); else it is a clip price.
PRICE_PARTS = re.compile(r"\s+[·.]\s+")
PRICE_RES = re.compile(r"^\d+(?:p|K)$")
PRICE_RATIO = re.compile(r"^~?(?P<ratio>\d+:\d+)$")
PRICE_SECS = re.compile(
    r"^(?P<secs>\d+(?:\.\d+)?)\s*(?:s|sec|seconds?)(?: \((?P<terms>[^()]+)\))?$"
)
PRICE_RATE_TERMS = re.compile(r"^\((?P<terms>[^()]+)\)$")
PRICE = re.compile(r"^\$(?P<usd>\d+(?:\.\d+)?)$")
# Prose surcharges; what "when ..." and "... seconds" mean is the platform's pricingTerms.
SURCHARGE = re.compile(
    r"\$(?P<usd>\d+(?:\.\d+)?)/s applied on top of base pricing when (?P<term>[^.;,]+)"
)
# Image prices: a label's parts are a resolution tier ("1K", "1k", "0.5K"), a size
# ("1024x1024", "1024 x 1024"), a count of a parameter ("30 steps") or a bare value of a
# parameter ("low": providerSettings.openai.quality) or a pricing term.
IMAGE_TIER = re.compile(r"^\d+(?:\.\d+)?[pKk]$")
IMAGE_COUNT = re.compile(r"^(?P<n>\d+(?:\.\d+)?) (?P<name>[A-Za-z]+)$")
IMAGE_WORD = re.compile(r"^[A-Za-z][\w-]*(?: [A-Za-z][\w-]*)*$")
# Prose add-ons of image pages, what their terms mean is the platform's pricingTerms.
ADDON_EACH = re.compile(
    r"[Ff]or (?:every|each) (?P<term>[a-z][a-z ]*?) used, (?:it's |it is |there is )?"
    r"an additional \$(?P<usd>\d+(?:\.\d+)?)"
)
ADDON_WHEN = re.compile(
    r"[Ww]hen using (?P<term>[a-z][a-z ]*?), (?:an additional )?\$(?P<usd>\d+(?:\.\d+)?) "
    r"(?:will be|is) added(?: on top)?"
)
# A pricing sentence that names an amount and something added: an add-on the importer must
# read or say it could not.
ADDON_HINT = re.compile(r"\b(?:additional|added|extra|on top|surcharge)\b", re.I)
ONLY_APPLIES = re.compile(r"^Only applies when `[^`]+` is `[^`]+`\.?$")
SAME_RATE = re.compile(r"(?P<term>[A-Za-z][\w ]*?) seconds are charged at the same rate")
DIMS = SIZE  # 1280x720, or with the multiplication sign
DIMENSION_PARAMS = ("width", "height")  # what a page's dimension table sizes
CONFIG = re.compile(r"^(?P<res>\S+) \(~?(?P<ar>\d+:\d+)\)$")  # "~16:9": approximately
# Sentences in descriptions that read like a constraint; each must be captured by the
# spec (a rule's or behaviour's quote, or a note) or the importer says so.
RULE_HINT = re.compile(
    r"\b(requires?|required when|cannot|can only|only applies|up to \d+|must|at most|"
    r"at least|defaults? to|limited to|not both)\b",
    re.I,
)
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


# A page fact and the spec key it states, per the parameter's JSON type.
FACT_SPEC_KEYS = {"Min": "minimum", "Max": "maximum", "Step": "multipleOf", "Default": "default",
                  "Type": "type", "Required": "required"}  # fmt: skip
LENGTH_KEYS = {"string": {"minimum": "minLength", "maximum": "maxLength"},
               "array": {"minimum": "minItems", "maximum": "maxItems"}}  # fmt: skip


@dataclass(frozen=True)
class Unreadable:
    """A parameter fact the page states but the importer could not read: the spec made from
    the page alone lacks it (``diff`` classifies that loss)."""

    path: str
    key: str  # the spec key the fact would have set (maximum, maxLength, default, type ...)
    fact: str  # the page's word for it (Max, Default, Type ...)
    text: str  # what the page says
    line: int


# ── page facts to spec values ──────────────────────────────────────────────


def _typed(text: str, types: Iterable[str]) -> Any:
    """A fact's text as the parameter's JSON type (`95` → 95, `false` → False)."""
    return typed_value(text, list(types))


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

    def __init__(self, page: DocsPage, platform: Platform) -> None:
        self.page = page
        self.platform = platform
        self.notes: list[Note] = [Note("warning", w.line, w.message) for w in page.warnings]
        # a page's Format line by the platform's docsName, in any case ("URI", "uri")
        self.formats = {
            f.docs_name.lower(): name
            for name, f in platform.formats.items()
            if f.docs_name is not None
        }
        self.phrasings = docs_rules.phrasings(platform)
        self.literal: dict[str, dict[str, Any]] = {}  # anchor → what the page literally says
        self.paths: dict[str, str] = {}  # anchor → the path the parameter was imported at
        self.required_lines: dict[str, int] = {}  # path → line of its Required fact
        self.example_names: list[str] = []  # every example the page shows, in order
        self.placeholders: set[str] = set()  # model keys the page did not give (merge keeps ours)
        self.unreadable: list[Unreadable] = []  # facts stated but not read, in page order
        self.example_lines: dict[str, int] = {}  # example name -> its heading's page line

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
            # An object's Path line naming its own first property is how the pages write
            # objects (safety: safety.checkContent): kept as docsPath, not a contradiction.
            declared = _base_token(unquote(facts["Type"].text)) if "Type" in facts else ""
            convention = _type_of(declared)[0] == "object" and literal["path"].startswith(
                f"{path}."
            )
            self.note(
                "change" if convention else "warning",
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
            line = facts["Type"].line
            self.note("warning", line, f"{path}: unknown type {token!r}; imported as string")
            self.unreadable.append(Unreadable(path, "type", "Type", token, line))
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
            if name.lower() in self.formats:
                param["format"] = self.formats[name.lower()]
            else:
                line = facts["Format"].line
                self.note("warning", line, f"{path}: unknown format {name!r}; none imported")
                self.unreadable.append(Unreadable(path, "format", "Format", name, line))
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
        self.paths[section.anchor] = path
        return param

    def _number(self, section: Section, fact: str, literal: dict[str, Any]) -> int | float | None:
        text = unquote(section.facts[fact].text)
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return _number(text)
        self._unreadable(section, fact, literal)
        return None

    def _unreadable(self, section: Section, fact: str, literal: dict[str, Any]) -> None:
        """A fact whose value cannot be read: said with the parameter's path and the line,
        recorded for the diff, and the merge keeps the spec's entry."""
        text = section.facts[fact]
        path = literal["path"]
        json_type = _type_of(literal.get("type", "string"))[0] or "string"
        key = FACT_SPEC_KEYS.get(fact, fact)
        key = LENGTH_KEYS.get(json_type, {}).get(key, key)
        self.note(
            "warning",
            text.line,
            f"{path}: {fact} {text.text!r} not understood; no {key} imported from it",
        )
        self.unreadable.append(Unreadable(path, key, fact, text.text, text.line))
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

    def _reconcile_required(
        self, params: list[dict[str, Any]], rules: list[dict[str, Any]]
    ) -> None:
        """A parameter an exactly-one or at-least-one rule makes conditional cannot be
        required outright."""
        conditional: set[str] = set()
        for rule in rules:
            conditional.update(codegen_kind(rule["kind"]).conditional(rule))
        for param in params:
            if param.get("required") and param["path"] in conditional:
                del param["required"]
                param["docsRequired"] = True
                self.note(  # the page's word is kept (docsRequired): a change, not unread
                    "change",
                    self.required_lines.get(param["path"], 0),
                    f"{param['path']} is marked required, but an either-or rule makes it "
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
        for cap in out["capabilities"]:
            if cap not in self.platform.capabilities:
                line = f["Capabilities"].line
                self.note("warning", line, f"capability {cap!r} is not one the kit knows; kept")
        out["docs"] = url
        return out

    def pricing(self, params: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
        unit = self._result_unit(params or [])
        if unit is not None:
            return self._image_pricing(unit, params or [])
        page = self.page
        rates = []
        for label, price in page.prices:
            lm, pm = _price_label(label.text), PRICE.match(price.text)
            if lm is None or pm is None:
                self.note(
                    "warning", label.line, f"price not understood: {label.text}: {price.text}"
                )
                page.unreadable.add("pricing")
                continue
            row = self._price_terms(" + ".join(lm["terms"]), label.line)
            if row is None:
                page.unreadable.add("pricing")
                continue
            row = {**({"resolution": lm["res"]} if lm["res"] else {}),
                   **({"aspectRatio": lm["ratio"]} if lm["ratio"] else {}), **row}  # fmt: skip
            row.setdefault("audio", None)  # keeps its place; dropped below when no row says
            if lm["rate"]:
                row["perSecond"] = round(float(pm["usd"]) / float(lm["secs"]), 6)
            else:
                row |= {"perClip": _number(pm["usd"]), "seconds": _number(lm["secs"])}
            rates.append(row | {"quote": label.text})
            self._unmatched_price(rates[-1], label.line)
        if not rates:
            return None
        _tagged_siblings(rates)
        # "720p · 8s" beside "720p · 8s (with audio)" is the price without audio
        stated = any(r["audio"] is not None for r in rates)
        rates = [
            {k: (False if k == "audio" and v is None else v) for k, v in r.items()}
            if stated
            else {k: v for k, v in r.items() if k != "audio"}
            for r in rates
        ]
        return self._pricing_entry("second", rates)

    def _result_unit(self, params: list[dict[str, Any]]) -> str | None:
        """The pricing unit of a page whose task type's results are priced one by one (the
        platform's pricing unit named as the task type's media, with perImage amounts);
        None for the per-second and clip prices of video pages."""
        task_type = next((p.get("const") for p in params if p["path"] == "taskType"), None)
        lifecycle = self.platform.task_types.get(str(task_type))
        media = lifecycle.media if lifecycle else None
        if media is not None and "perImage" in self.platform.pricing_amounts.get(media, ()):
            return media
        return None

    def _image_pricing(self, unit: str, params: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Per-image price rows: each label's tier, size, counts and values as conditions."""
        page = self.page
        labels = [(label, price, _image_label(label.text)) for label, price in page.prices]
        words = {w for _, _, parts in labels if parts for w in parts["words"]}
        rates = []
        for label, price, parts in labels:
            pm = PRICE.match(price.text)
            row = self._image_row(parts, words, params, label.line) if parts else None
            if row is None or pm is None:
                self.note(
                    "warning", label.line, f"price not understood: {label.text}: {price.text}"
                )
                page.unreadable.add("pricing")
                continue
            rates.append(row | {"perImage": _number(pm["usd"]), "quote": label.text})
            self._unmatched_price(rates[-1], label.line)
        if not rates:
            return None
        return self._pricing_entry(unit, rates)

    def _pricing_entry(self, unit: str, rates: list[dict[str, Any]]) -> dict[str, Any]:
        """The spec's pricing entry: unit, the page's quote, the rows and the add-ons."""
        out: dict[str, Any] = {"currency": "USD", "unit": unit}
        if self.page.pricing_quote:
            out["quote"] = self.page.pricing_quote.text
        out["rates"] = rates
        if surcharges := self.surcharges():
            out["surcharges"] = surcharges
        out["audioDefault"] = False
        return out

    def _image_row(
        self,
        parts: Mapping[str, Any],
        words: set[str],
        params: list[dict[str, Any]],
        line: int,
    ) -> dict[str, Any] | None:
        """One image price label as row conditions; None (with a warning) where a part
        names nothing the page has."""
        row: dict[str, Any] = {}
        values: dict[str, Any] = {}
        by_name = {p["path"].rsplit(".", 1)[-1]: p for p in params}
        if parts["tier"] is not None:
            row["resolution"] = self._tier(parts["tier"], params)
        if parts["size"] is not None:
            width, height = parts["size"]
            tier = self._tier_of_size(width, height)
            if tier is not None:
                row["resolution"] = tier
                self.note("change", line, f"price size {width}x{height} is a dimension row of "
                          f"{tier}: priced as {tier}")  # fmt: skip
            else:
                first, second = DIMENSION_PARAMS
                values |= {first: width, second: height}
        for number, name in parts["counts"]:
            param = by_name.get(name) or by_name.get(name.removesuffix("s"))
            if param is None:
                self.note("warning", line, f"price part {number} {name}: no parameter {name!r}")
                return None
            values[param["path"]] = _typed(number, _types_of(param))
        for word in parts["words"]:
            term = self.platform.pricing_terms.get(word) or self.platform.pricing_terms.get(
                word.lower()
            )
            if term is not None:
                extra = self._price_terms(word, line)
                if extra is None:
                    return None
                row |= extra
                continue
            path = _value_owner(word, words, params)
            if path is None:
                self.note("warning", line, f"price part {word!r} is no value of one parameter")
                return None
            values[path] = word
        if values:
            row["values"] = values
        return row

    def _tier(self, text: str, params: list[dict[str, Any]]) -> str:
        """A tier as the page's dimension table or resolution values spell it ("1k": 1K)."""
        known = [cm["res"] for c, _ in self.page.dimensions if (cm := CONFIG.match(c.text))]
        known += [str(e["value"]) for p in params for e in p.get("enum", [])]
        return next((k for k in known if k.lower() == text.lower()), text)

    def _tier_of_size(self, width: int, height: int) -> str | None:
        for config, dims in self.page.dimensions:
            cm, dm = CONFIG.match(config.text), DIMS.match(dims.text)
            if cm and dm and (int(dm["w"]), int(dm["h"])) == (width, height):
                return str(cm["res"])
        return None

    def _price_terms(self, text: str, line: int) -> dict[str, Any] | None:
        """A price label's terms ("video input + no audio") as row conditions, from the
        platform's pricingTerms; paths the model lacks are dropped. None: a term unknown."""
        known = {self._path_of(s) for s in self.page.request}
        row: dict[str, Any] = {}
        for term in (t.strip() for t in text.split("+") if t.strip()):
            meaning = self.platform.pricing_terms.get(term)
            if meaning is None:
                meaning = self.platform.pricing_terms.get(term.lower())
            if meaning is None:
                self.note("warning", line, f"price term not understood: {term!r}")
                return None
            for key, value in meaning.items():
                if key == "audio":
                    row["audio"] = value
                    continue
                paths = [p for p in value if p in known]
                if not paths:
                    self.note("warning", line, f"price term {term!r}: the page has none of "
                              f"{', '.join(value)}")  # fmt: skip
                    return None
                row[key] = paths
        return row

    def surcharges(self) -> list[dict[str, Any]]:
        """Surcharges the pricing prose states; a prose line after the first that states
        none is a warning (and the merge keeps the spec's pricing)."""
        page, out = self.page, list[dict[str, Any]]()
        lines = [*([page.pricing_quote] if page.pricing_quote else []), *page.pricing_prose]
        forms = (
            (SURCHARGE, lambda m: {"perSecond": _number(m["usd"])}),
            (SAME_RATE, lambda m: {"sameRate": True}),
            (ADDON_EACH, lambda m: {"perItem": _number(m["usd"])}),
            (ADDON_WHEN, lambda m: {"perImage": _number(m["usd"])}),
        )
        for text in lines:
            found = [
                (m, amount(m)) for pattern, amount in forms for m in pattern.finditer(text.text)
            ]
            for m, amount in found:
                condition = self._term_paths(m["term"].strip(), text.line)
                if condition is not None:
                    out.append({**amount, **condition, "quote": m[0]})
            if not found and text is not page.pricing_quote:
                self.note("warning", text.line, f"pricing line not understood: {text.text[:60]!r}")
                page.unreadable.add("pricing")
                continue
            # a sentence stating an amount added that no form read
            for sentence in re.split(r"(?<=[.!?])\s+", text.text):
                if (
                    "$" in sentence
                    and ADDON_HINT.search(sentence)
                    and not any(m[0] in sentence or sentence in m[0] for m, _ in found)
                ):
                    self.note("warning", text.line, f"pricing add-on not understood: "
                              f"{sentence[:80]!r}")  # fmt: skip
                    page.unreadable.add("pricing")
        return out

    def _term_paths(self, term: str, line: int) -> dict[str, list[str]] | None:
        """What an add-on's term means (the platform's pricingTerms): the paths of this page
        that must be given (``provided``) or be true (``enabled``)."""
        meaning = self.platform.pricing_terms.get(term) or self.platform.pricing_terms.get(
            term.lower()
        )
        known = {self._path_of(s) for s in self.page.request}
        for key in ("provided", "enabled"):
            paths = [p for p in (meaning or {}).get(key, []) if p in known]
            if paths:
                return {key: paths}
        self.note("warning", line, f"price surcharge term not understood: {term!r}")
        return None

    def _unmatched_price(self, row: Mapping[str, Any], line: int) -> None:
        """A row keyed by a resolution (or aspect ratio) no dimension row has can never match
        a task: said with the row's line and the dimension row it probably means."""
        table = self.page.dimensions
        if not table or "resolution" not in row:
            return
        read = [(c, d, CONFIG.match(c.text), DIMS.match(d.text)) for c, d in table]
        rows = [(c, d, cm, dm) for c, d, cm, dm in read if cm and dm]
        if not rows or any(
            cm["res"] == row["resolution"] and row.get("aspectRatio") in (None, cm["ar"])
            for _, _, cm, _ in rows
        ):
            return
        number = re.match(r"\d+", row["resolution"])
        near = [
            (c, d) for c, d, _, dm in rows
            if number and int(number[0]) in (int(dm["w"]), int(dm["h"]))
        ]  # fmt: skip
        where = (
            f"; line {near[0][1].line} calls {near[0][1].text} {near[0][0].text}" if near else ""
        )
        self.note(
            "warning",
            line,
            f"price row {row['quote']!r} can never "
            f"match a task: no dimension row is {row['resolution']}"
            f"{' ' + row['aspectRatio'] if row.get('aspectRatio') else ''}{where}; "
            "kept with its label",
        )

    def _path_of(self, section: Section) -> str:
        """Where a section's parameter sits: where it was imported (an object's Path line
        names its first property), else as its Path line or group says."""
        if section.anchor in self.paths:
            return self.paths[section.anchor]
        if "Path" in section.facts:
            return unquote(section.facts["Path"].text)
        nested = self._nested_in(section)
        return f"{nested}.{section.name}" if nested else section.name

    def dimensions(self, params: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
        params = params or []
        rows = []
        for config, dims in self.page.dimensions:
            dm, cm = DIMS.match(dims.text), CONFIG.match(config.text)
            if dm is None or cm is None:
                what = dims.text if dm is None else config.text
                self.note("warning", dims.line, f"dimension row not understood: {what!r}")
                self.page.unreadable.add("dimensions")
                continue
            rows.append({
                "label": config.text, "resolution": cm["res"], "aspectRatio": cm["ar"],
                "width": int(dm["w"]), "height": int(dm["h"]),
            })  # fmt: skip
        if not rows:
            return None
        table: dict[str, Any] = {"params": list(DIMENSION_PARAMS)}
        # a preset parameter whose values are the rows' tiers ("resolution": 1K, 2K)
        tiers = {r["resolution"] for r in rows}
        preset = next(
            (
                p["path"] for p in params
                if p.get("enum") and {str(e["value"]) for e in p["enum"]} <= tiers
                and p["path"] not in DIMENSION_PARAMS
            ),
            None,
        )  # fmt: skip
        if preset is not None:
            table["resolutionParameter"] = preset
        return table | {"rows": rows}

    def rules(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        ids: set[str] = set()
        for sentence in self.page.compatibility:
            found = docs_rules.rules_from_sentence(sentence.text, self.phrasings)
            if not found:
                self.note(
                    "warning",
                    sentence.line,
                    f"validation sentence not understood (no phrasing fits): {sentence.text!r}",
                )
                continue
            for rule in found:
                rule["id"] = _unique(rule["id"], ids)
                self._self_contradiction(rule, sentence.line)
                out.append(rule)
        # A page table that states a rule, by name: the sentence introducing it, when it has rows.
        tables = {"dimension table": self.page.dimension_intro if self.page.dimensions else None}
        for kind in CODEGEN_KINDS.values():
            if kind.fact is not None:
                self._fact_rules(kind, kind.fact, out, ids)
            if kind.table is not None and (intro := tables.get(kind.table)) is not None:
                rule = kind.from_table({"section": docs_rules.SECTION, "quote": intro.text})
                out.append(dict(rule, id=_unique(rule["id"], ids)))
        return out

    def _fact_rules(
        self, kind: KindCodegen, fact: str, out: list[dict[str, Any]], ids: set[str]
    ) -> None:
        """The rules parameter facts state ("Paired with: `b`"), added to ``out`` but for those
        already there: "`a` and `b` must be used together." and the fact are one rule."""
        for section in self.page.request:
            line = section.facts.get(fact)
            if line is None or section.level != 3:
                continue
            other = unquote(line.text)
            source = {"anchor": section.anchor, "quote": f"{fact}: {other}"}
            rule = kind.from_fact(section.name, other, source)
            if not any(r["kind"] == kind.name and kind.same(r, rule) for r in out):
                out.append(dict(rule, id=_unique(rule["id"], ids)))

    def _self_contradiction(self, rule: dict[str, Any], line: int) -> None:
        """A rule naming a parameter on both sides refuses every task that gives it: said,
        and imported not enforced until a curator decides what the page means."""
        both = codegen_kind(rule["kind"]).both_sides(rule_args(rule))
        if not both:
            return
        names = ", ".join(both)
        rule["enforced"] = False
        rule["notes"] = [
            f"The page names {names} on both sides of this rule, which would refuse every "
            "task that gives it; not enforced until a curator decides what the page means."
        ]
        self.note(
            "warning",
            line,
            f"contradiction on the page: rule {rule['id']!r} names {names} on both sides: "
            f"{rule['source']['quote']!r}; imported with enforced: false",
        )

    # ── constraint tables ──

    def constraint_rules(
        self, params: list[dict[str, Any]], taken: set[str]
    ) -> list[dict[str, Any]]:
        """The rows of each "Parameter constraints vary based on the configuration:" table
        as valueWhen rules: in the configuration a row names, each parameter of the header
        takes one of the values the row lists. An ``Other`` row holds where no row above
        does; a row allowing every value a parameter has makes no rule."""
        by_path = {p["path"]: p for p in params}
        out: list[dict[str, Any]] = []
        for table in self.page.constraints:
            if len(table.header) < 2 or not table.rows:
                self.note("warning", table.intro.line, "constraint table not understood")
                continue
            key = table.header[0]
            key_path = None if key == "Dimensions" else self._param_named(key, by_path)
            cols = [self._param_named(h, by_path) for h in table.header[1:]]
            if (key != "Dimensions" and key_path is None) or None in cols:
                found = [key_path or key == "Dimensions", *cols]
                unknown = [h for h, c in zip(table.header, found, strict=True) if not c]
                what = f"constraint table names no parameter of the page: {unknown[0]!r}"
                self.note("warning", table.intro.line, what)
                continue
            conds: list[list[dict[str, Any]]] = []  # each row's condition (allOf)
            for line, cells in table.rows:
                label = cells[0].strip("`").strip()
                when = self._row_condition(label, key_path, conds, by_path)
                if when is None:
                    self.note("warning", line, f"constraint row not understood: {label!r}")
                    continue
                for path, cell in zip(cols, cells[1:], strict=False):
                    assert path is not None
                    rule = self._row_rule(path, label, when, cell, by_path[path], line)
                    if rule is not None:
                        rule["id"] = _unique(rule["id"], taken)
                        out.append(rule)
        return out

    def _param_named(self, name: str, by_path: Mapping[str, Any]) -> str | None:
        if name in by_path:
            return name
        ends = [p for p in by_path if p.endswith("." + name)]
        return ends[0] if len(ends) == 1 else None

    def _row_condition(
        self,
        label: str,
        key_path: str | None,
        conds: list[list[dict[str, Any]]],
        by_path: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        if label == "Other":  # none of the rows above: each row's negation, all of them
            if len(conds) == 1:
                return {"anyOf": [c | {"not": True} for c in conds[0]]}
            if all(len(c) == 1 for c in conds):
                return {"allOf": [c[0] | {"not": True} for c in conds]}
            return None
        if key_path is None:
            size = DIMS.match(label)
            if size is None:
                return None
            row = [{"path": "width", "equals": int(size["w"])},
                   {"path": "height", "equals": int(size["h"])}]  # fmt: skip
        else:
            types = _types_of(by_path[key_path])
            row = [{"path": key_path, "equals": _typed(label, types)}]
        conds.append(row)
        return {"allOf": row}

    def _row_rule(
        self,
        path: str,
        label: str,
        when: dict[str, Any],
        cell: str,
        param: Mapping[str, Any],
        line: int,
    ) -> dict[str, Any] | None:
        written = re.findall(r"`([^`]+)`", cell) or [cell.strip()]
        values = [_typed(v, _types_of(param)) for v in written if v]
        domain = [e["value"] for e in param.get("enum", [])]
        if not values or (domain and all(any(_same(d, v) for v in values) for d in domain)):
            return None  # every value the parameter has: no constraint
        kind = next(k for k in CODEGEN_KINDS.values() if k.reads_constraint_rows)
        source = {"section": docs_rules.SECTION, "quote": f"{label}: {path} {' '.join(written)}"}
        return kind.from_row(ConstraintRow(path, label, when, values, written, source))

    # ── rules in descriptions ──

    def description_rules(
        self, params: list[dict[str, Any]], taken: set[str]
    ) -> list[dict[str, Any]]:
        """Rules a parameter's description states unambiguously. An either-or of an object's
        fields ("You must provide either `text` or `image` content for the watermark, but
        not both.") holds inside the object when it is given: a requires of any one and a
        forbids of the others. "Only applies when `a` is `v`." is no validation rule (the
        parameter is accepted and ignored otherwise): a note on the parameter says so."""
        by_path = {p["path"]: p for p in params}
        out: list[dict[str, Any]] = []
        for section in self.page.request:
            path = self._path_of(section)
            param = by_path.get(path)
            if param is None:
                continue
            for sentence in re.split(r"(?<=[.!?])\s+", section.description()):
                if ONLY_APPLIES.match(sentence):
                    param.setdefault("notes", []).append(
                        f"{sentence} Not a validation rule: the parameter is accepted "
                        "otherwise and has no effect."
                    )
                    continue
                rule = docs_rules.rule_from_sentence(sentence, self.phrasings)
                if rule is None or param["type"] != "object":
                    continue
                kind = codegen_kind(rule["kind"])
                made = kind.inside_object(path, rule, source={"anchor": section.anchor,
                                                       "quote": sentence})  # fmt: skip
                if not made or any(p not in by_path for m in made for _, p in _paths(m)):
                    continue
                for one in made:
                    one["id"] = _unique(one["id"], taken)
                    out.append(one)
        return out

    def type_rule_values(self, rules: list[dict[str, Any]], params: list[dict[str, Any]]) -> None:
        """A sentence's values as the parameter's type (`5` of a string parameter is "5")."""
        types = {p["path"]: _types_of(p) for p in params}
        for rule in rules:
            codegen_kind(rule["kind"]).typed(rule, types)

    def examples(self) -> list[dict[str, Any]]:
        out = []
        for ex in self.page.examples:
            name = re.sub(r"[^a-z0-9]+", "-", ex.title.lower()).strip("-")
            if name in self.example_names:
                self.note("warning", ex.line, f"example {ex.title!r} appears twice; kept the first")
                continue
            self.example_names.append(name)  # readable or not: the merge keeps what is not
            self.example_lines[name] = ex.line
            if ex.request is None and ex.response is None:
                # a title (and picture) only, as some pages publish them: nothing to read
                self.note("change", ex.line, f"example {ex.title!r} has no payload; not imported")
                continue
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
            if ex.image:
                item["image"] = ex.image
            out.append(item | {"request": ex.request, "response": ex.response})
        return out

    def spec(self) -> dict[str, Any]:
        """The whole model spec the page states, ready for the loader."""
        facts = self.facts()
        rules = self.rules()
        params = self.parameters(self.page.request, request=True)
        self.type_rule_values(rules, params)
        rules += self.constraint_rules(params, {r["id"] for r in rules})
        rules += self.description_rules(params, {r["id"] for r in rules})
        self._reconcile_required(params, rules)
        task_type = next((p.get("const") for p in params if p["path"] == "taskType"), None)
        spec: dict[str, Any] = {"specVersion": 1, "kind": "model", "id": facts["id"]}
        spec |= {"name": facts["name"], "slug": facts["slug"]}
        spec["taskType"] = task_type or "videoInference"
        spec |= {k: facts[k] for k in ("status", "creator", "releaseDate", "capabilities", "docs")}
        spec["summary"] = f"{facts['name']} ({facts['id']}), imported from its docs page."
        pricing = self.pricing(params)
        if pricing is None:
            self.note("warning", 0, "no prices understood; pricing left empty")
        spec["pricing"] = pricing
        if (dims := self.dimensions(params)) is not None:
            spec["dimensions"] = dims
        spec["parameters"] = params
        spec["response"] = self.parameters(self.page.response, request=False)
        spec["rules"] = rules
        spec["examples"] = self.examples()
        return spec


def _tagged_siblings(rates: list[dict[str, Any]]) -> None:
    """ "720p · 5s" beside "720p · 5s · R2V" is the price without that mode: the untagged
    row gets the tagged one's paths as ``absent`` (else it would match both kinds of task)."""
    for row in rates:
        if "provided" in row or "absent" in row:
            continue
        same = [
            r for r in rates
            if "provided" in r and all(r.get(k) == row.get(k)
                                       for k in ("resolution", "aspectRatio", "seconds"))
        ]  # fmt: skip
        paths = sorted({p for r in same for p in r["provided"]})
        if paths:
            row["absent"] = paths


def _image_label(text: str) -> dict[str, Any] | None:
    """An image price label's parts: tier, size, counts of a parameter and bare words;
    None when a part is none of those."""
    out: dict[str, Any] = {"tier": None, "size": None, "counts": [], "words": []}
    for part in (p.strip() for p in PRICE_PARTS.split(text.strip())):
        if IMAGE_TIER.match(part) and out["tier"] is None:
            out["tier"] = part
        elif (size := DIMS.match(part)) and out["size"] is None:
            out["size"] = (int(size["w"]), int(size["h"]))
        elif count := IMAGE_COUNT.match(part):
            out["counts"].append((count["n"], count["name"]))
        elif IMAGE_WORD.match(part):
            out["words"].append(part)
        else:
            return None
    return out


def _value_owner(word: str, words: set[str], params: list[dict[str, Any]]) -> str | None:
    """The one parameter ``word`` is an allowed value of: among those that have it, the one
    that has the most of the page's other label words ("low" beside "high" and "medium" is
    a quality, not a moderation level); None when none or a tie."""
    owners = [p for p in params if any(e["value"] == word for e in p.get("enum", []))]
    scored = sorted(
        ((sum(any(e["value"] == w for e in p["enum"]) for w in words), p["path"]) for p in owners),
        reverse=True,
    )
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return str(scored[0][1])


def _price_label(text: str) -> dict[str, Any] | None:
    """A price label's parts: resolution, aspect ratio, seconds, terms and whether it is a
    rate; None when a part is not one of those (or the resolution or length is missing)."""
    out: dict[str, Any] = {"res": None, "ratio": None, "secs": None, "terms": [], "rate": False}
    for part in PRICE_PARTS.split(text.strip()):
        if PRICE_RES.match(part) and out["res"] is None:
            out["res"] = part
        elif (ratio := PRICE_RATIO.match(part)) and out["ratio"] is None:
            out["ratio"] = ratio["ratio"]
        elif (secs := PRICE_SECS.match(part)) and out["secs"] is None:
            out["secs"] = secs["secs"]
            out["terms"] += [t for t in (secs["terms"] or "").split("+") if t.strip()]
        elif (rate := PRICE_RATE_TERMS.match(part)) and out["secs"] is not None:
            out["rate"] = True
            out["terms"] += rate["terms"].split("+")
        elif re.fullmatch(r"[A-Za-z][\w ]*", part):
            out["terms"].append(part)
        else:
            return None
    return out if out["secs"] else None


def _paths(rule: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every (key, path) a rule in spec form names."""
    return list(KINDS[rule["kind"]].paths(rule_args(rule)))


def _types_of(param: Mapping[str, Any]) -> list[str]:
    type_ = param["type"]
    return list(type_) if isinstance(type_, list) else [type_]


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name
