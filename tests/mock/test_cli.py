"""`python -m mockserver` as a process, the pytest plugin's fixtures, and the respx router."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from importlib import metadata
from pathlib import Path

import httpx
import pytest

import runware_contract as rc
from mockserver.testing import InProcessMock, RunningMock, answers_get
from runware_contract import klingai_video_3_0_pro as kling
from tests.conftest import REPO
from tests.helpers import eventually, free_port, new_task


def test_help_explains_every_flag() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mockserver", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    for flag in ("--host", "--port", "--api-key", "--job-seconds", "--seed", "--log-level"):
        assert flag in out
    for flag in ("--max-body-bytes", "--body-timeout", "--header-timeout", "--delivery-allow"):
        assert flag in out
    assert "--ws-max-in-flight" in out and "--admin-key" in out
    assert "--max-image-pixels" in out and "--video-cache-bytes" in out


def test_serves_on_the_given_port_with_flags() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "--port",
            str(port),
            "--api-key",
            "k1",
            "--api-key",
            "k2",
            "--job-seconds",
            "0.1",
            "--seed",
            "5",
            "--log-level",
            "warning",
            "--max-body-bytes",
            "3000",
            "--admin-key",
            "boss",
            "--delivery-allow",
            "127.0.0.1",
            "--body-timeout",
            "5",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline() + process.stdout.readline()
        assert f"http://127.0.0.1:{port}/v1" in banner and kling.MODEL_ID in banner
        base = f"http://127.0.0.1:{port}"
        assert eventually(answers_get(f"{base}/health"), 15)
        task = new_task(duration=4)
        assert (
            httpx.post(
                f"{base}/v1", json=[task], headers={"Authorization": "Bearer k3"}
            ).status_code
            == 401
        )
        with rc.Client("k2", base_url=f"{base}/v1", poll_interval=0.05) as client:
            (result,) = client.run(task)
        assert isinstance(result, kling.Result)
        big = httpx.post(
            f"{base}/v1",
            json=[new_task(positivePrompt="x" * 4000)],
            headers={"Authorization": "Bearer k2"},
        )
        assert big.status_code == 413
        for key, status in (("k2", 403), ("k3", 401), ("boss", 200)):  # 403: a valid API key
            admin = httpx.get(
                f"{base}/__admin/requests", headers={"Authorization": f"Bearer {key}"}
            )
            assert admin.status_code == status
    finally:
        process.terminate()
        process.wait(timeout=10)


BAD_FLAGS = [
    (["--job-seconds", "-1"], "job-seconds"),
    (["--port", "eighty"], "--port"),
    (["--max-body-bytes", "0"], "--max-body-bytes"),
    (["--max-image-pixels", "0"], "--max-image-pixels"),
    (["--video-cache-bytes", "-1"], "--video-cache-bytes"),
    (["--max-tasks-per-request", "0"], "--max-tasks-per-request"),
    (["--public-url", "ftp://mock.example"], "--public-url must start with http"),
    (["--public-url", "https://user:pw@mock.example"], "--public-url needs a host"),
    (["--public-url", "https://mock.example/?q=1"], "--public-url takes no query"),
    (["--delivery-allow", "not a host"], "--delivery-allow"),
    (["--workers", "2"], "shared store"),
    (["--store", "sqlite:"], "PATH"),
    (["--store", "redis"], "memory, sqlite:PATH"),
    (["--store", "redis://"], "HOST:PORT"),
    (["--store", "redis://127.0.0.1:port/0"], "the port a number"),
    (["--store", "redis://127.0.0.1:6379/zero"], "the database is a number"),
    (["--store", "redis://127.0.0.1:6379/0?lease=0"], "HOST:PORT"),
    (["--store", "redis://127.0.0.1:6379/0?leash=5"], "only lease=S"),
    (["--store", "sqlite:{tmp}"], "cannot open the store"),  # a folder, not a file
    (["--max-tasks", "0"], "at least 1"),
    (["--port", "65536"], "--port must be from 0 to 65535"),
    (["--port", "-1"], "--port must be from 0 to 65535"),
    (["--api-key", ""], "--api-key must not be empty"),
    (["--api-key", "k1", "--api-key", " k2"], "--api-key must not be empty nor start or end"),
    (["--admin-key", ""], "--admin-key must not be empty"),
    (["--log-format", "xml"], "invalid choice: 'xml'"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
]


@pytest.mark.parametrize(
    ("flags", "words"), BAD_FLAGS, ids=lambda v: " ".join(v) if isinstance(v, list) else None
)
def test_bad_flag_values_are_refused(flags: list[str], words: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", *(f.format(tmp=tmp_path) for f in flags)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 2 and words in result.stderr, (flags, result.stderr)
    assert len(result.stderr.splitlines()) == 1 and result.stdout == "", result.stderr


def test_version_and_help_with_examples() -> None:
    def run(*flags: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "mockserver", *flags],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        return done.stdout

    assert run("--version") == f"python -m mockserver {metadata.version('runware-contract-kit')}\n"
    text = run("--help")
    assert "examples:\n  python -m mockserver " in text
    assert "--log-format {text,json}" in text and "(default text)" in text


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line_and_status_2(workers: str, tmp_path: Path) -> None:
    """At the default log level too (uvicorn logged six lines of its own before)."""
    store = ["--store", f"sqlite:{tmp_path / 'tasks.db'}"] if workers == "2" else []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "--port", str(port), "--workers", workers, *store],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
            timeout=60,
        )
    assert result.returncode == 2 and result.stdout == "", result.stdout
    assert result.stderr.splitlines() == [
        f"cannot listen on 127.0.0.1:{port}: Address already in use"
    ], result.stderr


@pytest.mark.runware_mock(job_seconds=0.1, api_keys={"plugin-key"})
def test_plugin_fixture_gives_a_ready_mock(runware_mock: RunningMock) -> None:
    assert runware_mock.client.get("/health").status_code == 200
    with rc.Client(runware_mock.api_key, base_url=runware_mock.url, poll_interval=0.05) as client:
        results = client.run(new_task(numberResults=2, duration=3))
    assert len({r.videoUUID for r in results}) == 2
    assert runware_mock.client.get(results[0].videoURL).headers["content-type"] == "video/mp4"


@pytest.mark.runware_mock(job_seconds=0.1)
def test_respx_router_needs_no_configuration_change(runware_respx: InProcessMock) -> None:
    # The client's default base URL is https://api.runware.ai/v1: respx sends it in-process.
    with rc.Client("any-key", poll_interval=0.05) as client:
        (result,) = client.run(new_task(duration=3))
        assert result.videoURL.startswith("https://api.runware.ai/video/")
        video = httpx.get(result.videoURL)
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    kinds = [e["taskTypes"] for e in reversed(runware_respx.server.journal.query())]
    assert (
        kinds[0] == ["videoInference"]
        and kinds[1:]
        and all(k == ["getResponse"] for k in kinds[1:])
    )
    with (
        pytest.raises(rc.InvalidRequestError) as info,
        rc.Client("any-key", validate=False) as client,
    ):
        client.submit(new_task(duration=99))
    assert info.value.parameter == "duration"


@pytest.mark.runware_mock(job_seconds=0.1)
def test_respx_router_with_the_async_client(runware_respx: InProcessMock) -> None:
    async def main() -> list[object]:
        async with rc.AsyncClient("any-key", poll_interval=0.05) as client:
            return await client.run(new_task(duration=3, taskUUID=str(uuid.uuid4())))

    (result,) = asyncio.run(main())
    assert isinstance(result, kling.Result)


def test_a_bare_python_runs_the_mock_in_the_project_venv() -> None:
    """`python -m mockserver` from an interpreter without the extras (a new shell, a system
    Python) runs again in the clone's .venv, as `python -m codegen` does."""
    venv = REPO / ".venv" / "bin" / "python"
    if not venv.exists():
        pytest.skip("no .venv: ./dev makes it (CI runs ./dev test)")
    bare = [str(Path(sys.base_prefix) / "bin" / "python3"), "-S"]  # -S: no site-packages
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*bare, *args], capture_output=True, text=True, cwd=REPO, env=env, check=False
        )

    assert run("-c", "import uvicorn").returncode == 1  # it really lacks the extras
    version = run("-m", "mockserver", "--version")
    assert version.stdout == f"python -m mockserver {metadata.version('runware-contract-kit')}\n"
    refused = run("-m", "mockserver", "--port", "65536")
    assert refused.returncode == 2 and refused.stderr.startswith("--port must be from 0")
