"""What the importer reads from a docs page, fact by fact, on small pages written inline
(``docs_pages``): a parameter's type, bounds and summary, its group and Path, the model's
facts, prices, dimensions, constraint tables and examples, and what it says when it cannot
read one."""

from __future__ import annotations

import pytest

from tests.codegen.docs_pages import imported, messages, page, param, parameter

INT = "`integer`"


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
        ({"Type": "`float`", "Value": "`0.5`"}, "Optional number, fixed to 0.5 (imported; describe it)."),
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
