"""How the importer reads a docs page's layout (``codegen/docs/page.py``), on small pages
written inline (``docs_pages``): each part read where Runware's pages put it, and every line
it cannot place said with its line, the rest of the page still read."""

from __future__ import annotations

from codegen.docs.page import read_page
from tests.codegen.docs_pages import (
    INT,
    RESPONSE,
    imported,
    messages,
    page,
    param,
    parameter,
)

SEED = param("seed", {"Type": INT})


def warnings_of(text: str) -> list[str]:
    return [w.message for w in read_page(text).warnings]


def params_of(text: str) -> list[str]:
    return [p["path"] for p in imported(text).spec["parameters"]]


def test_a_backticked_fact_is_read_without_its_backticks_and_only_a_closed_pair_counts() -> None:
    facts = {"Type": "`string`", "Default": "``"}
    assert parameter(imported(page(param("tag", facts))), "tag")["default"] == ""
    facts = {"Type": "`string`", "Default": "`abc"}
    assert parameter(imported(page(param("tag", facts))), "tag")["default"] == "`abc"


def test_an_unclosed_code_block_is_said_and_what_came_before_is_kept() -> None:
    text = page(SEED, examples="### Boats (Text to Video)\n\n**Request**:\n\n```json\n{}\n")
    assert "code block is never closed; the rest of the page was not read" in warnings_of(text)
    assert "seed" in params_of(text)


def test_an_unknown_section_is_skipped_whole_and_the_next_one_read() -> None:
    faq = '## FAQ\n\nWhy? Because.\n\n```json\n{"a": 1}\n```\n\n- a bullet\n\n'
    text = page(SEED).replace("## Pricing", faq + "## Pricing")
    assert warnings_of(text) == ["unknown section 'FAQ'; its content was not read"]
    assert imported(text).spec["pricing"]["rates"][0]["perClip"] == 0.5


def test_a_bare_heading_mark_is_text_outside_any_section() -> None:
    text = page(SEED).replace("## Pricing", "## \n\n## Pricing")
    assert warnings_of(text) == ["text outside any known section: '##'"]


def test_a_front_matter_line_without_a_key_is_said() -> None:
    text = page(SEED).replace("title: Acme", "just words\ntitle: Acme")
    assert warnings_of(text) == ["front matter line not understood: 'just words'"]
    assert "just words" not in read_page(text).front


DIMENSIONS = "The following dimension combinations are supported:"


def test_tables_with_aligned_separators_are_read() -> None:
    dims = (
        f"{DIMENSIONS}\n\n| Configuration | Dimensions |\n| : --- | --- : |\n"
        "| `720p (16:9)` | `1280x720` |"
    )
    constraints = (
        "Parameter constraints vary based on the configuration:\n\n| mode | seed |\n"
        "| : --- | : --- : |\n| `fast` | `1` |"
    )
    mode = param("mode", {"Type": "`string`"}, allowed=["fast", "slow"])
    seed = param("seed", {"Type": INT}, allowed=["1", "2"])
    size = (param("width", {"Type": INT}), param("height", {"Type": INT}))
    text = page(
        mode, seed, *size, pricing="- **720p · 5s**: `$0.5`", validation=[dims, constraints]
    )
    result = imported(text)
    assert [r["label"] for r in result.spec["dimensions"]["rows"]] == ["720p (16:9)"]
    rules = [(r["kind"], r.get("allowed")) for r in result.spec["rules"]]
    assert [r for r in rules if r[0] == "valueWhen"] == [("valueWhen", [1])]
    assert messages(result, "warning") == []


def test_a_sentence_about_dimensions_is_a_rule_not_the_tables_introduction() -> None:
    sentence = "When `mode` is provided, dimensions are limited to `1280x720`."
    mode = param("mode", {"Type": "`string`"})
    result = imported(page(mode, param("width", {"Type": INT}), param("height", {"Type": INT}),
                           validation=[sentence]))  # fmt: skip
    assert read_page(page(mode, validation=[sentence])).dimension_intro is None
    assert [r["source"]["quote"] for r in result.spec["rules"]] == [sentence]


def test_a_bold_line_in_the_response_list_is_no_group() -> None:
    text = page(SEED, response=["**Result fields**\n", RESPONSE])
    assert warnings_of(text) == ["text outside any parameter section: '**Result fields**'"]
    assert all("group" not in f for f in imported(text).spec["response"])


def test_a_parameter_heading_not_understood_is_said_and_its_text_and_the_next_are_handled() -> None:
    text = page(
        "### seed\n\n- **Type**: `integer`\n\nPlain words.\n", param("steps", {"Type": INT})
    )
    said = warnings_of(text)
    assert said[0] == "parameter heading not understood: '### seed'"
    assert "text outside any parameter section: 'Plain words.'" in said
    assert "steps" in params_of(text)


def test_a_nested_heading_with_no_parameter_above_it_is_said() -> None:
    nested = param("inner", {"Type": INT}, level=4)
    assert warnings_of(page(nested, SEED, head=())) == [
        "inner: a #### heading with no ### above it"
    ]
    assert warnings_of(page(SEED, nested, param("other", {"Type": INT}, level=4))) == []


def test_learn_more_links_are_not_facts_and_a_link_in_the_description_is_prose() -> None:
    learn = param(
        "seed", {"Type": INT}, prose="Fixes it.\n\n**Learn more**\n\n- [Seeds](https://x.y/z)"
    )
    plain = param("seed", {"Type": INT}, prose="Fixes it.")
    linked = param("seed", {"Type": INT}, prose="Fixes it.\n- [Seeds](https://x.y/z)")
    steps = param("steps", {"Type": INT})
    assert warnings_of(page(learn, steps)) == []
    assert params_of(page(learn, steps))[-2:] == ["seed", "steps"]
    digest = parameter(imported(page(plain)), "seed")["docsDigest"]
    assert parameter(imported(page(learn)), "seed")["docsDigest"] == digest
    assert parameter(imported(page(linked)), "seed")["docsDigest"] != digest


def test_a_line_after_a_list_of_values_is_said_and_the_next_sections_read() -> None:
    odd = param("mode", {"Type": "`string`"}, allowed=["a", "b"]) + "Stray words.\n\nMore.\n"
    text = page(odd, SEED)
    said = warnings_of(text)
    assert said == [
        "mode: line after allowed list not understood: 'Stray words.'",
        "mode: line after allowed list not understood: 'More.'",
    ]
    assert "seed" in params_of(text)


REQUEST = '**Request**:\n\n```json\n{"taskType": "imageInference"}\n```\n'
ANSWER = '**Response**:\n\n```json\n{"taskUUID": "x"}\n```\n'


def test_examples_apart_by_rules_keep_their_pictures_and_bare_json_is_said() -> None:
    first = f"### Boats (Text to Image)\n\n![Boats](https://x.y/boats.png)\n\n{REQUEST}\n{ANSWER}"
    second = f"### Kites (Text to Image)\n\n{REQUEST}\n{ANSWER}"
    result = imported(page(SEED, examples=f"{first}\n---\n\n{second}"))
    examples = result.spec["examples"]
    assert [(e["name"], e.get("image")) for e in examples] == [
        ("boats", "https://x.y/boats.png"), ("kites", None)
    ]  # fmt: skip
    bare = '### Kites (Text to Image)\n\n```json\n{"a": 1}\n```\n'
    said = warnings_of(page(SEED, examples=bare))
    assert len(said) == 1 and said[0].startswith("Kites: line not understood: '```json")


def test_a_dimension_row_of_three_cells_is_said_and_the_next_rows_read() -> None:
    table = (
        f"{DIMENSIONS}\n\n| Configuration | Dimensions |\n| --- | --- |\n"
        "| `720p (16:9)` | `1280x720` | `extra` |\n| `720p (1:1)` | `960x960` |"
    )
    text = page(SEED, validation=[table])
    said = warnings_of(text)
    assert said == ["dimension row not understood: '| `720p (16:9)` | `1280x720` | `extra` |'"]
    assert [c.text for c, _ in read_page(text).dimensions] == ["720p (1:1)"]
