"""What re-importing a docs page over an existing spec changes and what it keeps, on small
pages written inline (``docs_pages``): each change said once, the spec's order kept, what
the page lacks or cannot be read left as it is."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML

from codegen.docs.importer import ImportResult
from tests.codegen.docs_pages import MODEL_FACTS, imported, messages, page, param

INT = "`integer`"
MODE = param("mode", {"Type": "`string`"}, allowed=["fast", "slow"])
SEED = param("seed", {"Type": INT, "Min": "`0`"})
FORBID = "`mode` cannot be used with `seed`."


def merged(before: str, after: str) -> tuple[ImportResult, dict[str, Any]]:
    result = imported(after, imported(before).text)
    data = YAML(typ="safe").load(io.StringIO(result.text))
    return result, data


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
