"""The consistency analysis understands every rule kind and every form of one: a walk over
the rule-kind registry (kinds, their optional keys, condition forms) finds each covered by a
page whose sentences make a parameter impossible through a rule of that form, or named as
a kind that only ever constrains values (with the reason it cannot make a parameter
impossible). A kind or form added without either fails here."""

from __future__ import annotations

import re

import pytest

from codegen.docs.importer import import_page, load_platform
from codegen.spec.consistency import analyse
from codegen.spec.loader import SpecError, load_model_text
from codegen.spec.model import ModelSpec
from runware_contract.rule_kinds import KINDS
from tests.conftest import REPO, SPEC_DIR

PLATFORM = load_platform(SPEC_DIR)
BASE = (REPO / "tests" / "data" / "pages" / "providers" / "acme-vim-1.md").read_text()
# vim: duration is an integer from 2 to 16 (default 5); seed, inputs.audio,
# inputs.referenceImages and inputs.frameImages are optional.

# (kind, form) -> (sentences, the impossible parameter, the rules to blame)
Case = tuple[list[str], str, tuple[str, ...]]
CASES: dict[tuple[str, str], Case] = {
    ("exactlyOne", "params"): (
        [
            "Provide exactly one of: `inputs.audio` or `seed`.",
            "When `inputs.audio` is provided, `seed` is required.",
        ],
        "inputs.audio",
        ("audio-or-seed", "audio-require-seed"),
    ),
    ("atLeastOne", "params"): (
        [
            "Either provide `seed`, or specify `inputs.audio`.",
            "When `inputs.referenceImages` is provided, `seed` cannot be used.",
            "When `inputs.referenceImages` is provided, `inputs.audio` cannot be used.",
        ],
        "inputs.referenceImages",
        ("reference-images-forbid-audio", "reference-images-forbid-seed", "seed-or-audio"),
    ),
    ("requires", "when/then"): (
        [
            "When `seed` is provided, `inputs.audio` is required.",
            "When `seed` is provided, `inputs.audio` cannot be used.",
        ],
        "seed",
        ("seed-forbid-audio", "seed-require-audio"),
    ),
    ("forbids", "when/forbid"): (
        [
            "`frameImages` cannot be used with `audio` (in `inputs`).",
            "When `inputs.frameImages` is provided, `inputs.audio` is required.",
        ],
        "inputs.frameImages",
        ("frame-images-forbid-audio", "frame-images-require-audio"),
    ),
    ("forbids", "pair"): (
        [
            "`inputs.frameImages` and `seed` cannot be used together.",
            "When `seed` is provided, `inputs.frameImages` is required.",
        ],
        "seed",
        ("frame-images-forbid-seed", "seed-require-frame-images"),
    ),
    ("limitItems", "when/target/maxItems"): (
        [
            "When `seed` is provided, `inputs.referenceImages` is limited to 0 items.",
            "When `seed` is provided, `inputs.referenceImages` requires at least 1 item.",
        ],
        "seed",
        ("reference-images-limit-with-seed", "reference-images-needs-items-with-seed"),
    ),
    ("requireItems", "when/target/minItems"): (
        [
            "When `inputs.audio` is provided, `inputs.referenceImages` requires at least 2 items.",
            "When `inputs.audio` is provided, `inputs.referenceImages` is limited to 1 items.",
        ],
        "inputs.audio",
        (
            "reference-images-limit-with-audio",
            "reference-images-needs-items-with-audio",
        ),
    ),
    ("together", "params"): (
        [
            "`seed` and `inputs.audio` must be used together.",
            "When `seed` is provided, `inputs.audio` cannot be used.",
        ],
        "seed",
        ("seed-audio-together", "seed-forbid-audio"),
    ),
    ("valueWhen", "allowed"): (
        ["When `seed` is provided, `duration` must be `1`."],  # below the minimum, default 5
        "seed",
        ("duration-with-seed",),
    ),
    ("valueWhen", "maximum"): (
        ["When `seed` is provided, `duration` must be at most `1`."],
        "seed",
        ("duration-with-seed",),
    ),
    ("condition", "not"): (
        [
            "When `inputs.audio` is not provided, `seed` is required.",
            "When `inputs.frameImages` is provided, `seed` cannot be used.",
            "When `inputs.frameImages` is provided, `inputs.audio` cannot be used.",
        ],
        "inputs.frameImages",
        ("frame-images-forbid-audio", "frame-images-forbid-seed", "without-audio-require-seed"),
    ),
    ("condition", "equals"): (
        [
            "Parameter constraints vary based on the configuration:\n\n| seed | duration |\n"
            "| --- | --- |\n| `7` | `1` |",
        ],
        "",  # no parameter is impossible: seed 7 is, and the task may give another seed
        (),
    ),
    ("condition", "not+equals"): (
        [
            "Parameter constraints vary based on the configuration:\n\n| seed | duration |\n"
            "| --- | --- |\n| `7` | `5` |\n| `Other` | `1` |",
        ],
        "",  # seed other than 7 lacks a duration: only seed 7 (or none... which is Other)
        (),
    ),
}
# Kinds that only constrain values and why none can make a parameter impossible.
VALUE_ONLY = {
    ("dimensions", "table"): "a task without width and height is never refused by it",
    ("dimensions", "sizes"): "lint-spec requires every size to be a row of the table",
    ("framePositions", "target/field/positions/automatic"): "an item without the field takes "
    "a free position",
    ("promptReferences", "in/pattern/target"): "a prompt without references is always valid",
    ("defaultWhen", "when/param/default"): "a default is never an error",
}


def forms() -> list[tuple[str, str]]:
    """Every kind of the registry with each form: its required keys, each optional key,
    and the condition forms every kind with a `when` shares."""
    out: list[tuple[str, str]] = []
    for name, kind in KINDS.items():
        base = "/".join(kind.keys) if kind.keys else "table"
        if kind.optional:  # each optional key is a form (a `when` only goes with one)
            out += [(name, key) for key in kind.optional if key != "when"]
            out += [(name, base)] if not kind.keys else []
        else:
            out.append((name, base))
    out += [("condition", "not"), ("condition", "equals"), ("condition", "not+equals")]
    out.append(("forbids", "pair"))  # "`a` and `b` cannot be used together."
    return out


def model_with(sentences: list[str]) -> ModelSpec:
    start = BASE.index("## Compatibility & Validation")
    end = BASE.index("The following dimension combinations")
    text = BASE[:start] + "## Compatibility & Validation\n\n"
    text += "\n\n---\n\n".join(sentences) + "\n\n---\n\n" + BASE[end:]
    result = import_page(text, PLATFORM)
    unread = [n.message for n in result.notes if "not understood" in n.message]
    assert unread == []
    return load_model_text(result.text, "forms", PLATFORM)


def test_the_walk_covers_every_kind_and_form_of_the_registry() -> None:
    walked = set(forms())
    assert walked == set(CASES) | set(VALUE_ONLY), walked ^ (set(CASES) | set(VALUE_ONLY))


@pytest.mark.parametrize("form", sorted(CASES), ids=lambda f: "-".join(f))
def test_the_analysis_finds_what_each_form_makes_impossible(form: tuple[str, str]) -> None:
    sentences, parameter, rules = CASES[form]
    found = {f.parameter: f.rules for f in analyse(model_with(sentences))}
    if parameter:
        assert found.get(parameter) == rules, found
    else:
        assert found == {}


def test_conditional_sizes_that_are_no_row_are_refused_by_lint() -> None:
    with pytest.raises(SpecError, match="is not a row of the dimension table"):
        model_with(["When `seed` is provided, dimensions are limited to `100\u00d7100`."])
    model = model_with(["When `seed` is provided, dimensions are limited to `864\u00d7480`."])
    assert analyse(model) == []
    assert re.search("dimensions-with-seed", " ".join(r.id for r in model.rules))
