"""`python -m codegen` on the command line: path mistakes are one line and status 2 (no
traceback, no diff of every file), `--version`, an example in each command's help, and a
bare interpreter running the command in the clone's `.venv`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import REPO

PAGE = REPO / "tests" / "data" / "pages" / "acme-motion-2.md"
COMMANDS = ("lint-spec", "generate", "check", "import-docs", "diff", "regenerate")


def codegen(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [python, *(["-S"] if python != sys.executable else []), "-m", "codegen", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        timeout=300,
    )


# {tmp}: an empty folder; {file}: a file in it; {page}: a docs page
MISTAKES = [
    ("generate --out {file}", "--out {file}: a file, not a folder"),
    # /sys refuses new folders to everyone, root included
    ("generate --out /sys/runware-kit-out", "cannot write to /sys/runware-kit-out: "),
    ("check --out {tmp}/gone", "--out {tmp}/gone: no such folder"),
    ("check --out {file}", "--out {file}: a file, not a folder"),
    ("lint-spec --spec {tmp}/gone", "--spec {tmp}/gone: no such folder"),
    ("lint-spec --spec {file}", "--spec {file}: not a folder"),
    ("generate --spec {tmp}/gone", "--spec {tmp}/gone: no such folder"),
    ("import-docs {page} -o {tmp}/gone/m.yaml", "-o {tmp}/gone/m.yaml: no such folder {tmp}/gone"),
    ("import-docs {page} -o {tmp}", "-o {tmp}: a folder; name the spec file"),
    ("regenerate {page} --out {file}", "--out {file}: a file, not a folder"),
    ("gen", "invalid choice: 'gen'"),
    ("lint-spec --bogus", "unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize(("command", "words"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_path_mistake_is_one_line_and_status_2(command: str, words: str, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    names = {"tmp": str(tmp_path), "file": str(tmp_path / "a-file"), "page": str(PAGE)}
    args = command.format(**names).split()
    result = codegen(*args)
    assert (result.returncode, result.stdout) == (2, ""), (args, result.stdout[-2000:])
    (line,) = result.stderr.splitlines()
    assert words.format(**names) in line, (args, line)
    assert not (tmp_path / "gone").exists()


def test_version_and_an_example_in_every_help() -> None:
    version = codegen("--version")
    assert version.stdout == f"python -m codegen {metadata.version('runware-contract-kit')}\n"
    for command in COMMANDS:
        text = codegen(command, "--help").stdout
        assert f"example:\n  python -m codegen {command}" in text, text
        if "--spec" in text:
            assert "(default: spec)" in text, text


def bare_python() -> str:
    """The interpreter the venv was made from; run with -S it has no site-packages, as a
    fresh system Python has none of the project's dependencies."""
    venv = REPO / ".venv" / "bin" / "python"
    if not venv.exists():
        pytest.skip("no .venv: ./dev makes it (CI runs ./dev test)")
    return str(Path(sys.base_prefix) / "bin" / "python3")


def test_a_bare_python_runs_codegen_in_the_project_venv() -> None:
    python = bare_python()
    missing = subprocess.run(
        [python, "-S", "-c", "import ruamel.yaml"], capture_output=True, check=False
    )
    assert missing.returncode == 1  # the interpreter really lacks the dependencies
    result = codegen("--version", python=python)
    assert result.returncode == 0 and result.stdout.startswith("python -m codegen "), result


def test_a_bare_python_without_a_venv_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    python = bare_python()
    shutil.copytree(REPO / "codegen", tmp_path / "codegen")  # a copy with no .venv beside it
    result = subprocess.run(
        [python, "-S", "-m", "codegen", "lint-spec"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("python -m codegen: No module named ")
    assert line.endswith("pip install 'runware-contract-kit[codegen]')")
