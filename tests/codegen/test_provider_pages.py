"""Pages this project wrote in each video provider's style (tests/data/pages/providers/:
Google Veo, ByteDance Seedance, MiniMax Hailuo, PixVerse, Alibaba Wan, Vidu, OpenAI Sora,
Runway; the Kling style is tests/data/pages/family/). Each is imported and linted with the
others, and its contract accepts a valid task, rejects each rule's and each constraint-table
row's violation naming the parameter (one error per parameter) and prices tasks as its
rows say; then every page is served by one mock with ``--page`` and probed over HTTP."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from codegen.docs.importer import import_page, load_platform
from codegen.emit import tables
from codegen.spec.consistency import analyse
from codegen.spec.loader import load_specs
from codegen.spec.model import ModelSpec, SpecSet
from mockserver.testing import answers_get, running_process
from runware_contract.runtime import PriceUnavailable, price_of
from tests.conftest import REPO, SPEC_DIR
from tests.contracts import contract_for
from tests.helpers import eventually, free_port, spec_with_pages

PAGES = REPO / "tests" / "data" / "pages" / "providers"
PLATFORM = load_platform(SPEC_DIR)
UUID = "0b6a8d1e-5c2f-4d3a-9e7b-1f2a3b4c5d6e"
IMG = "https://example.com/a.png"
VID = "https://example.com/a.mp4"
PROMPT = "boats in the rain"
FRAMES = {"frameImages": [{"image": IMG}]}


def size(w: int, h: int) -> dict[str, int]:
    return {"width": w, "height": h}


def ps(**fields: Any) -> dict[str, Any]:
    return {"providerSettings": {"acme": fields}}


# (model, the task's own fields, the (rule, parameter) pairs it breaks)
Case = tuple[str, dict[str, Any], set[tuple[str, str]]]
VISTA, SWAY, HUSH, PIVOT = "acme:vista@1", "acme:sway@1", "acme:hush@1", "acme:pivot@1"
WANE, VIM, SONNET, RUNE = "acme:wane@1", "acme:vim@1", "acme:sonnet@1", "acme:rune@1"
RUNE2 = "acme:rune@2"
CASES: list[Case] = [
    # Veo: an exactly-one of three, a list consequence, a value under a condition
    (VISTA, {**size(1920, 1080), "duration": 8}, set()),
    (VISTA, {"inputs": {"video": VID}, "duration": 7}, set()),
    (VISTA, {}, {("frame-images-or-video-or-width-height", "inputs.frameImages")}),
    (
        VISTA,
        {"inputs": {"video": VID}, "duration": 7, "seed": 3, "resolution": "4K"},
        {
            ("video-forbid-width-height-seed-resolution", "seed"),
            ("video-forbid-width-height-seed-resolution", "resolution"),
        },
    ),
    (VISTA, {"inputs": {"video": VID}, "duration": 4}, {("duration-with-video", "duration")}),
    (VISTA, {"inputs": {"video": VID}}, {("duration-with-video", "duration")}),  # default 8
    (
        VISTA,
        {**size(1920, 1080), **ps(resizeMode="crop")},
        {("frame-images-needs-items-with-resize-mode", "inputs.frameImages")},
    ),
    (
        VISTA,
        {**size(1920, 1080), "resolution": "4K"},
        {("resolution-forbid-width-height", "width"), ("resolution-forbid-width-height", "height")},
    ),
    (VISTA, {"width": 1920}, {("width-height-together", "height")}),
    (VISTA, size(1280, 720), {("supported-dimensions", "width")}),
    # Seedance: a value and a size list under one condition
    (SWAY, {**size(864, 496), **ps(cameraFixed=True)}, set()),
    (SWAY, {}, {("frame-images-or-width-height-or-resolution", "inputs.frameImages")}),
    (
        SWAY,
        {"resolution": "720p", **ps(cameraFixed=True)},
        {("resolution-with-provider-settings", "resolution")},
    ),
    (
        SWAY,
        {**size(1280, 720), **ps(cameraFixed=True)},
        {("dimensions-with-provider-settings", "width")},
    ),
    (SWAY, size(864, 480), {("supported-dimensions", "width")}),
    # a rule in a description: exactly one of text and image inside watermark, when given
    (SWAY, {**size(864, 496), "watermark": {"text": "Acme"}}, set()),
    (SWAY, {**size(864, 496), "watermark": {}}, set()),  # an empty object is not given
    (
        SWAY,
        {**size(864, 496), "watermark": {"text": "Acme", "image": IMG}},
        {("text-forbid-image", "watermark.image")},
    ),
    (
        SWAY,
        {**size(864, 496), "watermark": {"position": "top"}},
        {("watermark-require-text-image", "watermark.text")},
    ),
    # "Only applies when `outputFormat` is `MP4`." is no validation rule
    (VISTA, {**size(1920, 1080), "outputFormat": "WEBM", "outputQuality": 80}, set()),
    # Hailuo: a constraint table (its "Other" row allows every duration: no rule)
    (HUSH, {**size(1920, 1080), "duration": 6}, set()),
    (HUSH, {**size(1366, 768), "duration": 10}, set()),
    (HUSH, {**size(1920, 1080), "duration": 10}, {("duration-with-1920x1080", "duration")}),
    # PixVerse: the self-forbidden rule is not enforced; two limits under one condition
    (PIVOT, {**size(960, 540), "duration": 5, **ps(style="anime")}, set()),
    (
        PIVOT,
        {**size(960, 540), "duration": 8, **ps(style="anime")},
        {("duration-with-provider-settings", "duration")},
    ),
    (
        PIVOT,
        {**size(1920, 1080), "duration": 5, **ps(style="anime")},
        {("dimensions-with-provider-settings", "width")},
    ),
    # Wan: a pair scoped "(in `inputs`)", a boolean value under a condition
    (WANE, {**size(1280, 720), **ps(shotType="multi", promptExtend=True)}, set()),
    (
        WANE,
        {"inputs": {**FRAMES, "referenceVideos": [VID]}},
        {("frame-images-forbid-reference-videos", "inputs.referenceVideos")},
    ),
    (
        WANE,
        {**size(1280, 720), "inputs": {"audio": VID}, **ps(audio=True)},
        {("audio-forbid-audio", "providerSettings.acme.audio")},
    ),
    (
        WANE,
        {**size(1280, 720), **ps(shotType="multi")},  # promptExtend defaults to false
        {("prompt-extend-with-shot-type", "providerSettings.acme.promptExtend")},
    ),
    # Vidu: an absence condition, "at most" under either of two conditions
    (VIM, {"positivePrompt": None, "inputs": FRAMES}, set()),
    (
        VIM,
        {"positivePrompt": None, **size(864, 480)},
        {("without-frame-images-require-positive-prompt", "positivePrompt")},
    ),
    (VIM, {**size(864, 480), "inputs": {"audio": VID}, "duration": 10}, set()),
    (
        VIM,
        {**size(864, 480), "inputs": {"referenceImages": [IMG]}, "duration": 12},
        {("duration-with-audio-reference-images", "duration")},
    ),
    # Sora: a group and a path joined by "and"
    (SONNET, {**size(1280, 720), "duration": 8}, set()),
    (
        SONNET,
        {**size(1280, 720), "inputs": {"videoId": "v1"}},
        {
            ("video-id-forbid-width-height-frame-images", "width"),
            ("video-id-forbid-width-height-frame-images", "height"),
        },
    ),
    # Runway: approximate ratios read; a pair that cannot be used together
    (RUNE, size(1360, 768), set()),
    (
        RUNE,
        {**size(1680, 720), "inputs": {"video": VID, "referenceImages": [IMG]}},
        {("video-forbid-reference-images", "inputs.referenceImages")},
    ),
    (RUNE2, {"positivePrompt": None, "inputs": FRAMES, "duration": 10}, set()),
    (
        RUNE2,
        {"positivePrompt": None},
        {("frame-images-or-positive-prompt", "inputs.frameImages")},
    ),
]

# (model, the task's own fields, with audio, the price)
PRICES: list[tuple[str, dict[str, Any], bool | None, float]] = [
    (VISTA, {**size(1920, 1080), "duration": 8}, None, 0.8),
    (VISTA, {**size(1920, 1080), "duration": 8}, True, 1.2),
    (VISTA, {**size(3840, 2160), "duration": 8}, True, 2.8),
    (SWAY, {**size(864, 496), "duration": 5}, None, 0.0315),  # 16:9 · 480p · 5s
    (SWAY, {**size(640, 640), "duration": 10}, None, 0.0623),  # 1:1 · 480p · 10s
    (SWAY, {**size(720, 1280), "duration": 5}, None, 0.0668),  # 9:16 · 720p · 5s
    (SWAY, {**size(960, 960), "duration": 10}, None, 0.1402),
    (HUSH, {**size(1920, 1080), "duration": 6}, None, 0.49),
    (PIVOT, {**size(640, 360), "duration": 5}, None, 0.1),
    (WANE, {**size(1280, 720), "duration": 2}, None, 0.2),  # "720p . 2 seconds"
    (WANE, {**size(1280, 720), "duration": 5}, None, 0.5),
    # "720p · 5s · R2V" and "$0.025/s applied on top of base pricing when a video is used
    # as a reference": 0.60 + 5 x 0.025
    (WANE, {**size(1280, 720), "duration": 5, "inputs": {"referenceVideos": [VID]}}, None, 0.725),
    (VIM, {**size(864, 480), "duration": 5}, None, 0.06),  # "480p · 5s · No audio"
    (VIM, {**size(864, 480), "duration": 5}, True, 0.12),
    (VIM, {**size(1280, 720), "duration": 5}, True, 0.26),
    (SONNET, {**size(720, 1280), "duration": 4}, None, 0.4),
    (RUNE2, {**size(720, 1280), "duration": 10}, None, 0.5),  # "10s": any resolution
    (RUNE2, {"duration": 1}, None, 0.05),  # no size given: the row needs none
]


def task(model_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    out = {"taskType": "videoInference", "taskUUID": UUID, "model": model_id}
    out |= {"positivePrompt": PROMPT, **fields}
    return {k: v for k, v in out.items() if v is not None}


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = tmp_path_factory.mktemp("providers") / "spec"
    return spec_with_pages(spec, SPEC_DIR, sorted(PAGES.glob("*.md")))


@pytest.fixture(scope="module")
def family(spec_dir: Path) -> SpecSet:
    return load_specs(spec_dir)  # lint: raises on any problem


def model_of(family: SpecSet, model_id: str) -> ModelSpec:
    return next(m for m in family.models if m.id == model_id)


def notes_of(stem: str) -> list[str]:
    page = (PAGES / f"{stem}.md").read_text(encoding="utf-8")
    return [n.format(stem) for n in import_page(page, PLATFORM).notes]


def test_every_provider_page_imports_and_lints_together(family: SpecSet) -> None:
    ids = {m.id for m in family.models}
    assert {VISTA, SWAY, HUSH, PIVOT, WANE, VIM, SONNET, RUNE, RUNE2} <= ids
    for stem in ("acme-vista-1", "acme-sway-1", "acme-wane-1", "acme-sonnet-1"):
        unread = [n for n in notes_of(stem) if "not understood" in n]
        assert unread == [], stem


@pytest.mark.parametrize(("model_id", "fields", "expected"), CASES)
def test_each_rule_and_table_row_is_enforced_naming_its_parameter(
    family: SpecSet, model_id: str, fields: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    contract = contract_for(model_of(family, model_id), family.platform)
    found = [(v.rule or "", v.parameter) for v in contract.violations(task(model_id, fields))]
    assert set(found) == expected
    params = [p for _, p in found]
    assert len(params) == len(set(params)), found  # one error per violated parameter


def price(family: SpecSet, model_id: str, fields: dict[str, Any], audio: bool | None) -> float:
    model = model_of(family, model_id)
    pricing = tables.pricing_table(model, family.platform)
    if pricing is None:
        raise PriceUnavailable(f"{model_id} has no pricing")
    t = contract_for(model, family.platform).with_defaults(task(model_id, fields))
    return price_of(t, pricing, tables.dimensions_table(model), audio=audio)


@pytest.mark.parametrize(("model_id", "fields", "audio", "usd"), PRICES)
def test_costs_are_as_the_rows_say(
    family: SpecSet, model_id: str, fields: dict[str, Any], audio: bool | None, usd: float
) -> None:
    assert price(family, model_id, fields, audio) == usd


def test_the_aspect_ratio_keys_a_price_and_a_long_list_is_read_whole(family: SpecSet) -> None:
    rates = model_of(family, SWAY).pricing
    assert rates is not None and len(rates.rates) == 12
    assert {r.aspect_ratio for r in rates.rates} == {"16:9", "9:16", "1:1"}


def test_a_mode_tag_makes_its_untagged_sibling_the_price_without_it(family: SpecSet) -> None:
    pricing = model_of(family, WANE).pricing
    assert pricing is not None
    by_quote = {r.quote: r for r in pricing.rates}
    assert by_quote["720p · 5s · R2V"].provided == ("inputs.referenceVideos",)
    assert by_quote["720p · 5s"].absent == ("inputs.referenceVideos",)


def test_prose_surcharges_are_read_and_one_the_task_cannot_price_says_so(
    family: SpecSet,
) -> None:
    pricing = model_of(family, WANE).pricing
    assert pricing is not None
    assert [(s.provided, s.per_second, s.same_rate) for s in pricing.surcharges] == [
        (("inputs.referenceVideos",), 0.025, False),
        (("inputs.video",), None, True),
    ]
    video = {**size(1280, 720), "duration": 5, "inputs": {"video": VID}}
    with pytest.raises(PriceUnavailable, match=r"seconds of inputs\.video at the same rate"):
        price(family, WANE, video, None)


def test_a_price_row_no_task_can_match_is_a_warning_naming_both_lines(family: SpecSet) -> None:
    said = [n for n in notes_of("acme-hush-1") if "can never match a task" in n]
    assert said == [
        f"acme-hush-1:{line}: warning: price row '768p · {s}s' can never match a task: no "
        "dimension row is 768p; line 43 calls 1366x768 720p (16:9); kept with its label"
        for line, s in ((20, 6), (21, 10))
    ]
    pricing = model_of(family, HUSH).pricing
    assert pricing is not None and [r.quote for r in pricing.rates][:2] == [
        "768p · 6s",
        "768p · 10s",
    ]
    with pytest.raises(PriceUnavailable, match="no price row matches"):
        price(family, HUSH, {**size(1366, 768), "duration": 6}, None)


def test_only_applies_when_is_a_note_not_a_rule(family: SpecSet) -> None:
    quality = model_of(family, VISTA).parameter("outputQuality")
    assert quality is not None and quality.notes[0].startswith(
        "Only applies when `outputFormat` is `MP4`. Not a validation rule"
    )
    assert not any(
        "outputQuality" in p for r in model_of(family, VISTA).rules for _, p in r.referenced_paths()
    )


def test_a_page_without_a_price_list_loads_without_pricing(family: SpecSet) -> None:
    assert model_of(family, RUNE).pricing is None


def test_approximate_ratios_are_read_and_the_label_keeps_the_tilde(family: SpecSet) -> None:
    dims = model_of(family, RUNE).dimensions
    assert dims is not None
    rows = {(r.width, r.height): (r.label, r.aspect_ratio) for r in dims.rows}
    assert rows[(1360, 768)] == ("720p (~16:9)", "16:9")
    assert rows[(1680, 720)] == ("720p (~21:9)", "21:9")


def test_a_parameter_forbidden_with_itself_is_a_contradiction_not_enforced(
    family: SpecSet,
) -> None:
    (said,) = [n for n in notes_of("acme-pivot-1") if "names providerSettings on both" in n]
    assert said.startswith("acme-pivot-1:30: warning: contradiction on the page")
    assert "'`providerSettings` cannot be used with `providerSettings`.'" in said
    rule = next(r for r in model_of(family, PIVOT).rules if r.kind == "forbids")
    assert (rule.id, rule.enforced) == ("provider-settings-forbid-provider-settings", False)
    assert rule.notes and "curator" in rule.notes[0]


def test_lint_spec_reports_the_self_contradiction(spec_dir: Path) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "codegen", "lint-spec", "--spec", str(spec_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "names providerSettings" in x)
    assert "acme-pivot-1.yaml:" in line and "(not enforced)" in line
    assert "'`providerSettings` cannot be used with `providerSettings`.'" in line


def test_the_analysis_finds_what_the_sora_style_page_makes_impossible(family: SpecSet) -> None:
    """As on the page it imitates: `videoId` forbids both ways of meeting the either-or."""
    found = {f.parameter: f.rules for f in analyse(model_of(family, SONNET))}
    assert found == {
        "inputs.videoId": (
            "frame-images-or-width-height",
            "video-id-forbid-width-height-frame-images",
        )
    }
    for model_id in (VISTA, SWAY, HUSH, PIVOT, WANE, VIM, RUNE, RUNE2):
        assert analyse(model_of(family, model_id)) == [], model_id


# ── served: one mock with every page given by --page ────────────────────────

KEY = "providers-key"


def _uuid(n: int) -> str:
    return f"0b6a8d1e-5c2f-4d3a-9e7b-{n:012d}"


@pytest.mark.slow
def test_every_page_served_with_page_answers_as_its_contract() -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "mockserver", "--port", str(port), "--api-key", KEY]
    cmd += ["--seed", "7", "--job-seconds", "0", "--log-level", "warning"]
    cmd += [f"--page={p}" for p in sorted(PAGES.glob("*.md"))]
    url = f"http://127.0.0.1:{port}"
    priced = [(m, f, usd) for m, f, audio, usd in PRICES if audio is None]
    with (
        running_process(cmd, answers_get(f"{url}/health"), cwd=REPO, timeout=60),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as c,
    ):
        for n, (model_id, fields, expected) in enumerate(CASES):
            sent = task(model_id, fields) | {"taskUUID": _uuid(n)}
            body = c.post("/v1", json=[sent]).json()
            got = {(e.get("parameter") or "") for e in body.get("errors", [])}
            assert got == {p for _, p in expected}, (model_id, fields, body)
        for n, (model_id, fields, usd) in enumerate(priced, start=len(CASES)):
            sent = task(model_id, fields) | {"taskUUID": _uuid(n), "includeCost": True}
            assert c.post("/v1", json=[sent]).status_code == 200
            poll = [{"taskType": "getResponse", "taskUUID": _uuid(n)}]

            def done(poll: list[dict[str, str]] = poll) -> Any:
                data = c.post("/v1", json=poll).json().get("data", [])
                return data if data and data[0].get("status") == "success" else None

            data = eventually(done)
            assert data and data[0]["cost"] == usd, (model_id, fields, data)


def test_the_json_schema_agrees_with_the_runtime_on_every_case(family: SpecSet) -> None:
    """The schema encodings of the new forms (a maximum, conditional sizes, negated
    conditions) accept and refuse as the validators do. A value rule broken only through
    a default (the task leaves the parameter out) is the runtime's alone: JSON Schema
    does not apply defaults."""
    from jsonschema import Draft202012Validator

    from codegen.emit.json_schema import request_schema

    for model_id, fields, expected in CASES:
        model = model_of(family, model_id)
        validator = Draft202012Validator(request_schema(model, family.platform, header=""))
        t = task(model_id, fields)
        by_default = {
            r.id
            for r in model.rules
            if r.kind == "valueWhen"
            and all(k not in str(fields) for k in [r.args["param"].split(".")[-1]])
        }
        if {rule for rule, _ in expected} & by_default:
            continue
        assert validator.is_valid(t) == (not expected), (model_id, fields)


# ── the shipped strategies on every new form ─────────────────────────────────


@pytest.mark.slow
@pytest.mark.parametrize("model_id", [VISTA, SWAY, HUSH, PIVOT, WANE, VIM, SONNET, RUNE, RUNE2])
def test_strategies_draw_valid_tasks_and_break_each_rule_alone(
    family: SpecSet, model_id: str
) -> None:
    """Valid tasks stay valid and each rule's violation breaks that rule only: repair and
    breakers understand values under a condition, maxima, conditional sizes and negated
    conditions (the provider pages use all of them)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from codegen.emit.tables import model_tables
    from mockserver.core.models import module_for
    from runware_contract import strategies as S

    module = module_for(model_tables(model_of(family, model_id), family.platform))
    lenient = [HealthCheck.too_slow, HealthCheck.filter_too_much]
    few = settings(max_examples=15, derandomize=True, database=None, suppress_health_check=lenient)

    @few
    @given(S.valid_tasks(module))
    def valid(t: dict[str, Any]) -> None:
        assert module.CONTRACT.violations(t) == []

    valid()
    for rule in module.tables.RULES:
        strategy = S.rule_violations(module, rule["id"])
        assert not strategy.is_empty, rule["id"]

        @few
        @given(strategy, st.just(rule["id"]))
        def broken(t: dict[str, Any], rule_id: str) -> None:
            found = module.CONTRACT.violations(t)
            assert found and {v.rule for v in found} == {rule_id}

        broken()
