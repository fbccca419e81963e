"""Load a spec folder into typed objects, reporting every problem with file:line:column.

Three passes, each reporting all it finds:
1. YAML syntax (ruamel.yaml, duplicate keys rejected);
2. structure, against the JSON Schema meta-schema ``meta_schema.yaml``;
3. meaning (``checks``): cross-references, defaults inside bounds, and so on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from ruamel.yaml import YAML

from ..runtime.rule_kinds import KINDS
from . import checks as spec_checks
from .kinds import rule_args, rule_meta_schema
from .model import (
    Behaviour,
    DeliveryMethod,
    DimensionRow,
    Dimensions,
    EnumValue,
    ErrorCode,
    Example,
    FormatDef,
    Items,
    Loc,
    ModelSpec,
    Parameter,
    Platform,
    PriceRate,
    Pricing,
    ResultShape,
    Rule,
    RuleKind,
    Source,
    SpecSet,
    Surcharge,
    TaskDef,
    TaskType,
    json_type,
)
from .yaml_source import (
    PathPart,
    SpecIssue,
    YamlDocument,
    errors,
    parse_yaml,
    read_yaml,
    to_plain,
)

PLATFORM_FILE = "platform.yaml"
MODELS_DIR = "models"


class SpecError(Exception):
    """The spec folder has problems; ``issues`` lists all of them in file order."""

    def __init__(self, issues: Sequence[SpecIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.loc.file, i.loc.line, i.loc.column))
        super().__init__("\n".join(str(i) for i in self.issues))


@cache
def meta_schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("meta_schema.yaml").read_text(encoding="utf-8")
    schema: dict[str, Any] = to_plain(YAML(typ="safe").load(text))
    # The kinds and each kind's keys come from the registry, never from a second list.
    schema["$defs"]["ruleKind"] = {"enum": list(KINDS)}
    schema["$defs"]["rule"]["allOf"] = rule_meta_schema()
    return schema


@cache
def _validator(kind: str) -> Draft202012Validator:
    schema = {k: v for k, v in meta_schema().items() if k != "oneOf"}
    schema["$ref"] = f"#/$defs/{kind}File"
    return Draft202012Validator(schema)


def spec_files(spec_dir: Path) -> list[Path]:
    """The platform file first, then model files in name order."""
    models = sorted((spec_dir / MODELS_DIR).glob("*.yaml"))
    return [spec_dir / PLATFORM_FILE, *models]


@dataclass
class Survey:
    """Everything one look at a spec folder found: the spec when it can be served (no
    errors), every error and warning of every file (``lint-spec`` prints them all at once),
    and the models that could be built, even beside errors (for the consistency analysis)."""

    spec: SpecSet | None
    issues: list[SpecIssue] = field(default_factory=list)
    models: list[ModelSpec] = field(default_factory=list)

    @property
    def errors(self) -> list[SpecIssue]:
        return errors(self.issues)


def survey(spec_dir: Path | str) -> Survey:
    """Load and check ``spec_dir``, collecting every problem of every file instead of
    stopping at the first file or pass that fails. Two files claiming one model ID are
    reported whatever else is wrong with them."""
    spec_dir = Path(spec_dir)
    issues: list[SpecIssue] = []
    platform: Platform | None = None
    models: list[ModelSpec] = []
    platform_path = spec_dir / PLATFORM_FILE
    if not platform_path.is_file():
        issues.append(SpecIssue(Loc(str(platform_path), 1, 1), "platform spec file is missing"))
    claimed: dict[str, str] = {}
    for path in spec_files(spec_dir):
        if not path.is_file():
            continue
        try:
            doc = read_yaml(path, _display(path))
        except SpecIssue as issue:
            issues.append(issue)
            continue
        expected = "platform" if path == platform_path else "model"
        model_id = doc.data.get("id") if isinstance(doc.data, dict) else None
        if expected == "model" and isinstance(model_id, str):
            if model_id in claimed:
                issues.append(
                    SpecIssue(
                        doc.loc(["id"]),
                        f"model id {model_id!r} is claimed by {claimed[model_id]} and {doc.file}",
                    )
                )
            claimed.setdefault(model_id, doc.file)
        found = structural_issues(doc, expected)
        if found:
            issues.extend(found)
            continue
        sha = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
        if expected == "platform":
            platform = _build_platform(doc, sha)
        else:
            models.append(_build_model(doc, sha))
    if platform is None:
        return Survey(None, issues, models)
    spec = SpecSet(platform=platform, models=tuple(models))
    issues.extend(spec_checks.check(spec, ids_checked=True))
    return Survey(None if errors(issues) else spec, issues, models)


def load_specs(spec_dir: Path | str) -> SpecSet:
    """Load and check ``spec_dir``; raise SpecError listing every error found (warnings
    do not stop it: ``lint-spec`` prints them)."""
    found = survey(spec_dir)
    if found.spec is None:
        raise SpecError(found.errors or found.issues)
    return found.spec


class NotAModelSpec(ValueError):
    """A YAML file that is not a model spec (the platform file, or some other document)."""


def read_model_text(text: str, name: str) -> ModelSpec:
    """One model spec from its text, its syntax and structure checked but not its meaning
    (no platform needed: the differ compares what two files say). NotAModelSpec for another
    kind of document; SpecError lists the problems of a model spec that fails the meta-schema."""
    try:
        doc = parse_yaml(text, name)
    except SpecIssue as issue:
        raise SpecError([issue]) from None
    kind = doc.data.get("kind") if isinstance(doc.data, dict) else None
    if kind != "model":
        what = f"kind: {kind}" if isinstance(kind, str) else f"a YAML {json_type(doc.data)}"
        raise NotAModelSpec(f"{name}: not a model spec ({what}; a model spec says kind: model)")
    issues = structural_issues(doc, "model")
    if issues:
        raise SpecError(issues)
    return _build_model(doc, hashlib.sha256(text.encode("utf-8")).hexdigest())


def load_model_text(text: str, name: str, platform: Platform) -> ModelSpec:
    """One model spec from its text, checked beside ``platform`` alone (the importer
    analyses what it made before anything is written); SpecError lists its errors."""
    return checked_model_text(text, name, platform)[0]


def checked_model_text(
    text: str, name: str, platform: Platform
) -> tuple[ModelSpec, list[SpecIssue]]:
    """As ``load_model_text``, with the warnings it is served with."""
    model = read_model_text(text, name)
    issues = list(spec_checks.check(SpecSet(platform=platform, models=(model,))))
    if errors(issues):
        raise SpecError(errors(issues))
    return model, issues


def load_platform(spec_dir: Path | str) -> Platform:
    """Load and check only ``spec_dir``'s platform file (the importer needs its vocabulary
    while a model file may still be missing or broken); SpecError lists its problems. The
    same unchanged file is read once per process (the typed platform is immutable)."""
    path = Path(spec_dir) / PLATFORM_FILE
    if not path.is_file():
        raise SpecError([SpecIssue(Loc(str(path), 1, 1), "platform spec file is missing")])
    stat = path.stat()
    return _platform_of(str(path.resolve()), _display(path), stat.st_mtime_ns, stat.st_size)


@cache
def _platform_of(resolved: str, display: str, mtime_ns: int, size: int) -> Platform:
    path = Path(resolved)
    try:
        doc = read_yaml(path, display)
    except SpecIssue as issue:
        raise SpecError([issue]) from None
    issues = structural_issues(doc, "platform")
    if issues:
        raise SpecError(issues)
    platform = _build_platform(doc, hashlib.sha256(doc.text.encode("utf-8")).hexdigest())
    issues = errors(list(spec_checks.check_platform(platform)))
    if issues:
        raise SpecError(issues)
    return platform


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ── structural pass ─────────────────────────────────────────────────────────


def structural_issues(doc: YamlDocument, expected_kind: str) -> list[SpecIssue]:
    data = doc.data
    if not isinstance(data, dict):
        return [SpecIssue(doc.loc([]), "a spec file must be a YAML mapping")]
    kind = data.get("kind")
    if kind != expected_kind:
        where = doc.loc(["kind"]) if "kind" in data else doc.loc([])
        return [SpecIssue(where, f"kind must be {expected_kind!r} in this file, not {kind!r}")]
    issues = [_describe(doc, err) for err in _validator(expected_kind).iter_errors(data)]
    unique = {(i.loc, i.message): i for i in issues}
    return list(unique.values())


def _describe(doc: YamlDocument, err: ValidationError) -> SpecIssue:
    """Turn a jsonschema error into a positioned, plain-words issue."""
    if err.validator in ("oneOf", "anyOf") and err.context:
        # Report the branch that got furthest instead of "is not valid under any".
        sub = best_match(err.context)
        if sub is not None and sub.validator not in ("oneOf", "anyOf", "const", "$ref"):
            return _describe(doc, sub)
    path: list[PathPart] = list(err.absolute_path)
    schema: Any = err.schema
    value: Any = err.validator_value
    name = f"{path[-1]!r}" if path and isinstance(path[-1], str) else "value"
    if "propertyNames" in err.absolute_schema_path:
        key: Any = err.instance
        return SpecIssue(doc.loc([*path, key], key=True), f"unknown key {key!r} here")
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(schema.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        if extra:
            return SpecIssue(doc.loc([*path, extra[0]], key=True), f"unknown key {extra[0]!r}")
    if err.validator == "required":
        missing = str(err.message).split("'")[1] if "'" in err.message else err.message
        return SpecIssue(doc.loc(path), f"missing required key {missing!r}")
    if err.validator == "type":
        wanted = value
        wanted_text = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
        return SpecIssue(
            doc.loc(path), f"{name} must be {wanted_text}, not {json_type(err.instance)}"
        )
    if err.validator in ("enum", "const"):
        allowed_values = value if err.validator == "enum" else [value]
        return SpecIssue(
            doc.loc(path),
            f"{name} is {err.instance!r}; allowed: {', '.join(map(str, allowed_values))}",
        )
    if err.validator == "pattern":
        return SpecIssue(doc.loc(path), f"{name} {err.instance!r} does not match {value!r}")
    return SpecIssue(doc.loc(path), f"{name}: {err.message}")


# ── building typed objects ──────────────────────────────────────────────────


class _Node:
    """A mapping from the plain data with its path, for building Located objects."""

    def __init__(self, doc: YamlDocument, path: Sequence[PathPart]) -> None:
        self.doc = doc
        self.path = list(path)
        value: Any = doc.data
        for part in path:
            value = value[part]
        self.data: Any = value

    def child(self, *parts: PathPart) -> _Node:
        return _Node(self.doc, [*self.path, *parts])

    def children(self, key: str) -> Iterator[_Node]:
        for i in range(len(self.data.get(key, []))):
            yield self.child(key, i)

    def located(self) -> dict[str, Any]:
        key_locs: Mapping[str, Loc] = {}
        if isinstance(self.data, dict):
            key_locs = {k: self.doc.loc([*self.path, k]) for k in self.data}
        return {"loc": self.doc.loc(self.path), "key_locs": key_locs}


def _parameter(node: _Node) -> Parameter:
    d = node.data
    types = d["type"] if isinstance(d["type"], list) else [d["type"]]
    items = d.get("items")
    return Parameter(
        **node.located(),
        path=d["path"],
        types=tuple(types),
        required=d.get("required", False),
        description=d.get("description"),
        group=d.get("group"),
        anchor=d.get("anchor"),
        items=Items(type=items["type"], format=items.get("format")) if items else None,
        const=d.get("const"),
        enum=tuple(EnumValue(e["value"], e.get("description")) for e in d.get("enum", [])),
        default=d.get("default"),
        minimum=d.get("minimum"),
        maximum=d.get("maximum"),
        multiple_of=d.get("multipleOf"),
        min_length=d.get("minLength"),
        max_length=d.get("maxLength"),
        min_items=d.get("minItems"),
        max_items=d.get("maxItems"),
        format=d.get("format"),
        paired_with=d.get("pairedWith"),
        unique=d.get("unique", False),
        derived=d.get("derived", False),
        inferred=d.get("inferred", False),
        docs_type=d.get("docsType"),
        docs_path=d.get("docsPath"),
        docs_required=d.get("docsRequired"),
        docs_digest=d.get("docsDigest"),
        curated=tuple(d.get("curated", ())),
        codes=dict(d.get("codes", {})),
        notes=tuple(d.get("notes", [])),
    )


def _parameters(node: _Node, key: str) -> tuple[Parameter, ...]:
    return tuple(_parameter(n) for n in node.children(key))


def _rule(node: _Node) -> Rule:
    d = node.data
    src = d["source"]
    return Rule(
        **node.located(),
        id=d["id"],
        kind=d["kind"],
        message=d["message"],
        source=Source(quote=src["quote"], section=src.get("section"), anchor=src.get("anchor")),
        notes=tuple(d.get("notes", [])),
        args=rule_args(d),
        enforced=d.get("enforced", True),
    )


def _rate(n: _Node) -> PriceRate:
    d = n.data
    number = {k: float(d[k]) if k in d else None for k in ("perSecond", "perClip", "perImage")}
    return PriceRate(
        **n.located(),
        resolution=d.get("resolution"),
        aspect_ratio=d.get("aspectRatio"),
        audio=d.get("audio"),
        per_second=number["perSecond"],
        per_clip=number["perClip"],
        per_image=number["perImage"],
        seconds=d.get("seconds"),
        provided=tuple(d.get("provided", ())),
        absent=tuple(d.get("absent", ())),
        values=dict(d.get("values", {})),
        quote=d["quote"],
    )


def _build_model(doc: YamlDocument, sha: str) -> ModelSpec:
    root = _Node(doc, [])
    d = root.data
    pricing_node = root.child("pricing")
    pd = pricing_node.data
    pricing = None
    if pd is not None:  # a model without prices: price() says it has none
        pricing = Pricing(
            **pricing_node.located(),
            currency=pd["currency"],
            unit=pd["unit"],
            audio_default=pd["audioDefault"],
            quote=pd.get("quote"),
            notes=tuple(pd.get("notes", [])),
            rates=tuple(_rate(n) for n in pricing_node.children("rates")),
            surcharges=tuple(
                Surcharge(
                    **n.located(),
                    provided=tuple(n.data.get("provided", ())),
                    enabled=tuple(n.data.get("enabled", ())),
                    per_second=n.data.get("perSecond"),
                    per_image=n.data.get("perImage"),
                    per_item=n.data.get("perItem"),
                    same_rate=bool(n.data.get("sameRate", False)),
                    quote=n.data["quote"],
                )
                for n in pricing_node.children("surcharges")
            ),
        )
    dimensions = None
    if "dimensions" in d:
        dn = root.child("dimensions")
        first, second = dn.data["params"]
        dimensions = Dimensions(
            **dn.located(),
            params=(first, second),
            resolution_parameter=dn.data.get("resolutionParameter"),
            rows=tuple(
                DimensionRow(
                    **n.located(),
                    label=n.data["label"],
                    resolution=n.data["resolution"],
                    width=n.data["width"],
                    height=n.data["height"],
                    aspect_ratio=n.data.get("aspectRatio"),
                )
                for n in dn.children("rows")
            ),
        )
    return ModelSpec(
        **root.located(),
        id=d["id"],
        name=d["name"],
        slug=d["slug"],
        task_type=d["taskType"],
        status=d["status"],
        creator=d["creator"],
        release_date=d["releaseDate"],
        capabilities=tuple(d["capabilities"]),
        docs=d["docs"],
        summary=d["summary"],
        pricing=pricing,
        dimensions=dimensions,
        parameters=_parameters(root, "parameters"),
        response=_parameters(root, "response"),
        rules=tuple(_rule(n) for n in root.children("rules")),
        behaviours=tuple(
            Behaviour(
                **n.located(),
                id=n.data["id"],
                quote=n.data["quote"],
                anchor=n.data["anchor"],
                implemented_by=n.data["implementedBy"],
            )
            for n in root.children("behaviours")
        ),
        examples=tuple(
            Example(
                **n.located(),
                name=n.data["name"],
                title=n.data["title"],
                kind=n.data["kind"],
                request=n.data["request"],
                response=n.data["response"],
                video=n.data.get("video"),
                image=n.data.get("image"),
            )
            for n in root.children("examples")
        ),
        sha256=sha,
    )


def _task_type(node: _Node, name: str) -> TaskType:
    d = node.data
    result = node.child("result")
    located = node.located()
    # nested keys by dotted name, so a check can point at the very value
    for part in ("deliveryMethods", "result"):
        nested = node.child(part).located()["key_locs"]
        located["key_locs"] = {
            **located["key_locs"],
            **{f"{part}.{k}": loc for k, loc in nested.items()},
        }
    return TaskType(
        **located,
        name=name,
        description=d["description"],
        media=d["media"],
        delivery_methods=tuple(
            DeliveryMethod(v["value"], v["answer"], v["description"])
            for v in d["deliveryMethods"]["values"]
        ),
        default_delivery=d["deliveryMethods"]["default"],
        acknowledgement=tuple(d["acknowledgement"]),
        result=ResultShape(
            uuid=result.data["uuid"],
            seed=result.data["seed"],
            nsfw=result.data["nsfw"],
            cost=result.data["cost"],
            output_types=dict(result.data["outputTypes"]),
            fields=_parameters(result, "fields"),
        ),
        polled_fields=_parameters(node, "polledFields"),
    )


def _build_platform(doc: YamlDocument, sha: str) -> Platform:
    root = _Node(doc, [])
    d = root.data
    return Platform(
        **root.located(),
        name=d["name"],
        docs=d["docs"],
        transport=d["transport"],
        presence=d["presence"]["description"],
        formats={
            name: FormatDef(
                **root.child("formats", name).located(),
                name=name,
                description=f["description"],
                pattern=f.get("pattern"),
                any_of=tuple(f.get("anyOf", [])),
                docs_name=f.get("docsName"),
            )
            for name, f in d["formats"].items()
        },
        api_options=_parameters(root, "apiOptions"),
        tasks={
            name: TaskDef(
                **root.child("tasks", name).located(),
                name=name,
                description=t["description"],
                parameters=_parameters(root.child("tasks", name), "parameters"),
                response=_parameters(root.child("tasks", name), "response"),
            )
            for name, t in d["tasks"].items()
        },
        task_statuses=tuple(EnumValue(s["value"], s.get("description")) for s in d["taskStatuses"]),
        task_types={
            name: _task_type(root.child("taskTypes", name), name) for name in d["taskTypes"]
        },
        errors=tuple(
            ErrorCode(
                **n.located(),
                code=n.data["code"],
                status=n.data["status"],
                family=n.data["family"],
                when=n.data["when"],
                inferred=n.data.get("inferred", False),
            )
            for n in root.children("errors")
        ),
        constraint_codes=dict(d["constraintCodes"]),
        rule_kinds={
            name: RuleKind(
                **root.child("ruleKinds", name).located(),
                name=name,
                description=k["description"],
                codes=dict(k["codes"]),
                phrasings=tuple(k["phrasings"]),
            )
            for name, k in d["ruleKinds"].items()
        },
        pricing_units={name: u.get("parameter") for name, u in d["pricingUnits"].items()},
        pricing_amounts={name: tuple(u["amounts"]) for name, u in d["pricingUnits"].items()},
        pricing_results=d["pricingResults"]["parameter"],
        pricing_terms={term: dict(meaning) for term, meaning in d["pricingTerms"].items()},
        capabilities=tuple(d["capabilities"]),
        sha256=sha,
        text=doc.text,
    )
