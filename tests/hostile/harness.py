"""What the hostile suite measures, from outside, against a real ``python -m mockserver``.

- ``mock_process(*flags)``: the mock as a subprocess on a free loopback port (its own process
  group, killed afterwards), with ``.url``, ``.pid``, ``.rss_mib()`` and a keyed httpx client.
- ``Watch(proc)``: while an attack runs, a thread asks ``GET /health`` every 20 ms and samples
  the process tree's RSS; afterwards it holds the worst and p99 ``/health`` latency and the
  peak RSS growth over what it saw first.
- ``Receiver`` (``tests/helpers.py``): the tests' webhook and upload receiver, kept-alive
  connections as most receivers do (``receiver.duplicates``: a delivery seen twice).
- ``Effect``/``report()``: one row per attack, printed as a table at the end of the run and
  written to ``build/hostile.json`` (``tests/hostile/conftest.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mockserver.testing import answers_get, running_process
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
# The checkout whose mock the attacks run against: this one, or another given with
# ``--hostile-against DIR`` (a baseline: its rows show what the attacks did before a change;
# its tests are expected to fail).
AGAINST: dict[str, Path] = {"checkout": ROOT}
KEY = "hostile-key"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used so far (0 once it is gone)."""
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def open_fds(pid: int) -> int:
    """How many descriptors ``pid`` holds open."""
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return 0


def rss_mib(pid: int) -> float:
    """VmRSS of ``pid`` and its children (``--workers``), in MiB; 0 once it is gone."""
    total = 0.0
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total = int(line.split()[1]) / 1024
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            total += rss_mib(int(child))
    return total


@dataclass
class MockProcess:
    """A mock server subprocess on a loopback port."""

    port: int
    pid: int
    api_key: str
    client: httpx.Client

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1"

    def rss_mib(self) -> float:
        return rss_mib(self.pid)

    def alive(self) -> bool:
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(f"{self.base_url}/health", timeout=5).status_code == 200
        return False


@contextlib.contextmanager
def mock_process(
    *flags: str,
    api_key: str = KEY,
    timeout: float = 30.0,
    log: Path | None = None,
    log_level: str = "warning",
    nofile: int | None = None,
) -> Iterator[MockProcess]:
    """``python -m mockserver --port P --api-key KEY *flags`` until the block ends; its
    log (stderr) goes to the file ``log`` if given; ``nofile`` limits its descriptors
    (RLIMIT_NOFILE, set by ``prlimit`` before the mock starts)."""
    port = free_port()
    limit = ["prlimit", f"--nofile={nofile}:{nofile}", "--"] if nofile else []
    cmd = [
        *limit,
        sys.executable,
        "-m",
        "mockserver",
        "--port",
        str(port),
        "--api-key",
        api_key,
        "--log-level",
        log_level,
        *flags,
    ]
    checkout = AGAINST["checkout"]
    env = None
    if checkout != ROOT:  # that checkout's own mock and generated package
        env = {**os.environ, "PYTHONPATH": f"{checkout}{os.pathsep}{checkout / 'generated'}"}
    with (
        open(log or os.devnull, "wb") as stderr,
        running_process(
            cmd,
            answers_get(f"http://127.0.0.1:{port}/health"),
            cwd=checkout,
            env=env,
            timeout=timeout,
            stderr=stderr,
        ) as process,
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=60,
        ) as client,
    ):
        yield MockProcess(port, process.pid, api_key, client)


class Watch:
    """``/health`` latency and RSS of a mock process while the block runs."""

    def __init__(self, proc: MockProcess, interval: float = 0.02) -> None:
        self.proc = proc
        self.interval = interval
        self.latencies: list[float] = []
        self.failures = 0
        self.rss_start = 0.0
        self.rss_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hostile-watch", daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.proc.base_url, timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get("/health").status_code == 200
                except httpx.TransportError:
                    ok = False
                self.latencies.append(time.perf_counter() - started)
                self.failures += not ok
                self.rss_peak = max(self.rss_peak, self.proc.rss_mib())
                self._stop.wait(self.interval)

    def __enter__(self) -> Watch:
        self.rss_start = self.rss_peak = self.proc.rss_mib()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self.rss_peak = max(self.rss_peak, self.proc.rss_mib())

    @property
    def health_max_ms(self) -> float:
        return 1000 * max(self.latencies, default=0.0)

    @property
    def health_p99_ms(self) -> float:
        if len(self.latencies) < 2:
            return self.health_max_ms
        return 1000 * statistics.quantiles(self.latencies, n=100, method="inclusive")[98]

    @property
    def rss_growth_mib(self) -> float:
        return self.rss_peak - self.rss_start


@dataclass
class Effect:
    """What one attack did, as a user of the shared mock would see it."""

    attack: str
    health_p99_ms: float = 0.0
    health_max_ms: float = 0.0
    rss_growth_mib: float = 0.0
    deliveries: str = ""  # "received/expected (+duplicates)" where the attack delivers
    statuses: dict[str, int] = field(default_factory=dict)
    note: str = ""

    @classmethod
    def of(cls, attack: str, watch: Watch, **more: Any) -> Effect:
        return cls(
            attack,
            health_p99_ms=round(watch.health_p99_ms, 1),
            health_max_ms=round(watch.health_max_ms, 1),
            rss_growth_mib=round(watch.rss_growth_mib, 1),
            **more,
        )


EFFECTS: list[Effect] = []


def report(effect: Effect) -> Effect:
    """Keep ``effect`` for the run's table."""
    EFFECTS.append(effect)
    return effect


def table(effects: list[Effect]) -> str:
    header = (
        "attack",
        "/health p99 ms",
        "/health max ms",
        "RSS growth MiB",
        "deliveries",
        "statuses",
        "note",
    )
    rows = [header] + [
        (
            e.attack,
            f"{e.health_p99_ms:.1f}",
            f"{e.health_max_ms:.1f}",
            f"{e.rss_growth_mib:.1f}",
            e.deliveries,
            " ".join(f"{k}x{v}" for k, v in sorted(e.statuses.items())),
            e.note,
        )
        for e in effects
    ]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(effects: list[Effect], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(e) for e in effects], indent=2) + "\n")


def statuses(codes: list[int]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(Counter(codes).items())}


__all__ = [
    "EFFECTS", "KEY", "Effect", "MockProcess", "Watch", "cpu_seconds", "mock_process",
    "open_fds", "report", "rss_mib", "statuses", "table", "write_json",
]  # fmt: skip
