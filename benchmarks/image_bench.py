"""Images in the mock: what a sync image POST costs beside a video POST, what each render
costs, and how often the render cache answers under a realistic mix. Ratios in one run.

``python benchmarks/image_bench.py`` (not part of CI) runs three measurements:

- ``post``: one mock process (``--page`` this project's image page beside the package's
  Kling, ``--sync-job-seconds 0``: the server's own cost, not the simulated job) driven by
  ``--clients`` keep-alive connections for ``--requests`` POSTs each of: a video task
  (answered with its acknowledgement), a sync 1024x1024 JPG image task (URL: the default
  outputType, nothing rendered until fetched) and the same with ``base64Data`` (each result
  rendered, a distinct seed each: every one a cache miss). Throughput and p50/p99, each over
  the video POST's, alternating the kinds ``--rounds`` times (medians).
- ``render``: CPU seconds of one render per format and size (in this process, one thread),
  over a 1024x1024 JPG's.
- ``cache``: an in-process mock taking ``--tasks`` sync tasks of a realistic mix (sizes from
  the page's table, 1K most often; 1-4 results; one task in five repeating one of a few
  seeds, as a client checking reproducibility does), each result URL fetched once, a third of
  them again (a preview, then the download), a tenth by Range; the image cache's hit rate.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from load import KEY, TASK, Connection, mock, run

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "data" / "pages" / "mock" / "acme-still-1.md"
VIDEO = {k: v for k, v in TASK.items() if k != "includeCost"}  # load.py's video task
IMAGE: dict[str, Any] = {
    "taskType": "imageInference",
    "model": "acme:still@1",
    "positivePrompt": "A lighthouse on a cliff in a storm, waves crashing, cinematic",
    "width": 1024,
    "height": 1024,
    "outputFormat": "JPG",
}
KINDS: dict[str, dict[str, Any]] = {
    "video POST (acknowledged)": VIDEO,
    "image POST, sync, 1024x1024 JPG, URL": IMAGE,
    "image POST, sync, 1024x1024 JPG, base64Data": IMAGE | {"outputType": "base64Data"},
}


SEEDS = itertools.count()  # across rounds too: every base64Data result a distinct file, rendered


def post_load(port: int, template: dict[str, Any], clients: int, each: int) -> list[float]:
    """Every POST's latency, then (negated, last) the wall time of them all."""
    latencies: list[float] = []
    seeds = SEEDS

    async def client() -> None:
        connection = Connection(port)
        try:
            for _ in range(each):
                task = template | {"taskUUID": str(uuid.uuid4()), "seed": next(seeds)}
                if task["taskType"] == "videoInference":
                    del task["seed"]
                started = time.perf_counter()
                status, body = await connection.post([task])
                latencies.append(time.perf_counter() - started)
                if status != 200 or "errors" in body:
                    raise SystemExit(f"{status}: {body}")
        finally:
            await connection.close()

    started = time.perf_counter()

    async def everyone() -> Any:
        await asyncio.gather(*(client() for _ in range(clients)))

    run(everyone())
    latencies.append(-(time.perf_counter() - started))  # the last entry: the wall time
    return latencies


def measure_posts(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    rounds: dict[str, list[tuple[float, float, float]]] = {name: [] for name in KINDS}
    flags = ["--page", str(PAGE), "--sync-job-seconds", "0", "--job-seconds", "0.2"]
    with mock(*flags) as (_, port):
        for _ in range(args.rounds):
            for name, template in KINDS.items():
                times = post_load(port, template, args.clients, args.requests)
                wall = -times.pop()
                times.sort()
                rate = len(times) / wall
                p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
                rounds[name].append((rate, p50 * 1000, p99 * 1000))
    out = {}
    base = None
    for name, runs in rounds.items():
        rate, p50, p99 = (statistics.median(r[i] for r in runs) for i in range(3))
        base = base or (rate, p99)
        out[name] = {
            "req/s": rate, "p50 ms": p50, "p99 ms": p99,
            "throughput ratio": rate / base[0], "p99 ratio": p99 / base[1],
        }  # fmt: skip
    return out


def measure_renders() -> dict[str, dict[str, float]]:
    from mockserver.media.images import render_image

    out: dict[str, dict[str, float]] = {}
    base = None
    for width, height in ((1024, 1024), (2048, 2048), (12288, 1536)):
        for container in ("JPG", "PNG", "WEBP"):
            cpu = []
            for seed in range(3):
                started = time.process_time()
                size = len(render_image(container, width, height, 95, seed))
                cpu.append(time.process_time() - started)
            seconds = statistics.median(cpu)
            base = base or seconds
            out[f"{container} {width}x{height}"] = {
                "CPU ms": seconds * 1000, "ratio": seconds / base, "KiB": size / 1024,
            }  # fmt: skip
    return out


def measure_cache(args: argparse.Namespace) -> dict[str, float]:
    import httpx

    from mockserver import MockConfig, MockServer
    from mockserver.core import models
    from mockserver.testing import InProcessMock

    registry = models.load([], [PAGE])
    rows = registry.models["acme:still@1"].tables.DIMENSIONS["rows"]
    weights = [4 if r["resolution"] == "1K" else 1 for r in rows]
    rng = random.Random(7)
    server = MockServer(MockConfig(sync_job_seconds=0.0), registry)
    fetches = 0
    files: set[tuple[Any, ...]] = set()  # distinct files asked for: the misses at best
    with InProcessMock(server) as served:
        client = httpx.Client(
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {KEY}"},
            transport=httpx.MockTransport(served.handle),
            timeout=60,
        )
        for _ in range(args.tasks):
            row = rng.choices(rows, weights)[0]
            task = IMAGE | {
                "taskUUID": str(uuid.uuid4()),
                "width": row["width"],
                "height": row["height"],
                "numberResults": rng.randint(1, 4),
                "outputFormat": rng.choice(["JPG", "JPG", "PNG", "WEBP"]),
            }
            if rng.random() < 0.2:
                task["seed"] = rng.choice([1, 42, 1234])
            items = client.post("/v1", json=[task]).json()["data"]
            for item in items:
                files.add((task["outputFormat"], row["width"], row["height"], item["seed"]))
                path = "/" + item["imageURL"].split("/", 3)[3]
                fetches += 1
                client.get(path)
                if rng.random() < 1 / 3:
                    fetches += 1
                    client.get(path)
                if rng.random() < 0.1:
                    fetches += 1
                    client.get(path, headers={"Range": "bytes=0-1023"})
        images = server.media.images
        client.close()
    return {
        "fetches": fetches,
        "hits": images.hits,
        "misses": images.misses,
        "hit rate": images.hits / max(1, images.hits + images.misses),
        "best possible (only first fetches miss)": 1 - len(files) / max(1, fetches),
        "cache MiB": images.held_bytes / 2**20,
    }


def show(title: str, rows: dict[str, Any]) -> None:
    print(f"\n{title}")
    for name, values in rows.items():
        if isinstance(values, dict):
            cells = ", ".join(f"{k} {v:.3g}" for k, v in values.items())
            print(f"  {name}: {cells}")
        else:
            print(f"  {name}: {values:.3g}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100, help="POSTs per client per kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=300, help="tasks of the cache mix")
    parser.add_argument("what", nargs="*", default=["post", "render", "cache"])
    args = parser.parse_args()
    if "post" in args.what:
        show("POST /v1 (one mock process, medians of the rounds)", measure_posts(args))
    if "render" in args.what:
        show("one render (CPU, this process)", measure_renders())
    if "cache" in args.what:
        show("image cache under a realistic mix", measure_cache(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
