"""The compiled request path (``mockserver.compiled``) answers exactly as the source does:
two real server processes, one compiled and one ``--pure-python``, same seed, get the same
requests (documented examples, valid tasks of every model, every single-violation case,
malformed bodies) and must give the same statuses and bytes, URLs aside (each process has
its own port and media secret). Also: how a server decides which path it runs."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from mockserver import compiled
from mockserver.core.ids import IdSource
from runware_contract import strategies as S
from tests.mock.test_logs import KEY, Mock, mock_process

NO_DELIVERY = ("webhookURL", "uploadEndpoint")  # the mocks must not call random hosts
# a media URL's signature and owner segment (keyed by each process's own media secret)
SIGNED = re.compile(r"<base>/(video|image)/[0-9a-f]+/[0-9a-f]+/")


def built() -> Path:
    where = compiled.build_dir()
    if not (where / compiled.MANIFEST).is_file():
        reason = "no compiled build of this code (python -m mockserver.compiled build)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI builds it (./dev) and must test it")
        pytest.skip(reason)
    return where


class Served:
    def __init__(self, mock: Mock) -> None:
        self.base, self.banner = mock.base, "".join(mock.banner)
        self.client = httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=30)

    def post(self, body: bytes) -> tuple[int, str, str]:
        """Status, content type and body as sent (parsed JSON would hide a compiled
        annotation turning 5 into 5.0), URLs made comparable."""
        response = self.client.post(
            f"{self.base}/v1", content=body, headers={"content-type": "application/json"}
        )
        text = SIGNED.sub(r"<base>/\1/<signed>/", response.text.replace(self.base, "<base>"))
        return response.status_code, response.headers["content-type"], text


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Served]]:
    built()
    served = []
    with contextlib.ExitStack() as stack:
        for flags in (["--pure-python"], []):
            folder = tmp_path_factory.mktemp("mock")
            flags += ["--seed", "7", "--job-seconds", "0"]
            served.append(Served(stack.enter_context(mock_process(folder, *flags))))
        yield served[0], served[1]


def test_each_server_says_which_request_path_it_runs(servers: tuple[Served, Served]) -> None:
    pure, fast = servers
    assert "request path: Python (--pure-python)" in pure.banner
    assert f"request path: compiled ({len(compiled.MODULES)} modules, mypyc)" in fast.banner


def same(servers: tuple[Served, Served], body: bytes) -> tuple[int, Any]:
    pure, fast = (s.post(body) for s in servers)
    assert fast == pure
    return pure[0], json.loads(pure[2])


def test_the_documented_examples_answer_the_same(servers: tuple[Served, Served]) -> None:
    for module in _models():
        for example in module.EXAMPLES:
            status, _ = same(servers, json.dumps([example.request]).encode())
            assert status == 200


@pytest.mark.parametrize(
    "body",
    [b"", b"[", b"{}", b"[]", b"[1]", b'[{"taskType": 3}]', b"[" + b"1," * 20000 + b"1]"],
    ids=["empty", "cut", "object", "no-tasks", "not-a-task", "bad-type", "long"],
)
def test_malformed_bodies_answer_the_same(servers: tuple[Served, Served], body: bytes) -> None:
    status, answer = same(servers, body)
    assert status >= 400 and answer["errors"]


_IDS = IdSource(0)
_FRESH = itertools.count()


@functools.cache
def _models() -> list[Any]:
    from mockserver.core.models import load

    return list(load([], []).models.values())


def _fresh(task: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in task.items() if k not in NO_DELIVERY}
    return {**clean, "taskUUID": _IDS.uuid4("compiled", next(_FRESH))}


def _drawn() -> st.SearchStrategy[dict[str, Any]]:
    models = _models()
    valid = [S.valid_tasks(m, exclude=NO_DELIVERY) for m in models]
    broken = [s for m in models for _, s in S.cases(m) if not s.is_empty]
    return st.one_of(*valid, *broken)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(task=_drawn())
def test_drawn_tasks_answer_the_same(servers: tuple[Served, Served], task: dict[str, Any]) -> None:
    body = json.dumps([_fresh(task)]).encode()
    note(body.decode())
    same(servers, body)
    # and the task's state afterwards, as a poll reads it
    uuid = json.loads(body)[0]["taskUUID"]
    poll = json.dumps([{"taskType": "getResponse", "taskUUID": uuid}]).encode()
    same(servers, poll)


def test_a_build_for_other_code_is_not_used(tmp_path: Path) -> None:
    """A folder without a manifest, or whose manifest is for other sources, is refused
    with the reason, and nothing is imported from it."""
    finders = list(sys.meta_path)
    assert compiled.activate(tmp_path).startswith("Python (no compiled build")
    other = tmp_path / ("0" * 24)  # consistent in itself, but of other code
    other.mkdir()
    (other / compiled.MANIFEST).write_text(json.dumps({"key": "0" * 24, "files": {}}))
    assert compiled.activate(other).endswith("is of other code)")
    here = tmp_path / compiled.build_key()  # this code's key, but not every module built
    here.mkdir()
    (here / compiled.MANIFEST).write_text(json.dumps({"key": here.name, "files": {}}))
    assert compiled.activate(here).endswith("is incomplete)")
    assert sys.meta_path == finders


def test_without_the_modules_source_the_mock_runs_as_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An interpreter that cannot find the compiled modules' source (a bare Python about to
    run the mock again in the clone's .venv) gets a reason, not a traceback."""

    def missing(modules: Any) -> Any:
        raise ModuleNotFoundError("no package 'runware_contract'")

    monkeypatch.setattr(compiled, "sources", missing)
    assert compiled.activate() == (
        "Python (no source to match a compiled build with: no package 'runware_contract')"
    )


def test_a_build_is_not_used_once_the_source_modules_are_imported() -> None:
    """Mixing compiled and imported source modules is refused (compiled code calls compiled
    code directly): this test process imported them, so the real build is not used."""
    import mockserver.core.engine  # noqa: F401

    finders = list(sys.meta_path)
    status = compiled.activate(built())
    assert status.startswith("Python (") and "mockserver.core.engine" in status
    assert sys.meta_path == finders


def test_the_build_key_follows_every_source_file_of_the_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another byte in any module of the compiled modules' packages (compiled code checks
    what it calls in the others) is another build (folder)."""
    files = [(f"pkg/m{i}.py", tmp_path / f"m{i}.py") for i in range(4)]
    for _, file in files:
        file.write_text("x = 1\n")
    monkeypatch.setattr(compiled, "_package_sources", lambda modules=(): files)
    before = compiled.build_key()
    for _, file in files:
        file.write_text("x = 2\n")
        assert compiled.build_key() != before, file.name
        file.write_text("x = 1\n")
    assert compiled.build_key() == before
    assert compiled.build_key(compiled.MODULES[:-1]) != before  # another selection


def test_the_real_key_covers_both_packages() -> None:
    names = [name for name, _ in compiled._package_sources()]
    assert "mockserver/core/config.py" in names  # not compiled, but called by what is
    assert "runware_contract/platform.py" in names or any(
        n.startswith("runware_contract/") and n.endswith("/tables.py") for n in names
    )


def test_pure_python_is_asked_by_the_flag_an_abbreviation_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(compiled.PURE, raising=False)
    assert compiled.pure_python_asked(["--port", "1", "--pure-python"])
    assert compiled.pure_python_asked(["--pure"])  # argparse takes it for --pure-python
    assert not compiled.pure_python_asked(["--pu", "--port", "1", "--page", "p.md"])
    monkeypatch.setenv(compiled.PURE, "1")
    assert compiled.pure_python_asked([])


def test_start_forgets_a_build_the_environment_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server told to run as Python does, whatever finder or variable it inherited."""
    monkeypatch.setenv(compiled.ACTIVE, "/somewhere")
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, compiled._FromBuild({})])
    assert compiled.start(["--pure-python"]) == "Python (--pure-python)"
    assert not any(isinstance(f, compiled._FromBuild) for f in sys.meta_path)
    assert compiled.ACTIVE not in os.environ


def test_only_a_workers_process_inherits_a_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variable alone (a shell that exported it, a test process) activates nothing."""
    monkeypatch.setenv(compiled.ACTIVE, str(compiled.build_dir()))
    monkeypatch.delenv(compiled.WORKER_ARGS, raising=False)
    finders = list(sys.meta_path)
    compiled.inherit()
    assert sys.meta_path == finders
