"""The docs importer and the spec differ on pages this project wrote.

`tests/data/pages/acme-motion-2.md` imitates a Runware model page. Each variant
below edits it the way a docs change would; the test imports the variant over
the spec imported from the original, checks the classified diff, and (through
one subprocess that loads each regenerated package in turn) that the regenerated
validators and the mock enforce the change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from codegen.diff import Change, diff
from codegen.docs.importer import ImportResult, dump, import_page, load_platform, yaml_rt
from codegen.emit import generate
from codegen.spec.loader import load_specs, read_model_text
from codegen.spec.model import Loc, ModelSpec, Parameter
from codegen.spec.yaml_source import read_yaml

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "tests" / "data" / "pages" / "acme-motion-2.md"
SLUG = "acme-motion-2"
PLATFORM = load_platform(REPO / "spec")
BASE_TEXT = PAGE.read_text(encoding="utf-8")
EXAMPLE = {
    "taskType": "videoInference",
    "taskUUID": "0b6a8d1e-5c2f-4d3a-9e7b-1f2a3b4c5d6e",
    "model": "acme:motion@2",
    "positivePrompt": "Paper boats drifting down a rain gutter",
    "width": 1280,
    "height": 720,
    "duration": 4,
}
COMPAT_END = "---\n\nThe following dimension combinations are supported:"


def edit(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, f"fixture page lacks {old!r}"
        text = text.replace(old, new, 1)
    return text


def add_sentence(sentence: str) -> Callable[[str], str]:
    return lambda text: edit(text, (COMPAT_END, f"---\n\n{sentence}\n\n{COMPAT_END}"))


def replace(*pairs: tuple[str, str]) -> Callable[[str], str]:
    return lambda text: edit(text, *pairs)


def typed(text: str) -> ModelSpec:
    """A model spec's text as the differ reads it."""
    return read_model_text(text, "spec")


NOWHERE = Loc("test", 1, 1)


def only(side: str, **field: Any) -> ModelSpec:
    """A model spec of one parameter (side "parameters") or response field ("response")."""
    entry = (Parameter(loc=NOWHERE, key_locs={}, **field),)
    if side == "response":
        return ModelSpec(loc=NOWHERE, key_locs={}, response=entry)
    return ModelSpec(loc=NOWHERE, key_locs={}, parameters=entry)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def yaml_data(text: str) -> dict[str, Any]:
    import io

    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(io.StringIO(text))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def base() -> ImportResult:
    return import_page(BASE_TEXT, PLATFORM)


def task(**changes: Any) -> dict[str, Any]:
    out = dict(EXAMPLE, **changes)
    return {k: v for k, v in out.items() if v is not None}


@dataclass
class Variant:
    name: str
    change: Callable[[str], str]
    expected: set[tuple[str, str, str]]  # (level, direction, subject) of every change
    words: tuple[str, ...] = ()  # fragments the change messages must contain
    probes: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)


ELEMENT_SEED = """### [seed](https://runware.ai/docs/models/acme-motion-2#request-seed)

- **Type**: `integer`
- **Min**: `0`
- **Max**: `100`

A number that fixes the randomness.

"""
STYLE = """### [style](https://runware.ai/docs/models/acme-motion-2#request-style)

- **Type**: `string`
- **Required**: true

The look to aim for.

"""
PROVIDER = "**Provider Settings**"
NEGATIVE = """### [negativePrompt](https://runware.ai/docs/models/acme-motion-2#request-negativeprompt)

- **Type**: `string`
- **Min**: `2`
- **Max**: `1000`

What the video avoids.

"""
VIDEO_URL = """### [videoURL](https://runware.ai/docs/models/acme-motion-2#response-videourl)

- **Type**: `string`
- **Format**: `URI`

Where to fetch it.

"""
RESPONSE_SEED = """### [seed](https://runware.ai/docs/models/acme-motion-2#response-seed)

- **Type**: `integer`

The seed used.

"""
RULES = "missingRequiredParameter"
VIDEOS = {"referenceVideos": ["https://x.io/clip.mp4"]}

VARIANTS = [
    Variant(
        "maximum-lowered",
        replace(("- **Max**: `10`", "- **Max**: `8`")),
        {("ERR", "request", "duration")},
        ("lowered 10 → 8",),
        [(task(duration=10), ["valueTooLarge"]), (task(duration=8), [])],
    ),
    Variant(
        "maximum-raised",
        replace(("- **Max**: `4`\n- **Default**: `1`", "- **Max**: `8`\n- **Default**: `1`")),
        {("INFO", "request", "numberResults")},
        ("raised 4 → 8",),
        [(task(numberResults=6), [])],
    ),
    Variant(
        "minimum-raised",
        replace(
            (
                "- **Min**: `2`\n- **Max**: `1000`\n\nWhat the video shows.",
                "- **Min**: `10`\n- **Max**: `1000`\n\nWhat the video shows.",
            )
        ),
        {("ERR", "request", "positivePrompt")},
        ("raised 2 → 10",),
        [(task(positivePrompt="short"), ["valueTooSmall"])],
    ),
    Variant(
        "step-finer",
        replace(("- **Step**: `2`", "- **Step**: `1`")),
        {("INFO", "request", "duration")},
        ("step 2 → 1",),
        [(task(duration=3), [])],
    ),
    Variant(
        "value-added",
        replace(("**Allowed values**: `MP4` `WEBM`", "**Allowed values**: `MP4` `WEBM` `MOV`")),
        {("INFO", "request", "outputFormat")},
        ('allowed value added: "MOV"',),
        [(task(outputFormat="MOV"), [])],
    ),
    Variant(
        "value-removed",
        replace(("- `zoom` The camera zooms.\n", "")),
        {("ERR", "request", "cameraMotion")},
        ('allowed value removed: "zoom"',),
        [(task(cameraMotion="zoom"), ["invalidParameterValue"]), (task(cameraMotion="pan"), [])],
    ),
    Variant(
        "default-changed",
        replace(("- **Default**: `4`", "- **Default**: `6`")),
        {("WARN", "request", "duration")},
        ("default 4 → 6",),
    ),
    Variant(
        "type-changed",
        replace(("- **Type**: `float`\n- **Min**: `0`", "- **Type**: `integer`\n- **Min**: `0`")),
        {
            ("ERR", "request", "providerSettings.acme.motionStrength"),
            ("INFO", "request", "providerSettings.acme.motionStrength"),  # docsType float went
        },
        ('type "number" → "integer"', "docsType changed"),
        [
            (
                task(providerSettings={"acme": {"motionStrength": 0.5}}, inputs=VIDEOS),
                ["invalidParameterType"],
            ),
            (task(providerSettings={"acme": {"motionStrength": 1}}, inputs=VIDEOS), []),
        ],
    ),
    Variant(
        "optional-parameter-added",
        replace((PROVIDER, ELEMENT_SEED + PROVIDER)),
        {("INFO", "request", "seed")},
        ("optional parameter added",),
        [(task(seed=5), []), (task(seed=500), ["valueTooLarge"])],
    ),
    Variant(
        "required-parameter-added",
        replace((PROVIDER, STYLE + PROVIDER)),
        {("ERR", "request", "style")},
        ("new required parameter",),
        [(task(), ["missingParameter"]), (task(style="paper"), [])],
    ),
    Variant(
        "parameter-removed",
        replace((NEGATIVE, "")),
        {("ERR", "request", "negativePrompt")},
        ("parameter removed",),
        [(task(negativePrompt="blurry"), ["unknownParameter"])],
    ),
    Variant(
        "response-field-removed",
        replace((VIDEO_URL, "")),
        {("ERR", "response", "videoURL")},
        ("response field removed",),
    ),
    Variant(
        "dimension-row-removed",
        replace(("| `720p (1:1)` | `960x960` |\n", "")),
        {("ERR", "request", "dimensions")},
        ("dimension row removed: 960x960",),
        [(task(width=960, height=960), ["unsupportedDimensions"])],
    ),
    Variant(
        "dimension-row-added",
        replace(
            (
                "| `720p (9:16)` | `720x1280` |",
                "| `720p (9:16)` | `720x1280` |\n| `720p (4:3)` | `960x720` |",
            )
        ),
        {("INFO", "request", "dimensions")},
        ("dimension row added: 960x720",),
        [(task(width=960, height=720), [])],
    ),
    Variant(
        "price-changed",
        replace(("`$0.05`", "`$0.06`")),
        {("WARN", "model", "pricing")},
        ("0.05 → 0.06 per second",),
    ),
    Variant(
        "description-reworded",
        replace(("Length in seconds.", "How long the video runs, in whole seconds.")),
        {("INFO", "request", "duration")},
        ("description reworded on the docs page",),
        [(task(), [])],
    ),
    Variant(
        "response-field-added",
        replace(("## Examples", RESPONSE_SEED + "## Examples")),
        {("INFO", "response", "seed")},
        ("response field added",),
    ),
    Variant(
        "example-changed",
        replace(('"duration": 4\n}', '"duration": 6\n}'), ('"cost": 0.2', '"cost": 0.3')),
        {("INFO", "model", "example paper-boats")},
        ("request changed", "response changed"),
    ),
    Variant(
        "status-deprecated",
        replace(("- **Status**: live", "- **Status**: deprecated")),
        {("WARN", "model", "status")},
        ("live → deprecated",),
    ),
    # A rule added in each phrasing of the platform's rule vocabulary.
    Variant(
        "rule-exactly-one",
        add_sentence(
            "Provide exactly one of: `inputs.referenceImages` or `inputs.referenceVideos`."
        ),
        {("ERR", "request", "reference-images-or-reference-videos")},
        ("rule added (exactlyOne)",),
        [(task(), [RULES]), (task(inputs={"referenceImages": ["https://x.io/a.png"]}), [])],
    ),
    Variant(
        "rule-requires",
        add_sentence("When `negativePrompt` is provided, `cameraMotion` is required."),
        {("ERR", "request", "negative-prompt-require-camera-motion")},
        ("rule added (requires)",),
        [
            (task(negativePrompt="blur"), [RULES]),
            (task(negativePrompt="blur", cameraMotion="pan"), []),
        ],
    ),
    Variant(
        "rule-requires-either-condition",
        add_sentence(
            "When `negativePrompt` or `webhookURL` is provided, `cameraMotion` is required."
        ),
        {("ERR", "request", "negative-prompt-webhook-url-require-camera-motion")},
        ("rule added (requires)",),
        [(task(webhookURL="https://x.io/hook"), [RULES]), (task(), [])],
    ),
    Variant(
        "rule-requires-either-consequence",
        add_sentence(
            "When `negativePrompt` is provided, `cameraMotion` or `webhookURL` is required."
        ),
        {("ERR", "request", "negative-prompt-require-camera-motion-webhook-url")},
        ("rule added (requires)",),
        [
            (task(negativePrompt="blur"), [RULES]),
            (task(negativePrompt="blur", webhookURL="https://x.io/hook"), []),
        ],
    ),
    Variant(
        "rule-forbids",
        add_sentence("When `negativePrompt` is provided, `cameraMotion` cannot be used."),
        {("ERR", "request", "negative-prompt-forbid-camera-motion")},
        ("rule added (forbids)",),
        [(task(negativePrompt="blur", cameraMotion="pan"), ["incompatibleParameters"])],
    ),
    Variant(
        "rule-forbids-either",
        add_sentence(
            "When `negativePrompt` or `webhookURL` is provided, `cameraMotion` cannot be used."
        ),
        {("ERR", "request", "negative-prompt-webhook-url-forbid-camera-motion")},
        ("rule added (forbids)",),
        [(task(webhookURL="https://x.io/h", cameraMotion="pan"), ["incompatibleParameters"])],
    ),
    Variant(
        "rule-limit-items",
        add_sentence(
            "When `negativePrompt` or `cameraMotion` is provided, "
            "`inputs.referenceImages` is limited to 2 items."
        ),
        {("ERR", "request", "reference-images-limit-with-negative-prompt-camera-motion")},
        ("rule added (limitItems)",),
        [
            (
                task(cameraMotion="pan", inputs={"referenceImages": ["https://x.io/a.png"] * 3}),
                ["arrayTooLong"],
            ),
            (task(inputs={"referenceImages": ["https://x.io/a.png"] * 3}), []),
        ],
    ),
    Variant(
        "rule-limit-items-one-condition",
        add_sentence(
            "When `cameraMotion` is provided, `inputs.referenceImages` is limited to 1 items."
        ),
        {("ERR", "request", "reference-images-limit-with-camera-motion")},
        ("rule added (limitItems)",),
        [
            (
                task(cameraMotion="pan", inputs={"referenceImages": ["https://x.io/a.png"] * 2}),
                ["arrayTooLong"],
            ),
            (task(cameraMotion="pan", inputs={"referenceImages": ["https://x.io/a.png"]}), []),
        ],
    ),
    Variant(
        "rule-together",
        add_sentence("`negativePrompt` and `cameraMotion` must be used together."),
        {("ERR", "request", "negative-prompt-camera-motion-together")},
        ("rule added (together)",),
        [(task(negativePrompt="blur"), [RULES])],
    ),
    Variant(
        "rule-removed",
        replace(("When `providerSettings` is provided, `inputs.referenceVideos` is required.", "")),
        {("INFO", "request", "provider-settings-require-reference-videos")},
        ("rule removed",),
        [(task(providerSettings={"acme": {"keepAudio": True}}), [])],
    ),
]


def apply(base: ImportResult, variant: Variant) -> tuple[ImportResult, list[Change]]:
    merged = import_page(variant.change(BASE_TEXT), PLATFORM, base.text)
    return merged, diff(typed(base.text), typed(merged.text))


# ── the base page ──────────────────────────────────────────────────────────


def test_the_page_imports_into_a_spec_that_loads_and_generates(
    base: ImportResult, tmp_path: Path
) -> None:
    spec_dir = write_spec(tmp_path, base.text)
    model = load_specs(spec_dir).models[0]
    assert model.id == "acme:motion@2" and model.release_date == "2026-03-03"
    assert [r.kind for r in model.rules] == ["exactlyOne", "requires", "together", "dimensions"]
    assert {p.path for p in model.parameters} >= {
        "inputs",
        "inputs.frameImages.frame",
        "providerSettings",
        "providerSettings.acme",
        "providerSettings.acme.motionStrength",
    }
    duration = next(p for p in model.parameters if p.path == "duration")
    bounds = (duration.minimum, duration.maximum, duration.multiple_of, duration.default)
    assert bounds == (2, 10, 2, 4)
    assert model.pricing is not None
    rates = [(r.resolution, r.audio, r.per_second) for r in model.pricing.rates]
    assert rates == [("720p", False, 0.05), ("720p", True, 0.08)]
    assert generate.build(load_specs(spec_dir), "spec")


def test_a_page_fact_the_spec_must_reconcile_is_reported_with_its_reason(
    base: ImportResult,
) -> None:
    width = next(p for p in base.spec["parameters"] if p["path"] == "width")
    assert "required" not in width and width["docsRequired"] is True
    line = BASE_TEXT.splitlines().index("- **Paired with**: height")  # just above: Required
    assert [n.line for n in base.notes if "width is marked required" in n.message] == [line]


def test_reimporting_the_same_page_changes_nothing(base: ImportResult) -> None:
    again = import_page(BASE_TEXT, PLATFORM, base.text)
    assert not again.changed and again.text == base.text
    assert [n for n in again.notes if n.level != "warning"] == []


# ── variants ───────────────────────────────────────────────────────────────


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_each_docs_change_is_imported_and_classified(base: ImportResult, variant: Variant) -> None:
    merged, changes = apply(base, variant)
    assert merged.changed
    assert {(c.level, c.direction, c.subject) for c in changes} == variant.expected, [
        c.line() for c in changes
    ]
    text = "\n".join(c.message for c in changes)
    for words in variant.words:
        assert words in text


def test_a_sentence_the_importer_cannot_read_is_a_warning_with_its_line(base: ImportResult) -> None:
    sentence = "Every `cameraMotion` needs a tripod on Tuesdays."
    page = add_sentence(sentence)(BASE_TEXT)
    line = page.splitlines().index(sentence) + 1
    merged = import_page(page, PLATFORM, base.text)
    assert not merged.changed
    warning = [n for n in merged.notes if "not understood" in n.message]
    assert [(n.level, n.line) for n in warning] == [("warning", line)]
    assert sentence in warning[0].message


def test_a_description_sentence_that_reads_like_a_rule_is_flagged(base: ImportResult) -> None:
    page = edit(
        BASE_TEXT, ("What the video avoids.", "What the video avoids. Requires `cameraMotion`.")
    )
    merged = import_page(page, PLATFORM, base.text)
    flagged = [n for n in merged.notes if "may state a rule" in n.message]
    assert len(flagged) == 1 and "Requires `cameraMotion`" in flagged[0].message
    assert page.splitlines()[flagged[0].line - 1].startswith("What the video avoids.")


def test_unknown_facts_sections_and_types_are_warnings_not_silence() -> None:
    page = edit(
        BASE_TEXT,
        ("- **Status**: live", "- **Status**: live\n- **Mood**: sunny"),
        ("## Pricing", "## Trivia\n\nAcme likes boats.\n\n## Pricing"),
        (
            "- **Type**: `boolean`\n- **Default**: `false`\n\nAdds",
            "- **Type**: `tuple`\n- **Default**: `false`\n\nAdds",
        ),
        (
            "- **Max**: `4`\n- **Default**: `1`",
            "- **Max**: `4`\n- **Units**: videos\n- **Default**: `1`",
        ),
        ("- **Step**: `2`", "- **Step**: `2`\n- **Step**: `3`"),
    )
    notes = import_page(page, PLATFORM).notes
    lines = page.splitlines()
    for needle, fragment in (
        ("- **Mood**", "unknown model fact 'Mood'"),
        ("## Trivia", "unknown section 'Trivia'"),
        ("- **Type**: `tuple`", "unknown type 'tuple'"),
        ("- **Units**", "unknown fact 'Units'"),
        ("- **Step**: `3`", "Step is given twice"),
    ):
        line = next(i for i, text in enumerate(lines, 1) if text.startswith(needle))
        assert any(n.line == line and fragment in n.message for n in notes), (fragment, notes)


# ── merging keeps curated work ─────────────────────────────────────────────


def curate(text: str) -> str:
    """What a person adds after the first import: own words, a note, a rule read from
    prose, a bound the page does not state."""
    tree = yaml_rt().load(text)
    params = {p["path"]: p for p in tree["parameters"]}
    params["duration"]["description"] = "Length of the clip in seconds (our words)."
    params["duration"]["notes"] = ["Kept by the merge."]
    params["inputs.referenceVideos"]["maxItems"] = 3
    params["inputs.referenceVideos"]["curated"] = ["maxItems"]
    tree["rules"].insert(
        0,
        {
            "id": "camera-needs-prompt",
            "kind": "requires",
            "when": {"anyOf": ["cameraMotion"]},
            "then": {"allOf": ["negativePrompt"]},
            "message": "cameraMotion needs negativePrompt.",
            "source": {"anchor": "request-cameramotion", "quote": "How the camera moves."},
        },
    )
    return dump(tree)


def test_merging_keeps_curated_values_and_reports_contradictions(base: ImportResult) -> None:
    curated = curate(base.text)
    assert not import_page(BASE_TEXT, PLATFORM, curated).changed
    page = edit(
        BASE_TEXT,
        ("- **Max**: `10`", "- **Max**: `8`"),
        (
            "- **Type**: `array of strings`\n\nVideos",
            "- **Type**: `array of strings`\n- **Max**: `5`\n\nVideos",
        ),
        ("- **Required**: true\n- **Paired with**: height", "- **Paired with**: height"),
        ("How the camera moves.", "Which way the camera travels."),
    )
    merged = import_page(page, PLATFORM, curated)
    spec = yaml_data(merged.text)
    params = {p["path"]: p for p in spec["parameters"]}
    assert params["duration"]["maximum"] == 8
    assert params["duration"]["description"] == "Length of the clip in seconds (our words)."
    assert params["duration"]["notes"] == ["Kept by the merge."]
    assert params["inputs.referenceVideos"]["maxItems"] == 3  # curated, kept
    assert "docsRequired" not in params["width"] and "required" not in params["width"]
    assert any(r["id"] == "camera-needs-prompt" for r in spec["rules"])
    conflicts = [n.message for n in merged.notes if n.level == "conflict"]
    assert any("inputs.referenceVideos: the page now says maxItems 5" in m for m in conflicts)
    assert any("width: the page now agrees with the spec's required" in m for m in conflicts)
    assert any("camera-needs-prompt: its sentence" in m for m in conflicts)


# ── the regenerated validators and mock enforce each change ───────────────


def write_spec(root: Path, model_text: str, slug: str = SLUG) -> Path:
    spec_dir = root / "spec"
    (spec_dir / "models").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "spec" / "platform.yaml", spec_dir / "platform.yaml")
    (spec_dir / "models" / f"{slug}.yaml").write_text(model_text, encoding="utf-8")
    return spec_dir


PROBE = textwrap.dedent(
    """
    import json, sys
    from starlette.testclient import TestClient
    results = {}
    for job in json.load(sys.stdin):
        sys.path.insert(0, job["out"])
        for name in list(sys.modules):
            if name.split(".")[0] in ("runware_contract", "mockserver"):
                del sys.modules[name]
        import runware_contract as rc
        from mockserver import MockConfig, create_app
        assert rc.__file__.startswith(job["out"]), rc.__file__
        rows = []
        with TestClient(create_app(MockConfig(job_seconds=0))) as client:
            for i, task in enumerate(job["tasks"]):
                task = dict(task, taskUUID="%08x-0000-4000-8000-000000000000" % (i + 1))
                codes = sorted({e["code"] for e in rc.validate(task)})
                reply = client.post("/v1", json=[task], headers={"Authorization": "Bearer k"})
                mock = sorted({e["code"] for e in reply.json().get("errors", [])})
                rows.append({"validate": codes, "mock": mock, "status": reply.status_code})
        results[job["name"]] = rows
        sys.path.remove(job["out"])
    print(json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def probed(base: ImportResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("variants")
    jobs = []
    for variant in [v for v in VARIANTS if v.probes]:
        merged, _ = apply(base, variant)
        spec_dir = write_spec(root / variant.name, merged.text)
        out = root / variant.name / "out"
        generate.write(generate.build(load_specs(spec_dir), "spec"), out)
        jobs.append(
            {"name": variant.name, "out": str(out), "tasks": [t for t, _ in variant.probes]}
        )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout.splitlines()[-1])
    assert isinstance(data, dict)
    return data


@pytest.mark.slow
@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.probes], ids=lambda v: v.name)
def test_regenerated_validators_and_mock_enforce_the_change(
    probed: dict[str, Any], variant: Variant
) -> None:
    for (sent, expected), row in zip(variant.probes, probed[variant.name], strict=True):
        assert row["validate"] == sorted(expected), (sent, row)
        assert row["mock"] == sorted(expected), (sent, row)
        assert row["status"] == (400 if expected else 200), (sent, row)


# ── command line ───────────────────────────────────────────────────────────


def run_codegen(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


@pytest.fixture
def variant_pages(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    old, new = tmp_path / "old.md", tmp_path / "new.md"
    old.write_text(BASE_TEXT, encoding="utf-8")
    new.write_text(VARIANTS[0].change(BASE_TEXT), encoding="utf-8")
    yield old, new


@pytest.mark.slow
def test_cli_import_docs_writes_then_merges(
    tmp_path: Path, variant_pages: tuple[Path, Path]
) -> None:
    spec_dir = write_spec(tmp_path, "")
    (spec_dir / "models" / f"{SLUG}.yaml").unlink()
    old, new = variant_pages
    first = run_codegen("import-docs", str(old), "--spec", str(spec_dir))
    assert first.returncode == 0, first.stderr
    target = spec_dir / "models" / f"{SLUG}.yaml"
    assert "written" in first.stdout and target.exists()
    assert "no change" in run_codegen("import-docs", str(old), "--spec", str(spec_dir)).stdout
    unreadable = old.with_name("unreadable.md")
    unreadable.write_text(add_sentence("Every `cameraMotion` needs a tripod.")(BASE_TEXT))
    lenient = run_codegen("import-docs", str(unreadable), "--spec", str(spec_dir), "--dry-run")
    strict = run_codegen(
        "import-docs", str(unreadable), "--spec", str(spec_dir), "--dry-run", "--strict"
    )
    assert (lenient.returncode, strict.returncode) == (0, 1)
    assert "not understood" in strict.stderr
    merged = run_codegen("import-docs", str(new), "--spec", str(spec_dir))
    assert merged.returncode == 0 and "merged" in merged.stdout
    assert f"{new}:" in merged.stderr and "duration maximum: 10 → 8" in merged.stderr
    assert read_yaml(target).data["parameters"]


@pytest.mark.slow
def test_cli_diff_of_two_pages_text_json_and_fail_on(variant_pages: tuple[Path, Path]) -> None:
    old, new = variant_pages
    text = run_codegen("diff", str(old), str(new))
    assert text.returncode == 0
    assert "ERR   request   duration: lowered 10 → 8" in text.stdout
    as_json = json.loads(run_codegen("diff", str(old), str(new), "--format", "json").stdout)
    assert as_json["changes"][0] | {"old": 10, "new": 8} == as_json["changes"][0]
    assert as_json["changes"][0]["level"] == "ERR"
    # Pages imported on the fly carry generated descriptions, which follow the new bound.
    assert as_json["summary"] == "1 ERR, 0 WARN, 1 INFO"
    assert run_codegen("diff", str(old), str(new), "--fail-on", "ERR").returncode == 1
    assert run_codegen("diff", str(old), str(old), "--fail-on", "INFO").returncode == 0
    unreadable = new.with_name("unreadable.md")
    unreadable.write_text(add_sentence("Every `cameraMotion` needs a tripod.")(BASE_TEXT))
    warned = run_codegen("diff", str(old), str(unreadable))
    assert warned.stdout == "no changes\n"
    assert f"{unreadable}:" in warned.stderr and "not understood" in warned.stderr
    missing = run_codegen("diff", str(old), str(old.with_name("gone.yaml")))
    assert missing.returncode == 2 and "gone.yaml" in missing.stderr


def test_cli_reports_unreadable_inputs_in_one_line(
    tmp_path: Path, variant_pages: tuple[Path, Path]
) -> None:
    page, _ = variant_pages
    binary = tmp_path / "latin1.md"
    binary.write_bytes("Caf\xe9".encode("latin-1"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    spec_dir = write_spec(tmp_path / "s", "")
    gone = tmp_path / "gone.md"
    for args, named in (
        (("import-docs", str(gone), "--spec", str(spec_dir)), "gone.md"),
        (("import-docs", str(binary), "--spec", str(spec_dir)), "latin1.md: not UTF-8"),
        (("import-docs", str(page), "-o", str(broken), "--spec", str(spec_dir)), "broken.yaml"),
        (("diff", str(binary), str(page)), "latin1.md: not UTF-8"),
        (("diff", str(broken), str(page)), "broken.yaml:2:1: YAML error"),
        (("regenerate", str(gone), "--spec", str(spec_dir)), "gone.md"),
    ):
        result = run_codegen(*args)
        assert (result.returncode, result.stdout) == (2, ""), (args, result.stderr)
        assert named in result.stderr and "Traceback" not in result.stderr, result.stderr
    with_bom = tmp_path / "bom.md"
    with_bom.write_bytes(b"\xef\xbb\xbf" + page.read_bytes())
    same = run_codegen("diff", str(page), str(with_bom))
    assert (same.returncode, same.stdout) == (0, "no changes\n"), same.stdout + same.stderr


def test_cli_diff_refuses_a_file_that_is_not_a_model_spec_in_one_line(tmp_path: Path) -> None:
    model = REPO / "spec" / "models" / "klingai-video-3-0-pro.yaml"
    listed = tmp_path / "list.yaml"
    listed.write_text("- id: x\n", encoding="utf-8")
    for other, what in ((REPO / "spec" / "platform.yaml", "kind: platform"), (listed, "array")):
        for args in ((str(other), str(model)), (str(model), str(other))):
            result = run_codegen("diff", *args)
            assert (result.returncode, result.stdout) == (2, ""), result.stdout
            assert result.stderr.splitlines() == [
                f"{other}: not a model spec (a YAML {what}; a model spec says kind: model)"
                if what == "array"
                else f"{other}: not a model spec ({what}; a model spec says kind: model)"
            ]
    broken = tmp_path / "broken.yaml"
    broken.write_text(model.read_text().replace("taskType: videoInference", "taskType: 7"))
    result = run_codegen("diff", str(model), str(broken))
    assert result.returncode == 2 and "broken.yaml:" in result.stderr and not result.stdout


@pytest.mark.slow
def test_cli_fail_on_takes_any_case(variant_pages: tuple[Path, Path]) -> None:
    old, new = variant_pages
    for level in ("err", "Err", "warn", "info"):
        assert run_codegen("diff", str(old), str(new), "--fail-on", level).returncode == 1
    assert run_codegen("diff", str(old), str(new), "--fail-on", "fatal").returncode == 2


@pytest.mark.slow
def test_cli_diff_of_a_spec_and_the_page_it_was_imported_from_shows_no_changes(
    base: ImportResult, tmp_path: Path, variant_pages: tuple[Path, Path]
) -> None:
    page, changed = variant_pages
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(base.text, encoding="utf-8")
    for args in ((spec_file, page), (page, spec_file)):
        result = run_codegen("diff", *map(str, args))
        assert (result.returncode, result.stdout) == (0, "no changes\n"), result.stdout
    # the page is merged over the spec, as import-docs merges it: only the edit shows
    edited = run_codegen("diff", str(spec_file), str(changed)).stdout.splitlines()
    assert edited[0] == "ERR   request   duration: lowered 10 → 8", edited


def test_cli_diff_of_the_committed_spec_and_the_real_page_shows_no_changes(
    docs_page_text: str, tmp_path: Path
) -> None:
    page = tmp_path / "page.md"
    page.write_text(docs_page_text, encoding="utf-8")
    spec_file = REPO / "spec" / "models" / "klingai-video-3-0-pro.yaml"
    result = run_codegen("diff", str(spec_file), str(page), "--fail-on", "info")
    assert (result.returncode, result.stdout) == (0, "no changes\n"), result.stdout


@pytest.mark.slow
def test_cli_regenerate_reports_then_generates(base: ImportResult, tmp_path: Path) -> None:
    spec_dir = write_spec(tmp_path, base.text)
    page = tmp_path / "page.md"
    page.write_text(VARIANTS[0].change(BASE_TEXT), encoding="utf-8")
    out, report = tmp_path / "out", tmp_path / "report" / "diff"
    stopped = run_codegen(
        "regenerate",
        str(page),
        "--spec",
        str(spec_dir),
        "--out",
        str(out),
        "--report",
        str(report),
        "--fail-on",
        "ERR",
    )
    assert stopped.returncode == 1 and not out.exists()
    assert "!! BREAKING" in stopped.stdout
    assert (spec_dir / "models" / f"{SLUG}.yaml").read_text() == base.text  # left as it was
    done = run_codegen(
        "regenerate", str(page), "--spec", str(spec_dir), "--out", str(out), "--report", str(report)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.index("ERR   request   duration") < done.stdout.index("regenerated")
    assert "lowered 10 → 8" in report.with_suffix(".txt").read_text()
    assert (
        json.loads(report.with_suffix(".json").read_text())["changes"][0]["subject"] == "duration"
    )
    tables = (out / "runware_contract" / "acme_motion_2" / "tables.py").read_text()
    assert "'maximum': 8" in tables or '"maximum": 8' in tables


def test_cli_regenerate_on_a_reworded_page_passes_with_fail_on_warn(
    base: ImportResult, tmp_path: Path
) -> None:
    spec_dir = write_spec(tmp_path, base.text)
    page = tmp_path / "page.md"
    page.write_text(edit(BASE_TEXT, ("Length in seconds.", "Seconds of video.")), encoding="utf-8")
    done = run_codegen(
        "regenerate",
        str(page),
        "--spec",
        str(spec_dir),
        "--out",
        str(tmp_path / "out"),
        "--report",
        str(tmp_path / "r"),
        "--fail-on",
        "WARN",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "INFO  request   duration: description reworded on the docs page" in done.stdout
    assert "BREAKING" not in done.stdout


# ── the real page ──────────────────────────────────────────────────────────


def test_importing_the_real_page_over_the_committed_spec_changes_nothing(
    docs_page_text: str,
) -> None:
    committed = (REPO / "spec" / "models" / "klingai-video-3-0-pro.yaml").read_text()
    result = import_page(docs_page_text, PLATFORM, committed)
    assert not result.changed and result.text == committed
    assert result.notes == []


def test_a_fresh_import_of_the_real_page_is_a_subset_of_the_committed_spec(
    docs_page_text: str, tmp_path: Path
) -> None:
    fresh = import_page(docs_page_text, PLATFORM)
    load_specs(
        write_spec(tmp_path, fresh.text, "klingai-video-3-0-pro")
    )  # loads: a usable spec on its own
    committed = (REPO / "spec" / "models" / "klingai-video-3-0-pro.yaml").read_text()
    changes = diff(typed(committed), typed(fresh.text))
    assert [c.line() for c in changes if c.level != "INFO"] == []


def test_merging_keeps_the_spec_files_group_headings_in_place(docs_page_text: str) -> None:
    committed = (REPO / "spec" / "models" / "klingai-video-3-0-pro.yaml").read_text()
    lines = committed.splitlines()
    headings = [i for i, line in enumerate(lines) if line.startswith("  # ── ")]
    assert len(headings) == 4
    # A heading sits between two entries, never inside one.
    assert all(lines[i + 1].startswith("  - path: ") for i in headings)
    # Removing the entry just above a heading (numberResults, above "Inputs") keeps it.
    start = docs_page_text.index("### [numberResults]")
    page = docs_page_text[:start] + docs_page_text[docs_page_text.index("**Inputs**") :]
    merged = import_page(page, PLATFORM, committed).text
    entry = committed.index("  - path: numberResults\n")
    assert (
        merged == committed[:entry] + committed[committed.index("\n\n  # ── Inputs", entry) + 1 :]
    )
    # A parameter added at the end of a group goes above the next group's heading, in block style.
    added = "### [priority](https://runware.ai/docs/models/klingai-video-3-0-pro#request-priority)"
    page = docs_page_text.replace(
        "**Inputs**\n", f"{added}\n\n- **Type**: `integer`\n\n**Inputs**\n"
    )
    merged = import_page(page, PLATFORM, committed).text
    heading = committed.index("\n\n  # ── Inputs", entry) + 1
    assert merged.startswith(committed[:heading] + "  - path: priority\n    group: apiOptions\n")
    assert merged.endswith(committed[heading:])
    # A key added to the entry just above a heading goes above the heading.
    fresh = import_page(
        docs_page_text, PLATFORM, committed.replace("    docsDigest: 5f112fe911c0\n", "")
    )
    assert fresh.text == committed


def test_a_page_without_request_parameters_is_flagged_and_merges_to_valid_yaml(
    base: ImportResult,
) -> None:
    page = (
        BASE_TEXT[: BASE_TEXT.index("## Request Parameters")]
        + BASE_TEXT[BASE_TEXT.index("## Response Parameters") :]
    )
    commented = base.text.replace("parameters:\n", "parameters:\n  # ── API options ──\n", 1)
    merged = import_page(page, PLATFORM, commented)
    assert "no ## Request Parameters section" in "\n".join(n.message for n in merged.notes)
    assert yaml_data(merged.text)["parameters"] == []


def test_a_changed_item_limit_keeps_its_rule_and_is_classified_as_a_bound(
    base: ImportResult,
) -> None:
    limit = (
        "When `negativePrompt` or `cameraMotion` is provided, "
        "`inputs.referenceImages` is limited to {} items."
    )
    rule_id = "reference-images-limit-with-negative-prompt-camera-motion"
    pages = {n: add_sentence(limit.format(n))(BASE_TEXT) for n in (2, 3, 5)}
    three = import_page(pages[3], PLATFORM, base.text).text
    curated = three.replace(f"  - id: {rule_id}\n", f"  - id: {rule_id}\n    notes: [ours]\n")
    for n, level, words in ((2, "ERR", "lowered 3 → 2"), (5, "INFO", "raised 3 → 5")):
        merged = import_page(pages[n], PLATFORM, curated)
        rule = next(r for r in yaml_data(merged.text)["rules"] if r["kind"] == "limitItems")
        assert (rule["id"], rule["maxItems"], rule["notes"]) == (rule_id, n, ["ours"])
        assert f"at most {n} items" in rule["message"]
        for old, new in (
            (typed(curated), typed(merged.text)),
            (
                typed(import_page(pages[3], PLATFORM).text),
                typed(import_page(pages[n], PLATFORM).text),
            ),
        ):
            assert [c.line() for c in diff(old, new)] == [
                f"{level:<5} request   {rule_id}: item limit {words}"
            ]
        assert not import_page(pages[n], PLATFORM, merged.text).changed


def test_a_fact_written_after_the_description_is_a_warning_not_prose(base: ImportResult) -> None:
    page = edit(BASE_TEXT, ("Length in seconds.\n", "Length in seconds.\n\n- **Max**: `6`\n"))
    merged = import_page(page, PLATFORM, base.text)
    line = page.splitlines().index("- **Max**: `6`") + 1
    assert not merged.changed
    assert [(n.level, n.line) for n in merged.notes if "after the description" in n.message] == [
        ("warning", line)
    ]


@pytest.mark.parametrize(
    ("old", "new", "level"),
    [(0.3, 0.1, "INFO"), (0.1, 0.3, "ERR"), (2, 1, "INFO"), (1, 2, "ERR"), (1, 0, "ERR")],
)
def test_a_step_change_is_wider_only_when_the_old_step_is_a_multiple_of_the_new(
    old: float, new: float, level: str
) -> None:
    def spec(step: float) -> ModelSpec:
        return only("parameters", path="fps", types=("number",), multiple_of=step)

    assert [(c.level, c.message) for c in diff(spec(old), spec(new))] == [
        (level, f"step {old} → {new}")
    ]


@pytest.mark.parametrize(
    ("fact", "written"),
    [("Type", "`int64`"), ("Min", "`one`"), ("Step", "`1.5.2`"), ("Default", "`many`"),
     ("Required", "yes")],
)  # fmt: skip
def test_a_fact_the_importer_cannot_read_leaves_the_spec_entry_alone(
    base: ImportResult, fact: str, written: str
) -> None:
    section = "- **Type**: `integer`\n- **Min**: `1`\n- **Max**: `4`\n- **Default**: `1`"
    facts = section + "\n- **Step**: `1`\n- **Required**: false"
    edited = re.sub(rf"(- \*\*{fact}\*\*: )[^\n]+", lambda m: m[1] + written, facts)
    with_facts = edit(BASE_TEXT, (section, facts))
    spec = import_page(with_facts, PLATFORM, base.text).text
    merged = import_page(edit(with_facts, (facts, edited)), PLATFORM, spec)
    assert not merged.changed, merged.text
    notes = [(n.level, n.message) for n in merged.notes if "numberResults" in n.message]
    assert [level for level, _ in notes] == ["warning", "conflict"], notes
    fresh = import_page(edit(with_facts, (facts, edited)), PLATFORM).spec
    number = next(p for p in fresh["parameters"] if p["path"] == "numberResults")
    assert all(v is not None for v in number.values())


def test_a_rate_whose_quote_changes_is_listed(base: ImportResult) -> None:
    page = edit(
        BASE_TEXT, ("- **720p · 5s · (audio)**: `$0.40`", "- **720p · 2s · (audio)**: `$0.16`")
    )
    changes = diff(typed(base.text), typed(import_page(page, PLATFORM, base.text).text))
    assert [c.line() for c in changes] == [
        "INFO  model     pricing: 720p audio: rate quote or notes changed"
    ]


def test_dropping_the_exactly_one_rule_questions_the_optional_width_and_height(
    base: ImportResult,
) -> None:
    page = edit(
        BASE_TEXT,
        ("Provide exactly one of: `inputs.frameImages` or `width/height`.\n\n---\n\n", ""),
    )
    merged = import_page(page, PLATFORM, base.text)
    conflicts = [n for n in merged.notes if n.level == "conflict"]
    assert [n.message.split(":")[0] for n in conflicts] == ["width", "height"]
    assert all("no either-or rule" in n.message for n in conflicts)


def test_a_repeated_example_title_is_a_warning_and_the_merge_settles(base: ImportResult) -> None:
    start = BASE_TEXT.index("### Paper Boats (Text to Video)")
    page = BASE_TEXT + "\n---\n\n" + BASE_TEXT[start:].replace("boats", "ships")
    merged = import_page(page, PLATFORM, base.text)
    assert not merged.changed
    assert [n.level for n in merged.notes if "appears twice" in n.message] == ["warning"]


def test_an_example_whose_json_breaks_on_the_page_stays_in_the_spec(base: ImportResult) -> None:
    start = BASE_TEXT.index("### Paper Boats (Text to Video)")
    broken = BASE_TEXT[:start] + BASE_TEXT[start:].replace("{", "{,", 1)
    merged = import_page(broken, PLATFORM, base.text)
    assert not merged.changed
    assert [
        n.level for n in merged.notes if "Paper Boats" in n.message or "paper-boats" in n.message
    ] == [
        "warning",
        "warning",
        "conflict",
    ]


@pytest.mark.parametrize(
    ("key", "old", "new", "level"),
    [
        ("type", "string", ["string", "integer"], "WARN"),
        ("type", ["string", "integer"], "string", "INFO"),
        ("type", "string", "number", "ERR"),
        ("const", None, "videoInference", "INFO"),
        ("const", "videoInference", None, "WARN"),
        ("const", "videoInference", "imageInference", "ERR"),
        ("format", "uri", "uuid", "ERR"),
        ("format", None, "uri", "INFO"),
    ],
)
def test_a_response_field_that_widens_or_changes_is_flagged_for_clients(
    key: str, old: Any, new: Any, level: str
) -> None:
    def spec(value: Any) -> ModelSpec:
        if key == "type":
            return only("response", path="videoURL", types=tuple(_list(value)))
        return only("response", path="videoURL", types=("string",), **{key: value})

    assert [(c.level, c.direction) for c in diff(spec(old), spec(new))] == [(level, "response")]


def test_model_facts_the_page_lacks_are_not_overwritten_with_placeholders(
    base: ImportResult,
) -> None:
    page = edit(BASE_TEXT, ("March 3, 2026", "3 March 2026"), ("- **Creator**: Acme Labs\n", ""))
    page = page[page.index("# Acme Motion 2") :]  # no front matter: no slug, no docs URL
    merged = import_page(page, PLATFORM, base.text)
    assert not merged.changed, merged.text
    warned = " | ".join(n.message for n in merged.notes if n.level == "warning")
    for words in ("release date not understood", "no Creator fact", "no front matter"):
        assert words in warned


def test_cli_regenerate_leaves_the_spec_alone_when_the_import_is_unusable(
    base: ImportResult, tmp_path: Path
) -> None:
    spec_dir = write_spec(tmp_path, base.text)
    before = sorted((spec_dir / "models").iterdir())
    page = tmp_path / "empty.md"
    page.write_text("", encoding="utf-8")
    out = tmp_path / "out"
    stopped = run_codegen("regenerate", str(page), "--spec", str(spec_dir), "--out", str(out))
    assert stopped.returncode == 1 and not out.exists()
    assert "spec left as it was" in stopped.stderr
    assert sorted((spec_dir / "models").iterdir()) == before  # no stray model file
    assert (spec_dir / "models" / f"{SLUG}.yaml").read_text() == base.text
    assert run_codegen("lint-spec", "--spec", str(spec_dir)).returncode == 0


@pytest.mark.parametrize(
    ("part", "edit_pair", "kept"),
    [
        ("dimensions", ("| `720p (1:1)` | `960x960` |", "| `720p (1:1)` | `960 by 960` |"), 3),
        ("dimensions", ("| `720p (1:1)` | `960x960` |", "| `720p square` | `960x960` |"), 3),
        ("pricing", ("`$0.40`", "`0.40 USD`"), 2),
        (
            "parameters",
            (
                "### [cameraMotion](https://runware.ai/docs/models/acme-motion-2#request-cameramotion)",
                "### cameraMotion",
            ),
            1,
        ),
    ],
)
def test_a_half_read_table_keeps_the_spec_entries_it_could_not_read(
    base: ImportResult, part: str, edit_pair: tuple[str, str], kept: int
) -> None:
    merged = import_page(edit(BASE_TEXT, edit_pair), PLATFORM, base.text)
    assert not merged.changed, merged.text
    assert any(n.level == "warning" for n in merged.notes)
    assert any(n.level == "conflict" and n.message.startswith(part) for n in merged.notes)
    spec = yaml_data(merged.text)
    count = {
        "dimensions": len(spec["dimensions"]["rows"]),
        "pricing": len(spec["pricing"]["rates"]),
        "parameters": sum(p["path"] == "cameraMotion" for p in spec["parameters"]),
    }[part]
    assert count == kept


def test_a_sub_heading_without_a_parent_is_a_warning(base: ImportResult) -> None:
    page = edit(BASE_TEXT, ("### [taskType](", "#### [taskType]("))
    notes = import_page(page, PLATFORM).notes
    line = (
        page.splitlines().index(
            "#### [taskType](https://runware.ai/docs/models/acme-motion-2#request-tasktype)"
        )
        + 1
    )
    assert any(n.line == line and "no ### above it" in n.message for n in notes)
