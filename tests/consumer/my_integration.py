"""README's ``my_integration``: a consumer's code that sends Runware tasks.

It submits a task with the generated client and says whether Runware accepted it, and if
not, with which error code. Local validation is off, so the server (the mock, in tests)
is the one that judges the task.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import runware_contract as rc
from runware_contract.client import DEFAULT_BASE_URL


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error_code: str | None = None


@functools.cache
def _client(base_url: str, api_key: str) -> rc.Client:
    return rc.Client(api_key, base_url=base_url, validate=False, max_retries=0)


def submit(
    task: dict[str, Any], *, base_url: str = DEFAULT_BASE_URL, api_key: str = "my-api-key"
) -> Outcome:
    try:
        _client(base_url, api_key).submit(task)
    except rc.RunwareAPIError as error:
        return Outcome(ok=False, error_code=error.code)
    return Outcome(ok=True)
