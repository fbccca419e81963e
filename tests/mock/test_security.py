"""Keys, capability media URLs, the admin key, path traversal and the delivery allowlist."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import sys
import time
import uuid
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from mockserver import MockConfig, MockServer
from mockserver.base import security
from mockserver.base.security import key_matches, sign
from mockserver.lifecycle.targets import Allowlist, Refused, check
from mockserver.testing import serve
from tests.asgi import call, runware_error_shape
from tests.conftest import MockHandle
from tests.helpers import Receiver, answer, new_task, png, wait_outcomes, wait_results

pytestmark = pytest.mark.anyio
SECRET_KEY = "sk-live-0123456789abcdef"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# ── keys ────────────────────────────────────────────────────────────────────


def test_key_matching_is_exact() -> None:
    keys = ["alpha", "bêta-ключ", "gamma"]
    assert key_matches("alpha", keys) and key_matches("bêta-ключ", keys)
    for wrong in ("", None, "alph", "alphaa", "ALPHA", "gamma ", "bêta"):
        assert not key_matches(wrong, keys), wrong


def test_every_configured_key_is_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    """No short-circuit: the first key matching costs as many comparisons as none."""
    compared: list[bytes] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(b)
        return bool(real(a, b))

    monkeypatch.setattr(hmac, "compare_digest", counting)
    config = MockConfig(api_keys=frozenset({"k1", "k2", "k3", "k4"}))
    for key in ("k1", "k4", "nope"):
        compared.clear()
        config.key_is_valid(key)
        assert len(compared) == 4, key


def test_keys_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Debug logs, the request lines, error replies and the journal: no key anywhere."""
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-fedcba9876543210"
    config = MockConfig(api_keys=frozenset({SECRET_KEY}), job_seconds=0.1)
    with serve(
        config, api_key=SECRET_KEY, log_level="debug", access_log=True, log_config=None
    ) as running:
        client = running.client
        texts = [
            client.post("/v1", json=[new_task()]).text,
            client.post(
                "/v1",
                json=[{"taskType": "authentication", "apiKey": SECRET_KEY}, new_task()],
                headers={"Authorization": ""},
            ).text,
            client.post(
                "/v1", json=[new_task()], headers={"Authorization": f"Bearer {wrong}"}
            ).text,
            client.post(
                "/v1", content=b"{broken", headers={"Authorization": f"Bearer {wrong}"}
            ).text,
            client.get("/__admin/requests").text,
            client.get("/__admin/deliveries").text,
            client.get("/openapi.json", headers={"Authorization": f"Bearer {wrong}"}).text,
        ]
        with connect(running.ws_url) as sock:
            for key in (SECRET_KEY, wrong):
                sock.send(json.dumps([{"taskType": "authentication", "apiKey": key}]))
                texts.append(str(sock.recv(timeout=5)))
            sock.send(json.dumps([new_task()]))
            texts.append(str(sock.recv(timeout=5)))
    server_records = [r for r in caplog.records if r.name.startswith(("uvicorn", "mockserver"))]
    assert any("< TEXT" in r.getMessage() for r in server_records)  # frames were logged
    requests = [r.getMessage() for r in server_records if r.name == "mockserver.request"]
    assert sum("rest POST /v1 " in m for m in requests) == 4  # the request lines
    logged = "\n".join(caplog.handler.format(r) for r in server_records)
    for key in (SECRET_KEY, wrong):
        assert key not in logged
        assert not [t for t in texts if key in t]


def test_log_filter_masks_key_shapes() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        "got %s",
        (f'{{"apiKey": "{SECRET_KEY}"}}',),
        None,
    )
    assert security.RedactSecrets().filter(record)
    assert SECRET_KEY not in record.getMessage() and "apiKey" in record.getMessage()
    bearer = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        f"Authorization: Bearer {SECRET_KEY}",
        None,
        None,
    )
    security.RedactSecrets().filter(bearer)
    assert SECRET_KEY not in bearer.getMessage()


# ── media: a key, or the URL's signature ────────────────────────────────────


@pytest.mark.runware_mock(api_keys=frozenset({SECRET_KEY}))
def test_media_urls_work_without_a_key_and_only_as_handed_out(socket_mock: MockHandle) -> None:
    task = new_task(duration=3)
    socket_mock.post([task])
    (item,) = wait_results(socket_mock, task["taskUUID"]).json()["data"]
    url = httpx.URL(item["videoURL"])
    _, _, signature, owner, name = url.path.split("/")  # /video/<signature>/<owner>/<name>
    with httpx.Client(base_url=f"{url.scheme}://{url.netloc.decode()}") as anonymous:
        assert anonymous.get(url.path).status_code == 200  # as the official SDKs download it
        assert anonymous.head(url.path).status_code == 200
        unsigned = anonymous.get(f"/video/{name}")
        assert (
            unsigned.status_code == 401 and unsigned.json()["errors"][0]["code"] == "missingApiKey"
        )
        forged = anonymous.get(f"/video/{'0' * 32}/{owner}/{name}")
        assert forged.status_code == 403 and runware_error_shape_of(forged)
        other = f"{uuid.uuid4()}.mp4"  # a signature opens only the file it was made for
        assert anonymous.get(f"/video/{signature}/{owner}/{other}").status_code == 403
        assert anonymous.get(f"/video/{signature}/{'f' * 32}/{name}").status_code == 403
    keyed = socket_mock.client.get(f"/video/{name}")
    assert keyed.status_code == 200 and keyed.content[4:8] == b"ftyp"


@pytest.mark.runware_mock(api_keys=frozenset({SECRET_KEY}))
def test_image_urls_are_signed_too(socket_mock: MockHandle) -> None:
    upload = {"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": _data_uri()}
    (item,) = socket_mock.post([upload]).json()["data"]
    url = httpx.URL(item["imageURL"])
    assert httpx.get(str(url)).status_code == 200
    assert httpx.get(str(url.copy_with(path=f"/image/{item['imageUUID']}"))).status_code == 401


def _data_uri() -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png(64, 64)).decode()


def runware_error_shape_of(response: httpx.Response) -> bool:
    body = response.json()
    return bool(body.get("errors")) and {"code", "message"} <= set(body["errors"][0])


# ── the admin API ───────────────────────────────────────────────────────────


@pytest.mark.runware_mock(api_keys=frozenset({"user-key"}), admin_key="admin-key")
def test_admin_key_alone_opens_admin(mock: MockHandle) -> None:
    def admin(key: str, method: str = "GET", path: str = "/__admin/requests") -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {key}" if key else ""}
        answer = mock.client.request(method, path, headers=headers)
        errors = answer.json().get("errors", [{}]) if answer.status_code >= 400 else [{}]
        return answer.status_code, errors[0].get("code", "")

    # a valid API key that is not the admin key is forbidden; a key that is neither, unknown
    for method, path in ADMIN_ROUTES:
        assert admin("user-key", method, path) == (403, "forbidden"), path
        assert admin("wrong", method, path) == (401, "invalidApiKey"), path
        assert admin("", method, path) == (401, "missingApiKey"), path
    assert admin("admin-key")[0] == 200
    as_api_key = mock.client.post(
        "/v1", json=[new_task()], headers={"Authorization": "Bearer admin-key"}
    )
    assert as_api_key.status_code == 401  # the admin key is not an API key


ADMIN_ROUTES = [
    ("GET", "/__admin/scenarios"),
    ("POST", "/__admin/scenarios"),
    ("DELETE", "/__admin/scenarios"),
    ("DELETE", "/__admin/scenarios/s1"),
    ("GET", "/__admin/requests"),
    ("DELETE", "/__admin/requests"),
    ("GET", "/__admin/deliveries"),
    ("POST", "/__admin/reset"),
]


@pytest.mark.runware_mock(api_keys=frozenset({"user-key"}))
def test_without_an_admin_key_any_valid_key_opens_admin(mock: MockHandle) -> None:
    def status(key: str) -> int:
        headers = {"Authorization": f"Bearer {key}"}
        return mock.client.get("/__admin/requests", headers=headers).status_code

    assert status("user-key") == 200 and status("wrong") == 401


# ── path traversal on the media routes ──────────────────────────────────────

TRAVERSALS = [
    "/video/../pyproject.toml",
    "/video/..%2f..%2fpyproject.toml",
    "/video/%2e%2e/%2e%2e/pyproject.toml",
    "/video/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/video//etc/passwd",
    "/video/%2fetc%2fpasswd",
    "/video/..\\..\\pyproject.toml",
    "/video/..%5c..%5cpyproject.toml",
    "/video/C:\\Windows\\win.ini",
    "/video/x.mp4\x00.txt",
    "/video/x.mp4%00",
    "/video/~/.ssh/id_rsa",
    "/image/../../pyproject.toml",
    "/image/%2e%2e%2fpyproject.toml",
    "/image/\x00",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_media_routes_read_no_files(path: str) -> None:
    server = MockServer(MockConfig())
    headers = [(b"authorization", b"Bearer any")]
    async with server.app.router.lifespan_context(server.app):
        answer_ = await call(server, "GET", path, headers=headers)
        assert 400 <= answer_.status < 500 and runware_error_shape(answer_), answer_
        assert b"[project]" not in answer_.body and b"root:" not in answer_.body


@pytest.mark.parametrize("name", ["../../pyproject.toml", "/etc/passwd", "..\\x.mp4", "a\x00.mp4"])
async def test_a_valid_signature_still_reads_no_files(name: str) -> None:
    """Even a correctly signed traversal name only ever looks up generated media."""
    server = MockServer(MockConfig())
    owner = server.config.owner_of("k")
    path = f"/video/{sign(server.config.media_secret, 'video', f'{owner}/{name}')}/{owner}/{name}"
    async with server.app.router.lifespan_context(server.app):
        answer_ = await call(server, "GET", path)
        assert 400 <= answer_.status < 500 and runware_error_shape(answer_), answer_


def test_traversal_over_a_real_socket(socket_mock: MockHandle) -> None:
    """The same, through uvicorn's own path parsing (raw request lines)."""
    import socket

    assert socket_mock.ws_url is not None
    host, port = httpx.URL(socket_mock.ws_url).host, httpx.URL(socket_mock.ws_url).port
    for path in ("/video/../pyproject.toml", "/video/..%2fpyproject.toml", "/video/%2e%2e%2f"):
        with socket.create_connection((host, port or 80), timeout=5) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        status = int(reply.split(b" ", 2)[1])
        assert 400 <= status < 500 and b"[project]" not in reply, (path, reply[:200])


# ── the delivery allowlist (SSRF) ───────────────────────────────────────────


def resolver(*answers: list[str]) -> Any:
    """A resolver giving each answer in turn (then the last one again)."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


LOOPBACK = Allowlist.parse(("127.0.0.0/8", "::1/128"))


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped IPv6
        "http://[fe80::1]/hook",
        "http://0.0.0.0:8080/",
        "http://mixed.test/hook",  # resolves to loopback and an internal address
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http:///nohost",
    ],
)
async def test_targets_outside_the_allowlist_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        await check(url, LOOPBACK, resolver(["127.0.0.1", "10.1.2.3"]))


async def test_allowed_targets_connect_to_the_checked_address() -> None:
    target = await check("https://hooks.test:8443/h?x=1", LOOPBACK, resolver(["127.0.0.2"]))
    assert str(target.url) == "https://127.0.0.2:8443/h?x=1"
    assert target.host_header == "hooks.test:8443" and target.server_name == "hooks.test"
    v6 = await check("http://[::1]:9/h", LOOPBACK, resolver([]))
    assert v6.url.host == "::1"


async def test_allowlist_of_networks_and_names() -> None:
    allow = Allowlist.parse(("10.20.0.0/16", "hooks.example.org"))
    assert (await check("http://10.20.3.4/", allow, resolver([]))).url.host == "10.20.3.4"
    named = await check("http://Hooks.Example.org./x", allow, resolver(["192.0.2.7"]))
    assert named.url.host == "192.0.2.7"  # a listed name is trusted wherever it resolves
    with pytest.raises(Refused):
        await check("http://127.0.0.1/", allow, resolver([]))  # the default is replaced
    for bad in ("not a host", "a..b", ""):
        with pytest.raises(ValueError):
            Allowlist.parse((bad,))


@pytest.mark.runware_mock(delivery_allow=("10.9.9.9/32",))
def test_refused_targets_are_recorded_and_never_contacted(socket_mock: MockHandle) -> None:
    with Receiver(answer(200)) as hook:
        task = new_task(webhookURL=f"{hook.url}/hook", uploadEndpoint=f"{hook.url}/put")
        socket_mock.post([task])
        found = wait_outcomes(socket_mock, 2)
        time.sleep(0.2)
        assert hook.requests == []
    assert {o["kind"] for o in found} == {"webhook", "upload"}
    for outcome in found:
        assert outcome["ok"] is False and outcome["attempts"] == 0
        assert "outside --delivery-allow" in outcome["reason"]


def test_dns_rebinding_cannot_redirect_a_delivery(socket_mock: MockHandle) -> None:
    """The name resolves to loopback when checked and to an internal host afterwards:
    the delivery still goes to the address that was checked."""
    with Receiver(answer(200)) as hook:
        port = httpx.URL(hook.url).port
        assert socket_mock.server.deliverer is not None
        rebinding = resolver(["127.0.0.1"], ["10.0.0.1"])
        socket_mock.server.deliverer.resolve = rebinding
        socket_mock.post([new_task(webhookURL=f"http://rebind.test:{port}/hook")])
        (outcome,) = wait_outcomes(socket_mock, 1)
        assert outcome["ok"] is True and hook.requests and hook.requests[0].path == "/hook"
    assert rebinding.calls == ["rebind.test"]  # resolved once; the connection used that answer


def test_asyncio_resolver_handles_unknown_names() -> None:
    async def run() -> None:
        with pytest.raises(Refused):
            await check("http://no-such-host.invalid/", LOOPBACK)

    asyncio.run(run())


# ── the bearer scheme, and signatures in the logs ───────────────────────────


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
@pytest.mark.runware_mock(api_keys=frozenset({SECRET_KEY}))
def test_the_bearer_scheme_is_read_whatever_its_case(socket_mock: MockHandle, scheme: str) -> None:
    """RFC 9110: an auth scheme is case-insensitive. Every route reads the key the same way."""
    headers = {"Authorization": f"{scheme} {SECRET_KEY}"}
    client = socket_mock.client
    ping = [{"taskType": "ping", "ping": True}]
    assert client.post("/v1", json=ping, headers=headers).status_code == 200
    assert client.get("/__admin/requests", headers=headers).status_code == 200
    assert client.get("/openapi.json", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("header", "code"),
    [(f"Basic {SECRET_KEY}", "missingApiKey"), (f"Bearer{SECRET_KEY}", "missingApiKey"),
     ("Bearer", "missingApiKey"), (f"Bearer {SECRET_KEY}x", "invalidApiKey")],
)  # fmt: skip
@pytest.mark.runware_mock(api_keys=frozenset({SECRET_KEY}))
def test_a_key_in_another_scheme_or_none_is_refused(
    socket_mock: MockHandle, header: str, code: str
) -> None:
    response = socket_mock.client.post("/v1", json=[new_task()], headers={"Authorization": header})
    assert response.status_code == 401 and response.json()["errors"][0]["code"] == code


def test_media_signatures_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Signed image and video URLs fetched with access logging on: the access lines and the
    request lines show their paths with the signature replaced."""
    caplog.set_level(logging.DEBUG)
    config = MockConfig(api_keys=frozenset({SECRET_KEY}), job_seconds=0.1)
    with serve(
        config, api_key=SECRET_KEY, log_level="debug", access_log=True, log_config=None
    ) as running:
        upload = {"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": _data_uri()}
        (image,) = running.client.post("/v1", json=[upload]).json()["data"]
        task = new_task(duration=3)
        running.client.post("/v1", json=[task])
        handle = MockHandle(running.server, running.client, "socket", running.ws_url)
        (video,) = wait_results(handle, task["taskUUID"]).json()["data"]
        for url in (image["imageURL"], video["videoURL"]):
            assert httpx.get(url).status_code == 200
    signatures = [httpx.URL(u).path.split("/")[2] for u in (image["imageURL"], video["videoURL"])]
    assert all(len(s) == security.SIGNATURE_CHARS for s in signatures)
    server_records = [r for r in caplog.records if r.name.startswith(("uvicorn", "mockserver"))]
    logged = "\n".join(caplog.handler.format(r) for r in server_records)
    assert "/image/" in logged and "/video/" in logged  # the fetches were logged
    for signature in signatures:
        assert signature not in logged


def test_an_exception_logged_through_any_formatter_shows_no_key() -> None:
    """uvicorn's own handlers format with logging's plain Formatter: the filter leaves the
    masked traceback on the record, where that formatter takes it from."""
    try:
        raise ValueError(f"rejected apiKey={SECRET_KEY}")
    except ValueError:
        failed = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "boom", None,
                                   sys.exc_info())  # fmt: skip
    assert security.RedactSecrets().filter(failed)
    shown = logging.Formatter().format(failed)
    assert "ValueError: rejected apiKey=***" in shown and SECRET_KEY not in shown
