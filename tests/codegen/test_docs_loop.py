"""The docs loop fails safe: a wrong, partial or hostile page never silently weakens the
contract (issue 24). Each page here is ``tests/data/pages/acme-motion-2.md`` (a page this
project wrote) cut off or edited the way the issue's real pages were:

- cut off in the middle of its request parameters, with an unreadable bound;
- edited: a parameter's section gone and ``Max: `fifteen``` (the diff has ERR changes);
- a price list that covers 720p only while the dimension table has 1080p rows (the shape
  of Kling O3 Pro's page), with two sentences that contradict each other;
- its example putting ``referenceImages`` at the top level and past a bound;
- its model ID one the package already serves.

import-docs, regenerate, diff and lint-spec run in process (``codegen.cli.main``); the mock
runs as a real process, read from outside (its banner, its one-line messages, its answers).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from codegen.cli import main as codegen
from tests.conftest import REPO, SPEC_DIR
from tests.helpers import eventually

PAGE = REPO / "tests" / "data" / "pages" / "acme-motion-2.md"
BASE = PAGE.read_text(encoding="utf-8")
SLUG = "acme-motion-2"
PACKAGED_ID = "klingai:kling-video@3-pro"
COMPAT_END = "---\n\nThe following dimension combinations are supported:"
DURATION_MAX = "- **Max**: `10`"  # duration's, the page's only Max of 10


def edit(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, f"the page must hold {old!r} once"
        text = text.replace(old, new)
    return text


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


UNREADABLE = edit(BASE, (DURATION_MAX, "- **Max**: `fifteen`"))
CUT = UNREADABLE[: UNREADABLE.index("### [cameraMotion]")]
CAMERA = BASE[BASE.index("### [cameraMotion]") : BASE.index("**Provider Settings**")]
EDITED = edit(UNREADABLE, (CAMERA, ""))
PARTIAL_PRICE = edit(
    BASE,
    (
        "| `720p (9:16)` | `720x1280` |",
        "| `720p (9:16)` | `720x1280` |\n| `1080p (16:9)` | `1920x1080` |",
    ),
    (
        COMPAT_END,
        "---\n\nWhen `cameraMotion` is provided, `numberResults` cannot be used.\n\n"
        "---\n\nWhen `cameraMotion` is provided, `numberResults` is required.\n\n" + COMPAT_END,
    ),
)
BAD_EXAMPLE = edit(
    BASE,
    ('  "duration": 4\n}', '  "duration": 12,\n  "referenceImages": ["https://e.com/a.jpg"]\n}'),
)
REPLACING = edit(UNREADABLE, ("- **ID**: `acme:motion@2`", f"- **ID**: `{PACKAGED_ID}`"))
NOT_A_PAGE = "---\ntitle: Release notes\n---\n# Release notes\n\nNothing about a model.\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    """A spec folder: the kit's platform and the model imported from the intact page."""
    spec = tmp_path / "spec"
    (spec / "models").mkdir(parents=True)
    shutil.copy(SPEC_DIR / "platform.yaml", spec / "platform.yaml")
    page = write(tmp_path, "base.md", BASE)
    assert codegen(["import-docs", str(page), "--spec", str(spec)]) == 0
    return spec


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = codegen(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def dry_run(capsys: pytest.CaptureFixture[str], spec_dir: Path, page: Path) -> str:
    """What ``import-docs PAGE --dry-run`` says on stderr (it must succeed)."""
    status, _, err = run(capsys, "import-docs", str(page), "--spec", str(spec_dir), "--dry-run")
    assert status == 0, err
    return err


# ── import-docs, regenerate, diff: what they write and their exit statuses ──


def not_written(capsys: pytest.CaptureFixture[str], spec_dir: Path, page: Path, *flags: str) -> str:
    """``import-docs PAGE`` stops with exit status 1 and leaves the spec file as it was."""
    target = spec_dir / "models" / f"{SLUG}.yaml"
    before = target.read_text(encoding="utf-8")
    status, _, err = run(capsys, "import-docs", str(page), "--spec", str(spec_dir), *flags)
    assert (status, target.read_text(encoding="utf-8")) == (1, before), err
    assert f"{target}: not written" in err
    return err


def test_strict_import_of_a_cut_off_page_writes_nothing(
    spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_written(capsys, spec_dir, write(tmp_path, "cut.md", CUT), "--strict")
    # a servable edited page under --strict: also nothing written
    err = not_written(capsys, spec_dir, write(tmp_path, "edited.md", EDITED), "--strict")
    assert "not written: --strict and" in err


def test_a_cut_off_page_that_cannot_be_served_is_not_written_even_without_strict(
    spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = not_written(capsys, spec_dir, write(tmp_path, "cut.md", CUT))
    assert "error: the imported spec cannot be served" in err
    assert "'response': [] should be non-empty" in err


def test_diff_of_a_page_that_cannot_be_served_is_a_finding_not_an_input_error(
    spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write(tmp_path, "cut.md", CUT)
    spec_file = spec_dir / "models" / f"{SLUG}.yaml"
    status, out, err = run(capsys, "diff", str(spec_file), str(page), "--spec", str(spec_dir))
    assert (status, out) == (1, "")  # as import-docs and regenerate say of the same page
    assert f"{page}: error: the imported spec cannot be served:" in err
    assert "'response': [] should be non-empty" in err


@pytest.mark.slow
def test_regenerate_stops_on_breaking_changes_unless_allowed(
    spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = spec_dir / "models" / f"{SLUG}.yaml"
    before = target.read_text(encoding="utf-8")
    page = write(tmp_path, "edited.md", EDITED)
    out_dir, report = tmp_path / "generated", tmp_path / "report"
    args = ["regenerate", str(page), "--spec", str(spec_dir), "--out", str(out_dir)]
    status, out, err = run(capsys, *args, "--report", str(report))
    assert status == 1
    assert "ERR   request   cameraMotion: parameter removed" in out
    assert "!! BREAKING" in out
    assert "stopped: breaking (ERR) changes; spec left as it was, nothing generated" in err
    assert not out_dir.exists()
    assert target.read_text(encoding="utf-8") == before
    status, out, _ = run(capsys, *args, "--report", str(report), "--allow-breaking")
    assert status == 0, out
    assert (out_dir / "runware_contract" / "platform.yaml").is_file()
    assert "cameraMotion" not in target.read_text(encoding="utf-8")
    # a new model: its ERR lines are what it adds, with no clients of an old spec to break
    target.unlink()
    shutil.rmtree(out_dir)
    status, out, err = run(capsys, *args[:1], str(write(tmp_path, "new.md", BASE)), *args[2:])
    assert status == 0, err
    assert "ERR   request   taskType: new required parameter" in out
    assert "!! BREAKING" not in out and (out_dir / "runware_contract").is_dir()


def test_a_non_page_is_exit_status_2_in_import_docs_regenerate_and_diff(
    spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write(tmp_path, "notes.md", NOT_A_PAGE)
    spec_file = spec_dir / "models" / f"{SLUG}.yaml"
    spec = ["--spec", str(spec_dir)]
    for args in (
        ["import-docs", str(page), *spec],
        ["import-docs", str(page), *spec, "--strict", "--dry-run"],
        ["regenerate", str(page), *spec, "--out", str(tmp_path / "out")],
        ["diff", str(spec_file), str(page), *spec],
        ["diff", str(page), str(spec_file), *spec],
    ):
        status, out, err = run(capsys, *args)
        assert status == 2, (args, out, err)
        (line,) = err.splitlines()
        assert line.startswith(f"{page}: not a Runware model page"), line
    assert not (tmp_path / "out").exists()


def test_an_unreadable_bound_is_a_warning_naming_parameter_and_line_and_its_loss_is_err(
    spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, page = write(tmp_path, "base.md", BASE), write(tmp_path, "new.md", UNREADABLE)
    line = line_of(UNREADABLE, "- **Max**: `fifteen`")
    status, out, err = run(
        capsys, "diff", str(base), str(page), "--spec", str(spec_dir), "--fail-on", "ERR"
    )
    assert status == 1
    assert f"{page}:{line}: warning: duration: Max '`fifteen`' not understood" in err
    assert (
        f"ERR   request   duration: maximum 10 lost: the page's Max '`fifteen`' (line {line}) "
        "could not be read" in out
    )
    assert "maximum 10 removed" not in out
    # over the spec it was imported from, the merge keeps the maximum: said, as a WARN
    spec_file = spec_dir / "models" / f"{SLUG}.yaml"
    status, out, _ = run(capsys, "diff", str(spec_file), str(page), "--spec", str(spec_dir))
    assert status == 0
    assert "WARN  request   duration: the page's Max '`fifteen`'" in out
    assert "the spec keeps maximum 10" in out


def test_import_docs_prints_the_consistency_findings_and_incomplete_pricing(
    spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = dry_run(capsys, spec_dir, write(tmp_path, "partial.md", PARTIAL_PRICE))
    assert (
        "warning: contradiction on the page: cameraMotion can never be provided: rules "
        "camera-motion-forbid-number-results, camera-motion-require-number-results" in err
    )
    assert "warning: incomplete pricing: no price for resolution '1080p'" in err


def test_an_example_that_breaks_the_pages_own_parameters_is_a_warning(
    spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write(tmp_path, "example.md", BAD_EXAMPLE)
    err = dry_run(capsys, spec_dir, page)
    line = line_of(BAD_EXAMPLE, "### Paper Boats")
    said = f"{page}:{line}: warning: example 'Paper Boats' breaks the page's own parameter"
    assert f"{said} duration: duration must be at most 10; got 12." in err
    assert f"{said} referenceImages: Unsupported parameter 'referenceImages'" in err


# ── lint-spec: errors and warnings, all at once ──


def test_lint_reports_every_error_and_warning_of_a_run_at_once(
    spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write(tmp_path, "partial.md", PARTIAL_PRICE)
    assert run(capsys, "import-docs", str(page), "--spec", str(spec_dir))[0] == 0
    target = spec_dir / "models" / f"{SLUG}.yaml"
    status, out, err = run(capsys, "lint-spec", "--spec", str(spec_dir))
    assert status == 0, err  # incomplete pricing and a contradiction: served, with warnings
    assert "warning: incomplete pricing: no price for resolution '1080p'" in out
    assert "warning: cameraMotion can never be provided" in out
    assert "spec OK" in out and "(0 error(s), 2 warning(s))" in out
    # a second file claiming the same model ID, which is itself broken (no summary)
    text = target.read_text(encoding="utf-8")
    twin = edit(text, (f"\nsummary: {text.split(chr(10) + 'summary: ')[1].split(chr(10))[0]}", ""))
    write(spec_dir / "models", "twin.yaml", twin)
    status, out, err = run(capsys, "lint-spec", "--spec", str(spec_dir))
    assert status == 1
    assert "twin.yaml:" in err and "error: model id 'acme:motion@2' is claimed by" in err
    assert "error: missing required key 'summary'" in err
    assert "warning: incomplete pricing: no price for resolution '1080p'" in out
    assert "warning: cameraMotion can never be provided" in out
    assert "2 error(s), 2 warning(s)" in err


# ── the mock's --page ──


@contextlib.contextmanager
def mock(tmp_path: Path, *flags: str) -> Iterator[tuple[str, str, Path]]:
    """``python -m mockserver`` as a process: (its base URL, its banner, its stderr file)."""
    errors = tmp_path / "mock-stderr.txt"
    cmd = [sys.executable, "-m", "mockserver", "--port", "0", "--api-key", "k"]
    cmd += ["--job-seconds", "0", "--log-level", "warning", *flags]
    with errors.open("w") as stderr:
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True,
            start_new_session=True,
        )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("health: "):
            line = proc.stdout.readline()  # the banner, or EOF when the mock stops
            if not line:
                raise AssertionError(f"the mock stopped: {errors.read_text()}")
            lines.append(line)
        banner = "".join(lines)
        yield banner.split("listening on ", 1)[1].split("/v1", 1)[0], banner, errors
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def refused(tmp_path: Path, *flags: str) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "mockserver", "--port", "0", *flags]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stderr


def test_the_mock_refuses_a_page_with_errors_in_one_line(tmp_path: Path) -> None:
    page = write(tmp_path, "cut.md", CUT)
    status, err = refused(tmp_path, "--page", str(page))
    assert status == 2
    (line,) = err.splitlines()
    assert line.startswith(f"cannot load the models: --page {page}: the imported spec cannot"), line
    assert "should be non-empty" in line


def cost_of(url: str, task: dict[str, Any]) -> Any:
    headers = {"Authorization": "Bearer k"}
    reply = httpx.post(f"{url}/v1", json=[task], headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]

    def done() -> list[Any] | None:
        body = httpx.post(f"{url}/v1", json=poll, headers=headers, timeout=30).json()
        data = body.get("data", [])
        return data if data and data[0].get("status", "success") == "success" else None

    return eventually(done)[0].get("cost")


@pytest.mark.slow
def test_the_mock_says_where_each_model_comes_from_sums_up_warnings_and_prices_what_it_can(
    tmp_path: Path,
) -> None:
    partial = write(tmp_path, "partial.md", PARTIAL_PRICE)
    replacing = write(tmp_path, "replacing.md", REPLACING)
    line = line_of(REPLACING, "- **Max**: `fifteen`")
    with mock(tmp_path, "--page", str(partial), "--page", str(replacing)) as (url, banner, err):
        assert f"acme:motion@2 (--page {partial})" in banner
        assert f"{PACKAGED_ID} (--page {replacing}, replacing the packaged model)" in banner
        said = err.read_text().splitlines()
        (about_partial,) = [s for s in said if s.startswith(f"--page {partial}:")]
        (about_replacing,) = [s for s in said if s.startswith(f"--page {replacing}:")]
        assert "acme:motion@2 served with" in about_partial
        assert f"{PACKAGED_ID} served with" in about_replacing
        assert f"first: {replacing}:{line}: warning: duration: Max '`fifteen`'" in about_replacing
        task = {
            "taskType": "videoInference", "model": "acme:motion@2", "includeCost": True,
            "positivePrompt": "Paper boats drifting down a rain gutter", "duration": 4,
        }  # fmt: skip
        at_720p = dict(
            task, taskUUID="0b6a8d1e-5c2f-4d3a-9e7b-1f2a3b4c5d01", width=1280, height=720
        )
        at_1080p = dict(task, taskUUID="0b6a8d1e-5c2f-4d3a-9e7b-1f2a3b4c5d02", width=1920,
                        height=1080)  # fmt: skip
        assert cost_of(url, at_720p) == 0.2
        assert cost_of(url, at_1080p) is None  # its price is not listed: no cost
    # without a page, the packaged model is served from the package
    with mock(tmp_path) as (_, banner, _):
        assert f"{PACKAGED_ID} (package)" in banner


def test_an_analysis_past_its_budget_gives_up_with_a_warning() -> None:
    from codegen.docs.importer import import_page, load_platform
    from codegen.spec.consistency import analyse
    from codegen.spec.loader import read_model_text
    from tests.hostile.pages import many_rules

    model = read_model_text(import_page(many_rules(13), load_platform(SPEC_DIR)).text, "m")
    started = time.perf_counter()
    findings = analyse(model, budget=40)
    assert time.perf_counter() - started < 5
    assert findings[-1].message().startswith("analysis gave up after 40 steps")
    full = analyse(model)
    assert [f.parameter for f in full] == ["knot"]
    assert full[0].rules == ("knot-forbid-tie", "knot-require-tie")
