"""What the importer reads from a docs page, fact by fact, on small pages written inline
(``docs_pages``): a parameter's type, bounds and summary, its group and Path, the model's
facts, prices, dimensions, constraint tables and examples, and what it says when it cannot
read one."""

from __future__ import annotations

from typing import Any

import pytest

from codegen.docs.importer import ImportResult
from codegen.docs.rules import compile_phrasing
from tests.codegen.docs_pages import (
    INT,
    MODEL_FACTS,
    TASK_UUID,
    imported,
    messages,
    page,
    param,
    parameter,
)

# ── parameter summaries ──


@pytest.mark.parametrize(
    ("facts", "description"),
    [
        ({"Type": "`string`"}, "Optional string (imported; describe it)."),
        ({"Type": "`array of strings`"}, "Optional array of strings (imported; describe it)."),
        ({"Type": INT, "Min": "`2`"}, "Optional integer, at least 2 (imported; describe it)."),
        ({"Type": "`string`", "Required": "true", "Min": "`2`", "Max": "`9`"},
         "Required string, at least 2 characters, at most 9 characters (imported; describe it)."),
        ({"Type": INT, "Min": "`1`", "Max": "`4`", "Default": "`2`"},
         "Optional integer, at least 1, at most 4, default 2 (imported; describe it)."),
        ({"Type": "`float`", "Value": "`0.5`"},
         "Optional number, fixed to 0.5 (imported; describe it)."),
    ],
)  # fmt: skip
def test_a_parameters_summary_states_its_facts(facts: dict[str, str], description: str) -> None:
    result = imported(page(param("knob", facts)))
    assert parameter(result, "knob")["description"] == description


def test_a_response_fields_summary_says_whether_it_is_always_present() -> None:
    fields = [
        param("taskUUID", {"Type": "`string`", "Required": "true"}, side="response"),
        param("cost", {"Type": "`float`"}, side="response"),
    ]
    result = imported(page(response=fields))
    assert parameter(result, "taskUUID", "response")["description"] == (
        "Always present string (imported; describe it)."
    )
    assert parameter(result, "cost", "response")["description"] == (
        "Optional number (imported; describe it)."
    )


# ── types ──


@pytest.mark.parametrize(
    ("page_type", "type_", "docs_type"),
    [("integer", "integer", None), ("float", "number", "float"), ("int", "integer", "int"),
     ("array of strings", "array", None), ("object (2 properties)", "object", None)],
)  # fmt: skip
def test_the_pages_own_word_for_a_type_is_kept_only_where_it_differs(
    page_type: str, type_: str, docs_type: str | None
) -> None:
    knob = parameter(imported(page(param("knob", {"Type": f"`{page_type}`"}))), "knob")
    assert knob["type"] == type_
    assert knob.get("docsType") == docs_type


@pytest.mark.parametrize(
    ("allowed", "type_"),
    [(["low", "high"], "string"), (["2", "5"], "integer"), (["low", "5"], ["string", "integer"])],
)
def test_an_object_with_allowed_values_is_typed_by_its_values(
    allowed: list[str], type_: str | list[str]
) -> None:
    result = imported(page(param("mode", {"Type": "`object`"}, allowed=allowed)))
    mode = parameter(result, "mode")
    assert mode["type"] == type_ and mode["docsType"] == "object"
    assert [e["value"] for e in mode["enum"]] == [int(v) if v.isdigit() else v for v in allowed]
    assert any("mode: typed object but its allowed values are" in m for m in messages(result))


def test_a_string_whose_allowed_values_are_digits_stays_a_string() -> None:
    result = imported(page(param("steps", {"Type": "`string`"}, allowed=["5", "10"])))
    steps = parameter(result, "steps")
    assert steps["type"] == "string" and "docsType" not in steps
    assert [e["value"] for e in steps["enum"]] == ["5", "10"]
    assert not any("typed object" in m for m in messages(result))


# ── groups and paths ──


def test_request_parameters_take_their_group_and_response_fields_have_none() -> None:
    result = imported(page(param("seed", {"Type": INT})))
    assert parameter(result, "seed")["group"] == "apiOptions"
    assert all("group" not in f for f in result.spec["response"])
    assert not any("parameter group" in m for m in messages(result))


def test_a_parameter_under_no_group_label_has_no_group_and_no_warning() -> None:
    result = imported(page(param("seed", {"Type": INT}), group=""))
    assert "group" not in parameter(result, "seed")
    assert not any("parameter group" in m for m in messages(result))


def test_a_repeated_anchor_is_a_warning_the_first_kept_and_the_next_parameters_read() -> None:
    twice = param("seed", {"Type": "`string`"}, anchor="request-seed")
    result = imported(
        page(param("seed", {"Type": INT}), twice, param("steps", {"Type": INT, "Max": "`9`"}))
    )
    assert "anchor request-seed appears twice" in messages(result, "warning")
    assert parameter(result, "seed")["type"] == "integer"
    assert parameter(result, "steps")["maximum"] == 9


def test_an_unknown_group_label_is_a_warning() -> None:
    result = imported(page(param("seed", {"Type": INT}), group="**Odd Things**\n"))
    assert "group" not in parameter(result, "seed")
    assert "unknown parameter group 'Odd Things'" in messages(result, "warning")


def test_a_path_line_that_agrees_with_the_heading_adds_nothing() -> None:
    group = "**Inputs**\n\nThese must be nested inside the \\`inputs\\` object.\n"
    facts = {"Path": "`inputs.image`", "Type": "`string`"}
    result = imported(page(param("image", facts), group=group))
    image = parameter(result, "inputs.image")
    assert "docsPath" not in image
    assert not any("the Path line says" in m for m in messages(result))


def test_an_objects_path_naming_its_first_property_is_the_pages_convention() -> None:
    facts = {"Path": "`safety.checkContent`", "Type": "`object (1 property)`"}
    result = imported(page(param("safety", facts)))
    assert parameter(result, "safety")["docsPath"] == "safety.checkContent"
    said = (
        "safety: the Path line says safety.checkContent, the heading puts it at safety; kept safety"
    )
    assert said in messages(result, "change")


@pytest.mark.parametrize(
    ("type_", "path"), [("string", "safety.checkContent"), ("object", "other.checkContent")]
)
def test_any_other_path_line_that_disagrees_is_a_warning(type_: str, path: str) -> None:
    result = imported(page(param("safety", {"Path": f"`{path}`", "Type": f"`{type_}`"})))
    assert parameter(result, "safety")["docsPath"] == path
    said = f"safety: the Path line says {path}, the heading puts it at safety; kept safety"
    assert said in messages(result, "warning")


# ── constraint tables ──

CONSTRAINTS = "Parameter constraints vary based on the configuration:"
MODE = param("mode", {"Type": "`string`"}, allowed=["fast", "slow", "calm"])
DURATION = param("duration", {"Type": INT}, allowed=["5", "10"])
SIZE = [param("width", {"Type": INT}), param("height", {"Type": INT})]
PROVIDER = (
    "**Provider Settings**\n\nThese must be nested inside the \\`providerSettings.acme\\` "
    "object.\n\n"
    + param("strength", {"Path": "`providerSettings.acme.strength`", "Type": INT},
            allowed=["1", "2"])
)  # fmt: skip


def table(*rows: str) -> str:
    """A constraint table: the header, then each row, cells separated by |."""
    header, *body = rows
    sep = " | ".join("---" for _ in header.split("|"))
    return "\n".join([CONSTRAINTS, "", f"| {header} |", f"| {sep} |", *(f"| {r} |" for r in body)])


def value_rules(
    *tables: str, params: tuple[str, ...] = (MODE, DURATION, *SIZE)
) -> list[tuple[str, Any, Any]]:
    result = imported(page(*params, validation=tables))
    return [(r["param"], r["when"], r["allowed"]) for r in result.spec["rules"]
            if r["kind"] == "valueWhen"]  # fmt: skip


def _is(path: str, value: object, negated: bool = False) -> dict[str, object]:
    return {"path": path, "equals": value, **({"not": True} if negated else {})}


def test_each_row_of_a_constraint_table_limits_the_columns_parameters_in_its_configuration() -> (
    None
):
    rules = value_rules(table("mode | duration", "`fast` | `5`", "`slow` | `10`", "`Other` | `5`"))
    assert rules == [
        ("duration", {"allOf": [_is("mode", "fast")]}, [5]),
        ("duration", {"allOf": [_is("mode", "slow")]}, [10]),
        # Other: none of the rows above
        ("duration", {"allOf": [_is("mode", "fast", True), _is("mode", "slow", True)]}, [5]),
    ]


def test_a_constraint_table_keyed_by_dimensions_conditions_on_width_and_height() -> None:
    rules = value_rules(table("Dimensions | duration", "`1920x1080` | `5`", "`Other` | `10`"))
    size = [_is("width", 1920), _is("height", 1080)]
    other = [_is("width", 1920, True), _is("height", 1080, True)]
    assert rules == [
        ("duration", {"allOf": size}, [5]),
        ("duration", {"anyOf": other}, [10]),  # not that size: either side differs
    ]


@pytest.mark.parametrize(
    ("rows", "params"),
    [
        (("`fast` | `5` `10`",), (MODE, DURATION)),  # every value the parameter has
        (
            ("`fast` | `5`",),
            (MODE, param("duration", {"Type": INT}, allowed=["5"])),
        ),  # its only one
    ],
)
def test_a_row_allowing_every_value_of_a_parameter_makes_no_rule(
    rows: tuple[str, ...], params: tuple[str, ...]
) -> None:
    assert value_rules(table("mode | duration", *rows), params=params) == []


def test_a_column_may_name_a_nested_parameter_by_its_own_name() -> None:
    rules = value_rules(table("mode | strength", "`fast` | `1`"), params=(MODE, PROVIDER))
    assert rules == [("providerSettings.acme.strength", {"allOf": [_is("mode", "fast")]}, [1])]


@pytest.mark.parametrize(
    ("header", "unknown"),
    [("speed | duration", "speed"), ("mode | speed", "speed"), ("Dimensions | speed", "speed"),
     ("mode | duration | speed", "speed")],
)  # fmt: skip
def test_a_constraint_table_naming_no_parameter_of_the_page_is_a_warning_naming_it(
    header: str, unknown: str
) -> None:
    bad = table(header, " | ".join(["`fast`", *["`5`"] * header.count("|")]))
    good = table("mode | duration", "`slow` | `10`")
    result = imported(page(MODE, DURATION, *SIZE, validation=[bad, good]))
    said = f"constraint table names no parameter of the page: {unknown!r}"
    assert said in messages(result, "warning")
    rules = [(r["param"], r["allowed"]) for r in result.spec["rules"] if r["kind"] == "valueWhen"]
    assert rules == [("duration", [10])]  # the next table is still read


def test_a_name_two_nested_parameters_end_with_names_neither() -> None:
    other = (
        "**Settings**\n\nThese must be nested inside the \\`providerSettings.other\\` object.\n\n"
    )
    twice = (
        PROVIDER
        + other
        + param("strength", {"Path": "`providerSettings.other.strength`", "Type": INT}, anchor="b")
    )
    result = imported(page(MODE, twice, validation=[table("mode | strength", "`fast` | `1`")]))
    assert "constraint table names no parameter of the page: 'strength'" in messages(result)


@pytest.mark.parametrize("bad", [table("mode", "`fast`"), table("mode | duration")])
def test_a_constraint_table_without_two_columns_and_a_row_is_not_understood(bad: str) -> None:
    good = table("mode | duration", "`slow` | `10`")
    result = imported(page(MODE, DURATION, validation=[bad, good]))
    assert "constraint table not understood" in messages(result, "warning")
    rules = [(r["param"], r["allowed"]) for r in result.spec["rules"] if r["kind"] == "valueWhen"]
    assert rules == [("duration", [10])]


def test_a_row_naming_no_configuration_is_a_warning_and_the_next_rows_are_read() -> None:
    rules_table = table("Dimensions | duration", "`wide` | `5`", "`1920x1080` | `10`")
    result = imported(page(MODE, DURATION, *SIZE, validation=[rules_table]))
    assert "constraint row not understood: 'wide'" in messages(result, "warning")
    rules = [(r["param"], r["allowed"]) for r in result.spec["rules"] if r["kind"] == "valueWhen"]
    assert rules == [("duration", [10])]


def test_a_short_row_limits_only_the_columns_it_has_a_cell_for() -> None:
    params = (MODE, DURATION, PROVIDER)
    rules = value_rules(table("mode | duration | strength", "`fast` | `5`"), params=params)
    assert rules == [("duration", {"allOf": [_is("mode", "fast")]}, [5])]


# ── rules in descriptions ──

EITHER = "You must provide either `{}` or `image` content for the watermark, but not both."


def watermark(prose: str) -> str:
    fields = [
        param(name, {"Path": f"`watermark.{name}`", "Type": "`string`"}, level=4,
              anchor=f"request-watermark-{name}")
        for name in ("text", "image")
    ]  # fmt: skip
    return param("watermark", {"Type": "`object (2 properties)`"}, prose=prose) + "".join(fields)


def description_rules(*request: str) -> list[tuple[str, object, object]]:
    rules = imported(page(*request)).spec["rules"]
    return [(r["kind"], r["when"], r.get("then", r.get("forbid"))) for r in rules]


EITHER_RULES = [
    ("requires", {"anyOf": ["watermark"]}, {"anyOf": ["watermark.text", "watermark.image"]}),
    ("forbids", {"anyOf": ["watermark.text"]}, ["watermark.image"]),
]


@pytest.mark.parametrize(
    "before",
    ["", "Marks the video.", "Only applies when `mode` is `fast`.",
     EITHER.format("logo") + " Marks it."],  # a field the object lacks: no rule
)  # fmt: skip
def test_an_objects_either_or_of_its_fields_holds_inside_the_object(before: str) -> None:
    prose = f"{before} {EITHER.format('text')}".strip()
    assert description_rules(MODE, watermark(prose)) == EITHER_RULES


def test_an_either_or_in_a_description_of_no_object_is_no_rule() -> None:
    mode = param("mode", {"Type": "`string`"}, prose=EITHER.format("text"))
    assert description_rules(mode, watermark("Marks the video.")) == []


def test_only_applies_when_is_a_note_on_the_parameter_not_a_rule() -> None:
    prose = "Marks the video. Only applies when `mode` is `fast`."
    result = imported(page(MODE, watermark(prose)))
    assert result.spec["rules"] == []
    assert parameter(result, "watermark")["notes"] == [
        "Only applies when `mode` is `fast`. Not a validation rule: the parameter is accepted "
        "otherwise and has no effect."
    ]


# ── the model's facts ──


def test_the_slug_is_the_pages_own_url_else_made_from_the_model_id() -> None:
    assert imported(page(url="https://runware.ai/docs/models/acme-other")).spec["slug"] == (
        "acme-other"
    )
    assert imported(page(url=None)).spec["slug"] == "acme-test-1"


def test_a_capability_the_kit_does_not_know_is_kept_with_a_warning() -> None:
    facts = {**MODEL_FACTS, "Capabilities": "Text to Video, Mind Reading"}
    result = imported(page(facts=facts))
    assert result.spec["capabilities"] == ["text-to-video", "mind-reading"]
    said = [m for m in messages(result, "warning") if "capability" in m]
    assert said == ["capability 'mind-reading' is not one the kit knows; kept"]


def test_the_task_type_is_the_pages_value_else_video_inference() -> None:
    image = param("taskType", {"Type": "`string`", "Value": "`imageInference`"})
    assert imported(page(head=(TASK_UUID, image))).spec["taskType"] == "imageInference"
    assert imported(page(head=(TASK_UUID,))).spec["taskType"] == "videoInference"


def test_three_rules_of_one_name_get_numbered_ids() -> None:
    sentence = "`mode` cannot be used with `duration`."
    rules = imported(page(MODE, DURATION, validation=[sentence] * 3)).spec["rules"]
    assert [r["id"] for r in rules] == [
        rules[0]["id"],
        f"{rules[0]['id']}-2",
        f"{rules[0]['id']}-3",
    ]


# ── examples ──


def example(title: str, request: str | None = '{"taskType": "videoInference"}',
            response: str | None = '{"taskUUID": "x"}') -> str:  # fmt: skip
    out = [f"### {title} (Text to Video)", ""]
    if request is not None:
        out += ["**Request**:", "", "```json", request, "```", ""]
    if response is not None:
        out += ["**Response**:", "", "```json", response, "```", ""]
    return "\n".join(out)


@pytest.mark.parametrize(
    ("first", "said"),
    [
        (example("Boats") + example("Boats"), "example 'Boats' appears twice; kept the first"),
        (example("Boats", request=None, response=None),
         "example 'Boats' has no payload; not imported"),
        (example("Boats", response=None), "example 'Boats' lacks a request or response"),
        (example("Boats", request=None), "example 'Boats' lacks a request or response"),
    ],
)  # fmt: skip
def test_an_example_that_cannot_be_imported_is_said_and_the_next_ones_are_read(
    first: str, said: str
) -> None:
    result = imported(page(examples=first + example("Kites")))
    assert said in messages(result)
    names = [e["name"] for e in result.spec["examples"]]
    assert names == (["boats", "kites"] if "twice" in said else ["kites"])


def test_text_before_the_first_example_is_a_warning_and_the_examples_are_read() -> None:
    result = imported(page(examples="Some words first.\n\n" + example("Boats") + example("Kites")))
    assert "text before the first example: 'Some words first.'" in messages(result, "warning")
    assert [e["name"] for e in result.spec["examples"]] == ["boats", "kites"]


def test_examples_parted_by_rules_are_each_read() -> None:
    """Published pages put a horizontal rule (---) between examples."""
    result = imported(page(examples="\n---\n\n".join(map(example, ["Boats", "Kites", "Owls"]))))
    assert [e["name"] for e in result.spec["examples"]] == ["boats", "kites", "owls"]
    assert not any("example" in m for m in messages(result, "warning"))


# ── video prices ──

INPUTS = (
    "**Inputs**\n\nThese must be nested inside the \\`inputs\\` object.\n\n"
    + param("referenceVideos", {"Path": "`inputs.referenceVideos`", "Type": "`array of strings`"})
    + param("video", {"Path": "`inputs.video`", "Type": "`string`"})
)


def pricing(
    labels: str, *request: str, prose: str = "", validation: tuple[str, ...] = ()
) -> ImportResult:
    text = f"Starts at $0.05/s.\n\n{prose}\n\n{labels}" if prose else labels
    return imported(page(*request, pricing=text, validation=validation))


def test_a_clip_price_row_states_its_resolution_length_and_price() -> None:
    result = pricing("- **720p · 5s**: `$0.50`\n- **1080p · 10s**: `$1.25`")
    assert result.spec["pricing"] == {
        "currency": "USD", "unit": "second",
        "rates": [{"resolution": "720p", "perClip": 0.5, "seconds": 5, "quote": "720p · 5s"},
                  {"resolution": "1080p", "perClip": 1.25, "seconds": 10, "quote": "1080p · 10s"}],
        "audioDefault": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "said"),
    [("- **720p · 5s · 8s**: `$0.50`", "price not understood: 720p · 5s · 8s: $0.50"),
     ("- **720p · 5s · Turbo**: `$0.50`", "price term not understood: 'Turbo'"),
     ("- **720p · 5s · R2V**: `$0.50`",
      "price term 'R2V': the page has none of inputs.referenceVideos")],
)  # fmt: skip
def test_a_price_row_not_understood_is_a_warning_and_the_next_rows_are_read(
    bad: str, said: str
) -> None:
    result = pricing(f"{bad}\n- **720p · 10s**: `$0.90`")
    assert said in messages(result, "warning")
    assert [r["quote"] for r in result.spec["pricing"]["rates"]] == ["720p · 10s"]


def test_no_price_understood_leaves_pricing_empty_and_says_so() -> None:
    result = pricing("- **720p · 5s · 8s**: `$0.50`")
    assert result.spec["pricing"] is None
    assert "no prices understood; pricing left empty" in messages(result, "warning")
    assert "no prices understood; pricing left empty" not in messages(
        pricing("- **720p · 5s**: `$1`")
    )


def test_a_price_of_a_mode_makes_the_untagged_price_the_one_without_it() -> None:
    result = pricing("- **720p · 5s · R2V**: `$0.70`\n- **720p · 5s**: `$0.50`\n"
                     "- **720p · 10s**: `$0.90`", INPUTS)  # fmt: skip
    rates = [
        (r["quote"], r.get("provided"), r.get("absent")) for r in result.spec["pricing"]["rates"]
    ]
    assert rates == [
        ("720p · 5s · R2V", ["inputs.referenceVideos"], None),
        ("720p · 5s", None, ["inputs.referenceVideos"]),
        ("720p · 10s", None, None),  # no tagged price of that length
    ]


def test_surcharges_in_the_pricing_prose_are_read_with_what_they_apply_to() -> None:
    prose = ("$0.03/s applied on top of base pricing when a video is used as a reference. "
             "Input video seconds are charged at the same rate.")  # fmt: skip
    result = pricing("- **720p · 5s**: `$0.50`", INPUTS, prose=prose)
    assert result.spec["pricing"]["surcharges"] == [
        {"perSecond": 0.03, "provided": ["inputs.referenceVideos"],
         "quote": "$0.03/s applied on top of base pricing when a video is used as a reference"},
        {"sameRate": True, "provided": ["inputs.video"],
         "quote": "Input video seconds are charged at the same rate"},
    ]  # fmt: skip
    assert messages(result, "warning") == []


@pytest.mark.parametrize(
    ("prose", "said"),
    [("Prices may change.", "pricing line not understood: 'Prices may change.'"),
     ("$0.03/s applied on top of base pricing when it rains.",
      "price surcharge term not understood: 'it rains'"),
     ("Input video seconds are charged at the same rate. An extra $0.01 is added per upscale.",
      "pricing add-on not understood: 'An extra $0.01 is added per upscale.'")],
)  # fmt: skip
def test_pricing_prose_not_understood_is_a_warning_and_the_next_line_is_read(
    prose: str, said: str
) -> None:
    prose += "\n\n$0.03/s applied on top of base pricing when a video is used as a reference."
    result = pricing("- **720p · 5s**: `$0.50`", INPUTS, prose=prose)
    assert said in messages(result, "warning")
    assert result.spec["pricing"]["surcharges"][-1]["perSecond"] == 0.03


# ── dimensions ──

DIMENSIONS = (
    "The following dimension combinations are supported:\n\n"
    "| Configuration | Dimensions |\n| --- | --- |\n"
)


def dimension_table(*rows: str) -> str:
    return DIMENSIONS + "\n".join(f"| `{c}` | `{d}` |" for c, d in (r.split(" = ") for r in rows))


def test_a_price_row_no_dimension_row_has_is_a_warning_naming_the_row_it_may_mean() -> None:
    table = dimension_table("720p (16:9) = 1280x720", "HD (16:9) = 1920x1080", "odd = 1x1")
    labels = "- **1080p · 5s**: `$0.90`\n- **720p · 4:3 · 5s**: `$0.90`\n- **720p · 5s**: `$0.5`"
    text = page(*SIZE, pricing=labels, validation=[table])
    lines = text.splitlines()
    hd, sd = (
        1 + lines.index(f"| `{row}` |")
        for row in ("HD (16:9)` | `1920x1080", "720p (16:9)` | `1280x720")
    )
    said = [m for m in messages(imported(text), "warning") if "price row" in m]
    assert said == [
        f"price row '1080p · 5s' can never match a task: no dimension row is 1080p; line {hd} "
        "calls 1920x1080 HD (16:9); kept with its label",
        f"price row '720p · 4:3 · 5s' can never match a task: no dimension row is 720p 4:3; line "
        f"{sd} calls 1280x720 720p (16:9); kept with its label",
    ]


@pytest.mark.parametrize(
    ("bad", "what"), [("720p (16:9) = 1280 by 720", "1280 by 720"), ("wide = 1280x720", "wide")]
)
def test_a_dimension_row_not_understood_is_a_warning_and_the_next_rows_are_read(
    bad: str, what: str
) -> None:
    table = dimension_table(bad, "HD (16:9) = 1920x1080")
    result = pricing("- **HD · 5s**: `$0.5`", *SIZE, validation=(table,))
    assert f"dimension row not understood: {what!r}" in messages(result, "warning")
    assert [r["label"] for r in result.spec["dimensions"]["rows"]] == ["HD (16:9)"]


@pytest.mark.parametrize(
    ("values", "preset"), [(["720p", "HD"], "resolution"), (["720p"], "resolution"),
                           (["720p", "4K"], None)],
)  # fmt: skip
def test_a_parameter_whose_values_are_the_dimension_tiers_presets_the_size(
    values: list[str], preset: str | None
) -> None:
    table = dimension_table("720p (16:9) = 1280x720", "HD (16:9) = 1920x1080")
    resolution = param("resolution", {"Type": "`string`"}, allowed=values)
    result = pricing("- **HD · 5s**: `$0.5`", resolution, *SIZE, validation=(table,))
    assert result.spec["dimensions"].get("resolutionParameter") == preset
    assert result.spec["dimensions"]["params"] == ["width", "height"]


# ── image prices ──

IMAGE = param("taskType", {"Type": "`string`", "Required": "true", "Value": "`imageInference`"})
QUALITY = param("quality", {"Type": "`string`"}, allowed=["low", "high"])
IMAGE_PARAMS = (
    param("resolution", {"Type": "`string`"}, allowed=["1K", "2K"]),
    QUALITY,
    param("moderation", {"Type": "`string`"}, allowed=["low", "auto"]),
    param("steps", {"Type": INT}),
    *SIZE,
    "**Inputs**\n\nThese must be nested inside the \\`inputs\\` object.\n\n"
    + param("referenceImages", {"Path": "`inputs.referenceImages`", "Type": "`array of strings`"}),
)
TIERS = dimension_table("1K (1:1) = 1024x1024", "2K (1:1) = 2048x2048")


def image_prices(labels: str, *params: str) -> ImportResult:
    text = page(*(params or IMAGE_PARAMS), head=(IMAGE, TASK_UUID), pricing=labels,
                validation=[TIERS])  # fmt: skip
    return imported(text)


def test_an_image_price_label_names_a_tier_a_size_counts_values_and_terms() -> None:
    labels = (
        "- **1k · low**: `$0.01`\n- **2048x2048 · high**: `$0.02`\n"
        "- **512x512 · 30 steps**: `$0.03`\n- **1K · input image**: `$0.05`"
    )
    result = image_prices(labels)
    pricing = result.spec["pricing"]
    assert (pricing["unit"], pricing["audioDefault"]) == ("image", False)
    assert [{k: v for k, v in r.items() if k != "quote"} for r in pricing["rates"]] == [
        {"resolution": "1K", "values": {"quality": "low"}, "perImage": 0.01},  # as the table
        {"resolution": "2K", "values": {"quality": "high"}, "perImage": 0.02},  # its size's tier
        {"values": {"width": 512, "height": 512, "steps": 30}, "perImage": 0.03},
        {"resolution": "1K", "provided": ["inputs.referenceImages"], "perImage": 0.05},
    ]
    assert messages(result, "change") == [
        "price size 2048x2048 is a dimension row of 2K: priced as 2K"
    ]
    assert messages(result, "warning") == []


@pytest.mark.parametrize(
    ("bad", "said"),
    [("5 frogs", "price part 5 frogs: no parameter 'frogs'"),
     ("medium", "price part 'medium' is no value of one parameter"),
     ("1K · ???", None), ("2K · 1K", None), ("512x512 · 640x640", None),
     ("1K · R2V", "price term 'R2V': the page has none of inputs.referenceVideos")],
)  # fmt: skip
def test_an_image_price_label_not_understood_is_a_warning_and_the_next_are_read(
    bad: str, said: str | None
) -> None:
    result = image_prices(f"- **{bad}**: `$0.09`\n- **2K · high**: `$0.02`")
    assert f"price not understood: {bad}: $0.09" in messages(result, "warning")
    if said is not None:
        assert said in messages(result, "warning")
    assert [r["quote"] for r in result.spec["pricing"]["rates"]] == ["2K · high"]


def test_a_value_two_parameters_have_equally_often_names_neither() -> None:
    both = param("moderation", {"Type": "`string`"}, allowed=["low", "high"])
    result = image_prices("- **1K · low**: `$0.01`\n- **2K**: `$0.02`", QUALITY, both)
    assert "price part 'low' is no value of one parameter" in messages(result, "warning")
    assert [r["quote"] for r in result.spec["pricing"]["rates"]] == ["2K"]


def test_an_image_page_without_any_price_understood_has_no_pricing() -> None:
    result = image_prices("- **medium**: `$0.09`")
    assert result.spec["pricing"] is None


# ── phrasings ──


@pytest.mark.parametrize(
    ("text", "condition", "consequence", "any_one"),
    [("`A` and `B` must be used together.", (), ("A", "B"), False),
     ("`A` or `B` must be given.", (), ("A", "B"), True),
     ("When `A` is provided, `B` or `C` is required.", ("A",), ("B", "C"), True),
     ("When `A` or `B` is provided, `C` is required.", ("A", "B"), ("C",), False)],
)  # fmt: skip
def test_a_phrasings_letters_before_is_provided_are_its_condition(
    text: str, condition: tuple[str, ...], consequence: tuple[str, ...], any_one: bool
) -> None:
    """Only the letters before "is provided" (or "cannot be used with") are the condition; a
    phrasing without one is all consequence, "any one of" when they are joined by "or"."""
    phrasing = compile_phrasing("requires", text)
    assert (phrasing.condition, phrasing.consequence) == (condition, consequence)
    assert phrasing.any_consequence is any_one


def test_a_paired_with_fact_alone_makes_the_parameters_a_pair() -> None:
    width = param("width", {"Type": INT, "Paired with": "height"})
    result = imported(page(MODE, width, param("height", {"Type": INT})))
    rules = [(r["kind"], r["source"]) for r in result.spec["rules"]]
    assert rules == [("together", {"anchor": "request-width", "quote": "Paired with: height"})]


@pytest.mark.parametrize(("type_", "value"), [("string", "5"), ("integer", 5)])
def test_a_sentences_value_takes_the_parameters_type(type_: str, value: object) -> None:
    steps = param("steps", {"Type": f"`{type_}`"})
    sentence = "When `mode` is provided, `steps` must be `5`."
    rules = imported(page(MODE, steps, validation=[sentence])).spec["rules"]
    assert [r["allowed"] for r in rules] == [[value]]


def test_a_validation_sentence_no_phrasing_fits_is_said_and_the_next_is_read() -> None:
    odd, good = "`mode` rhymes with `duration`.", "`mode` cannot be used with `duration`."
    result = imported(page(MODE, DURATION, validation=[odd, good]))
    said = f"validation sentence not understood (no phrasing fits): {odd!r}"
    assert said in messages(result, "warning")
    assert [r["source"]["quote"] for r in result.spec["rules"]] == [good]


def test_an_image_price_label_may_name_a_term_and_a_value() -> None:
    result = image_prices("- **1K · input image · low**: `$0.05`\n- **2K · high**: `$0.09`")
    rates = [{k: v for k, v in r.items() if k != "quote"} for r in result.spec["pricing"]["rates"]]
    assert rates[:1] == [
        {"resolution": "1K", "provided": ["inputs.referenceImages"], "values": {"quality": "low"},
         "perImage": 0.05}
    ]  # fmt: skip
