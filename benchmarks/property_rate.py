"""Examples per second of the property suite: through validate() and the in-process mock.

Every figure is measured in one run, with Hypothesis settings as in the CI profile
(derandomized, no deadline, the same suppressed health checks, every default phase; a
passing property never shrinks):

- the checking rate alone: pre-generated tasks pushed through validate() and POSTed to
  the mock in-process (the baseline the ratios are against);
- Hypothesis's own floor: a @given property drawing one integer;
- the whole-property rate: a @given property that draws a task from
  runware_contract.strategies (generation and repair included) and checks it, for valid
  tasks alone and for the mix of valid tasks and every single violation.

Rates are per second of this process's CPU time (process_time): the machine is shared,
and wall-clock figures move with the other load far more than the ratios do.

Usage: python benchmarks/property_rate.py [--examples N]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import runware_contract as rc  # noqa: E402
from mockserver import MockConfig, MockServer  # noqa: E402
from mockserver.core.ids import IdSource  # noqa: E402
from mockserver.testing import InProcessMock  # noqa: E402
from runware_contract import klingai_video_3_0_pro as kling  # noqa: E402
from runware_contract import strategies as S  # noqa: E402

CI_LIKE = settings(  # tests/conftest.py's `ci` profile, without the example database
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
NO_DELIVERY = ("webhookURL", "uploadEndpoint")  # the mock must not call random hosts
Check = Callable[[dict[str, Any]], object]


def property_rate(strategy: st.SearchStrategy[Any], check: Check, examples: int) -> float:
    """Examples per CPU second of ``@given(strategy)`` calling ``check``: a whole run,
    start-up and rejected examples included."""
    count = 0

    @settings(CI_LIKE, max_examples=examples)
    @given(strategy)
    def prop(value: Any) -> None:
        nonlocal count
        count += 1
        check(value)

    started = time.process_time()
    prop()
    return count / (time.process_time() - started)


def check_rate(tasks: list[dict[str, Any]], check: Check) -> float:
    started = time.process_time()
    for task in tasks:
        check(task)
    return len(tasks) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=1000)
    args = parser.parse_args()
    valid = S.valid_tasks(kling, exclude=NO_DELIVERY)
    mixed = st.one_of(valid, *(s for _, s in S.cases(kling) if not s.is_empty))
    tasks: list[dict[str, Any]] = []
    property_rate(mixed, tasks.append, args.examples)  # also warms the strategies up
    ids = IdSource(0)
    counter = itertools.count()

    floor = property_rate(st.integers(), lambda n: None, args.examples)
    rates = {
        "validate()": (
            check_rate(tasks, rc.validate),
            property_rate(valid, rc.validate, args.examples),
            property_rate(mixed, rc.validate, args.examples),
            1000,
        )
    }
    # the mock's threads count in the process's CPU time, so only its own figures run with it
    with InProcessMock(MockServer(MockConfig(job_seconds=0))) as mock:
        client = httpx.Client(
            base_url="http://testserver",
            headers={"Authorization": "Bearer k"},
            transport=httpx.MockTransport(mock.handle),
        )

        def post(task: dict[str, Any]) -> object:
            fresh = {k: v for k, v in task.items() if k not in NO_DELIVERY}
            return client.post("/v1", json=[{**fresh, "taskUUID": ids.uuid4(next(counter))}])

        rates["in-process mock"] = (
            check_rate(tasks, post),
            property_rate(valid, post, args.examples),
            property_rate(mixed, post, args.examples),
            300,
        )

    print(
        f"{args.examples} examples per property run; Hypothesis floor (one integer "
        f"drawn, nothing checked): {floor:,.0f} examples/s"
    )
    for name, (checks, valid_rate, mixed_rate, target) in rates.items():
        print(
            f"{name}: checking alone {checks:,.0f} tasks/s; as a property with generation: "
            f"valid tasks {valid_rate:,.0f}/s ({valid_rate / checks:.3f}x checking, "
            f"{valid_rate / floor:.2f}x floor), valid + single violations "
            f"{mixed_rate:,.0f}/s ({mixed_rate / checks:.3f}x checking, "
            f"{mixed_rate / floor:.2f}x floor); target >= {target:,}/s"
        )


if __name__ == "__main__":
    main()
