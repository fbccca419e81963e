"""`./dev`, run for real in a temporary folder: its usage text, an unknown job, and a
`.venv` made again when the interpreter changes (a stub pyproject.toml without
dependencies keeps the installs to seconds). The install needs PyPI, so that test runs
in `nox -s dev_script` (part of CI), not in the offline suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

STUB_PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "dev-stub"
version = "{version}"

[project.optional-dependencies]
all = []
test = []
dev = []

[tool.setuptools]
py-modules = []
"""


def usage_comment() -> list[str]:
    """The comment block at the top of ./dev, without its '# ' prefixes."""
    lines = (REPO / "dev").read_text(encoding="utf-8").splitlines()[1:]
    block = lines[: next(i for i, line in enumerate(lines) if not line.startswith("#"))]
    return [line.removeprefix("#").removeprefix(" ") for line in block]


def dev(folder: Path, *args: str, python: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    if python is not None:
        env["PYTHON"] = python
    return subprocess.run(
        [str(folder / "dev"), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )


def copy_of_dev(folder: Path, version: str = "0") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dev", folder / "dev")
    (folder / "pyproject.toml").write_text(STUB_PYPROJECT.format(version=version))
    return folder


def test_an_unknown_job_says_so_with_the_usage_and_installs_nothing(tmp_path: Path) -> None:
    result = dev(copy_of_dev(tmp_path), "tset")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["dev: unknown job 'tset'", *usage_comment()]
    assert not (tmp_path / ".venv").exists()


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_prints_the_usage_with_status_0_and_installs_nothing(
    tmp_path: Path, flag: str
) -> None:
    result = dev(copy_of_dev(tmp_path), flag)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == usage_comment()
    assert result.stderr == ""
    assert not (tmp_path / ".venv").exists()


def pyvenv_home(folder: Path) -> str:
    cfg = (folder / ".venv" / "pyvenv.cfg").read_text(encoding="utf-8")
    homes = [line.split("=", 1)[1].strip() for line in cfg.splitlines() if line.startswith("home")]
    return homes[0]


@pytest.mark.pypi  # pip upgrades itself and builds the stub with setuptools from PyPI
def test_the_venv_is_made_again_when_the_interpreter_changes(tmp_path: Path) -> None:
    folder = copy_of_dev(tmp_path / "project")
    first = dev(folder, python=sys.executable)
    assert first.returncode == 2, first.stderr  # no job: install, then the usage
    assert "dev: creating .venv with" in first.stderr
    assert "dev: installing packages (first run:" in first.stderr
    home = pyvenv_home(folder)

    again = dev(folder, python=sys.executable)
    # same interpreter, same pyproject.toml: nothing to install; the usage, exactly
    assert again.stderr.splitlines() == usage_comment()
    assert usage_comment()[-1].startswith("  ./dev test")

    # Another interpreter: the same Python reached through a different path, as
    # PYTHON=python3.12 would be (this machine has one Python version).
    other = tmp_path / "other-python" / "bin"
    other.mkdir(parents=True)
    (other / "python3").symlink_to(Path(sys.executable).resolve())
    switched = dev(folder, python=str(other / "python3"))
    assert f"dev: creating .venv with {other / 'python3'}" in switched.stderr, switched.stderr
    assert pyvenv_home(folder) == str(other) != home

    (folder / "pyproject.toml").write_text(STUB_PYPROJECT.format(version="1"))
    changed = dev(folder, python=str(other / "python3"))
    assert "pyproject.toml changed: installing packages again" in changed.stderr, changed.stderr
    assert "creating" not in changed.stderr and pyvenv_home(folder) == str(other)
