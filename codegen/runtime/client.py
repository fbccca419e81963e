# Source of runware_contract/client.py (copied by `python -m codegen generate`).
"""A typed Runware client on httpx, sync (``Client``) and async (``AsyncClient``).

- ``submit(tasks)`` POSTs one or more tasks (dicts or request models) to ``/v1``,
  validating each first unless ``validate=False``; a task without a taskUUID gets one.
- ``wait(uuids)`` polls ``getResponse`` with growing intervals until every task
  has all of its ``numberResults`` results, and returns them as typed results.
- ``run(task)`` is ``submit`` then ``wait``. A task whose request is answered with its
  results (an image task's ``sync`` delivery, the platform spec's ``TASK_TYPES``) gets them
  from the POST itself: ``wait`` then returns without polling; an acknowledged one is polled.
- HTTP 408, 429 and 5xx (and network errors) are retried with backoff, honouring
  ``Retry-After``; API errors raise the exception of their family (``errors.py``).
- ``base_url`` and ``transport`` are injectable, so the client runs against a mock
  in-process (``httpx.MockTransport``, respx, or an ASGI app).

All retry, polling and parsing decisions live in ``_Core``; the two client
classes only do the I/O and the sleeping.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import ModuleType
from typing import Any, cast

import httpx

from .errors import ConflictError, InvalidRequestError, RunwareAPIError, TaskTimeoutError, error_for
from .platform import TASK_TYPES
from .registry import MODELS, validate
from .runtime import RunwareError
from .typed import to_json_data

__all__ = ["DEFAULT_BASE_URL", "AsyncClient", "Client", "TaskStatus", "parse_webhook"]

DEFAULT_BASE_URL = "https://api.runware.ai/v1"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
Task = Mapping[str, Any] | Any


def _result_model(task_type: str | None, model_id: str | None) -> ModuleType | None:
    if isinstance(model_id, str) and model_id in MODELS:
        return MODELS[model_id]
    return next((m for m in MODELS.values() if task_type == m.TASK_TYPE), None)


def _expected_results(task: Mapping[str, Any]) -> int:
    """How many results a task produces: its numberResults, else its model's default (from
    the spec); a task of a model this package lacks (or a bad value) waits for one."""
    model = task.get("model")
    module = _result_model(task.get("taskType"), model if isinstance(model, str) else None)
    defaults: Mapping[str, Any] = module.CONTRACT.defaults if module is not None else {}
    expected = task.get("numberResults", defaults.get("numberResults"))
    return expected if isinstance(expected, int) and expected > 0 else 1


def parse_result(item: Mapping[str, Any], model_id: str | None = None) -> Any:
    """A finished result item as the typed Result of its model (the raw dict if unknown)."""
    module = _result_model(item.get("taskType"), model_id)
    return module.Result.model_validate(dict(item)) if module is not None else dict(item)


def parse_webhook(body: bytes | str | Mapping[str, Any]) -> list[Any]:
    """The typed results in a webhook delivery (``{"data": [item, ...]}``).

    Raises the family's RunwareAPIError when the delivery carries ``errors``.
    """
    payload = json.loads(body) if isinstance(body, bytes | str) else body
    if not isinstance(payload, Mapping):
        raise ValueError("a webhook body is a JSON object with a data array")
    if payload.get("errors"):
        raise error_for(payload["errors"])
    return [parse_result(item) for item in payload.get("data", [])]


@dataclass
class TaskStatus:
    """What polling has learned about one task."""

    task_uuid: str
    expected: int
    model_id: str | None = None
    results: list[Any] = field(default_factory=list)
    progress: int | None = None

    @property
    def done(self) -> bool:
        return len(self.results) >= self.expected


@dataclass
class _Attempt:
    """The outcome of one HTTP exchange: data, or an error to raise or retry after."""

    data: list[dict[str, Any]] = field(default_factory=list)
    error: RunwareAPIError | None = None
    retry_after: float | None = None


class _Core:
    """Everything but I/O: headers, task preparation, parsing, retry and poll timing."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        validate: bool,
        max_retries: int,
        backoff: float,
        max_backoff: float,
        poll_interval: float,
        max_poll_interval: float,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.validate = validate
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.known: dict[str, TaskStatus] = {}

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}

    def prepare(self, tasks: Task | Sequence[Task]) -> list[dict[str, Any]]:
        """Plain JSON tasks with taskUUIDs, validated unless validation is off."""
        given: list[Any] = list(tasks) if isinstance(tasks, list | tuple) else [tasks]
        items = [to_json_data(t) for t in given]
        if not items:
            raise ValueError("submit needs at least one task")
        errors: list[RunwareError] = []
        for item in items:
            if not isinstance(item, dict):
                raise TypeError("a task is a mapping or a request model")
            item.setdefault("taskUUID", str(uuid.uuid4()))
            if self.validate:
                errors.extend(validate(item))
        if errors:
            raise InvalidRequestError(errors)
        for item in items:
            uuid_ = item["taskUUID"]
            if item.get("taskType") not in ("getResponse", "authentication", "ping"):
                self.known[uuid_] = TaskStatus(uuid_, _expected_results(item), item.get("model"))
        return items

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        return min(self.max_backoff, self.backoff * 2.0**attempt)

    def poll_delay(self, poll: int) -> float:
        return min(self.max_poll_interval, self.poll_interval * (1.5**poll))

    @staticmethod
    def retry_after(response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                return None

    def interpret(
        self, response: httpx.Response, sent: Sequence[Mapping[str, Any]], *, retried: bool
    ) -> _Attempt:
        """Data, or the error the response stands for (retryable or not). After a retry,
        ``conflictTaskUUID`` for a task we sent means the first attempt got through."""
        retry_after = self.retry_after(response)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            errors: list[RunwareError] = [
                {
                    "code": "invalidResponse"
                    if response.is_success
                    else f"http{response.status_code}",
                    "message": f"HTTP {response.status_code} with a body that is not a JSON object",
                    "parameter": None,
                    "type": None,
                    "documentation": None,
                    "taskType": None,
                    "taskUUID": None,
                }
            ]
            return _Attempt(
                error=error_for(errors, response.status_code, retry_after), retry_after=retry_after
            )
        data = [d for d in payload.get("data") or [] if isinstance(d, dict)]
        errors = cast(
            list[RunwareError], [e for e in payload.get("errors") or [] if isinstance(e, dict)]
        )
        # A reused taskUUID after a retry means the first attempt was accepted.
        sent_uuids = {t.get("taskUUID") for t in sent}
        accepted = [
            e
            for e in errors
            if e.get("code") == "conflictTaskUUID" and e.get("taskUUID") in sent_uuids
        ]
        accepted_only = False
        if accepted and retried:
            errors = [e for e in errors if e not in accepted]
            data += [
                {"taskType": e.get("taskType"), "taskUUID": e.get("taskUUID")} for e in accepted
            ]
            accepted_only = not errors
        if errors or not (response.is_success or accepted_only):
            error = error_for(errors, response.status_code, retry_after, data=data)
            return _Attempt(data=data, error=error, retry_after=retry_after)
        return _Attempt(data=data)

    def should_retry(self, attempt: int, result: _Attempt | None, status: int | None) -> bool:
        if attempt >= self.max_retries:
            return False
        if result is None:  # network error
            return True
        return status in RETRY_STATUSES and not isinstance(result.error, ConflictError)

    def poll_body(self, pending: Iterable[str]) -> list[dict[str, Any]]:
        return [{"taskType": "getResponse", "taskUUID": u} for u in pending]

    def absorb(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Fold one getResponse answer into the task statuses."""
        fresh: dict[str, list[Mapping[str, Any]]] = {}
        for item in items:
            uuid_ = item.get("taskUUID")
            if isinstance(uuid_, str) and uuid_ in self.known:
                fresh.setdefault(uuid_, []).append(item)
        for uuid_, found in fresh.items():
            status = self.known[uuid_]
            done = [i for i in found if _finished(i)]
            failed = [i for i in found if i.get("status") == "error"]
            if failed:
                raise error_for(
                    [
                        {
                            "code": str(failed[0].get("code", "inferenceError")),
                            "message": str(failed[0].get("message", "the task failed")),
                            "parameter": None,
                            "type": None,
                            "documentation": None,
                            "taskType": failed[0].get("taskType"),
                            "taskUUID": uuid_,
                        }
                    ]
                )
            seen = {self._result_id(r) for r in status.results}
            for item in done:
                if self._result_id(item) not in seen:
                    status.results.append(parse_result(item, status.model_id))
                    seen.add(self._result_id(item))
            progress = [p for i in found if isinstance(p := i.get("progress"), int)]
            if progress:
                status.progress = min(progress)

    @staticmethod
    def _result_id(item: Any) -> Any:
        data = item if isinstance(item, Mapping) else to_json_data(item)
        return data.get(_uuid_field(data)) or json.dumps(data, sort_keys=True)

    def status(
        self, uuids: Sequence[str], number_results: int | None, model: str | None
    ) -> list[TaskStatus]:
        statuses = []
        for u in uuids:
            if u not in self.known:
                self.known[u] = TaskStatus(u, number_results or 1, model)
            elif number_results is not None:
                self.known[u].expected = number_results
            statuses.append(self.known[u])
        return statuses


def _uuid_field(item: Mapping[str, Any]) -> str:
    """The field naming a result's media for the item's task type (videoUUID, imageUUID)."""
    task_type = item.get("taskType")
    lifecycle = TASK_TYPES.get(task_type) if isinstance(task_type, str) else None
    return str(lifecycle["uuidField"]) if lifecycle else ""


def _finished(item: Mapping[str, Any]) -> bool:
    """A success item: a polled one says so; a sync answer's or a webhook's items carry no
    status, only the result fields (the task type's media UUID among them)."""
    status = item.get("status")
    return status == "success" or (status is None and _uuid_field(item) in item)


def _uuids(tasks: Any) -> list[str]:
    """taskUUIDs from a uuid, a task, or a sequence of either."""
    items: list[Any] = [tasks] if isinstance(tasks, str | Mapping) else list(tasks)
    return [t if isinstance(t, str) else str(t["taskUUID"]) for t in items]


class Client:
    """Synchronous client. Use as a context manager, or call ``close()``."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.BaseTransport | None = None,
        validate: bool = True,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._core = _Core(
            api_key,
            base_url=base_url,
            validate=validate,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
        )
        self._http = httpx.Client(transport=transport, timeout=timeout)
        self._sleep = sleep
        self._clock = clock

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def post(self, tasks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """POST already prepared tasks; retry what may be retried; return ``data``."""
        core = self._core
        attempt = 0
        while True:
            result: _Attempt | None = None
            status: int | None = None
            try:
                response = self._http.post(core.base_url, json=list(tasks), headers=core.headers)
                status = response.status_code
                result = core.interpret(response, tasks, retried=attempt > 0)
                if result.error is None:
                    return result.data
            except httpx.TransportError:
                if not core.should_retry(attempt, None, None):
                    raise
            if result is not None and not core.should_retry(attempt, result, status):
                assert result.error is not None
                raise result.error
            self._sleep(core.delay(attempt, result.retry_after if result else None))
            attempt += 1

    def submit(self, tasks: Task | Sequence[Task]) -> list[dict[str, Any]]:
        """Send one or more tasks; returns the ``data`` items: acknowledgements, or the
        results of a task answered with them (kept: ``wait`` returns them unpolled)."""
        items = self.post(self._core.prepare(tasks))
        self._core.absorb(items)
        return items

    def get_response(self, task_uuids: str | Sequence[str]) -> list[dict[str, Any]]:
        """One getResponse poll: the raw items for the given taskUUIDs."""
        return self.post(self._core.poll_body(_uuids(task_uuids)))

    def wait(
        self,
        tasks: Any,
        *,
        timeout: float = 600.0,
        number_results: int | None = None,
        model: str | None = None,
    ) -> list[Any]:
        """Poll until every task has all its results; return them in task order."""
        statuses = self._core.status(_uuids(tasks), number_results, model)
        deadline = self._clock() + timeout
        poll = 0
        while True:
            pending = [s.task_uuid for s in statuses if not s.done]
            if not pending:
                return [r for s in statuses for r in s.results]
            self._core.absorb(self.post(self._core.poll_body(pending)))
            if all(s.done for s in statuses):
                continue
            delay = self._core.poll_delay(poll)
            if self._clock() + delay > deadline:
                raise TaskTimeoutError(
                    f"tasks not finished after {timeout} s: {', '.join(pending)}"
                )
            self._sleep(delay)
            poll += 1

    def run(self, task: Task, *, timeout: float = 600.0) -> list[Any]:
        """Submit one task and wait for all of its results."""
        (prepared,) = self._core.prepare(task)
        self._core.absorb(self.post([prepared]))
        return self.wait(prepared["taskUUID"], timeout=timeout)

    def upload_image(self, image: str) -> dict[str, Any]:
        """imageUpload: returns the item with ``imageUUID`` and ``imageURL``."""
        (item,) = self.submit({"taskType": "imageUpload", "image": image})
        return item


class AsyncClient:
    """Asynchronous client. Use as an async context manager, or await ``aclose()``."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        validate: bool = True,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._core = _Core(
            api_key,
            base_url=base_url,
            validate=validate,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
        )
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._sleep = sleep
        self._clock = clock

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post(self, tasks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """POST already prepared tasks; retry what may be retried; return ``data``."""
        core = self._core
        attempt = 0
        while True:
            result: _Attempt | None = None
            status: int | None = None
            try:
                response = await self._http.post(
                    core.base_url, json=list(tasks), headers=core.headers
                )
                status = response.status_code
                result = core.interpret(response, tasks, retried=attempt > 0)
                if result.error is None:
                    return result.data
            except httpx.TransportError:
                if not core.should_retry(attempt, None, None):
                    raise
            if result is not None and not core.should_retry(attempt, result, status):
                assert result.error is not None
                raise result.error
            await self._sleep(core.delay(attempt, result.retry_after if result else None))
            attempt += 1

    async def submit(self, tasks: Task | Sequence[Task]) -> list[dict[str, Any]]:
        """Send one or more tasks; returns the ``data`` items: acknowledgements, or the
        results of a task answered with them (kept: ``wait`` returns them unpolled)."""
        items = await self.post(self._core.prepare(tasks))
        self._core.absorb(items)
        return items

    async def get_response(self, task_uuids: str | Sequence[str]) -> list[dict[str, Any]]:
        """One getResponse poll: the raw items for the given taskUUIDs."""
        return await self.post(self._core.poll_body(_uuids(task_uuids)))

    async def wait(
        self,
        tasks: Any,
        *,
        timeout: float = 600.0,
        number_results: int | None = None,
        model: str | None = None,
    ) -> list[Any]:
        """Poll until every task has all its results; return them in task order."""
        statuses = self._core.status(_uuids(tasks), number_results, model)
        deadline = self._clock() + timeout
        poll = 0
        while True:
            pending = [s.task_uuid for s in statuses if not s.done]
            if not pending:
                return [r for s in statuses for r in s.results]
            self._core.absorb(await self.post(self._core.poll_body(pending)))
            if all(s.done for s in statuses):
                continue
            delay = self._core.poll_delay(poll)
            if self._clock() + delay > deadline:
                raise TaskTimeoutError(
                    f"tasks not finished after {timeout} s: {', '.join(pending)}"
                )
            await self._sleep(delay)
            poll += 1

    async def run(self, task: Task, *, timeout: float = 600.0) -> list[Any]:
        """Submit one task and wait for all of its results."""
        (prepared,) = self._core.prepare(task)
        self._core.absorb(await self.post([prepared]))
        return await self.wait(prepared["taskUUID"], timeout=timeout)

    async def upload_image(self, image: str) -> dict[str, Any]:
        """imageUpload: returns the item with ``imageUUID`` and ``imageURL``."""
        (item,) = await self.submit({"taskType": "imageUpload", "image": image})
        return item
