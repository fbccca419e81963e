"""A client-only install (``pip install runware-contract-kit``, then pytest on its own):
the client, the validators and the typed models work, and everything that needs an
extra says which one, in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from installed import KIT, NOT_FOR_CLIENTS, VENV_BASE, closure, installed, requires

import runware_contract as rc
from runware_contract import klingai_video_3_0_pro as kling

TASK = {
    "taskType": "videoInference",
    "taskUUID": "08885c1c-3794-4bb7-adab-b8df47f93c80",
    "model": "klingai:kling-video@3-pro",
    "positivePrompt": "A lighthouse in a storm",
    "width": 1920,
    "height": 1080,
    "duration": 20,
}


def hint(extra: str) -> str:
    return f"pip install '{KIT}[{extra}]'"


def test_the_kit_brings_pydantic_httpx_and_their_requirements_only() -> None:
    assert requires(KIT) == {"pydantic", "httpx"}
    kit = closure(KIT)
    assert not kit & NOT_FOR_CLIENTS, kit & NOT_FOR_CLIENTS
    # everything here came with the kit, with pytest (this test's runner) or with the venv
    assert installed() <= kit | closure("pytest") | VENV_BASE


def test_the_package_is_the_installed_one() -> None:
    assert "site-packages" in Path(rc.__file__).parts


def test_validate_and_the_typed_model() -> None:
    (error,) = rc.validate(TASK)
    assert (error["code"], error["parameter"]) == ("valueTooLarge", "duration")
    with pytest.raises(ValueError, match="duration"):
        kling.Request.model_validate(TASK)
    assert kling.price({**TASK, "duration": 10}) == 1.12


def test_the_client_submits_through_httpx() -> None:
    sent: list[object] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(
            200, json={"data": [{"taskType": "videoInference", "taskUUID": TASK["taskUUID"]}]}
        )

    with rc.Client("key", transport=httpx.MockTransport(answer)) as client:
        (ack,) = client.submit({**TASK, "duration": 10})
    assert ack["taskUUID"] == TASK["taskUUID"] and sent
    with pytest.raises(rc.InvalidRequestError), rc.Client("key") as client:
        client.submit(TASK)  # validated locally: never sent


def test_mockserver_imports_and_names_the_extra_when_used() -> None:
    import mockserver

    with pytest.raises(ImportError, match=r"needs \w+, from the \[mock\] extra") as info:
        mockserver.MockServer  # noqa: B018
    assert hint("mock") in str(info.value)


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "mockserver"], [str(Path(sys.executable).with_name("runware-mock"))]],
    ids=["python -m mockserver", "runware-mock"],
)
def test_the_server_command_says_which_extra_in_one_line(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and hint("mock") in result.stderr, result.stderr


def test_the_strategies_name_the_extra() -> None:
    with pytest.raises(ImportError, match=r"needs hypothesis") as info:
        import runware_contract.strategies  # noqa: F401
    assert hint("testing") in str(info.value)


def test_the_generator_names_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "lint-spec"], capture_output=True, text=True
    )
    assert result.returncode != 0 and hint("codegen") in result.stderr, result.stderr


FIXTURE_USERS = """
def test_plain():
    pass

def test_mock(runware_mock):
    pass

def test_shared(runware_mock_shared):
    pass

def test_respx(runware_respx):
    pass
"""


def test_the_plugin_loads_and_each_fixture_names_the_extra(tmp_path: Path) -> None:
    (tmp_path / "test_users.py").write_text(FIXTURE_USERS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rE", "test_users.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    out = result.stdout
    assert "1 passed, 3 errors" in out, out
    for fixture in ("runware_mock", "runware_mock_shared", "runware_mock_inprocess"):
        assert f"the {fixture} fixture needs" in out, out
    assert hint("testing") in out and "Traceback" not in out, out
