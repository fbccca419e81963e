"""The committed spec holds every fact of the real docs page.

This reads the page with a deliberately small, independent reader (not the
importer) and checks each heading, bullet, rule sentence, dimension row, price
and example against spec/models/klingai-video-3-0-pro.yaml. Where the spec
reconciles a contradiction it keeps the page's literal value in a ``docs*`` key,
and the check compares against that.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from codegen.spec.model import ModelSpec, Parameter, SpecSet

MODEL_ID = "klingai:kling-video@3-pro"
HEADING = re.compile(r"^#{3,4} \[(?P<name>[^\]]+)\]\([^)#]*#(?P<anchor>[a-z0-9-]+)\)\s*$")
BULLET = re.compile(r"^- \*\*(?P<key>[^*]+)\*\*: (?P<value>.+)$")
ALLOWED_INLINE = re.compile(r"^\*\*Allowed values\*\*: (?P<values>.+)$")
ALLOWED_ITEM = re.compile(r"^- `(?P<value>[^`]+)`")


@dataclass
class PageParam:
    anchor: str
    name: str
    line: int
    bullets: dict[str, str] = field(default_factory=dict)
    allowed: list[str] = field(default_factory=list)


def unquote(value: str) -> str:
    return value.strip().strip("`")


def page_params(text: str) -> list[PageParam]:
    params: list[PageParam] = []
    current: PageParam | None = None
    in_allowed = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("## ") or (line.startswith("**") and not line.startswith("**Allowed")):
            in_allowed = False
        m = HEADING.match(line)
        if m:
            current = PageParam(anchor=m["anchor"], name=m["name"], line=number)
            params.append(current)
            in_allowed = False
            continue
        if current is None:
            continue
        if line.startswith("## "):
            current = None
            continue
        if (b := BULLET.match(line)) and not in_allowed and b["key"] not in current.bullets:
            current.bullets[b["key"]] = b["value"]
        elif a := ALLOWED_INLINE.match(line):
            current.allowed = re.findall(r"`([^`]+)`", a["values"])
        elif line.strip() == "**Allowed values**:":
            in_allowed = True
        elif in_allowed and (item := ALLOWED_ITEM.match(line)):
            current.allowed.append(item["value"])
    return params


def page_value(bullet: str) -> Any:
    """A bullet's value as JSON when it reads as JSON (95, false), else as text."""
    text = unquote(bullet)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def plain(text: str) -> str:
    """Page text without markdown emphasis, bullet marks, escapes or line breaks."""
    text = text.replace("\\`", "`").replace("**", "")
    text = re.sub(r"^- ", "", text, flags=re.M)
    return re.sub(r"\s+", " ", text)


def section(text: str, title: str) -> str:
    body = text.split(f"\n## {title}\n", 1)[1]
    return body.split("\n## ", 1)[0]


@pytest.fixture(scope="module")
def model(spec: SpecSet) -> ModelSpec:
    return spec.model(MODEL_ID)


def spec_field(model: ModelSpec, anchor: str) -> Parameter:
    for p in (*model.parameters, *model.response):
        if p.anchor == anchor:
            return p
    raise AssertionError(f"no spec entry has anchor {anchor!r}")


def test_every_parameter_heading_is_in_the_spec(docs_page_text: str, model: ModelSpec) -> None:
    headings = page_params(docs_page_text)
    assert len(headings) == 44  # 35 request + 9 response headings on the page
    spec_anchors = {p.anchor for p in (*model.parameters, *model.response) if p.anchor}
    assert {h.anchor for h in headings} == spec_anchors


def expected_types(page_type: str) -> tuple[tuple[str, ...], str | None]:
    """JSON types (and item type) that a page "Type" bullet stands for."""
    t = unquote(page_type)
    if t.startswith("array of strings"):
        return ("array",), "string"
    if t.startswith("array of objects"):
        return ("array",), "object"
    if t.startswith("object"):
        return ("object",), None
    return ({"float": "number"}.get(t, t),), None


@pytest.mark.parametrize("kind", ["request", "response"])
def test_each_heading_bullet_matches_the_spec(
    docs_page_text: str, model: ModelSpec, kind: str
) -> None:
    checked = 0
    for h in page_params(docs_page_text):
        if not h.anchor.startswith(kind):
            continue
        p = spec_field(model, h.anchor)
        b = h.bullets
        where = f"page line {h.line} ({h.anchor})"
        assert p.name == h.name, where
        if "Path" in b:
            assert unquote(b["Path"]) == (p.docs_path or p.path), where
        else:
            assert "." not in p.path, where
        page_type = unquote(b["Type"])
        if p.docs_type is not None:
            assert page_type.startswith(p.docs_type), where
        else:
            types, item = expected_types(page_type)
            assert p.types == types, where
            assert (p.items.type if p.items else None) == item, where
        if b.get("Required") == "true":
            assert p.required or p.docs_required, where
        else:
            assert not p.required, where
        numeric = p.types[0] in ("integer", "number")
        if "Min" in b:
            assert (p.minimum if numeric else p.min_length) == int(unquote(b["Min"])), where
        if "Max" in b:
            assert (p.maximum if numeric else p.max_length) == int(unquote(b["Max"])), where
        if "Step" in b:
            assert p.multiple_of == int(unquote(b["Step"])), where
        if "Default" in b:
            assert p.default == page_value(b["Default"]), where
        if "Value" in b:
            assert p.const == page_value(b["Value"]), where
        if "Format" in b:
            assert p.format == {"UUID v4": "uuid-v4", "URI": "uri"}[unquote(b["Format"])], where
        if "Paired with" in b:
            assert p.paired_with == unquote(b["Paired with"]), where
        assert [str(e.value) for e in p.enum] == h.allowed, where
        checked += 1
    assert checked == (35 if kind == "request" else 9)


def test_every_validation_sentence_is_a_rule(docs_page_text: str, model: ModelSpec) -> None:
    body = section(docs_page_text, "Compatibility & Validation")
    blocks = [b.strip() for b in body.split("\n---\n")]
    sentences = [b.splitlines()[0].strip() for b in blocks if b]
    assert len(sentences) == 6
    quotes = {
        r.source.quote for r in model.rules if r.source.section == "Compatibility & Validation"
    }
    assert set(sentences) == quotes


def test_every_dimension_row_is_in_the_spec(docs_page_text: str, model: ModelSpec) -> None:
    body = section(docs_page_text, "Compatibility & Validation")
    rows = re.findall(r"^\| `(?P<label>[^`]+)` \| `(?P<w>\d+)x(?P<h>\d+)` \|$", body, re.M)
    assert len(rows) == 3
    assert model.dimensions is not None
    assert {(r.label, r.width, r.height) for r in model.dimensions.rows} == {
        (label, int(w), int(h)) for label, w, h in rows
    }


def test_both_prices_are_in_the_spec(docs_page_text: str, model: ModelSpec) -> None:
    body = section(docs_page_text, "Pricing")
    bullets = re.findall(r"^- \*\*(?P<what>[^*]+)\*\*: `\$(?P<price>[0-9.]+)`$", body, re.M)
    assert len(bullets) == 2
    assert model.pricing is not None
    assert {(r.quote, r.per_second) for r in model.pricing.rates} == {
        (what, float(price)) for what, price in bullets
    }
    summary = next(line for line in body.splitlines() if line.startswith("Pricing starts"))
    assert model.pricing.quote == summary


def test_all_four_examples_are_verbatim(docs_page_text: str, model: ModelSpec) -> None:
    body = section(docs_page_text, "Examples")
    found: list[tuple[str, str, Any, Any]] = []
    for block in re.split(r"\n### ", body)[1:]:
        title, kind = re.match(r"(.*) \((.*)\)", block.splitlines()[0]).groups()  # type: ignore[union-attr]
        request, response = (json.loads(j) for j in re.findall(r"```json\n(.*?)\n```", block, re.S))
        found.append((title, kind.lower().replace(" ", "-"), request, response))
    assert len(found) == 4
    assert [(e.title, e.kind, dict(e.request), dict(e.response)) for e in model.examples] == found


def test_model_facts_match(docs_page_text: str, model: ModelSpec) -> None:
    facts = dict(
        re.findall(
            r"^- \*\*(ID|Status|Creator|Release Date|Capabilities)\*\*: (.+)$", docs_page_text, re.M
        )
    )
    assert unquote(facts["ID"]) == model.id
    assert facts["Status"] == model.status
    assert facts["Creator"] == model.creator
    assert facts["Release Date"] == "February 5, 2026" and model.release_date == "2026-02-05"
    caps = [c.strip().lower().replace(" ", "-") for c in facts["Capabilities"].split(",")]
    assert list(model.capabilities) == caps


def test_every_quoted_sentence_is_really_on_the_page(docs_page_text: str, model: ModelSpec) -> None:
    """Provenance is real: each rule and behaviour quote occurs in the page text."""
    page = plain(docs_page_text)
    quotes = [r.source.quote for r in model.rules] + [b.quote for b in model.behaviours]
    for quote in quotes:
        assert plain(quote) in page, quote


def test_description_rules_are_captured(model: ModelSpec) -> None:
    """Rules that the page hides in descriptions are rules in the spec."""
    kinds = {r.id: r.kind for r in model.rules}
    assert kinds["frame-image-positions"] == "framePositions"
    assert kinds["element-images-require-frontal-image"] == "requires"
    assert kinds["element-videos-exclude-images-and-voices"] == "forbids"
    assert kinds["prompt-element-references"] == "promptReferences"
    assert kinds["ttl-needs-url-output"] == "valueWhen"
    assert kinds["safety-mode-defaults-to-fast"] == "defaultWhen"
    assert kinds["width-height-together"] == "together"
    images = model.parameter("inputs.elements.images")
    assert images is not None and images.max_items == 3
    frames = model.parameter("inputs.frameImages")
    assert frames is not None and frames.max_items == 2
