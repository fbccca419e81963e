"""The differ (``codegen/diff.py``) at its edges: each bound, step, type, value and rule change
classified by what it does to a client, both ways and on both sides (what clients send,
what they read), and an unchanged spec saying nothing."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any

import pytest

from codegen import SpecSet
from codegen.diff import Change, diff, fails, render_json, render_text
from codegen.docs.facts import Unreadable
from codegen.docs.importer import load_platform
from codegen.spec.model import Example, ModelSpec
from tests.conftest import SPEC_DIR
from tests.contracts import model_spec

PLATFORM = load_platform(SPEC_DIR)


def spec(
    param: dict[str, Any] | None = None,
    field: dict[str, Any] | None = None,
    rules: tuple[dict[str, Any], ...] = (),
    **facts: Any,
) -> ModelSpec:
    """A model with one request parameter ``p`` and one response field ``r`` (each with the
    keys given), ``a`` and ``b``, and ``rules`` (each distinct model loaded once)."""
    return _spec(json.dumps([param, field, rules, facts], sort_keys=True))


@cache
def _spec(key: str) -> ModelSpec:
    param, field, rules, facts = json.loads(key)
    params = [
        {"path": "p", "type": "number", **(param or {})},
        {"path": "a", "type": "string"},
        {"path": "b", "type": "array", "items": {"type": "string"}},
    ]
    response = [{"path": "r", "type": "number", **(field or {})}]
    return model_spec(PLATFORM, params, rules, response, **facts)


def changes(old: ModelSpec, new: ModelSpec) -> list[tuple[str, str, str]]:
    return [(c.level, c.direction, c.subject) for c in diff(old, new)]


def level(old: ModelSpec, new: ModelSpec) -> str | None:
    found = diff(old, new)
    assert len(found) <= 1, found
    return found[0].level if found else None


def test_the_same_spec_has_no_changes() -> None:
    assert diff(spec({"minimum": 1}), spec({"minimum": 1})) == []


@pytest.mark.parametrize(
    ("key", "old", "new", "sent", "read"),
    [
        ("minimum", 2, 3, "ERR", "INFO"),  # raised: fewer values a client may send
        ("minimum", 2, 1, "INFO", "WARN"),
        ("minimum", None, 1, "ERR", "INFO"),
        ("minimum", 1, None, "INFO", "WARN"),
        ("maximum", 10, 9, "ERR", "INFO"),
        ("maximum", 10, 11, "INFO", "WARN"),
        ("maximum", None, 10, "ERR", "INFO"),
        ("maximum", 10, None, "INFO", "WARN"),
        ("multipleOf", 2, 1, "INFO", "WARN"),  # every multiple of 2 is one of 1
        ("multipleOf", 1, 2, "ERR", "INFO"),
        ("multipleOf", 0.5, 0.25, "INFO", "WARN"),
        ("multipleOf", 0.25, 0.5, "ERR", "INFO"),
        ("multipleOf", 3, 2, "ERR", "INFO"),
        ("multipleOf", 0.3, 0.1, "INFO", "WARN"),  # exactly, not in binary floating point
        ("multipleOf", None, 2, "ERR", "INFO"),
        ("multipleOf", 2, None, "INFO", "WARN"),
        ("const", None, 1, "ERR", "INFO"),
        ("const", 1, None, "INFO", "WARN"),
        ("const", 1, 2, "ERR", "ERR"),
    ],
)
def test_a_number_constraint_moves_one_way_or_the_other(
    key: str, old: Any, new: Any, sent: str, read: str
) -> None:
    def with_(value: Any) -> dict[str, Any]:
        return {} if value is None else {key: value}

    assert level(spec(param=with_(old)), spec(param=with_(new))) == sent
    assert level(spec(field=with_(old)), spec(field=with_(new))) == read


@pytest.mark.parametrize(
    ("key", "old", "new", "sent"),
    [
        ("minLength", 2, 3, "ERR"),
        ("minLength", 2, 1, "INFO"),
        ("maxLength", 5, 4, "ERR"),
        ("maxLength", 5, 6, "INFO"),
    ],
)
def test_a_length_bound_moves_one_way_or_the_other(key: str, old: int, new: int, sent: str) -> None:
    def param(value: int) -> dict[str, Any]:
        return {"type": "string", key: value}

    assert level(spec(param=param(old)), spec(param=param(new))) == sent


def test_a_bound_written_as_a_float_is_the_same_bound() -> None:
    for key in ("minimum", "maximum"):
        assert all(c.level == "INFO" for c in diff(spec({key: 2}), spec({key: 2.0})))


def test_a_type_widened_or_narrowed() -> None:
    one, two = {"type": "number"}, {"type": ["number", "string"]}
    assert level(spec(param=one), spec(param=two)) == "INFO"
    assert level(spec(param=two), spec(param=one)) == "ERR"
    assert level(spec(field=one), spec(field=two)) == "WARN"
    assert level(spec(field=two), spec(field=one)) == "INFO"
    assert level(spec(param=one), spec(param={"type": "string"})) == "ERR"
    assert level(spec(field=one), spec(field={"type": "string"})) == "ERR"


def test_types_listed_in_another_order_are_no_change() -> None:
    """The order a page lists a parameter's types in means nothing to a client: the same
    types reordered are not a change on either side."""
    ab, ba = {"type": ["number", "string"]}, {"type": ["string", "number"]}
    assert diff(spec(param=ab), spec(param=ba)) == []
    assert diff(spec(field=ab), spec(field=ba)) == []
    # one type more is still a change, whatever the order
    assert (
        level(spec(param={"type": ["string", "number"]}), spec(param={"type": "number"})) == "ERR"
    )


def test_allowed_values_added_or_removed() -> None:
    def values(*vs: Any, kind: str | list[str] = "string") -> dict[str, Any]:
        return {"type": kind, "enum": [{"value": v} for v in vs]}

    assert level(spec(param=values("a", "b")), spec(param=values("a"))) == "ERR"
    assert level(spec(param=values("a")), spec(param=values("a", "b"))) == "INFO"
    assert level(spec(field=values("a", "b")), spec(field=values("a"))) == "INFO"
    assert level(spec(field=values("a")), spec(field=values("a", "b"))) == "WARN"
    assert level(spec(param={"type": "string"}), spec(param=values("a"))) == "ERR"
    assert level(spec(param=values("a")), spec(param={"type": "string"})) == "INFO"
    assert level(spec(field={"type": "string"}), spec(field=values("a"))) == "INFO"
    assert level(spec(field=values("a")), spec(field={"type": "string"})) == "WARN"
    # 1 and 1.0 are one JSON value
    assert diff(spec(param=values(1, kind="number")), spec(param=values(1.0, kind="number"))) == []
    both = ["integer", "boolean"]
    flipped = diff(spec(param=values(1, kind=both)), spec(param=values(True, kind=both)))
    assert sorted(c.message for c in flipped) == [  # true is not 1
        "allowed value added: true",
        "allowed value removed: 1",
    ]


def test_required_both_ways_and_on_both_sides() -> None:
    assert level(spec(), spec(param={"required": True})) == "ERR"
    assert level(spec(param={"required": True}), spec()) == "INFO"
    assert level(spec(), spec(field={"required": True})) == "INFO"
    assert level(spec(field={"required": True}), spec()) == "WARN"


def test_parameters_and_fields_added_or_removed() -> None:
    old = spec()
    new = model_spec(
        PLATFORM,
        [
            {"path": "p", "type": "number"},
            {"path": "a", "type": "string"},
            {"path": "b", "type": "array", "items": {"type": "string"}},
            {"path": "c", "type": "string"},
            {"path": "d", "type": "string", "required": True},
        ],
        response=[{"path": "r", "type": "number"}, {"path": "s", "type": "string"}],
    )
    assert sorted(changes(old, new)) == [
        ("ERR", "request", "d"),
        ("INFO", "request", "c"),
        ("INFO", "response", "s"),
    ]
    assert sorted(changes(new, old)) == [
        ("ERR", "request", "c"),
        ("ERR", "request", "d"),
        ("ERR", "response", "s"),
    ]


def limit(n: int, **more: Any) -> dict[str, Any]:
    return {
        "id": "a-limits-b",
        "kind": "limitItems",
        "when": {"anyOf": ["a"]},
        "target": "b",
        "maxItems": n,
        "message": "With a, b takes at most a few items.",
        "source": {"section": "Rules", "quote": "With `a`, `b` is limited."},
        **more,
    }


def test_an_item_limit_is_a_bound() -> None:
    assert level(spec(rules=(limit(3),)), spec(rules=(limit(2),))) == "ERR"
    assert level(spec(rules=(limit(3),)), spec(rules=(limit(4),))) == "INFO"
    # the limit moved and its condition changed too: a changed rule, not a bound
    other = limit(4, when={"anyOf": ["p"]})
    assert [(c.level, c.message) for c in diff(spec(rules=(limit(3),)), spec(rules=(other,)))] == [
        ("WARN", "rule changed")
    ]


def test_rules_added_removed_renamed_and_resolved() -> None:
    rule = limit(3)
    assert level(spec(), spec(rules=(rule,))) == "ERR"
    assert level(spec(rules=(rule,)), spec()) == "INFO"
    renamed = {**rule, "id": "b-limited-with-a"}
    assert [(c.level, c.message) for c in diff(spec(rules=(rule,)), spec(rules=(renamed,)))] == [
        ("INFO", "rule renamed from a-limits-b")
    ]
    off = {**rule, "enforced": False, "notes": ["a curator's resolution"]}
    assert [c.message for c in diff(spec(rules=(rule,)), spec(rules=(off,)))] == [
        "rule no longer enforced"
    ]
    assert level(spec(rules=(rule,)), spec(rules=(off,))) == "INFO"
    assert level(spec(rules=(off,)), spec(rules=(rule,))) == "WARN"
    worded = {**rule, "message": "At most 3 b with a."}
    assert level(spec(rules=(rule,)), spec(rules=(worded,))) == "INFO"


def test_model_facts() -> None:
    assert level(spec(), spec(status="deprecated")) == "WARN"
    assert level(spec(), spec(status="live")) == "INFO"
    assert level(spec(status="live"), spec()) == "INFO"  # back to preview: not deprecated
    assert level(spec(), spec(name="Bigger")) == "INFO"
    assert level(spec(), spec(id="acme:other@1")) == "ERR"


def test_changes_come_most_severe_first_and_fail_on_a_level() -> None:
    old = spec({"maximum": 10}, rules=(limit(3),))
    new = spec({"maximum": 11}, rules=(limit(2),), status="deprecated")
    found = diff(old, new)
    assert [c.level for c in found] == ["ERR", "WARN", "INFO"]
    assert fails(found, "ERR") and fails(found, "INFO")
    assert not fails([c for c in found if c.level != "ERR"], "ERR")
    assert fails([c for c in found if c.level == "WARN"], "WARN")
    assert not fails([Change("INFO", "model", "x", "y")], "WARN")
    assert not fails(found, None)


def test_a_change_says_what_it_was_and_what_it_is() -> None:
    """The wording a maintainer reads in the docs loop's report: an added, a removed and a
    changed fixed value or format each say so, with the values as JSON as the page gives
    them (not escaped to ASCII)."""

    def message(old: dict[str, Any], new: dict[str, Any]) -> str:
        (change,) = diff(spec(param=old), spec(param=new))
        return change.message

    text = {"type": "string"}
    assert message(text, {**text, "const": "é"}) == 'fixed value added: "é"'
    assert message({**text, "const": "é"}, text) == 'fixed value "é" removed'
    assert message({**text, "const": "é"}, {**text, "const": "ü"}) == 'fixed value "é" → "ü"'
    assert message(text, {**text, "format": "uuid"}) == 'format added: "uuid"'
    assert message({**text, "format": "uuid"}, {**text, "format": "uri"}) == (
        'format "uuid" → "uri"'
    )


def test_a_change_is_a_value() -> None:
    """Changes compare, hash and dedupe as values (a report may gather them from several
    diffs), and cannot be altered once made."""
    one = diff(spec({"minimum": 1}), spec({"minimum": 2}))
    two = diff(spec({"minimum": 1}), spec({"minimum": 2}))
    assert one == two and len({*one, *two}) == len(one) == 1
    with pytest.raises(AttributeError):
        one[0].level = "INFO"  # type: ignore[misc]


def test_every_rule_added_is_reported_not_only_the_first() -> None:
    first = limit(3)
    second = {**limit(2), "id": "p-limits-b", "when": {"anyOf": ["p"]}}
    changed = {**limit(2), "id": "kept", "when": {"anyOf": ["a"]}, "target": "b"}
    old = spec(rules=({**changed, "maxItems": 4},))
    new = spec(rules=(first, second, changed))
    assert sorted((c.level, c.subject, c.message.split(" (")[0]) for c in diff(old, new)) == [
        ("ERR", "a-limits-b", "rule added"),
        ("ERR", "kept", "item limit lowered 4 → 2"),
        ("ERR", "p-limits-b", "rule added"),
    ]


def test_a_rule_both_changed_and_no_longer_enforced_is_a_change() -> None:
    """Only a rule that says the same thing, now unenforced, is a curator's resolution
    (fewer tasks refused); one that also says something else may break clients."""
    rule = limit(3)
    other = {**rule, "when": {"anyOf": ["p"]}, "enforced": False, "notes": ["resolved"]}
    (change,) = diff(spec(rules=(rule,)), spec(rules=(other,)))
    assert (change.level, change.message) == ("WARN", "rule changed")


RATES = [
    {"resolution": "720p", "perSecond": 0.1, "quote": "$0.1"},
    {"resolution": "1080p", "perSecond": 0.2, "quote": "$0.2"},
]
PRICING = {"currency": "USD", "unit": "second", "audioDefault": False, "rates": RATES}
ROWS = [
    {"label": "720p", "resolution": "720p", "width": 1280, "height": 720},
    {"label": "1080p", "resolution": "1080p", "width": 1920, "height": 1080},
]


def priced(pricing: dict[str, Any] = PRICING, rows: list[dict[str, Any]] = ROWS) -> ModelSpec:
    """A model with a price per second by resolution and a table of sizes."""
    sized = [{"path": n, "type": t} for n, t in
             (("width", "integer"), ("height", "integer"), ("resolution", "string"))]  # fmt: skip
    return model_spec(
        PLATFORM, sized, pricing=pricing, dimensions={"params": ["width", "height"], "rows": rows}
    )


def said(old: ModelSpec, new: ModelSpec) -> list[tuple[str, str, str]]:
    return [(c.level, c.subject, c.message) for c in diff(old, new)]


def test_price_changes_each_said_once() -> None:
    """A rate's price moved warns (what a task costs changed), its quote alone is a note; a
    rate removed warns, one added is a note; the price list's own facts warn."""
    dearer = [{**RATES[0], "perSecond": 0.15}, RATES[1]]
    requoted = [{**RATES[0], "quote": "$0.10"}, RATES[1]]
    more = [*RATES, {"resolution": "4k", "perSecond": 0.4, "quote": "$0.4"}]
    assert said(priced(), priced({**PRICING, "rates": dearer})) == [
        ("WARN", "pricing", "720p: 0.1 → 0.15 per second")
    ]
    assert said(priced(), priced({**PRICING, "rates": requoted})) == [
        ("INFO", "pricing", "720p: rate quote or notes changed")
    ]
    assert said(priced(), priced({**PRICING, "rates": RATES[:1]})) == [
        ("WARN", "pricing", "rate removed: 1080p")
    ]
    assert said(priced(), priced({**PRICING, "rates": more})) == [
        ("INFO", "pricing", "rate added: 4k")
    ]
    assert said(priced(), priced({**PRICING, "audioDefault": True})) == [
        ("WARN", "pricing", "audioDefault False → True")
    ]
    assert said(priced(), priced({**PRICING, "quote": "per second, by resolution"})) == [
        ("INFO", "pricing", "quote changed")
    ]
    assert said(priced(), priced()) == []


def test_size_table_changes() -> None:
    """A size no longer listed is refused now (an error for clients); a new size or a new
    label for a listed one is a note."""
    bigger = [*ROWS, {"label": "4k", "resolution": "4k", "width": 3840, "height": 2160}]
    relabelled = [{**ROWS[0], "label": "HD"}, ROWS[1]]
    assert said(priced(), priced(rows=ROWS[:1])) == [
        ("ERR", "dimensions", "dimension row removed: 1920x1080")
    ]
    assert said(priced(), priced(rows=bigger)) == [
        ("INFO", "dimensions", "dimension row added: 3840x2160")
    ]
    assert said(priced(), priced(rows=relabelled)) == [
        ("INFO", "dimensions", "dimension row 1280x720 relabelled")
    ]


def test_documented_examples_added_removed_and_changed(tiny_spec: SpecSet) -> None:
    """Each example is followed by name: added, removed, and each of its parts changed (its
    request, answer, title, kind, and the video or image it shows) said once."""
    model = tiny_spec.models[0]
    first = model.examples[0]
    rest = [dataclasses.replace(first, name=f"{first.name}-again")]

    def with_examples(*examples: Example) -> ModelSpec:
        return dataclasses.replace(model, examples=examples)

    model = with_examples(first, *rest)

    def notes(old: ModelSpec, new: ModelSpec) -> list[tuple[str, str, str]]:
        return sorted((c.level, c.subject, c.message) for c in diff(old, new))

    assert notes(model, with_examples(*rest)) == [
        ("INFO", f"example {first.name}", "example removed")
    ]
    assert notes(with_examples(*rest), model) == [
        ("INFO", f"example {first.name}", "example added")
    ]
    changed = dataclasses.replace(
        first,
        title=first.title + " again",
        request={**first.request, "positivePrompt": "a dog"},
        image="https://example.com/shown.png",
    )
    assert notes(model, with_examples(changed, *rest)) == [
        ("INFO", f"example {first.name}", f"{key} changed") for key in ("image", "request", "title")
    ]


def unreadable(key: str, path: str = "p") -> Unreadable:
    return Unreadable(path, key, "Max", "ten-ish", 12)


def test_a_fact_the_page_states_unreadably_is_never_a_quiet_change() -> None:
    """What the docs loop says when the page states a bound it could not read: the bound
    lost is an error for what clients send and a warning for what they read, whether it
    vanished or came back as another value; a kept one, or none at all, is a warning; other
    changes to the same parameter stay; a fact of no known spec key is passed over."""
    said = "the page's Max 'ten-ish' (line 12) could not be read"
    old = spec({"maximum": 10, "minimum": 1}, field={"maximum": 5})
    new = spec({"minimum": 2})
    found = diff(
        old, new, [unreadable("nonsense"), unreadable("maximum"), unreadable("maximum", "r")]
    )
    assert [(c.level, c.direction, c.subject, c.message, c.old, c.new) for c in found] == [
        ("ERR", "request", "p", "raised 1 → 2", 1, 2),
        ("ERR", "request", "p", f"maximum 10 lost: {said}", 10, None),
        ("WARN", "response", "r", f"maximum 5 lost: {said}", 5, None),
    ]
    # the parameter's other change, removed with nothing to do with the bound, stays
    others = diff(spec({"maximum": 10}), spec({"default": 2}), [unreadable("maximum")])
    assert [(c.level, c.message) for c in others] == [
        ("ERR", f"maximum 10 lost: {said}"),
        ("WARN", "default (none) → 2"),
    ]
    moved = diff(spec({"maximum": 10}), spec({"maximum": 12}), [unreadable("maximum")])
    assert [(c.level, c.message, c.old, c.new) for c in moved] == [
        ("ERR", f"maximum 10 lost: {said}", 10, 12)
    ]
    kept = diff(spec({"maximum": 10}), spec({"maximum": 10}), [unreadable("maximum")])
    assert [(c.level, c.message) for c in kept] == [("WARN", f"{said}; the spec keeps maximum 10")]
    never = diff(spec(), spec(), [unreadable("maximum")])
    assert [(c.level, c.message) for c in never] == [("WARN", f"{said}; no maximum in the spec")]
    # a response field gone from the new spec altogether is still a response field
    gone = dataclasses.replace(spec(), response=())
    lost = diff(spec(field={"maximum": 5}), gone, [unreadable("maximum", "r")])
    assert ("WARN", "response", "r") in [(c.level, c.direction, c.subject) for c in lost]
    assert not [c for c in lost if c.direction == "request"]


def test_behaviours_added_or_removed_are_notes() -> None:
    one = {"id": "one-call", "quote": "One call per result.", "anchor": "request-webhookurl",
           "implementedBy": "mock"}  # fmt: skip
    two = {**one, "id": "unique-ids"}
    old, new = spec(behaviours=[one]), spec(behaviours=[two])
    assert said(old, new) == [
        ("INFO", "behaviour one-call", "removed"),
        ("INFO", "behaviour unique-ids", "added"),
    ]


def test_the_text_report_ends_with_a_count_per_level() -> None:
    text = render_text(diff(spec({"maximum": 10}), spec({"maximum": 9, "default": 3})))
    assert text.splitlines() == [
        "ERR   request   p: lowered 10 → 9",
        "WARN  request   p: default (none) → 3",
        "1 ERR, 1 WARN, 0 INFO",
    ]
    assert render_text([]) == "no changes\n"


def test_the_same_example_written_in_another_key_order_is_no_change(tiny_spec: SpecSet) -> None:
    model = tiny_spec.models[0]
    first = model.examples[0]
    reordered = dataclasses.replace(first, request=dict(reversed(list(first.request.items()))))
    assert list(reordered.request) != list(first.request)
    assert diff(model, dataclasses.replace(model, examples=(reordered,))) == []


def test_the_json_report_keeps_the_page_s_characters() -> None:
    report = render_json(diff(spec({"type": "string", "const": "é"}), spec({"type": "string"})))
    assert '"fixed value \\"é\\" removed"' in report
    assert json.loads(report)["summary"] == "0 ERR, 0 WARN, 1 INFO"
