"""What re-importing a docs page over an existing spec changes and what it keeps, on small
pages written inline (``docs_pages``): each change said once, the spec's order kept, what
the page lacks or cannot be read left as it is."""

from __future__ import annotations

import io
from typing import Any

import pytest
from ruamel.yaml import YAML

from codegen.docs.importer import ImportResult
from tests.codegen.docs_pages import INT, MODEL_FACTS, imported, messages, page, param

MODE = param("mode", {"Type": "`string`"}, allowed=["fast", "slow"])
SEED = param("seed", {"Type": INT, "Min": "`0`"})
FORBID = "`mode` cannot be used with `seed`."


def loaded(text: str) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(io.StringIO(text))
    return data


def merged(before: str, after: str) -> tuple[ImportResult, dict[str, Any]]:
    result = imported(after, imported(before).text)
    return result, loaded(result.text)


def paths(data: dict[str, Any], side: str = "parameters") -> list[str]:
    return [p["path"] for p in data[side]]


def test_a_reimport_updates_what_the_page_states_and_says_each_change() -> None:
    before = page(MODE, SEED, validation=[FORBID])
    facts = {k: v for k, v in MODEL_FACTS.items() if k != "Creator"}  # the page lost it
    after = page(
        param("mode", {"Type": "`string`"}, allowed=["fast", "calm"]),
        param("steps", {"Type": INT}),
        param("seed", {"Type": INT, "Min": "`1`", "Required": "true"}),
        pricing="- **720p · 5s**: `$0.60`\n- **1080p · 5s**: `$0.90`",
        validation=["`mode` cannot be used with `steps`."],
        facts=facts | {"Capabilities": "Text to Video, Image to Video"},
    )
    result, data = merged(before, after)
    assert messages(result, "change") == [
        "capabilities: ['text-to-video'] → ['text-to-video', 'image-to-video']",
        "price resolution=720p seconds=5 perClip: 0.5 → 0.6",
        "price added: resolution=1080p seconds=5",
        "mode allowed value added: calm",
        "mode allowed value removed: slow",
        "parameters steps added",
        "seed required: False → True",
        "seed minimum: 0 → 1",
        "rule mode-forbid-steps (forbids) added: `mode` cannot be used with `steps`.",
        "rule mode-forbid-seed removed: its sentence is no longer on the page",
    ]
    assert data["creator"] == "Acme"  # kept: the page no longer says
    assert paths(data) == ["taskType", "taskUUID", "model", "mode", "steps", "seed"]
    seed = data["parameters"][-1]
    assert (seed["required"], seed["minimum"]) == (True, 1)
    assert [r["id"] for r in data["rules"]] == ["mode-forbid-steps"]


def test_a_parameter_no_longer_required_loses_the_key_and_takes_its_new_group() -> None:
    required = param("seed", {"Type": INT, "Required": "true"})
    optional = "**Settings**\n\nHow it runs.\n\n" + param("seed", {"Type": INT})
    result, data = merged(page(MODE, required), page(MODE, optional))
    assert messages(result, "change") == [
        "seed required: True → False",
        "seed group: apiOptions → settings",
    ]
    seed = data["parameters"][-1]
    assert "required" not in seed and seed["group"] == "settings"


def test_new_parameters_keep_the_pages_order_among_the_specs() -> None:
    steps, size = param("steps", {"Type": INT}), param("size", {"Type": INT})
    result, data = merged(page(MODE, SEED), page(steps, MODE, size, SEED))
    assert paths(data) == ["taskType", "taskUUID", "model", "steps", "mode", "size", "seed"]
    assert messages(result, "change") == ["parameters steps added", "parameters size added"]


def test_a_removed_parameter_is_said_and_gone() -> None:
    result, data = merged(page(MODE, SEED), page(SEED))
    assert messages(result, "change") == ["parameters mode removed"]
    assert paths(data) == ["taskType", "taskUUID", "model", "seed"]


SURCHARGE = "$0.03/s applied on top of base pricing when a video is used as a reference."
INPUTS = "**Inputs**\n\nThese must be nested inside the \\`inputs\\` object.\n\n" + param(
    "referenceVideos", {"Path": "`inputs.referenceVideos`", "Type": "`array of strings`"}
)


def test_prices_a_page_no_longer_states_are_kept_and_new_ones_taken() -> None:
    priced = page(pricing="- **720p · 5s**: `$0.50`")
    unpriced = page(pricing="Ask us.")
    _, data = merged(priced, unpriced)
    assert data["pricing"]["rates"][0]["perClip"] == 0.5
    _, data = merged(unpriced, priced)
    assert data["pricing"]["rates"][0]["perClip"] == 0.5


def test_a_surcharge_gone_from_the_page_is_said_and_removed() -> None:
    labels = "- **720p · 5s**: `$0.50`"
    before = page(INPUTS, pricing=f"From $0.1/s.\n\n{SURCHARGE}\n\n{labels}")
    result, data = merged(before, page(INPUTS, pricing=f"From $0.1/s.\n\n{labels}"))
    assert "pricing surcharges: none" in messages(result, "change")
    assert "surcharges" not in data["pricing"]


def test_price_rows_are_matched_by_resolution_and_length() -> None:
    before = page(pricing="- **720p · 5s**: `$0.50`\n- **1080p · 5s**: `$0.90`")
    after = page(pricing="- **720p · 10s**: `$0.80`\n- **720p · 5s**: `$0.60`")
    result, data = merged(before, after)
    assert messages(result, "change") == [
        "price added: resolution=720p seconds=10",
        "price resolution=720p seconds=5 perClip: 0.5 → 0.6",
        "price removed: resolution=1080p seconds=5",
    ]
    assert [r["perClip"] for r in data["pricing"]["rates"]] == [0.8, 0.6]


TABLE = (
    "The following dimension combinations are supported:\n\n| Configuration | Dimensions |\n"
    "| --- | --- |\n| `720p (16:9)` | `1280x720` |\n| `1080p (16:9)` | `1920x1080` |"
)
SIZE = param("width", {"Type": INT}) + param("height", {"Type": INT})
RESOLUTION = param("resolution", {"Type": "`string`"}, allowed=["720p", "1080p"])


def test_a_resolution_parameter_gone_from_the_page_no_longer_presets_the_size() -> None:
    before = page(RESOLUTION, SIZE, validation=[TABLE])
    result, data = merged(before, page(SIZE, validation=[TABLE]))
    assert "dimensions resolutionParameter: none" in messages(result, "change")
    assert "resolutionParameter" not in data["dimensions"]


def test_a_reworded_table_introduction_is_still_the_same_rule() -> None:
    forbid = "`resolution` cannot be used with `width`."
    before = page(RESOLUTION, SIZE, validation=[TABLE])
    reworded = TABLE.replace("dimension combinations", "dimension sizes")
    result, data = merged(before, page(RESOLUTION, SIZE, validation=[reworded, forbid]))
    rules = [(r["kind"], r["source"]["quote"]) for r in data["rules"]]
    assert rules == [
        ("forbids", forbid),
        ("dimensions", "The following dimension sizes are supported:"),
    ]
    assert not any("rule dimensions" in m and "removed" in m for m in messages(result))
    assert [m for m in messages(result, "change") if m.startswith("rule")] == [
        f"rule resolution-forbid-width (forbids) added: {forbid}"
    ]


def test_new_rules_keep_the_pages_order_among_the_specs() -> None:
    first, second = "`mode` cannot be used with `seed`.", "`seed` cannot be used with `steps`."
    third, fourth = "`mode` cannot be used with `steps`.", "`steps` cannot be used with `size`."
    extra = param("steps", {"Type": INT}) + param("size", {"Type": INT})
    before = page(MODE, SEED, extra, validation=[second, fourth])
    _, data = merged(before, page(MODE, SEED, extra, validation=[first, second, third, fourth]))
    assert [r["source"]["quote"] for r in data["rules"]] == [first, second, third, fourth]


def test_a_new_first_parameter_goes_first() -> None:
    _, data = merged(page(SEED, head=()), page(MODE, SEED, head=()))
    assert paths(data) == ["mode", "seed"]


EXAMPLE = '**Request**:\n\n```json\n{{"n": {n}}}\n```\n\n**Response**:\n\n```json\n{{}}\n```\n'


def examples(*names: str, broken: str = "") -> str:
    out = []
    for name in names:
        body = EXAMPLE.format(n=len(name))
        if name == broken:
            body = body.split("**Response**")[0]
        out.append(f"### {name} (Text to Video)\n\n{body}")
    return "\n".join(out)


def test_examples_follow_the_pages_order_and_an_unreadable_one_is_kept() -> None:
    before = page(examples=examples("Boats", "Kites", "Owls"))
    after = page(examples=examples("Frogs", "Boats", "Kites", broken="Boats"))
    result, data = merged(before, after)
    assert [e["name"] for e in data["examples"]] == ["frogs", "boats", "kites"]
    assert "example boats: unreadable on the page; kept" in messages(result, "conflict")
    assert messages(result, "change") == ["example frogs added", "example owls removed"]
    _, data = merged(before, page(examples=examples("Owls", "Boats", "Kites")))
    assert [e["name"] for e in data["examples"]] == ["owls", "boats", "kites"]


def test_a_curated_value_is_kept_and_the_pages_other_facts_still_merge() -> None:
    before = imported(page(param("seed", {"Type": INT, "Min": "`0`", "Max": "`9`"}))).text
    before = before.replace("maximum: 9", "maximum: 9\n    curated: [minimum]")
    assert "curated: [minimum]" in before
    after = page(param("seed", {"Type": INT, "Min": "`1`", "Max": "`8`"}))
    result = imported(after, before)
    assert messages(result, "conflict") == [
        "seed: the page now says minimum 1; the spec's curated minimum is 0 (kept; review it)"
    ]
    assert "seed maximum: 9 → 8" in messages(result, "change")


def test_a_type_the_spec_reconciled_is_kept_while_the_page_says_the_same() -> None:
    text = page(param("count", {"Type": "`string`"}))
    before = imported(text).text.replace("type: string", "type: integer\n    docsType: string", 1)
    assert before.count("docsType: string") == 1
    result = imported(text, before)
    assert not result.changed and messages(result, "change") == []


def test_a_sentence_the_spec_quotes_in_a_note_is_captured() -> None:
    sentence = "Must be at least 5 when upscaling."
    text = page(param("seed", {"Type": INT}, prose=f"Fixes it. {sentence}"))
    fresh = imported(text).text
    said = f"seed: sentence may state a rule the spec does not capture: {sentence!r}"
    assert said in messages(imported(text, fresh), "warning")
    noted = fresh.replace(
        "    docsDigest", f"    notes: ['{sentence} Checked by hand.']\n    docsDigest", 4
    )
    assert said not in messages(imported(text, noted), "warning")


# ── the spec file's layout ──

STEPS = "**Settings**\n\nHow it runs.\n\n" + param("steps", {"Type": INT})
HEADING = "  # Settings: how it runs\n"


def commented() -> str:
    """The spec of MODE, SEED and STEPS with a hand-written heading comment above steps and a
    quoted description."""
    text = imported(page(MODE, SEED, STEPS)).text
    text = text.replace("  - path: steps", HEADING + "  - path: steps")
    return text.replace(
        "description: Optional integer, at least 0 (imported; describe it).",
        'description: "Fixes the noise."',
    )


def entries(text: str) -> str:
    """The parameters from mode on, as written."""
    return text[text.index("  - path: mode") : text.index("response:")]


def test_a_reimport_that_changes_nothing_keeps_the_file_byte_for_byte() -> None:
    before = commented()
    result = imported(page(MODE, SEED, STEPS), before)
    assert not result.changed and result.text == before


def test_a_heading_comment_stays_above_its_entry_when_the_entry_before_it_goes() -> None:
    result = imported(page(MODE, STEPS), commented())
    text = entries(result.text)
    assert "path: seed" not in text
    assert "    docsDigest: d88bd1fd5d4b\n" + HEADING + "  - path: steps" in text
    assert text.count("# Settings") == 1


@pytest.mark.parametrize(
    "notes", ["    notes:\n      - ours\n", "    notes: [ours]\n"], ids=["block", "flow"]
)
def test_a_heading_comment_stays_whatever_style_the_last_key_of_the_entry_before_has(
    notes: str,
) -> None:
    """The entry before a heading ends in a list of notes, written as a block or inline:
    the heading comes after the list either way, and stays when the page changes that
    entry (a new maximum) or drops it."""
    digest = '    description: "Fixes the noise."\n    docsDigest: d88bd1fd5d4b\n'
    before = commented().replace(digest + HEADING, digest + notes + HEADING)
    assert notes + HEADING in before
    for after in (page(MODE, param("seed", {"Type": INT, "Min": "`0`", "Max": "`9`"}), STEPS),
                  page(MODE, STEPS)):  # fmt: skip
        text = entries(imported(after, before).text)
        assert text.count("# Settings") == 1
        assert HEADING + "  - path: steps" in text
        if "path: seed" in text:
            assert notes + HEADING in text and "    maximum: 9\n" in text


def test_a_parameter_added_at_the_end_of_a_group_goes_above_the_next_groups_heading() -> None:
    size = param("size", {"Type": INT})
    text = entries(imported(page(MODE, SEED, size, STEPS), commented()).text)
    assert text.index("path: size") < text.index(HEADING) < text.index("path: steps")
    assert text.count("# Settings") == 1


def test_a_new_key_goes_in_the_specs_key_order_and_quotes_stay() -> None:
    seed = param("seed", {"Type": INT, "Min": "`0`", "Max": "`9`"})
    text = entries(imported(page(MODE, seed, STEPS), commented()).text)
    assert (
        "    minimum: 0\n    maximum: 9\n"
        '    description: "Fixes the noise."\n    docsDigest: d88bd1fd5d4b\n' + HEADING
    ) in text


def test_a_parameter_opening_the_next_group_goes_below_its_heading() -> None:
    cfg = (
        "**Settings**\n\nHow it runs.\n\n"
        + param("cfg", {"Type": INT})
        + param("steps", {"Type": INT})
    )
    text = entries(imported(page(MODE, SEED, cfg), commented()).text)
    assert text.index("path: seed") < text.index(HEADING) < text.index("path: cfg")


def test_a_key_the_entry_before_a_heading_gains_at_its_end_stays_above_the_heading() -> None:
    noise = '    description: "Fixes the noise."\n'
    before = commented().replace(noise + "    docsDigest: d88bd1fd5d4b\n", noise)
    assert before != commented()
    text = entries(imported(page(MODE, SEED, STEPS), before).text)
    assert noise + "    docsDigest: " in text
    assert text.index("path: seed") < text.index("docsDigest", text.index("path: seed"))
    assert text.index("docsDigest", text.index("path: seed")) < text.index(HEADING)


def test_a_container_the_page_never_heads_needs_no_description() -> None:
    image = "**Inputs**\n\nThese must be nested inside the \\`inputs\\` object.\n\n" + param(
        "image", {"Path": "`inputs.image`", "Type": "`string`"}
    )
    result, data = merged(page(MODE), page(MODE, image))
    assert messages(result, "change") == [
        "parameters inputs added",
        "parameters inputs.image added",
    ]
    assert messages(result, "warning") == ["inputs.image: new; write its description"]
    assert paths(data)[-2:] == ["inputs", "inputs.image"]


def test_a_container_the_page_starts_heading_becomes_that_parameter_not_a_second_one() -> None:
    image = "**Inputs**\n\nThese must be nested inside the \\`inputs\\` object.\n\n" + param(
        "image", {"Path": "`inputs.image`", "Type": "`string`"}
    )
    headed = page(MODE, param("inputs", {"Type": "`object`"}), image)
    result, data = merged(page(MODE, image), headed)
    assert paths(data) == paths(loaded(imported(headed).text))
    assert paths(data)[-2:] == ["inputs", "inputs.image"]
    container = data["parameters"][-2]
    assert container["anchor"] == "request-inputs" and "derived" not in container
    assert "parameters inputs is headed on the page now" in messages(result, "change")
    assert "inputs: headed now; write its description" in messages(result, "warning")
    again = imported(headed, result.text)
    assert again.text == result.text and messages(again, "change") == []


REFS = param("refs", {"Type": "`array of strings`"})
LIMIT = "When `mode` is provided, `refs` is limited to {} items."


def test_a_new_item_limit_rewrites_the_rules_own_message_and_not_a_curated_one() -> None:
    three = imported(page(MODE, REFS, validation=[LIMIT.format(3)])).text
    four = page(MODE, REFS, validation=[LIMIT.format(4)])
    result = imported(four, three)
    rule = loaded(result.text)["rules"][0]
    assert (rule["maxItems"], rule["message"]) == (4, "With mode, refs takes at most 4 items.")
    assert messages(result, "conflict") == []
    ours = "Use at most three references while a mode is set."
    curated = three.replace("With mode, refs takes at most 3 items.", ours)
    result = imported(four, curated)
    rule = loaded(result.text)["rules"][0]
    assert (rule["maxItems"], rule["message"]) == (4, ours)
    assert messages(result, "conflict") == [
        "rule refs-limit-with-mode: review its message for the new limit"
    ]


def test_a_parameter_under_a_new_anchor_is_a_new_parameter() -> None:
    moved = param("seed", {"Type": INT, "Min": "`0`"}, anchor="request-seed-2")
    result, _ = merged(page(MODE, SEED), page(MODE, moved))
    assert messages(result, "change") == ["parameters seed added", "parameters seed removed"]


def test_a_price_row_of_up_to_six_plain_values_is_written_on_one_line() -> None:
    labels = "- **720p · 16:9 · 5s (with audio)**: `$1`\n- **720p · 5s · R2V**: `$2`"
    text = imported(page(INPUTS, pricing=labels)).text
    assert (
        "    - {resolution: 720p, aspectRatio: 16:9, audio: true, perClip: 1, seconds: 5, "
        "quote: 720p · 16:9 · 5s (with audio)}\n"
    ) in text
    assert "    - resolution: 720p\n      provided: [inputs.referenceVideos]\n" in text


def test_a_default_changing_from_1_to_true_is_a_change() -> None:
    before = page(param("flag", {"Type": INT, "Default": "`1`"}))
    result, data = merged(before, page(param("flag", {"Type": "`boolean`", "Default": "`true`"})))
    assert "flag default: 1 → True" in messages(result, "change")
    assert data["parameters"][-1]["default"] is True
