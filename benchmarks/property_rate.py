"""Examples per second of the property suite: through validate() and the in-process mock.

Two figures each, measured in one run: the checking rate (pre-generated tasks pushed
through validate() / POSTed to the mock in-process) and the whole-property rate
(Hypothesis generation and repair included), for a mix of valid tasks and single
violations drawn from runware_contract.strategies.

Usage: python benchmarks/property_rate.py [--examples N]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import runware_contract as rc  # noqa: E402
from mockserver import MockConfig, MockServer  # noqa: E402
from mockserver.ids import IdSource  # noqa: E402
from mockserver.testing import InProcessMock  # noqa: E402
from runware_contract import klingai_video_3_0_pro as kling  # noqa: E402
from runware_contract import strategies as S  # noqa: E402

FAST = settings(
    phases=[Phase.generate],
    database=None,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=400)
    args = parser.parse_args()
    no_delivery = ("webhookURL", "uploadEndpoint")
    mixed = st.one_of(
        S.valid_tasks(kling, exclude=no_delivery), *(s for _, s in S.cases(kling) if not s.is_empty)
    )
    tasks: list[dict[str, Any]] = []

    @settings(FAST, max_examples=args.examples)
    @given(mixed)
    def collect(task: dict[str, Any]) -> None:
        tasks.append(task)

    started = time.perf_counter()
    collect()
    generation = time.perf_counter() - started
    ids = IdSource(0)
    counter = itertools.count()

    started = time.perf_counter()
    for task in tasks:
        rc.validate(task)
    validate_rate = len(tasks) / (time.perf_counter() - started)

    with InProcessMock(MockServer(MockConfig(job_seconds=0))) as mock:
        client = httpx.Client(
            base_url="http://testserver",
            headers={"Authorization": "Bearer k"},
            transport=httpx.MockTransport(mock.handle),
        )
        bodies = [
            [
                {
                    **{k: v for k, v in t.items() if k not in no_delivery},
                    "taskUUID": ids.uuid4(next(counter)),
                }
            ]
            for t in tasks
        ]
        started = time.perf_counter()
        for body in bodies:
            client.post("/v1", json=body)
        mock_rate = len(tasks) / (time.perf_counter() - started)

    per_example_generation = generation / len(tasks)
    with_validate = 1 / (per_example_generation + 1 / validate_rate)
    with_mock = 1 / (per_example_generation + 1 / mock_rate)
    print(
        f"{len(tasks)} examples (valid and single violations); "
        f"generation {per_example_generation * 1e3:.2f} ms each"
    )
    print(
        f"validate(): {validate_rate:,.0f} checks/s; with generation {with_validate:,.0f} "
        "examples/s (target >= 1,000/s)"
    )
    print(
        f"in-process mock: {mock_rate:,.0f} requests/s; with generation {with_mock:,.0f} "
        "examples/s (target >= 300/s)"
    )


if __name__ == "__main__":
    main()
