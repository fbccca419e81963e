"""Page facts into spec values (``codegen/docs/facts.py``): each fact typed as its
parameter, a number's whole values kept numbers, a string's digits kept text."""

from __future__ import annotations

from typing import Any

import pytest

from codegen.docs.importer import import_page, load_platform
from codegen.spec.loader import load_model_text
from tests.conftest import REPO, SPEC_DIR

PLATFORM = load_platform(SPEC_DIR)
PAGE = (REPO / "tests" / "data" / "pages" / "providers" / "acme-vim-1.md").read_text()
DURATION = "- **Type**: `integer`\n- **Min**: `2`\n- **Max**: `16`\n- **Default**: `5`\n"
SEED = "- **Type**: `integer`\n- **Min**: `0`\n- **Max**: `4294967295`\n"


def parameter_with(path: str, was: str, facts: str) -> Any:
    assert was in PAGE
    result = import_page(PAGE.replace(was, facts), PLATFORM)
    model = load_model_text(result.text, "facts", PLATFORM)
    return next(p for p in model.parameters if p.path == path)


def duration_with(facts: str) -> Any:
    return parameter_with("duration", DURATION, facts)


@pytest.mark.parametrize(
    ("page_type", "types", "low", "high", "default"),
    [
        ("integer", ("integer",), 2, 16, 5),
        ("float", ("number",), 2, 16, 5),  # whole numbers of a number are numbers
        ("number", ("number",), 0.5, 16, 2.5),
    ],
)
def test_a_number_parameters_facts_are_numbers(
    page_type: str, types: tuple[str, ...], low: Any, high: Any, default: Any
) -> None:
    facts = (
        f"- **Type**: `{page_type}`\n- **Min**: `{low}`\n- **Max**: `{high}`\n"
        f"- **Default**: `{default}`\n"
    )
    duration = duration_with(facts)
    assert duration.types == types
    got = (duration.minimum, duration.maximum, duration.default)
    assert got == (low, high, default)
    assert all(type(v) is type(w) for v, w in zip(got, (low, high, default), strict=True))


def test_a_string_parameters_digits_stay_text() -> None:
    seed = parameter_with("seed", SEED, "- **Type**: `string`\n- **Default**: `5`\n")
    assert seed.types == ("string",) and seed.default == "5"
