"""Models brought at run time: ``runware-mock --spec DIR`` and ``--page PAGE.md`` serve
models the generated package lacks, and a model from ``--page`` answers exactly as the
same model generated into a package does."""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import runware_contract as rc
from codegen.docs.importer import import_page, load_platform
from codegen.emit import generate
from codegen.spec.loader import load_specs
from mockserver import MockConfig, MockServer
from mockserver.core import models
from mockserver.testing import InProcessMock, answers_get, running_process
from tests.conftest import REPO, SPEC_DIR
from tests.helpers import free_port

FAMILY = REPO / "tests" / "data" / "pages" / "family"
PAGES = [FAMILY / "acme-drift-1.md", FAMILY / "acme-glide-1.md"]
KEY = "family-key"
UUIDS = [f"0b6a8d1e-5c2f-4d3a-9e7b-1f2a3b4c5d{n:02d}" for n in range(20)]
SIZE = {"width": 1280, "height": 720}
VID = "https://example.com/a.mp4"


@contextlib.contextmanager
def mock(*flags: str, pythonpath: Path | None = None) -> Iterator[httpx.Client]:
    port = free_port()
    env = ["env", f"PYTHONPATH={pythonpath}"] if pythonpath else []
    cmd = [*env, sys.executable, "-m", "mockserver", "--port", str(port), "--api-key", KEY]
    cmd += ["--seed", "7", "--job-seconds", "0", "--log-level", "warning", *flags]
    url = f"http://127.0.0.1:{port}"
    with (
        running_process(cmd, answers_get(f"{url}/health"), cwd=REPO, timeout=60),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as c,
    ):
        yield c


def tasks() -> list[dict[str, Any]]:
    def t(n: int, model: str, **fields: Any) -> dict[str, Any]:
        return {"taskType": "videoInference", "taskUUID": UUIDS[n], "model": model,
                "positivePrompt": "boats in the rain", "includeCost": True, **fields}  # fmt: skip

    return [
        t(0, "acme:drift@1", **SIZE, duration=10),
        t(1, "acme:drift@1", inputs={"video": VID}, duration=6),
        t(2, "acme:drift@1"),  # breaks the exactly-one rule
        t(3, "acme:drift@1", inputs={"video": VID, "referenceVideos": [VID]}),
        t(4, "acme:glide@1", **SIZE, duration=8),
        t(5, "acme:glide@1", **SIZE, duration=6),  # no price row: no cost
        t(6, "acme:glide@1", **SIZE, cameraMotion="pan"),
        t(7, "acme:glide@1", width=1280),
    ]


def answers(client: httpx.Client) -> list[Any]:
    out: list[Any] = []
    for task in tasks():
        reply = client.post("/v1", json=[task])
        out.append((reply.status_code, reply.json()))
    time.sleep(0.2)
    for task in tasks():
        poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]
        reply = client.post("/v1", json=poll)
        body = reply.json()
        for item in body.get("data", []):  # the port and the media signature are per process
            item["videoURL"] = item["videoURL"].rsplit("/", 1)[-1]
        out.append((reply.status_code, body))
    return out


@pytest.fixture(scope="module")
def generated_family(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kit's package generated with the family pages' models added."""
    root = tmp_path_factory.mktemp("gen")
    spec_dir = root / "spec"
    shutil.copytree(SPEC_DIR, spec_dir)
    platform = load_platform(SPEC_DIR)
    for page in PAGES:
        text = import_page(page.read_text(encoding="utf-8"), platform).text
        (spec_dir / "models" / f"{page.stem}.yaml").write_text(text, encoding="utf-8")
    generate.write(generate.build(load_specs(spec_dir), "spec"), root / "generated")
    return root / "generated"


@pytest.mark.slow
def test_a_page_served_at_run_time_answers_as_the_generated_model(
    generated_family: Path,
) -> None:
    with mock(*(f"--page={p}" for p in PAGES)) as from_pages:
        live = answers(from_pages)
    with mock(pythonpath=generated_family) as from_package:
        built = answers(from_package)
    assert live == built
    statuses = [status for status, _ in live[:8]]
    assert statuses == [200, 200, 400, 400, 200, 200, 400, 400]
    costs = [body["data"][0].get("cost") for _, body in live[8:] if "data" in body]
    assert costs[:3] == [0.6, 0.54, 0.7] and len(costs) == 4 and costs[3] is None


def test_spec_dir_serves_its_model_files(tmp_path: Path) -> None:
    platform = load_platform(SPEC_DIR)
    page = FAMILY / "acme-knot-1.md"
    (tmp_path / "acme-knot-1.yaml").write_text(import_page(page.read_text(), platform).text)
    with mock("--spec", str(tmp_path)) as client:
        task = tasks()[0] | {"model": "acme:knot@1", "taskUUID": UUIDS[10]}
        reply = client.post("/v1", json=[task])
        assert reply.status_code == 200, reply.text
        unknown = client.post("/v1", json=[task | {"model": "acme:nope@1", "taskUUID": UUIDS[11]}])
        assert unknown.json()["errors"][0]["code"] == "unsupportedModel"


@pytest.mark.parametrize(
    ("flag", "content", "message"),
    [
        ("--page", "# About\n\nNo model here.\n", "not a Runware model page"),
        ("--spec", None, "no model spec files"),
    ],
)
def test_a_bad_model_input_stops_the_mock_with_a_message(
    tmp_path: Path, flag: str, content: str | None, message: str
) -> None:
    import subprocess

    target = tmp_path / "page.md"
    if content is not None:
        target.write_text(content)
    arg = str(target if content is not None else tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", flag, arg, "--port", str(free_port())],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and message in result.stderr


def test_the_plain_mock_reads_no_spec_and_needs_no_codegen() -> None:
    """Without --spec or --page the mock starts from the generated package alone: codegen is
    not imported (a [mock] install has no codegen) and no spec folder is parsed (it took 1 s
    of every start, in every worker)."""
    import subprocess

    code = (
        "import sys; import runware_contract as rc; from mockserver.core import models; "
        "assert models.load([], []).sources == dict.fromkeys(rc.MODELS, models.PACKAGE); "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'codegen'], 'codegen imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr


def test_a_registry_serves_its_models_without_changing_the_package() -> None:
    """Models loaded from a page live in the registry given to one server: the package's
    MODELS (and so ``runware_contract.validate`` and any other server in the process) stay
    as they were, and the registry says where each model came from."""
    before = dict(rc.MODELS)
    registry = models.load([], [PAGES[0]])
    assert before == rc.MODELS
    assert registry.sources["acme:drift@1"] == models.Source("page", str(PAGES[0]))
    assert str(registry.sources["acme:drift@1"]) == f"--page {PAGES[0]}"
    assert {registry.sources[m] for m in before} == {models.PACKAGE}
    task = tasks()[0]
    assert [e["code"] for e in rc.validate(task)] == ["unsupportedModel"]
    config = MockConfig(api_keys=frozenset({KEY}), job_seconds=0)
    headers = {"Authorization": f"Bearer {KEY}"}
    url = "http://mock.test/v1"
    with InProcessMock(MockServer(config, registry)) as served:
        reply = served.handle(httpx.Request("POST", url, json=[task], headers=headers))
        assert reply.status_code == 200, reply.text
        assert "acme:drift@1" in served.server.models
    with InProcessMock(MockServer(config)) as plain:
        reply = plain.handle(httpx.Request("POST", url, json=[task], headers=headers))
        assert reply.json()["errors"][0]["code"] == "unsupportedModel"
    assert before == rc.MODELS
