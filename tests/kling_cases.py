"""Tasks for Kling VIDEO 3.0 Pro: one rich valid task, and violations of every
field constraint (derived from the generated parameter table) and of every rule."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from runware_contract import klingai_video_3_0_pro as kling
from runware_contract.platform import CONSTRAINT_CODES

UUID_A = "aac49721-1964-481a-ae78-8a4e29b91402"
UUID_B = "3ad204c3-a9de-4963-8a1a-c3911e3afafe"
TASK_UUID = "08885c1c-3794-4bb7-adab-b8df47f93c80"

# Every parameter of the model, each with a valid value, every rule satisfied.
RICH: dict[str, Any] = {
    "taskType": "videoInference",
    "taskUUID": TASK_UUID,
    "model": kling.MODEL_ID,
    "positivePrompt": "A video of <<<element_1>>> chasing <<<element_2>>> through rain",
    "negativePrompt": "blurry",
    "outputType": "URL",
    "outputFormat": "WEBM",
    "outputQuality": 80,
    "webhookURL": "https://hooks.example.com/runware?token=abc",
    "deliveryMethod": "async",
    "uploadEndpoint": "https://bucket.example.com/out.webm?X-Amz-Signature=abc",
    "safety": {"checkContent": True, "mode": "full"},
    "ttl": 3600,
    "includeCost": True,
    "numberResults": 2,
    "duration": 10,
    "inputs": {
        "referenceImages": [UUID_A, "https://example.com/ref.png"],
        "frameImages": [
            {"image": UUID_A, "frame": "first"},
            {"image": "data:image/png;base64,iVBORw0KGgo=", "frame": -1},
        ],
        "referenceVideos": ["https://example.com/ref.mp4"],
        "elements": [
            {
                "id": "hero",
                "description": "A young woman with red hair",
                "frontalImage": UUID_B,
                "images": ["https://example.com/side.jpg", "iVBORw0KGgoAAAANSUhEUgAAAAE="],
                "voices": ["https://example.com/voice.mp3"],
                "tags": ["Character"],
            },
            {"id": "car", "videos": ["https://example.com/car.mp4"]},
        ],
    },
    "providerSettings": {"klingai": {"characterOrientation": "video", "keepOriginalSound": True}},
}


@dataclass(frozen=True)
class Case:
    id: str
    task: dict[str, Any]
    code: str
    parameter: str


def wire_path(task: dict[str, Any], path: str) -> tuple[str, list[Any]]:
    """The concrete dotted path of a spec path in ``task`` (index 0 through object arrays),
    and the chain of containers leading to it."""
    node: Any = task
    parts: list[str] = []
    chain: list[Any] = []
    for name in path.split("."):
        if isinstance(node, list):  # the first item that has the next key
            index = next((i for i, item in enumerate(node) if name in item), 0)
            parts.append(str(index))
            node = node[index]
        chain.append(node)
        parts.append(name)
        node = node.get(name) if isinstance(node, dict) else None
    return ".".join(parts), chain


def mutate(
    task: dict[str, Any], path: str, change: Callable[[dict[str, Any], str], None]
) -> dict[str, Any]:
    result = copy.deepcopy(task)
    _, chain = wire_path(result, path)
    change(chain[-1], path.rsplit(".", 1)[-1])
    return result


def _setter(value: Any) -> Callable[[dict[str, Any], str], None]:
    def change(obj: dict[str, Any], key: str) -> None:
        obj[key] = value

    return change


def _delete(obj: dict[str, Any], key: str) -> None:
    del obj[key]


def wrong_type_value(types: list[str]) -> Any:
    for value, kind in (
        ("text", "string"),
        (7, "integer"),
        (True, "boolean"),
        ([1], "array"),
        ({"a": 1}, "object"),
    ):
        if kind not in types and not (kind == "integer" and "number" in types):
            return value
    raise AssertionError(types)


def field_cases() -> Iterator[Case]:
    """One violating task per constraint of every parameter in the generated table."""
    for p in kling.tables.PARAMETERS:
        path, types = p["path"], p["types"]
        where, _ = wire_path(RICH, path)
        codes = {**CONSTRAINT_CODES, **p.get("codes", {})}

        def case(
            constraint: str,
            change: Callable[[dict[str, Any], str], None],
            at: str = where,
            path: str = path,
            codes: dict[str, str] = codes,
        ) -> Case:
            return Case(f"{path}:{constraint}", mutate(RICH, path, change), codes[constraint], at)

        if p.get("required"):
            yield case("required", _delete)
        yield case("type", _setter(wrong_type_value(types)))
        yield Case(f"{path}:null", mutate(RICH, path, _setter(None)), codes["type"], where)
        if "const" in p:
            yield case("const", _setter("something-else"))
        if "enum" in p:
            yield case("enum", _setter("not-an-allowed-value" if "string" in types else 123456))
        if "minimum" in p:
            yield case("minimum", _setter(p["minimum"] - 1))
        if "maximum" in p:
            yield case("maximum", _setter(p["maximum"] + 1))
        if "minLength" in p:
            yield case("minLength", _setter("x" * (p["minLength"] - 1)))
        if "maxLength" in p:
            yield case("maxLength", _setter("x" * (p["maxLength"] + 1)))
        if "format" in p:
            yield case("format", _setter("not a valid value!"))
        if "maxItems" in p:
            current = wire_value(RICH, path)
            longer = [copy.deepcopy(current[0]) for _ in range(p["maxItems"] + 1)]
            yield case("maxItems", _setter(longer))
        items = p.get("items", {})
        if "format" in items:
            yield case("format", _setter(["not a valid value!"]), f"{where}.0")
        if items.get("type") == "string":
            yield Case(
                f"{path}:itemType", mutate(RICH, path, _setter([5])), codes["type"], f"{where}.0"
            )
    for container in (
        "",
        "safety",
        "inputs",
        "inputs.frameImages",
        "inputs.elements",
        "providerSettings",
        "providerSettings.klingai",
    ):
        task = copy.deepcopy(RICH)
        target: Any = task
        where = ""
        if container:
            where, chain = wire_path(task, container)
            target = chain[-1][container.rsplit(".", 1)[-1]]
            if isinstance(target, list):
                target, where = target[0], f"{where}.0"
            where += "."
        target["bogusKey"] = 1
        yield Case(
            f"{container or 'root'}:unknown", task, CONSTRAINT_CODES["unknown"], f"{where}bogusKey"
        )


def wire_value(task: dict[str, Any], path: str) -> Any:
    _, chain = wire_path(task, path)
    return chain[-1][path.rsplit(".", 1)[-1]]


def example(name: str) -> dict[str, Any]:
    found = next(e for e in kling.EXAMPLES if e.name == name)
    return copy.deepcopy(found.request)


T2V = "volcanic-glass-violin-recital"
I2V = "copper-aviary-dawn-tableau"


def _edit(base: dict[str, Any], fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    task = copy.deepcopy(base)
    fn(task)
    return task


def _both_first(t: dict[str, Any]) -> None:
    t["inputs"]["frameImages"][1]["frame"] = 0


def _alias_clash(t: dict[str, Any]) -> None:
    t["inputs"]["frameImages"][0]["frame"] = "last"  # the second one is -1: also last


def _frames_to_size(t: dict[str, Any]) -> None:
    del t["inputs"]["frameImages"]
    t.update(width=1920, height=1080)


def _drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def fn(t: dict[str, Any]) -> None:
        for key in keys:
            node = t
            *parents, last = key.split(".")
            for part in parents:
                node = node[part]
            del node[last]

    return fn


# rule id → violating tasks (expected code comes from the rule's kind, parameter given here)
RULE_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "frame-images-or-dimensions",
        "none",
        _edit(example(T2V), _drop("width", "height")),
        "inputs.frameImages",
    ),
    (
        "frame-images-or-dimensions",
        "many",
        _edit(example(I2V), lambda t: t.update(width=1920, height=1080)),
        "width",
    ),
    (
        "elements-require-frame-images",
        "missing",
        _edit(RICH, _frames_to_size),
        "inputs.frameImages",
    ),
    (
        "reference-videos-require-provider-settings",
        "missing",
        _edit(RICH, _drop("providerSettings")),
        "providerSettings",
    ),
    (
        "provider-settings-require-reference-videos",
        "missing",
        _edit(RICH, _drop("inputs.referenceVideos")),
        "inputs.referenceVideos",
    ),
    (
        "provider-settings-require-reference-images",
        "missing",
        _edit(RICH, _drop("inputs.referenceImages")),
        "inputs.referenceImages",
    ),
    (
        "supported-dimensions",
        "unsupported",
        _edit(example(T2V), lambda t: t.update(height=1920)),
        "width",
    ),
    ("width-height-together", "missing", _edit(example(T2V), _drop("height")), "height"),
    ("frame-image-positions", "invalid", _edit(RICH, _both_first), "inputs.frameImages.1.frame"),
    ("frame-image-positions", "invalid", _edit(RICH, _alias_clash), "inputs.frameImages.1.frame"),
    (
        "element-images-require-frontal-image",
        "missing",
        _edit(RICH, lambda t: t["inputs"]["elements"][0].pop("frontalImage")),
        "inputs.elements.0.frontalImage",
    ),
    (
        "element-videos-exclude-images-and-voices",
        "present",
        _edit(
            RICH, lambda t: t["inputs"]["elements"][1].update(voices=["https://example.com/v.mp3"])
        ),
        "inputs.elements.1.voices",
    ),
    (
        "prompt-element-references",
        "unknown",
        _edit(RICH, lambda t: t.update(positivePrompt="Show <<<element_3>>> now")),
        "positivePrompt",
    ),
    (
        "ttl-needs-url-output",
        "notAllowed",
        _edit(RICH, lambda t: t.update(outputType="base64Data")),
        "outputType",
    ),
]
