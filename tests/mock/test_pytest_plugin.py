"""The pytest plugin as a consumer meets it (its own folder, its own pytest run), and the
one-line messages naming the extra to install when an optional dependency is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.extras import install_hint


def run_pytest(folder: Path, source: str, *args: str) -> str:
    """``source`` as a test file in ``folder`` (outside this repository), run by pytest."""
    (folder / "test_consumer.py").write_text(source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rE", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
        timeout=300,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("marker", "words"),
    [
        ("job_secnds=0.1", "unknown setting(s) job_secnds"),
        ("0.1", "unknown setting(s) 0.1"),
    ],
)
def test_a_bad_marker_setting_is_a_clear_error(tmp_path: Path, marker: str, words: str) -> None:
    out = run_pytest(
        tmp_path,
        f"import pytest\n\n@pytest.mark.runware_mock({marker})\n"
        "def test_it(runware_mock):\n    pass\n",
    )
    assert "1 error" in out and words in out and "job_seconds" in out, out
    assert "TypeError" not in out and "Traceback" not in out, out


SHARED = """
import pytest

TASK = {
    "taskType": "videoInference",
    "taskUUID": "08885c1c-3794-4bb7-adab-b8df47f93c80",
    "model": "klingai:kling-video@3-pro",
    "positivePrompt": "A lighthouse in a storm",
    "width": 1920, "height": 1080, "duration": 5,
}
SEEN = []


def submit(mock):
    return mock.run([TASK]).status_code


def test_first(runware_mock_shared):
    SEEN.append(runware_mock_shared.server)
    assert submit(runware_mock_shared) == 200
    assert submit(runware_mock_shared) == 400  # conflictTaskUUID: the task is still there
    runware_mock_shared.reset()
    assert submit(runware_mock_shared) == 200


def test_second_sees_the_same_server_reset(runware_mock_shared):
    assert runware_mock_shared.server is SEEN[0]
    assert runware_mock_shared.client.get("/__admin/requests").json()["requests"] == []
    assert submit(runware_mock_shared) == 200


@pytest.mark.runware_mock(job_seconds=1)
def test_marker_on_the_shared_mock(runware_mock_shared):
    pass
"""


@pytest.mark.slow
def test_the_shared_mock_lives_for_the_session_and_is_reset_per_test(tmp_path: Path) -> None:
    out = run_pytest(tmp_path, SHARED)
    assert "2 passed, 1 error" in out, out
    assert "configures runware_mock, runware_mock_inprocess, runware_respx, not" in out, out
    assert "override the runware_mock_shared_config fixture" in out, out


@pytest.mark.slow
def test_the_shared_mock_takes_its_settings_from_an_overridden_fixture(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "import pytest\nfrom mockserver import MockConfig\n\n"
        "@pytest.fixture(scope='session')\ndef runware_mock_shared_config():\n"
        "    return MockConfig(api_keys=frozenset({'only-this'}), admin_key='boss')\n",
        encoding="utf-8",
    )
    out = run_pytest(
        tmp_path,
        "def test_it(runware_mock_shared):\n"
        "    assert runware_mock_shared.api_key == 'only-this'\n"
        "    assert runware_mock_shared.client.get('/__admin/requests').status_code == 403\n"
        "    runware_mock_shared.reset()  # with the admin key\n",
    )
    assert "1 passed" in out, out


HEAVY = ("starlette", "uvicorn", "av", "orjson", "websockets", "hypothesis", "respx", "anyio")


def test_the_plugin_and_the_package_import_nothing_heavy() -> None:
    script = (
        "import sys, mockserver, mockserver.pytest_plugin\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def without(modules: tuple[str, ...]) -> str:
    """Python source that makes ``modules`` unimportable, as in an install without them."""
    return f"import sys\nfor name in {modules!r}:\n    sys.modules[name] = None\n"


def run_python(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, check=False
    )


def test_the_server_command_without_the_mock_extra_says_so_in_one_line() -> None:
    result = run_python(without(("uvicorn",)) + "from mockserver import main\nsys.exit(main())")
    assert result.returncode == 2
    assert (
        result.stderr
        == f"the mock server needs uvicorn, from the [mock] extra: {install_hint('mock')}\n"
    )


def test_the_package_names_the_extra_when_the_server_is_asked_for() -> None:
    result = run_python(without(("starlette",)) + "import mockserver\nmockserver.MockServer")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "mockserver.extras.MissingExtra: mockserver.MockServer needs starlette, from the "
        f"[mock] extra: {install_hint('mock')}"
    )


def test_the_strategies_name_the_extra() -> None:
    result = run_python(without(("hypothesis",)) + "import runware_contract.strategies")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "ImportError: runware_contract.strategies needs hypothesis, from the [testing] extra: "
        f"{install_hint('testing')}"
    )


def test_each_fixture_without_its_extra_fails_naming_it(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(without(("uvicorn", "respx")), encoding="utf-8")
    out = run_pytest(
        tmp_path,
        "def test_plain():\n    pass\n\n"
        "def test_mock(runware_mock):\n    pass\n\n"
        "def test_shared(runware_mock_shared):\n    pass\n\n"
        "def test_inprocess(runware_mock_inprocess):\n    pass\n",
    )
    assert "1 passed, 3 errors" in out and "Traceback" not in out, out
    errors = out.split("= ERRORS =")[1].split("short test summary")[0]
    for fixture in ("runware_mock", "runware_mock_shared", "runware_mock_inprocess"):
        hint = f"the {fixture} fixture needs uvicorn, from the [testing] extra"
        assert errors.count(hint) == 1, out  # once, not chained to the ImportError
    assert "No module named" not in errors and "exception occurred" not in errors, out


def test_the_respx_fixture_without_respx_names_the_extra(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(without(("respx",)), encoding="utf-8")
    out = run_pytest(tmp_path, "def test_respx(runware_respx):\n    pass\n")
    assert "1 error" in out and "the runware_respx fixture needs respx" in out, out
    errors = out.split("= ERRORS =")[1].split("short test summary")[0]
    assert errors.count("the runware_respx fixture needs respx") == 1, out


GIVEN_WITH = """
from hypothesis import HealthCheck, given, settings, strategies as st

@given(st.integers())
def test_per_test_mock(runware_mock, n):
    pass

@given(st.integers())
def test_in_process(runware_respx, n):
    pass

@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=2)
@given(st.integers())
def test_suppressed_knowingly(runware_mock_inprocess, n):
    pass

@given(st.integers())
def test_shared(runware_mock_shared, n):
    pass
"""


def test_a_given_test_asking_for_a_per_test_mock_is_told_to_use_the_shared_one(
    tmp_path: Path,
) -> None:
    out = run_pytest(tmp_path, GIVEN_WITH)
    assert "2 passed, 2 errors" in out, out
    # the ERRORS section only: the summary lines repeat it, cut to the terminal's width
    errors = out.split("= ERRORS =")[1].split("short test summary")[0]
    for names in ("runware_mock starts", "runware_mock_inprocess, runware_respx starts"):
        assert f"{names} a mock per test" in errors, out
    assert errors.count("use runware_mock_shared (one mock for the session") == 2, out
    assert "FailedHealthCheck" not in out and "function_scoped_fixture" not in out, out
