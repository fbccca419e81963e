"""How the kit's cost grows with the number of models: import + lint + generate for 1, 5
and 20 model pages, and the mock's start time with 20 models (``--spec DIR``) and with one
``--page``.

The pages are the family test pages (tests/data/pages/family/) under distinct IDs.
Run: ``.venv/bin/python benchmarks/family_bench.py`` (prints one table).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codegen.docs.importer import import_page, load_platform  # noqa: E402
from codegen.emit import generate  # noqa: E402
from codegen.spec.loader import load_specs  # noqa: E402

FAMILY = sorted((ROOT / "tests" / "data" / "pages" / "family").glob("*.md"))


def pages(n: int) -> list[tuple[str, str]]:
    """``n`` pages: the family's, each renamed to a model ID and slug of its own."""
    out = []
    for i in range(n):
        source = FAMILY[i % len(FAMILY)]
        slug = source.stem
        text = source.read_text(encoding="utf-8")
        model_id = text.split("- **ID**: `", 1)[1].split("`", 1)[0]
        new_slug, new_id = f"{slug}-n{i}", model_id.replace("@1", f"@{i + 1}")
        out.append((new_slug, text.replace(slug, new_slug).replace(model_id, new_id)))
    return out


def import_lint_generate(n: int, work: Path) -> dict[str, float]:
    spec_dir = work / f"spec-{n}"
    (spec_dir / "models").mkdir(parents=True)
    shutil.copy(ROOT / "spec" / "platform.yaml", spec_dir / "platform.yaml")
    platform = load_platform(spec_dir)
    start = time.perf_counter()
    for slug, text in pages(n):
        spec_text = import_page(text, platform).text
        (spec_dir / "models" / f"{slug}.yaml").write_text(spec_text, encoding="utf-8")
    imported = time.perf_counter()
    spec = load_specs(spec_dir)
    linted = time.perf_counter()
    files = generate.build(spec, "spec")
    generate.write(files, work / f"out-{n}")
    done = time.perf_counter()
    return {"import": imported - start, "lint": linted - imported, "generate": done - linted}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def mock_start(*flags: str) -> float:
    """Seconds from launching the mock until /health answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "mockserver", "--port", str(port), "--log-level", "warning"]
    start = time.perf_counter()
    process = subprocess.Popen([*cmd, *flags], cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return time.perf_counter() - start
            except httpx.HTTPError:
                time.sleep(0.02)
            if process.poll() is not None:
                raise RuntimeError("the mock exited")
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("models  import s  lint s  generate s  total s  per model s")
        for n in (1, 5, 20):
            t = import_lint_generate(n, work)
            total = sum(t.values())
            print(
                f"{n:6}  {t['import']:8.2f}  {t['lint']:6.2f}  {t['generate']:10.2f}  "
                f"{total:7.2f}  {total / n:11.3f}"
            )
        twenty = str(work / "spec-20" / "models")
        print(f"mock start, package only:       {mock_start():.2f} s")
        print(f"mock start, --spec with 20:     {mock_start('--spec', twenty):.2f} s")
        print(f"mock start, --page (one page):  {mock_start('--page', str(FAMILY[0])):.2f} s")


if __name__ == "__main__":
    main()
