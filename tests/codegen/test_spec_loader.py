"""Each loader error, from a small broken spec, names the file and the line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codegen import SpecError, load_specs
from codegen.spec.loader import survey
from tests.conftest import REPO, SPEC_DIR

TINY = """\
specVersion: 1
kind: model
id: acme:tiny@1
name: Tiny
slug: tiny
taskType: videoInference
status: live
creator: Acme
releaseDate: '2026-01-01'
capabilities: [text-to-video]
docs: https://example.com/docs/tiny
summary: A tiny model for loader tests.
pricing:
  currency: USD
  unit: second
  audioDefault: false
  rates:
    - {resolution: 720p, audio: false, perSecond: 0.1, quote: 720p}
parameters:
  - {path: taskType, type: string, required: true, const: videoInference}
  - {path: taskUUID, type: string, required: true, format: uuid-v4}
  - {path: model, type: string, required: true, const: 'acme:tiny@1'}
  - path: duration
    type: integer
    minimum: 3
    maximum: 10
    default: 5
  - {path: outputFormat, type: string, default: MP4, enum: [{value: MP4}, {value: MOV}]}
  - {path: width, type: integer}
  - {path: height, type: integer}
  - {path: inputs, type: object}
  - {path: inputs.frames, type: array, items: {type: string, format: image-ref}}
response:
  - {path: taskUUID, type: string, required: true}
rules:
  - id: width-height-together
    kind: together
    params: [width, height]
    message: width and height go together.
    source: {anchor: request-width, quote: 'Paired with: height'}
examples:
  - name: one
    title: One
    kind: text-to-video
    request: {taskType: videoInference, model: 'acme:tiny@1', duration: 4, inputs: {frames: [a]}}
    response: {taskUUID: x}
"""

EXTRA_RULE = """\
  - id: width-height-together
    kind: requires
    when: {anyOf: [width]}
    then: {allOf: [height]}
    message: width needs height.
    source: {anchor: request-width, quote: again}
examples:"""


def write_spec(tmp_path: Path, model_text: str) -> Path:
    spec_dir = tmp_path / "spec"
    (spec_dir / "models").mkdir(parents=True)
    shutil.copy(SPEC_DIR / "platform.yaml", spec_dir / "platform.yaml")
    (spec_dir / "models" / "tiny.yaml").write_text(model_text, encoding="utf-8")
    return spec_dir


def line_of(text: str, marker: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert lines, marker
    return lines[-1]


def test_the_tiny_spec_is_valid(tmp_path: Path) -> None:
    spec = load_specs(write_spec(tmp_path, TINY))
    assert spec.model("acme:tiny@1").parameter("duration") is not None


# (case, old text, new text, marker on the reported line, expected message fragment)
CASES = [
    (
        "unknown key",
        "    default: 5\n",
        "    default: 5\n    colour: red\n",
        "colour: red",
        "unknown key 'colour'",
    ),
    (
        "wrong type",
        "    minimum: 3\n",
        "    minimum: three\n",
        "minimum: three",
        "'minimum' must be number, not string",
    ),
    (
        "rule names a missing parameter",
        "params: [width, height]",
        "params: [width, depth]",
        "params: [width, depth]",
        "rule 'width-height-together' names unknown parameter 'depth'",
    ),
    (
        "default above maximum",
        "    default: 5\n",
        "    default: 12\n",
        "default: 12",
        "'duration': default 12 is above the maximum 10",
    ),
    (
        "default below minimum",
        "    default: 5\n",
        "    default: 2\n",
        "default: 2",
        "'duration': default 2 is below the minimum 3",
    ),
    (
        "enum default not allowed",
        "default: MP4",
        "default: WEBM",
        "default: WEBM",
        "default 'WEBM' is not an allowed value ('MP4', 'MOV')",
    ),
    (
        "duplicate rule id",
        "examples:",
        EXTRA_RULE,
        "- id: width-height-together",
        "rule id 'width-height-together' is used twice",
    ),
    (
        "example names a missing parameter",
        "duration: 4,",
        "duration: 4, fps: 24,",
        "fps: 24",
        "example 'one': request names 'fps', which the spec lacks",
    ),
    (
        "example names a missing nested parameter",
        "inputs: {frames: [a]}",
        "inputs: {frames: [a], masks: [b]}",
        "masks",
        "request names 'inputs.masks'",
    ),
    (
        "missing required key",
        "    message: width and height go together.\n",
        "",
        "- id: width-height-together",
        "missing required key 'message'",
    ),
    (
        "missing top-level key",
        "summary: A tiny model for loader tests.\n",
        "",
        "specVersion",
        "missing required key 'summary'",
    ),
    ("unknown format", "format: uuid-v4", "format: uuid-v9", "uuid-v9", "unknown format 'uuid-v9'"),
    (
        "unknown error code",
        "{path: width, type: integer}",
        "{path: width, type: integer, codes: {type: noSuchCode}}",
        "noSuchCode",
        "code 'noSuchCode' (for type) is not in the error catalogue",
    ),
    (
        "parent not defined",
        "{path: inputs, type: object}",
        "{path: inputz, type: object}",
        "inputs.frames",
        "'inputs.frames' nests under 'inputs', which is not defined",
    ),
    (
        "key of another rule kind",
        "    params: [width, height]\n",
        "    params: [width, height]\n    forbid: [width]\n",
        "forbid: [width]",
        "unknown key 'forbid' here",
    ),
    (
        "unknown rule kind",
        "    kind: together\n",
        "    kind: mutuallyRequired\n",
        "kind: mutuallyRequired",
        "'kind' is 'mutuallyRequired'; allowed: exactlyOne, atLeastOne, requires",
    ),
    (
        "unknown pricing unit",
        "  unit: second\n",
        "  unit: minute\n",
        "unit: minute",
        "unknown pricing unit 'minute'; known: second, video, image",
    ),
    (
        "minimum above maximum",
        "    minimum: 3\n",
        "    minimum: 30\n",
        "minimum: 30",
        "minimum 30 is above maximum 10",
    ),
    (
        "bound on the wrong type",
        "{path: height, type: integer}",
        "{path: height, type: integer, maxLength: 4}",
        "maxLength: 4",
        "maxLength applies to string values",
    ),
    (
        "duplicate parameter",
        "  - {path: height, type: integer}\n",
        "  - {path: height, type: integer}\n  - {path: height, type: integer}\n",
        "path: height",
        "parameter 'height' is defined twice",
    ),
    (
        "const of the wrong type",
        "const: videoInference",
        "const: 3",
        "const: 3",
        "const 3 is not of type string",
    ),
    (
        "YAML syntax error",
        "  - {path: width, type: integer}",
        "  - {path: width, type: integer",
        "path: height",
        "YAML error",
    ),
    (
        "task type the platform lacks",
        "taskType: videoInference\n",
        "taskType: audioInference\n",
        "taskType: audioInference",
        "taskType 'audioInference' is not a task type of the platform (known: imageInference, "
        "videoInference)",
    ),
    (
        "taskType parameter naming another task type",
        "  - {path: taskType, type: string, required: true, const: videoInference}",
        "  - {path: taskType, type: string, required: true, const: imageInference}",
        "const: imageInference",
        "the taskType parameter is 'imageInference', but the model's taskType is 'videoInference'",
    ),
    (
        "delivery method its task type lacks",
        "  - {path: width, type: integer}\n",
        "  - {path: deliveryMethod, type: string, default: async,"
        " enum: [{value: async}, {value: sync}]}\n"
        "  - {path: width, type: integer}\n",
        "path: deliveryMethod",
        "deliveryMethod 'sync' is not one videoInference has (platform taskTypes: async)",
    ),
    (
        "output type its task type lacks",
        "  - {path: width, type: integer}\n",
        "  - {path: outputType, type: string, default: URL, enum: [{value: URL}, {value: GIF}]}\n"
        "  - {path: width, type: integer}\n",
        "path: outputType",
        "outputType 'GIF' is not one videoInference has (platform taskTypes: URL, base64Data, "
        "dataURI)",
    ),
    (
        "response field of another type than the task type's",
        "  - {path: taskUUID, type: string, required: true}\n",
        "  - {path: taskUUID, type: string, required: true}\n  - {path: seed, type: string}\n",
        "path: seed, type: string",
        "response field 'seed' is string, but a videoInference result's is integer",
    ),
    (
        "a per-image price under a per-second unit",
        "perSecond: 0.1, quote: 720p}",
        "perImage: 0.1, quote: 720p}",
        "perImage: 0.1",
        "price '720p no audio': a price per second is perSecond or perClip",
    ),
    (
        "a price condition on an unknown parameter",
        "perSecond: 0.1, quote: 720p}",
        "perSecond: 0.1, values: {steps: 30}, quote: 720p}",
        "values: {steps: 30}",
        "names unknown parameter 'steps'",
    ),
    (
        "a price condition on a value the parameter cannot take",
        "perSecond: 0.1, quote: 720p}",
        "perSecond: 0.1, values: {outputFormat: GIF}, quote: 720p}",
        "values: {outputFormat: GIF}",
        "'GIF' is not a value 'outputFormat' can take",
    ),
    (
        "duplicate YAML key",
        "    maximum: 10\n",
        "    maximum: 10\n    maximum: 11\n",
        "maximum: 11",
        "YAML error",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_loader_reports_error_with_file_and_line(
    tmp_path: Path, old: str, new: str, marker: str, message: str
) -> None:
    assert old in TINY
    text = TINY.replace(old, new, 1)
    spec_dir = write_spec(tmp_path, text)
    found = survey(spec_dir)
    matching = [i for i in found.issues if message in i.message]
    assert matching, [str(i) for i in found.issues]
    issue = matching[0]
    # An example naming what the spec lacks is served (a warning); the rest cannot be.
    served = "which the spec lacks" in message or "request names" in message
    assert issue.level == ("warning" if served else "error"), str(issue)
    if served:
        load_specs(spec_dir)
    else:
        with pytest.raises(SpecError) as info:
            load_specs(spec_dir)
        assert str(issue) in [str(i) for i in info.value.issues]
    assert issue.loc.file.endswith("models/tiny.yaml")
    assert issue.loc.line == line_of(text, marker), str(issue)
    assert str(issue).startswith(f"{issue.loc.file}:{issue.loc.line}:")


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    text = TINY.replace("default: MP4", "default: WEBM").replace("duration: 4,", "fps: 1,")
    found = survey(write_spec(tmp_path, text))
    messages = " | ".join(f"{i.level}: {i.message}" for i in found.issues)
    assert "error: 'outputFormat': default 'WEBM' is not an allowed value" in messages
    assert "warning: example 'one': request names 'fps'" in messages


def test_platform_errors_point_into_platform_file(tmp_path: Path) -> None:
    spec_dir = write_spec(tmp_path, TINY)
    platform = spec_dir / "platform.yaml"
    text = platform.read_text().replace("  missingParameter\n", "  missingParameterz\n", 1)
    text = text.replace("required: missingParameter\n", "required: noSuchCode\n")
    platform.write_text(text)
    with pytest.raises(SpecError) as info:
        load_specs(spec_dir)
    issue = next(i for i in info.value.issues if "noSuchCode" in i.message)
    assert issue.loc.file.endswith("platform.yaml")
    assert issue.loc.line == line_of(text, "required: noSuchCode")


def run_lint(spec_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegen", "lint-spec", "--spec", str(spec_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_lint_spec_command_passes_on_the_committed_spec() -> None:
    result = run_lint(SPEC_DIR)
    assert result.returncode == 0, result.stderr
    assert "spec OK" in result.stdout


def test_lint_spec_command_fails_with_positions(tmp_path: Path) -> None:
    text = TINY.replace("    default: 5\n", "    default: 12\n")
    result = run_lint(write_spec(tmp_path, text))
    assert result.returncode == 1
    assert f"tiny.yaml:{line_of(text, 'default: 12')}:" in result.stderr
    assert "1 error(s), 0 warning(s)" in result.stderr


def test_the_importer_reads_the_platform_through_the_loader(tmp_path: Path) -> None:
    """A platform naming a rule kind the registry lacks fails the importer too, at its line."""
    from codegen.docs.importer import load_platform

    platform = (SPEC_DIR / "platform.yaml").read_text(encoding="utf-8")
    assert "\n  exactlyOne:\n" in platform
    (tmp_path / "platform.yaml").write_text(
        platform.replace("\n  exactlyOne:\n", "\n  exactlyUno:\n")
    )
    with pytest.raises(SpecError) as info:
        load_platform(tmp_path)
    line = platform.split("\n").index("  exactlyOne:") + 1
    assert any(i.loc.line == line and "exactlyUno" in i.message for i in info.value.issues), [
        str(i) for i in info.value.issues
    ]
    assert load_platform(SPEC_DIR).rule_kinds["exactlyOne"].codes


def test_a_backtracking_format_pattern_is_refused(tmp_path: Path) -> None:
    spec_dir = write_spec(tmp_path, TINY)
    platform = spec_dir / "platform.yaml"
    text = platform.read_text()
    new = r"pattern: 'https?://[^\s/?#]+(?:[/?#][^\s]*)?'"
    assert new in text
    text = text.replace(new, r"pattern: 'https?://[^\s/?#]+[^\s]*'")  # the quadratic one
    platform.write_text(text)
    with pytest.raises(SpecError) as info:
        load_specs(spec_dir)
    (issue,) = [i for i in info.value.issues if "backtracking" in i.message]
    assert "format 'url'" in issue.message
    assert issue.loc.line == line_of(text, r"[^\s/?#]+[^\s]*")


# (case, old platform text, new platform text, marker, message)
PLATFORM_CASES = [
    (
        "default delivery method not among its values",
        "      default: async\n",
        "      default: sync\n",
        "default: sync",
        "videoInference: default delivery method 'sync' is not one of its values (async)",
    ),
    (
        "a result role naming no result field",
        "      uuid: videoUUID\n",
        "      uuid: clipUUID\n",
        "uuid: clipUUID",
        "videoInference: uuid names 'clipUUID', which is not one of its result fields",
    ),
    (
        "an output type's field naming no result field",
        "outputTypes: {URL: imageURL,",
        "outputTypes: {URL: pictureURL,",
        "URL: pictureURL",
        "imageInference: outputTypes names 'pictureURL', which is not one of its result fields",
    ),
    (
        "an acknowledgement naming no result field",
        "acknowledgement: [taskType, taskUUID]\n    result:\n      uuid: imageUUID",
        "acknowledgement: [taskType, ticket]\n    result:\n      uuid: imageUUID",
        "acknowledgement: [taskType, ticket]",
        "imageInference: acknowledgement names 'ticket', which is not one of its result fields",
    ),
    (
        "an unknown answer",
        "{value: sync, answer: results,",
        "{value: sync, answer: later,",
        "answer: later",
        "'answer' is 'later'; allowed: results, acknowledgement",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [c[1:] for c in PLATFORM_CASES],
    ids=[c[0] for c in PLATFORM_CASES],
)
def test_task_type_lifecycle_problems_point_into_the_platform_file(
    tmp_path: Path, old: str, new: str, marker: str, message: str
) -> None:
    spec_dir = write_spec(tmp_path, TINY)
    platform = spec_dir / "platform.yaml"
    text = platform.read_text()
    assert old in text, old
    at = text.index(old)
    text = text[:at] + text[at:].replace(old, new, 1)
    platform.write_text(text)
    with pytest.raises(SpecError) as info:
        load_specs(spec_dir)
    issue = next((i for i in info.value.issues if message in i.message), None)
    assert issue is not None, [str(i) for i in info.value.issues]
    assert issue.loc.file.endswith("platform.yaml")
    assert issue.loc.line == text[: text.index(marker, at)].count("\n") + 1, str(issue)


def test_the_platform_lifecycle_reaches_the_generated_package() -> None:
    from runware_contract import platform

    image, video = platform.TASK_TYPES["imageInference"], platform.TASK_TYPES["videoInference"]
    assert image["deliveryMethods"] == {"sync": "results", "async": "acknowledgement"}
    assert (image["defaultDeliveryMethod"], video["defaultDeliveryMethod"]) == ("sync", "async")
    assert video["deliveryMethods"] == {"async": "acknowledgement"}
    assert image["outputTypes"] == {
        "URL": "imageURL", "base64Data": "imageBase64Data", "dataURI": "imageDataURI"
    }  # fmt: skip
    assert (image["uuidField"], video["uuidField"]) == ("imageUUID", "videoUUID")
    assert image["acknowledgement"] == ["taskType", "taskUUID"]
    assert {f["path"] for f in image["polledFields"]} == {"status", "progress"}
    answers = platform.answers_with_results
    assert answers({"taskType": "imageInference"})  # sync by default
    assert not answers({"taskType": "imageInference", "deliveryMethod": "async"})
    assert not answers({"taskType": "videoInference"})
    assert not answers({"taskType": "videoInference", "deliveryMethod": "sync"})  # not offered
    assert not answers({"taskType": "getResponse"})
