"""README's code blocks, run as written (and docs/package.md's usage block).

Every fenced block of README.md is listed in ``RUN_BY`` with the test that runs it; a new
block without one fails ``test_every_readme_block_is_run``. The mock backend's blocks run
against a real ``python -m mockserver`` process, on a free port in place of 8080; the
docs-change blocks run line by line in a copy of the spec, with ``curl`` fetching a page this
project wrote (``tests/data/pages/acme-motion-2.md``, edited) from a ``file://`` URL in place
of runware.ai, and that page's slug in place of Kling's.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mockserver.testing import InProcessMock, answers_get, running_process
from tests.consumer.project import (
    CONTRACT_SECTION,
    PROPERTY_TEST,
    README,
    Block,
    blocks,
    install_command,
    python_block,
    section_blocks,
    write_project,
)
from tests.helpers import free_port
from tests.source_trees import parse

REPO = README.parent
MOCK_SECTION = "1. A mock backend for other teams"
DOCS_SECTION = "3. The docs changed"
COMMANDS_SECTION = "Two commands"
# (section, lang, index among that section's blocks of that lang) -> the test that runs it
RUN_BY = {
    (COMMANDS_SECTION, "sh", 0): "test_the_two_commands_are_the_jobs_dev_runs",
    (MOCK_SECTION, "sh", 0): "mock_backend (fixture: the mock process)",
    (MOCK_SECTION, "sh", 1): "test_curl_submits_and_polls_a_task",
    (MOCK_SECTION, "python", 0): "test_the_websocket_session_gets_its_result_pushed",
    (MOCK_SECTION, "sh", 2): "test_the_scenario_fails_matching_tasks",
    (CONTRACT_SECTION, "sh", 0): "nox -s install_testing (test_the_install_line_names_a_path)",
    (CONTRACT_SECTION, "python", 0): "test_the_contract_tests_pass_as_written",
    (CONTRACT_SECTION, "python", 1): "test_the_contract_tests_pass_as_written",
    (DOCS_SECTION, "sh", 0): "test_the_docs_change_loop_line_by_line",
}
PRINTED = re.compile(r"^ *print\(.*\)\s+# (.*)$", re.MULTILINE)
KEY = "my-key"
BIN = str(Path(sys.executable).parent)  # `python`, `python3` in the blocks: this interpreter


def readme_block(section: str, lang: str, index: int = 0) -> str:
    return section_blocks(section, lang)[index].text


def keyed(all_blocks: list[Block]) -> set[tuple[str, str, int]]:
    counts: dict[tuple[str, str], int] = {}
    keys = set()
    for block in all_blocks:
        n = counts.get((block.section, block.lang), 0)
        counts[(block.section, block.lang)] = n + 1
        keys.add((block.section, block.lang, n))
    return keys


def video_task(**changes: object) -> dict[str, object]:
    """The README's Kling task with a fresh taskUUID, changed by ``changes``."""
    task: dict[str, object] = {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "klingai:kling-video@3-pro",
        "positivePrompt": "A lighthouse in a storm",
        "width": 1920,
        "height": 1080,
        "duration": 5,
    }
    return {**task, **changes}


def shell_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def test_every_readme_block_is_run() -> None:
    assert keyed(blocks(README)) == set(RUN_BY)


def test_each_users_path_is_linked_from_the_first_screen() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    first_screen = "\n".join(lines[:30])
    for section in (MOCK_SECTION, CONTRACT_SECTION, DOCS_SECTION):
        anchor = re.sub(r"[^a-z0-9 -]", "", section.lower()).replace(" ", "-")
        assert f"](#{anchor})" in first_screen, section
        assert f"## {section}" in lines


def test_the_two_commands_are_the_jobs_dev_runs() -> None:
    """`./dev --help` lists both (it installs nothing); nox's `tests` session hands what
    follows `--` to pytest, which is how README's subset command works."""
    commands = [
        shlex.split(line, comments=True)
        for line in readme_block(COMMANDS_SECTION, "sh").splitlines()
    ]
    assert commands == [["./dev", "run"], ["./dev", "test"]]
    usage = subprocess.run(
        [str(REPO / "dev"), "--help"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert all(re.search(rf"^ *{re.escape(' '.join(c))} ", usage, re.MULTILINE) for c in commands)
    readme = README.read_text(encoding="utf-8")
    assert "`./dev test -s tests -- -k readme`" in readme
    noxfile = parse((REPO / "noxfile.py").read_text(encoding="utf-8"))
    (tests,) = [f for f in noxfile.body if isinstance(f, ast.FunctionDef) and f.name == "tests"]
    assert "session.run('pytest', *session.posargs)" in ast.unparse(tests)


@dataclass
class MockProcess:
    port: int
    stdout: Path
    stderr: Path

    def block(self, text: str) -> str:
        return text.replace("localhost:8080", f"localhost:{self.port}")

    def post(self, body: object) -> httpx.Response:
        return httpx.post(
            f"http://127.0.0.1:{self.port}/v1",
            json=body,
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def mock_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockProcess]:
    """README's start command, as written but for the port."""
    folder = tmp_path_factory.mktemp("mock-backend")
    port = free_port()
    (command,) = readme_block(MOCK_SECTION, "sh", 0).splitlines()
    assert "--port 8080" in command
    argv = shlex.split(command.replace("--port 8080", f"--port {port}"))
    assert argv[:3] == ["python", "-m", "mockserver"]
    out, err = folder / "stdout", folder / "stderr"
    with (
        out.open("wb") as stdout,
        err.open("wb") as stderr,
        running_process(
            [sys.executable, *argv[1:]],
            answers_get(f"http://127.0.0.1:{port}/health"),
            stdout=stdout,
            stderr=stderr,
            timeout=60,
        ),
    ):
        yield MockProcess(port, out, err)


@pytest.mark.slow  # a real mock process
def test_curl_submits_and_polls_a_task(mock_backend: MockProcess) -> None:
    script = mock_backend.block(readme_block(MOCK_SECTION, "sh", 1))
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, env=shell_env()
    )
    assert result.returncode == 0, result.stderr
    ack, processing, done = (json.loads(line) for line in result.stdout.splitlines())
    task_uuid = ack["data"][0]["taskUUID"]
    assert ack == {"data": [{"taskType": "videoInference", "taskUUID": task_uuid}]}
    (first,) = processing["data"]
    (item,) = done["data"]
    assert first["status"] == "processing" and first["taskUUID"] == task_uuid
    assert item["status"] == "success" and item["videoUUID"] == first["videoUUID"]
    video = httpx.get(item["videoURL"], timeout=60)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert item["videoURL"].startswith(f"http://localhost:{mock_backend.port}/video/")


@pytest.mark.slow  # a real mock process
def test_what_the_readme_says_about_errors_and_the_form_type(mock_backend: MockProcess) -> None:
    task = video_task(duration=20)
    refused = mock_backend.post([task])
    (error,) = refused.json()["errors"]
    assert (error["code"], error["message"]) == (
        "valueTooLarge",
        "duration must be at most 15; got 20.",
    )
    assert '`valueTooLarge`, "duration must be at most 15; got 20."' in README.read_text()
    form = subprocess.run(  # curl -d without the JSON type
        [
            *("curl", "-s", f"localhost:{mock_backend.port}/v1"),
            *("-H", f"Authorization: Bearer {KEY}", "-d", json.dumps([task])),
            *("-w", "\n%{http_code}"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body, status = form.stdout.rsplit("\n", 1)
    assert status == "415" and "Content-Type: application/json" in body


@pytest.mark.slow  # a real mock process
def test_the_websocket_session_gets_its_result_pushed(
    mock_backend: MockProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    block = mock_backend.block(readme_block(MOCK_SECTION, "python"))
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    session, ack, pushed = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert session["data"][0]["taskType"] == "authentication"
    assert uuid.UUID(session["data"][0]["connectionSessionUUID"])
    task_uuid = ack["data"][0]["taskUUID"]
    (item,) = pushed["data"]
    assert item["taskUUID"] == task_uuid and item["status"] == "success"
    assert item["videoURL"].endswith(".mp4")


@pytest.mark.slow  # a real mock process
def test_the_scenario_fails_matching_tasks(mock_backend: MockProcess) -> None:
    script = mock_backend.block(readme_block(MOCK_SECTION, "sh", 2))
    armed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert armed.returncode == 0 and json.loads(armed.stdout)["fail"]["code"] == "inferenceError"
    task_uuid = str(uuid.uuid4())
    volcano = video_task(taskUUID=task_uuid, positivePrompt="A volcano at dawn")
    assert mock_backend.post([volcano]).status_code == 200
    poll = mock_backend.post([{"taskType": "getResponse", "taskUUID": task_uuid}])
    (error,) = poll.json()["errors"]
    assert (error["code"], error["taskUUID"]) == ("inferenceError", task_uuid)
    # where to look next: the journal under /__admin/, a log line per request without the key
    auth = {"Authorization": f"Bearer {KEY}"}
    journal = httpx.get(f"http://127.0.0.1:{mock_backend.port}/__admin/requests", headers=auth)
    assert task_uuid in journal.text
    index = httpx.get(f"http://127.0.0.1:{mock_backend.port}/__admin/", headers=auth)
    assert index.status_code == 200
    assert all(f"/__admin/{name}" in index.text for name in ("scenarios", "requests", "reset"))
    logs = mock_backend.stderr.read_text(encoding="utf-8")
    assert f"taskUUIDs={task_uuid}" in logs and KEY not in logs
    dashboard = httpx.get(f"http://localhost:{mock_backend.port}/__admin/ui")
    assert dashboard.status_code == 200 and "text/html" in dashboard.headers["content-type"]
    banner = mock_backend.stdout.read_text(encoding="utf-8")
    assert f"listening on http://127.0.0.1:{mock_backend.port}/v1" in banner


@pytest.mark.slow  # a real mock process
def test_the_admin_pages_scenarios_arm_as_written(mock_backend: MockProcess) -> None:
    """docs/admin.md's block (key `k` there; this mock's key here); reset afterwards, since
    its 429s and latency would reach every later request."""
    (block,) = section_blocks("Scenarios", "sh", REPO / "docs" / "admin.md")
    script = mock_backend.block(block.text).replace("Bearer k'", f"Bearer {KEY}'")
    armed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    admin = f"http://127.0.0.1:{mock_backend.port}/__admin"
    auth = {"Authorization": f"Bearer {KEY}"}
    try:
        assert armed.returncode == 0, armed.stderr
        replies, text = [], armed.stdout
        while text.strip():
            reply, end = json.JSONDecoder().raw_decode(text.strip())
            replies.append(reply)
            text = text.strip()[end:]
        assert [sorted(set(r) & {"fail", "respond", "latency"}) for r in replies] == [
            ["fail"],
            ["respond"],
            ["latency"],
        ]
        listed = httpx.get(f"{admin}/scenarios", headers=auth).json()
        assert len(listed["scenarios"]) >= 3
    finally:
        httpx.post(f"{admin}/reset", headers=auth).raise_for_status()


def test_the_install_line_names_a_path() -> None:
    """`nox -s install_testing` runs this line (PATH: the checkout) in a fresh virtualenv."""
    assert install_command("/src/kit") == ["pip", "install", "/src/kit[testing]"]


@pytest.mark.slow
def test_the_contract_tests_pass_as_written(tmp_path: Path) -> None:
    """In a consumer's folder outside this repository (no conftest, Hypothesis's defaults)."""
    project = write_project(tmp_path / "consumer")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", PROPERTY_TEST],
        capture_output=True,
        text=True,
        cwd=project,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0 and "4 passed" in result.stdout, result.stdout + result.stderr
    assert "(4 tests;" in README.read_text(encoding="utf-8")


KLING = "klingai-video-3-0-pro"
ACME = "acme-motion-2"  # tests/data/pages: a page this project wrote in Runware's format
ACME_PAGE = REPO / "tests" / "data" / "pages" / f"{ACME}.md"
DURATION_MAX = (
    "### [duration](https://runware.ai/docs/models/acme-motion-2#request-duration)\n\n"
    "- **Type**: `integer`\n- **Min**: `2`\n- **Max**: `10`"
)


@pytest.fixture
def docs_project(tmp_path: Path) -> Path:
    """A folder with the spec (the platform and acme-motion-2, imported from its page) and
    its generated package; the changed page (duration's maximum 10 -> 8) served as a file."""
    project = tmp_path / "project"
    (project / "spec" / "models").mkdir(parents=True)
    shutil.copy(REPO / "spec" / "platform.yaml", project / "spec" / "platform.yaml")
    for args in (["import-docs", str(ACME_PAGE)], ["generate"]):
        subprocess.run(
            [sys.executable, "-m", "codegen", *args], cwd=project, check=True, timeout=300
        )
    site = tmp_path / "site"
    site.mkdir()
    text = ACME_PAGE.read_text(encoding="utf-8")
    assert text.count(DURATION_MAX) == 1
    changed = text.replace(DURATION_MAX, DURATION_MAX.replace("`10`", "`8`"))
    (site / f"{ACME}.md").write_text(changed, encoding="utf-8")
    return project


@pytest.mark.slow
def test_the_docs_change_loop_line_by_line(docs_project: Path, tmp_path: Path) -> None:
    lines = readme_block(DOCS_SECTION, "sh").splitlines()
    site = f"file://{tmp_path / 'site'}/"
    lines = [
        line.replace(KLING, ACME).replace("https://runware.ai/docs/models/", site) for line in lines
    ]
    fetch, diff, serve, regenerate = lines
    spec_file = docs_project / "spec" / "models" / f"{ACME}.yaml"
    committed = spec_file.read_text(encoding="utf-8")

    def run(line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", line],
            cwd=docs_project,
            capture_output=True,
            text=True,
            timeout=300,
            env=shell_env(),
        )

    assert run(fetch).returncode == 0 and (docs_project / f"{ACME}.md").is_file()
    changes = run(diff)
    assert changes.returncode == 0, changes.stderr
    assert "ERR   request   duration: lowered 10 → 8" in changes.stdout
    assert "`ERR   request   duration: lowered 15 → 10`" in README.read_text(encoding="utf-8")

    port = free_port()
    assert "--port 8081" in serve
    argv = shlex.split(serve.replace("--port 8081", f"--port {port}"))
    with running_process(
        [sys.executable, *argv[1:]],
        answers_get(f"http://127.0.0.1:{port}/health"),
        cwd=docs_project,
        timeout=60,
    ):
        task = video_task(
            model="acme:motion@2",
            positivePrompt="Paper boats drifting down a rain gutter",
            width=1280,
            height=720,
            duration=10,
        )
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1", json=[task], headers={"Authorization": "Bearer k"}
        )
        (error,) = answer.json()["errors"]
        assert (error["code"], error["parameter"]) == ("valueTooLarge", "duration")

    stopped = run(regenerate)  # --fail-on ERR: status 1, the spec as it was
    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert "ERR   request   duration: lowered 10 → 8" in stopped.stdout
    assert spec_file.read_text(encoding="utf-8") == committed
    breaking = run(regenerate.replace(" --fail-on ERR", ""))  # ERR stops it all the same
    assert breaking.returncode == 1 and "--allow-breaking" in breaking.stdout + breaking.stderr
    assert spec_file.read_text(encoding="utf-8") == committed
    done = run(regenerate.replace(" --fail-on ERR", " --allow-breaking"))
    assert done.returncode == 0, done.stderr
    assert "regenerated" in done.stdout and spec_file.read_text(encoding="utf-8") != committed
    assert (docs_project / "build" / "spec-diff.txt").is_file()
    missing = run(regenerate.replace(f"{ACME}.md", "no-such-page.md"))
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1
    not_a_page = run(regenerate.replace(f"{ACME}.md", "spec/platform.yaml"))
    assert not_a_page.returncode == 2 and len(not_a_page.stderr.splitlines()) == 1


@pytest.mark.runware_mock(job_seconds=0.1)
def test_the_usage_block_prints_what_its_comments_say(
    runware_respx: InProcessMock, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/package.md's block, with `runware_respx` answering api.runware.ai."""
    block = python_block("Using the generated package", REPO / "docs" / "package.md")
    expected = PRINTED.findall(block)
    assert len(expected) >= 5, "the block's print lines lost their comments"
    exec(compile(block, "docs/package.md", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out.splitlines() == expected


LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)")


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize(
    "page", [README, REPO / "ARCHITECTURE.md", *sorted((REPO / "docs").glob("*.md"))], ids=str
)
def test_links_between_the_docs_resolve(page: Path) -> None:
    broken = []
    for target, anchor in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://")):
            continue
        linked = (page.parent / target).resolve() if target else page
        if not linked.exists() or (anchor and anchor not in anchors(linked)):
            broken.append(f"{target}#{anchor}")
    assert not broken


QUOTED_PATH = re.compile(r"`((?:tests|mockserver|codegen|benchmarks|spec|generated)/[\w./-]*\.\w+)")


@pytest.mark.parametrize(
    "page", [README, REPO / "ARCHITECTURE.md", *sorted((REPO / "docs").glob("*.md"))], ids=str
)
def test_the_files_the_docs_name_exist(page: Path) -> None:
    named = set(QUOTED_PATH.findall(page.read_text(encoding="utf-8")))
    assert sorted(path for path in named if not (REPO / path).exists()) == []
