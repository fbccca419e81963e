"""A family of model pages this project wrote (tests/data/pages/family/), one per phrasing
and pricing form of Runware's sibling pages: each imports, lints with the others, and its
contract accepts valid tasks, rejects each rule's violation naming the parameter, and
prices tasks as its rows say. All of them are generated into one package at once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from codegen.diff import diff
from codegen.docs.importer import import_page, load_platform
from codegen.emit import generate, tables
from codegen.spec.consistency import analyse
from codegen.spec.loader import SpecError, load_model_text, load_specs, read_model_text
from codegen.spec.model import SpecSet
from runware_contract.runtime import PriceUnavailable, price_of
from tests.conftest import REPO, SPEC_DIR
from tests.contracts import contract_for
from tests.helpers import spec_with_pages

FAMILY = REPO / "tests" / "data" / "pages" / "family"
PLATFORM = load_platform(SPEC_DIR)
UUID = "0b6a8d1e-5c2f-4d3a-9e7b-1f2a3b4c5d6e"
IMG = "https://example.com/a.png"
VID = "https://example.com/a.mp4"


@pytest.fixture(scope="module")
def family_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spec folder: the real platform and Kling model, and every family page imported."""
    spec_dir = tmp_path_factory.mktemp("family") / "spec"
    return spec_with_pages(spec_dir, SPEC_DIR, sorted(FAMILY.glob("*.md")))


@pytest.fixture(scope="module")
def family(family_dir: Path) -> SpecSet:
    return load_specs(family_dir)  # lint: raises on any problem


def model_of(family: SpecSet, model_id: str) -> Any:
    return next(m for m in family.models if m.id == model_id)


def task(model_id: str, **fields: Any) -> dict[str, Any]:
    base = {"taskType": "videoInference", "taskUUID": UUID, "model": model_id}
    return {**base, "positivePrompt": "boats in the rain", **fields}


def found(family: SpecSet, model_id: str, t: dict[str, Any]) -> set[tuple[str, str]]:
    contract = contract_for(model_of(family, model_id), family.platform)
    return {(v.rule or "", v.parameter) for v in contract.violations(t)}


def price(family: SpecSet, model_id: str, t: dict[str, Any], audio: bool | None = None) -> float:
    model = model_of(family, model_id)
    pricing = tables.pricing_table(model, family.platform)
    contract = contract_for(model, family.platform)
    if pricing is None:
        raise PriceUnavailable(f"{model_id} has no pricing")
    return price_of(contract.with_defaults(t), pricing, tables.dimensions_table(model), audio=audio)


def test_every_family_page_imports_and_lints_together(family: SpecSet) -> None:
    assert {m.id for m in family.models} >= {"acme:drift@1", "acme:glide@1", "acme:knot@1"}


def test_unknown_capabilities_are_kept_with_a_warning(family: SpecSet) -> None:
    assert model_of(family, "acme:drift@1").capabilities[-2:] == ("edit", "sketch-to-video")
    assert model_of(family, "acme:glide@1").capabilities[-1] == "checkpoint"
    notes = import_page((FAMILY / "acme-drift-1.md").read_text(), PLATFORM).notes
    warned = [n.message for n in notes if "capability" in n.message]
    assert warned == ["capability 'sketch-to-video' is not one the kit knows; kept"]


SIZE = {"width": 1280, "height": 720}
DRIFT = "acme:drift@1"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (SIZE, set()),
        ({"inputs": {"video": VID}}, set()),
        ({"inputs": {"frameImages": [{"image": IMG}]}}, set()),
        ({}, {("frame-images-or-video-or-width-height", "inputs.frameImages")}),
        (
            {**SIZE, "inputs": {"video": VID}},
            {("frame-images-or-video-or-width-height", "width")},
        ),
        (
            {"inputs": {"video": VID, "referenceVideos": [VID]}},
            {("video-forbid-reference-videos", "inputs.referenceVideos")},
        ),
        (
            {"inputs": {"video": VID}, "cameraMotion": "pan"},
            {("video-forbid-camera-motion", "cameraMotion")},
        ),
        (
            {**SIZE, "inputs": {"referenceVideos": [VID], "referenceImages": [IMG] * 3}},
            {("reference-images-limit-with-video-reference-videos", "inputs.referenceImages")},
        ),
        (
            {**SIZE, "providerSettings": {"acme": {"motionStrength": 0.5}}},
            {("provider-settings-require-video-reference-videos", "inputs.video")},
        ),
        ({"width": 1280}, {("width-height-together", "height")}),
    ],
)
def test_drift_accepts_valid_tasks_and_names_each_broken_rule(
    family: SpecSet, fields: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    assert found(family, DRIFT, task(DRIFT, **fields)) == expected


def test_drift_prices_by_video_input_and_audio(family: SpecSet) -> None:
    assert price(family, DRIFT, task(DRIFT, **SIZE, duration=10)) == 0.6
    assert price(family, DRIFT, task(DRIFT, **SIZE, duration=10), audio=True) == 0.8
    video = task(DRIFT, inputs={"video": VID}, duration=10)
    assert price(family, DRIFT, video) == 0.9
    assert price(family, DRIFT, video, audio=True) == 1.1


GLIDE = "acme:glide@1"


def test_glide_reads_either_or_as_at_least_one_and_its_other_rules(family: SpecSet) -> None:
    assert found(family, GLIDE, task(GLIDE, **SIZE)) == set()
    assert found(family, GLIDE, task(GLIDE, cameraMotion="pan")) == set()
    frames = {"frameImages": [{"image": IMG}]}
    assert found(family, GLIDE, task(GLIDE, **SIZE, inputs=frames)) == set()
    assert found(family, GLIDE, task(GLIDE)) == {
        ("frame-images-or-width-height-or-camera-motion", "inputs.frameImages")
    }
    assert found(family, GLIDE, task(GLIDE, **SIZE, cameraMotion="pan")) == {
        ("camera-motion-forbid-width-height", "width"),
        ("camera-motion-forbid-width-height", "height"),
    }
    strength = {"providerSettings": {"acme": {"motionStrength": 0.5}}}
    assert found(family, GLIDE, task(GLIDE, **SIZE, **strength)) == {
        ("frame-images-needs-items-with-motion-strength", "inputs.frameImages")
    }


def test_glide_prices_clips_and_says_when_no_row_applies(family: SpecSet) -> None:
    assert price(family, GLIDE, task(GLIDE, **SIZE, duration=4)) == 0.4
    assert price(family, GLIDE, task(GLIDE, **SIZE, duration=4), audio=True) == 0.6
    assert price(family, GLIDE, task(GLIDE, **SIZE, duration=8)) == 0.7
    with pytest.raises(PriceUnavailable, match=r"no price row matches.*duration=6"):
        price(family, GLIDE, task(GLIDE, **SIZE, duration=6))
    with pytest.raises(PriceUnavailable, match="audio=True"):
        price(family, GLIDE, task(GLIDE, **SIZE, duration=8), audio=True)


def test_an_unreadable_price_line_is_a_warning_and_the_rest_loads(family: SpecSet) -> None:
    notes = import_page((FAMILY / "acme-glide-1.md").read_text(), PLATFORM).notes
    assert any("price not understood: Bulk pricing" in n.message for n in notes)
    assert len(model_of(family, GLIDE).pricing.rates) == 3


def test_a_page_without_prices_loads_and_price_says_so(family: SpecSet) -> None:
    assert model_of(family, "acme:knot@1").pricing is None
    with pytest.raises(PriceUnavailable, match="has no pricing"):
        price(family, "acme:knot@1", task("acme:knot@1", **SIZE))


def test_the_family_generates_into_one_package(family_dir: Path, tmp_path: Path) -> None:
    """validate(), price() and the registry serve every model of one generated package."""
    spec = load_specs(family_dir)
    generate.write(generate.build(spec, "spec"), tmp_path / "generated")
    probes = {
        "drift": task(DRIFT, **SIZE, duration=10),
        "glide": task(GLIDE, **SIZE, duration=8),
        "knot": task("acme:knot@1", **SIZE),
        "bad": task(GLIDE, **SIZE, cameraMotion="pan", duration=4),
    }
    code = textwrap.dedent(
        f"""
        import json
        import runware_contract as rc
        probes = json.loads({json.dumps(json.dumps(probes))})
        out = {{"models": sorted(rc.MODELS)}}
        for name, t in probes.items():
            out[name] = sorted(v["parameter"] for v in rc.validate(t))
            try:
                out[name + "-price"] = rc.model_for(t).price(t)
            except rc.PriceUnavailable as e:
                out[name + "-price"] = str(e)
        print(json.dumps(out))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "generated"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["models"] == sorted(
        ["acme:drift@1", "acme:glide@1", "acme:knot@1", "google:4@3", "klingai:kling-video@3-pro"]
    )
    assert (out["drift"], out["drift-price"]) == ([], 0.6)
    assert (out["glide"], out["glide-price"]) == ([], 0.7)
    assert out["knot"] == [] and out["knot-price"] == "acme:knot@1 has no pricing"
    assert out["bad"] == ["height", "width"]


# ── consistency: pages that contradict themselves ──────────────────────────

KNOT = "acme:knot@1"


def test_the_analysis_names_each_impossible_parameter_and_its_rules(family: SpecSet) -> None:
    found_ = {f.parameter: f.rules for f in analyse(model_of(family, KNOT))}
    assert found_["inputs.referenceVideos"] == (
        "reference-videos-forbid-provider-settings",
        "reference-videos-require-provider-settings",
    )
    assert found_["providerSettings"] == (
        "provider-settings-require-reference-videos",
        "reference-videos-forbid-provider-settings",
    )
    assert found_["providerSettings.acme.motionStrength"] == found_["providerSettings"]
    for consistent in ("acme:drift@1", "acme:glide@1", "klingai:kling-video@3-pro"):
        assert analyse(model_of(family, consistent)) == [], consistent


def test_import_docs_warns_of_the_contradiction() -> None:
    notes = import_page((FAMILY / "acme-knot-1.md").read_text(), PLATFORM).notes
    said = [n.message for n in notes if "contradiction on the page" in n.message]
    assert any("inputs.referenceVideos can never be provided: rules" in m for m in said)


def test_a_page_whose_rules_refuse_every_task_is_reported() -> None:
    text = (FAMILY / "acme-knot-1.md").read_text()
    text = text.replace(
        "`width` and `height` must be used together.",
        "`width` and `height` must be used together.\n\n---\n\n"
        "`positivePrompt` cannot be used with `width/height`.\n\n---\n\n"
        "When `positivePrompt` is provided, `inputs.frameImages` cannot be used.",
    )
    result = import_page(text, PLATFORM)
    model = load_model_text(result.text, "knot", PLATFORM)
    (finding,) = analyse(model)
    assert finding.parameter is None
    assert finding.rules == (
        "frame-images-or-width-height",
        "positive-prompt-forbid-frame-images",
        "positive-prompt-forbid-width-height",
    )
    assert "accepts no task at all" in finding.message()


def test_a_curator_resolves_a_contradiction_and_import_keeps_it(tmp_path: Path) -> None:
    page = (FAMILY / "acme-knot-1.md").read_text()
    text = import_page(page, PLATFORM).text
    marker = "  - id: reference-videos-forbid-provider-settings\n"
    at = text.index("    message:", text.index(marker))
    note = "    enforced: false\n    notes: [The page requires what it forbids; we follow it.]\n"
    curated = text[:at] + note + text[at:]
    model = load_model_text(curated, "knot", PLATFORM)
    assert analyse(model) == []
    contract = contract_for(model, PLATFORM)
    both = task(
        KNOT,
        **SIZE,
        inputs={"referenceVideos": [VID]},
        providerSettings={"acme": {"keepAudio": True}},
    )
    assert contract.violations(both) == []
    again = import_page(page, PLATFORM, curated)
    assert again.text == curated and not again.changed
    changes = [c.line() for c in diff(read_model_text(text, "a"), read_model_text(curated, "b"))]
    assert changes == [
        "INFO  request   reference-videos-forbid-provider-settings: rule no longer enforced"
    ]
    with pytest.raises(SpecError, match="is not enforced: its notes must say why"):
        load_model_text(curated.replace(note, "    enforced: false\n"), "knot", PLATFORM)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_lint_spec_warns_and_a_duplicate_model_id_is_an_error(family_dir: Path) -> None:
    result = run_cli("lint-spec", "--spec", str(family_dir))
    assert result.returncode == 0, result.stderr
    assert "acme-knot-1.yaml:" in result.stdout
    assert "warning: inputs.referenceVideos can never be provided" in result.stdout
    assert "warning: capability 'sketch-to-video' is not one the kit knows" in result.stdout
    assert "capability 'edit'" not in result.stdout  # edit and checkpoint are known
    twin = family_dir / "models" / "twin.yaml"
    shutil.copy(family_dir / "models" / "acme-knot-1.yaml", twin)
    try:
        result = run_cli("lint-spec", "--spec", str(family_dir))
    finally:
        twin.unlink()
    assert result.returncode == 1
    assert "model id 'acme:knot@1' is claimed by" in result.stderr
    assert "acme-knot-1.yaml" in result.stderr and "twin.yaml" in result.stderr


def test_import_docs_refuses_a_page_that_is_not_a_model_page(tmp_path: Path) -> None:
    page = tmp_path / "about.md"
    page.write_text("---\ntitle: About\n---\n# About us\n\nWe make video tools.\n")
    spec_dir = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, spec_dir)
    before = sorted(p.name for p in (spec_dir / "models").iterdir())
    result = run_cli("import-docs", str(page), "--spec", str(spec_dir))
    assert result.returncode == 2
    assert "not a Runware model page" in result.stderr
    assert sorted(p.name for p in (spec_dir / "models").iterdir()) == before


def test_strategies_never_draw_what_the_rules_forbid(family: SpecSet) -> None:
    """Valid tasks of a self-contradicting model are valid and never carry a parameter
    the analysis found impossible (without NEVER, the strategies draw them and repair
    cannot make them valid)."""
    from hypothesis import HealthCheck, given, settings

    from codegen.emit.tables import model_tables
    from mockserver.core.models import module_for
    from runware_contract import strategies as S

    module = module_for(model_tables(model_of(family, KNOT), family.platform))
    assert {"inputs.referenceVideos", "providerSettings"} <= set(module.tables.NEVER)

    lenient = [HealthCheck.too_slow, HealthCheck.filter_too_much]

    @settings(max_examples=40, derandomize=True, database=None, suppress_health_check=lenient)
    @given(S.valid_tasks(module))
    def check(t: dict[str, Any]) -> None:
        assert module.CONTRACT.violations(t) == []
        assert "providerSettings" not in t and "referenceVideos" not in t.get("inputs", {})

    check()
