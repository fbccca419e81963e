"""README's code blocks, run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.testing import InProcessMock
from tests.consumer.project import (
    PROPERTY_TEST,
    USAGE_SECTION,
    python_block,
    write_project,
)

PRINTED = re.compile(r"^ *print\(.*\)\s+# (.*)$", re.MULTILINE)


@pytest.mark.runware_mock(job_seconds=0.1)
def test_the_usage_block_prints_what_its_comments_say(
    runware_respx: InProcessMock, capsys: pytest.CaptureFixture[str]
) -> None:
    block = python_block(USAGE_SECTION)
    expected = PRINTED.findall(block)
    assert len(expected) >= 5, "the block's print lines lost their comments"
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})  # api.runware.ai: respx
    assert capsys.readouterr().out.splitlines() == expected


@pytest.mark.slow
def test_the_property_block_passes_as_written(tmp_path: Path) -> None:
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
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout + result.stderr
