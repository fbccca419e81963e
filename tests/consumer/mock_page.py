"""``runware-mock --page`` and ``--spec`` from an installed kit: ``python mock_page.py``.

Run in a fresh virtualenv holding ``runware-contract-kit[mock,codegen]`` installed from a
built wheel (``nox -s install_mock``), in a folder outside the repository: nothing of the
source tree (its ``spec/`` folder) is there, so the platform spec must come with the package.
The page is ``page.md`` beside this script (``project.py`` copies a page this project wrote).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PAGE = HERE / "page.md"
KEY = "consumer-key"
# The page's own documented example request (valid by the page's parameters).
TASK = json.loads(re.findall(r"\*\*Request\*\*:\s*```json\n(.*?)\n```", PAGE.read_text(), re.S)[0])


@contextlib.contextmanager
def mock(*flags: str) -> Iterator[tuple[str, str]]:
    """The installed ``runware-mock`` on a free port: (base URL, its banner)."""
    cmd = ["runware-mock", "--port", "0", "--api-key", KEY, "--log-level", "warning", *flags]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit(f"{' '.join(cmd)} exited: {''.join(lines)}")
            lines.append(line)
            if line.startswith("health: "):
                break
        banner = "".join(lines)
        url = banner.split("listening on ", 1)[1].split("/v1", 1)[0]
        yield url, banner
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def served(url: str) -> None:
    """A valid task is accepted; one past the page's maximum duration is refused."""
    headers = {"Authorization": f"Bearer {KEY}"}
    ok = httpx.post(f"{url}/v1", json=[TASK], headers=headers, timeout=30)
    assert ok.status_code == 200, ok.text
    bad = dict(TASK, taskUUID="0b6a8d1e-5c2f-4d3a-9e7b-1f2a3b4c5d6f", duration=12)
    refused = httpx.post(f"{url}/v1", json=[bad], headers=headers, timeout=30)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["parameter"] == "duration", refused.text


def main() -> None:
    with mock("--page", str(PAGE)) as (url, banner):
        assert f"acme:motion@2 (--page {PAGE})" in banner, banner
        served(url)
    package = Path(str(resources.files("runware_contract")))
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "models"
        spec.mkdir()
        # import-docs needs a platform: the one shipped in the package
        subprocess.run(
            [sys.executable, "-m", "codegen", "import-docs", str(PAGE),
             "--spec", str(package), "-o", str(spec / "acme-motion-2.yaml")],
            check=True,
        )  # fmt: skip
        with mock("--spec", str(spec)) as (url, banner):
            assert f"acme:motion@2 (--spec {spec / 'acme-motion-2.yaml'})" in banner, banner
            served(url)
    print("runware-mock --page and --spec work from the installed kit")


if __name__ == "__main__":
    main()
