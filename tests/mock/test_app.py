"""Fuzzing the mock's HTTP layer in-process: random bytes, random JSON, task-shaped JSON
with wrong types, and random methods, paths, headers and content types.

Every answer must be below 500, and every 4xx must be in Runware's error shape. The
``ci`` Hypothesis profile runs about a thousand examples per test (seconds); the
``fuzz`` profile (``HYPOTHESIS_PROFILE=fuzz``) eighty times more."""

from __future__ import annotations

import copy
import string
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import MockConfig
from runware_contract import klingai_video_3_0_pro as kling
from runware_contract.klingai_video_3_0_pro import tables
from tests.asgi import Answer, call, runware_error_shape
from tests.conftest import MockHandle, start_mock

pytestmark = pytest.mark.slow  # 40 times the profile's examples
KEY = "fuzz-key"
AUTH = (b"authorization", f"Bearer {KEY}".encode())
JSON_TYPE = (b"content-type", b"application/json")
_PROFILE = settings.default
assert _PROFILE is not None
EXAMPLES = settings(max_examples=_PROFILE.max_examples * 40)


@pytest.fixture(scope="module")
def mock() -> Iterator[MockHandle]:
    """One in-process mock for the module (Hypothesis refuses function-scoped fixtures)."""
    config = MockConfig(
        api_keys=frozenset({KEY}),
        job_seconds=0.05,
        seed=1,
        delivery_allow=("192.0.2.1/32",),  # TEST-NET: fuzzed webhooks contact nobody
        webhook_attempts=1,
    )
    with start_mock("inprocess", config) as handle:
        yield handle


def send(
    mock: MockHandle,
    method: str,
    path: str,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    query: bytes = b"",
) -> Answer:
    server = mock.server
    assert mock.inprocess is not None
    answer = mock.inprocess.portal.call(call, server, method, path, body, headers, query)
    server.scenarios.reset()  # a fuzzed admin call may arm a canned 5xx on purpose
    assert answer.status < 500, (method, path, body[:300], answer)
    if answer.status >= 400:
        assert runware_error_shape(answer), (method, path, body[:300], answer)
    return answer


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=15,
)
FIELDS = sorted({p["path"] for p in tables.PARAMETERS} | {"apiKey", "image", "ping"})
TASK_TYPES = st.sampled_from(
    ["videoInference", "getResponse", "imageUpload", "authentication", "ping", "nope"]
)


def place(task: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node: Any = task
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[leaf] = value


@st.composite
def task_shaped(draw: st.DrawFn) -> dict[str, Any]:
    """A documented example with some fields replaced by values of any type."""
    task = copy.deepcopy(draw(st.sampled_from(kling.EXAMPLES)).request)
    task["taskUUID"] = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))
    if draw(st.booleans()):
        task["taskType"] = draw(TASK_TYPES)
    for path in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        place(task, path, draw(json_values))
    return task


@EXAMPLES
@given(body=st.binary(max_size=300))
def test_random_bytes(mock: MockHandle, body: bytes) -> None:
    send(mock, "POST", "/v1", body, [AUTH, JSON_TYPE])


@EXAMPLES
@given(body=json_values)
def test_random_json(mock: MockHandle, body: Any) -> None:
    send(mock, "POST", "/v1", orjson.dumps(body), [AUTH, JSON_TYPE])


@EXAMPLES
@given(tasks=st.lists(task_shaped() | json_values, min_size=1, max_size=3))
def test_task_shaped_json_with_wrong_types(mock: MockHandle, tasks: list[Any]) -> None:
    answer = send(mock, "POST", "/v1", orjson.dumps(tasks), [AUTH, JSON_TYPE])
    assert answer.status in (200, 400, 401, 404, 409, 413), answer


PATHS = [
    "/",
    "/v1",
    "/v1/",
    "/health",
    "/openapi.json",
    "/video/x.mp4",
    "/image/x",
    "/__admin/scenarios",
    "/__admin/scenarios/s1",
    "/__admin/requests",
    "/__admin/deliveries",
    "/__admin/reset",
]
header_names = st.sampled_from(
    [b"authorization", b"content-type", b"content-length", b"prefer", b"host", b"x-any"]
) | st.binary(min_size=1, max_size=12)
header_values = st.sampled_from(
    [
        b"Bearer " + KEY.encode(),
        b"Bearer wrong",
        b"application/json",
        b"text/plain",
        b"application/json; charset=latin-1",
        b"multipart/form-data",
        b"99999999999999999999",
        b"example=nope",
    ]
) | st.binary(max_size=40)


@EXAMPLES
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW"]),
    path=st.sampled_from(PATHS) | st.text(alphabet=string.printable, max_size=40).map("/".__add__),
    headers=st.lists(st.tuples(header_names, header_values), max_size=5),
    with_key=st.booleans(),
    query=st.binary(max_size=30),
    body=st.binary(max_size=100) | json_values.map(orjson.dumps),
)
def test_random_requests(
    mock: MockHandle,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    with_key: bool,
    query: bytes,
    body: bytes,
) -> None:
    names = {name.lower() for name, _ in headers}
    if with_key and b"authorization" not in names:
        headers = [AUTH, *headers]
    headers = [(name.lower(), value) for name, value in headers]
    send(mock, method, path, body, headers, query)
