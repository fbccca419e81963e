"""Format patterns run in linear time on any input and keep the language they had.

A backtracking engine (Python's ``re``, and most JSON Schema validators) is quadratic or worse
on a pattern whose quantifiers can split one run of characters in many ways; the server checks
formats on the event loop, so one such string freezes every request. Every format is timed on
long runs of each character that matters to it, each followed by a character that fails.
"""

from __future__ import annotations

import itertools
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.spec.regex_check import backtracking_problem
from runware_contract.platform import CONSTRAINT_CODES, FORMATS, RULE_CODES
from runware_contract.runtime import Contract

PREFIXES = (
    "", "http://", "https://x/", "https://x?", "data:", "data:a/b", "data:a/b;k=",
    "data:a/b;k=v", "data:a/b;base64,", "a:", "00000000-",
)  # fmt: skip
RUNS = ("a", "0", "/", ";", "=", "+", ":", "-", ".", "?", "#", "%", "k=v;", ";k=", "aaa=", "://")
TAILS = (" ", "\x00", "!", "=", ";", ",")
LONG = 40_000


def _worst_seconds(regex: re.Pattern[str], length: int) -> tuple[float, str]:
    worst, which = 0.0, ""
    for prefix, run, tail in itertools.product(PREFIXES, RUNS, TAILS):
        text = prefix + run * (length // len(run)) + tail
        started = time.perf_counter()
        regex.fullmatch(text)
        took = time.perf_counter() - started
        if took > worst:
            worst, which = took, f"{prefix!r} + {run!r} * n + {tail!r}"
        if took > 1.0:
            break  # quadratic already: no need to wait for the rest
    return worst, which


def test_every_format_is_linear_on_adversarial_strings() -> None:
    # Linear: about 1 ms for 40,000 characters; the old url pattern took 15 s on the worst.
    for name, (pattern, _) in sorted(FORMATS.items()):
        worst, which = _worst_seconds(re.compile(pattern), LONG)
        assert worst < 0.25, f"format {name}: {worst:.2f} s on {which} ({LONG} characters)"


# The url pattern as it was (quadratic); the rewrite must accept exactly the same strings.
OLD_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
URL_ALPHABET = st.sampled_from("ahs:/?#. \t\n0%@")


@settings(max_examples=2000, deadline=None)
@given(st.builds(lambda p, r: p + r, st.sampled_from(["", "http://", "https://", "http:/"]),
                 st.text(URL_ALPHABET, max_size=12)))  # fmt: skip
def test_the_url_rewrite_accepts_the_same_language(text: str) -> None:
    new = re.compile(FORMATS["url"][0])
    assert (new.fullmatch(text) is None) == (OLD_URL.fullmatch(text) is None)


def test_a_string_over_its_length_is_not_format_checked() -> None:
    # One error for a value already refused by its length: its format is never matched.
    contract = Contract(
        task_label="test",
        docs="https://example.invalid",
        parameters=[{"path": "image", "types": ["string"], "maxLength": 100, "format": "url"}],
        formats={k: (v[0], v[1]) for k, v in FORMATS.items()},
        constraint_codes=CONSTRAINT_CODES,
        rule_codes=RULE_CODES,
    )
    assert [v.rule for v in contract.violations({"image": "ftp://x"})] == ["format"]
    too_long = contract.violations({"image": "ftp://" + "x" * 200})
    assert [v.rule for v in too_long] == ["maxLength"]


@pytest.mark.parametrize(
    ("pattern", "slow"),
    [
        (r"https?://[^\s/?#]+[^\s]*", True),  # quadratic: one run split two ways
        (r"[a-z]+x[a-z]*", True),
        (r"\d+\w*", True),
        (r"(?:ab)+(?:a[a-z])*", True),
        (r"(?:a+){2}", True),
        (r"(a+)+", True),  # exponential
        (r"(a*)*", True),
        (r"(a|aa)*c", True),
        (r"(?:a?a)+", True),
        (r"(?=a)a", True),  # not modelled: refused
        (r"https?://[^\s/?#]+(?:[/?#][^\s]*)?", False),
        (r"[a-z]+1[a-z]*", False),
        (r"a+b+c+", False),
        (r"(;[a-z]+=[^;,]+)*;x", False),
        (r"(a|ab)*c", False),
        (r"(?:[0-9a-f]{4}-)+x", False),
    ],
)
def test_the_backtracking_check(pattern: str, slow: bool) -> None:
    assert (backtracking_problem(pattern) is not None) == slow


def test_the_spec_formats_pass_the_backtracking_check() -> None:
    assert {name: backtracking_problem(rx) for name, (rx, _) in FORMATS.items()} == dict.fromkeys(
        FORMATS
    )
