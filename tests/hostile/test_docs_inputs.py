"""Hostile or just large docs pages and spec files against the docs loop's real commands:
``python -m codegen import-docs``, ``lint-spec`` and the mock's ``--page`` / ``--spec``, each
a process timed from outside.

Before the fix each of these stalled: the consistency analysis was exponential in the number
of independent rules (41 rules: import-docs 27 s here, and doubling with every three more;
the mock ran the analysis twice), three page patterns backtracked quadratically on one long
line (a 20,000-character heading: 7 s; 200,000: minutes), and nested YAML aliases of a few
hundred bytes expanded to billions of nodes before the loader refused the file. The sizes
below are past where the old code takes minutes; the limits are far above what the fixed
code needs (seconds), so load on the machine does not make them flaky.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import SPEC_DIR

from .harness import AGAINST
from .pages import alias_bomb, long_lines, many_rules

LIMIT = 90.0  # seconds; the fixed commands take a few


def run(*args: str, timeout: float = LIMIT) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args],
        cwd=AGAINST["checkout"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done, time.perf_counter() - started


def test_many_independent_rules_are_analysed_in_bounded_time(tmp_path: Path) -> None:
    page = tmp_path / "many-rules.md"
    page.write_text(many_rules(16), encoding="utf-8")  # 50 rules, one contradiction
    done, _ = run("-m", "codegen", "import-docs", str(page), "--dry-run",
                  "-o", str(tmp_path / "out.yaml"), "--spec", str(SPEC_DIR))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        "warning: contradiction on the page: knot can never be provided: rules knot-forbid-tie, "
        "knot-require-tie" in done.stderr
    )
    assert "gave up" not in done.stderr


def test_the_mock_serves_a_page_of_many_rules_in_bounded_time(tmp_path: Path) -> None:
    page = tmp_path / "many-rules.md"
    page.write_text(many_rules(16), encoding="utf-8")
    cmd = [sys.executable, "-m", "mockserver", "--page", str(page), "--port", "0"]
    proc = subprocess.Popen(
        cmd, cwd=AGAINST["checkout"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        out = proc.stdout
        reader = threading.Thread(target=lambda: lines.append(out.readline()))
        reader.start()
        reader.join(LIMIT)  # the banner's first line comes once the model is loaded
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    first = lines[0] if lines else ""
    assert first.startswith("Runware mock listening on"), err
    assert "acme:motion@2 served with" in err and "knot can never be provided" in err


def test_a_page_of_very_long_lines_is_read_in_linear_time(tmp_path: Path) -> None:
    page = tmp_path / "long-lines.md"
    page.write_text(long_lines(200_000), encoding="utf-8")  # a heading, a fact, a title
    done, _ = run("-m", "codegen", "import-docs", str(page), "--dry-run",
                  "-o", str(tmp_path / "out.yaml"), "--spec", str(SPEC_DIR))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "unknown section" in done.stderr  # the long heading, read and reported
    assert "duration: Max" in done.stderr  # the long fact, read and reported


def test_nested_yaml_aliases_are_refused_at_their_line(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    (spec / "models").mkdir(parents=True)
    shutil.copy(SPEC_DIR / "platform.yaml", spec / "platform.yaml")
    text = alias_bomb(levels=10)  # a few hundred bytes, 9**10 nodes expanded
    (spec / "models" / "bomb.yaml").write_text(text, encoding="utf-8")
    assert len(text) < 600
    done, _ = run("-m", "codegen", "lint-spec", "--spec", str(spec))
    assert done.returncode == 1
    assert "models/bomb.yaml:" in done.stderr
    assert "YAML aliases expand this document past" in done.stderr
    done, _ = run("-m", "mockserver", "--spec", str(spec / "models"), "--port", "0")
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert "bomb.yaml:" in line and "YAML aliases expand this document past" in line
