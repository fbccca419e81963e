"""Typed, immutable view of the spec files (spec/platform.yaml and spec/models/*.yaml).

Every object keeps the location it was read from so later checks can point at
file:line:column. The loader (``loader``) builds these from YAML that the
meta-schema has already accepted, so constructors trust the shapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..runtime.rule_kinds import KINDS
from ..runtime.runtime import describe_rate

Scalar = str | int | float | bool


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value (a bool is boolean, never integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@dataclass(frozen=True)
class Loc:
    """A position in a spec file; line and column are 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Located:
    """Base for objects read from a YAML mapping: where it starts and where each key is."""

    loc: Loc
    key_locs: Mapping[str, Loc] = field(repr=False, compare=False)

    def at(self, key: str) -> Loc:
        """Location of ``key``'s value, or of the object itself when the key is absent."""
        return self.key_locs.get(key, self.loc)


@dataclass(frozen=True)
class EnumValue:
    value: Scalar
    description: str | None = None


@dataclass(frozen=True)
class Items:
    type: str
    format: str | None = None


@dataclass(frozen=True)
class Parameter(Located):
    """A request parameter or response field, addressed by its dotted path.

    Properties of array items use the array's path as prefix
    (``inputs.frameImages.image`` is a property of each ``inputs.frameImages`` item).
    ``const`` and ``default`` are ``None`` when the spec gives none (null is never a value).
    """

    path: str = ""
    types: tuple[str, ...] = ()
    required: bool = False
    description: str | None = None
    group: str | None = None
    anchor: str | None = None
    items: Items | None = None
    const: Scalar | None = None
    enum: tuple[EnumValue, ...] = ()
    default: Scalar | None = None
    minimum: float | None = None
    maximum: float | None = None
    multiple_of: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    format: str | None = None
    paired_with: str | None = None
    unique: bool = False
    derived: bool = False
    inferred: bool = False
    docs_type: str | None = None
    docs_path: str | None = None
    docs_required: bool | None = None
    docs_digest: str | None = None  # fingerprint of the page's prose (the importer's)
    curated: tuple[str, ...] = ()  # keys a curator set: the importer keeps them
    codes: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def bounds(self) -> dict[str, float | int]:
        """The numeric, length and size bounds that are set, by their spec key."""
        pairs = (
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("multipleOf", self.multiple_of),
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("minItems", self.min_items),
            ("maxItems", self.max_items),
        )
        return {key: value for key, value in pairs if value is not None}

    @property
    def parent_path(self) -> str | None:
        return self.path.rsplit(".", 1)[0] if "." in self.path else None

    @property
    def is_object_array(self) -> bool:
        return self.types == ("array",) and self.items is not None and self.items.type == "object"

    @property
    def is_container(self) -> bool:
        """True when other parameters may nest under this one's path."""
        return self.types == ("object",) or self.is_object_array


@dataclass(frozen=True)
class Source:
    quote: str
    section: str | None = None
    anchor: str | None = None


@dataclass(frozen=True)
class Rule(Located):
    """A cross-field rule. ``args`` holds its kind's own keys (``codegen.kinds.rule_args``:
    the plain form the rule tables carry); which keys a kind takes is the registry's
    (``codegen/runtime/rule_kinds.py``), and the meta-schema enforces them."""

    id: str = ""
    kind: str = ""
    message: str = ""
    source: Source = field(default_factory=lambda: Source(quote=""))
    notes: tuple[str, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)
    # False: a curator's resolution of a page's contradiction (notes say why); the
    # generated validators and the consistency analysis leave the rule out.
    enforced: bool = True

    def referenced_paths(self) -> Iterator[tuple[str, str]]:
        """Every parameter path the rule names, with the key it is written under."""
        return KINDS[self.kind].paths(self.args)


@dataclass(frozen=True)
class PriceRate(Located):
    """One price row. It applies to a task of its resolution whose audio is as the row
    says (None: either), with at least one ``provided`` path given, none of the ``absent``
    ones, each ``values`` path at its value (after defaults: "1024 x 1024 · low" is width,
    height and a provider's quality), and (a clip price) a duration of ``seconds``. The
    amount is one of ``per_second``, ``per_clip`` (with ``seconds``) or ``per_image``."""

    resolution: str | None = None  # None: any resolution ("5s")
    aspect_ratio: str | None = None  # the row's aspect ratio ("16:9 · 480p · 5s")
    audio: bool | None = None
    per_second: float | None = None
    per_clip: float | None = None
    per_image: float | None = None
    seconds: float | None = None
    provided: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    values: Mapping[str, Scalar] = field(default_factory=dict)
    quote: str = ""

    @property
    def key(self) -> str:
        return rate_label(
            {"resolution": self.resolution, "aspectRatio": self.aspect_ratio,
             "audio": self.audio, "seconds": self.seconds,
             "provided": list(self.provided), "absent": list(self.absent),
             "values": dict(self.values)}
        )  # fmt: skip

    @property
    def amount_key(self) -> str:
        """The spec key of the row's price: perSecond, perImage or perClip."""
        if self.per_second is not None:
            return "perSecond"
        return "perImage" if self.per_image is not None else "perClip"

    @property
    def amount(self) -> tuple[float | None, str]:
        """The row's price and what it is for ("per second", "a clip", "per image")."""
        words = {"perSecond": "per second", "perImage": "per image", "perClip": "a clip"}
        key = self.amount_key
        return {"perSecond": self.per_second, "perImage": self.per_image,
                "perClip": self.per_clip}[key], words[key]  # fmt: skip


RATE_KEYS = ("resolution", "aspectRatio", "audio", "seconds", "provided", "absent", "values")


def rate_label(row: Mapping[str, Any]) -> str:
    """What tells two price rows apart, in words (the differ matches rows by it)."""
    return describe_rate({k: row[k] for k in RATE_KEYS if row.get(k) not in (None, [])})


@dataclass(frozen=True)
class Surcharge(Located):
    """A prose add-on of the price list, on top of a result's row price, when one of the
    ``provided`` paths is given or (``enabled``) one of those boolean paths is true:
    ``per_second`` of the output, (``same_rate``) the input video's seconds at the row's
    rate, ``per_image`` once per result, or ``per_item`` for every item (image) the
    ``provided`` paths hold ("for every input image used, an additional $X")."""

    provided: tuple[str, ...] = ()
    enabled: tuple[str, ...] = ()
    per_second: float | None = None
    per_image: float | None = None
    per_item: float | None = None
    same_rate: bool = False
    quote: str = ""


@dataclass(frozen=True)
class Pricing(Located):
    currency: str = "USD"
    unit: str = "second"
    rates: tuple[PriceRate, ...] = ()
    surcharges: tuple[Surcharge, ...] = ()
    audio_default: bool = False
    quote: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DimensionRow(Located):
    label: str = ""
    resolution: str = ""
    width: int = 0
    height: int = 0
    aspect_ratio: str | None = None


@dataclass(frozen=True)
class Dimensions(Located):
    params: tuple[str, str] = ("width", "height")
    rows: tuple[DimensionRow, ...] = ()
    # the parameter whose values are the rows' resolution labels (a preset: "1K"), if any
    resolution_parameter: str | None = None


@dataclass(frozen=True)
class Behaviour(Located):
    id: str = ""
    quote: str = ""
    anchor: str = ""
    implemented_by: str = ""


@dataclass(frozen=True)
class Example(Located):
    name: str = ""
    title: str = ""
    kind: str = ""
    request: Mapping[str, Any] = field(default_factory=dict)
    response: Mapping[str, Any] = field(default_factory=dict)
    video: str | None = None
    image: str | None = None


@dataclass(frozen=True)
class ModelSpec(Located):
    id: str = ""
    name: str = ""
    slug: str = ""
    task_type: str = ""
    status: str = ""
    creator: str = ""
    release_date: str = ""
    capabilities: tuple[str, ...] = ()
    docs: str = ""
    summary: str = ""
    pricing: Pricing | None = None
    dimensions: Dimensions | None = None
    parameters: tuple[Parameter, ...] = ()
    response: tuple[Parameter, ...] = ()
    rules: tuple[Rule, ...] = ()
    behaviours: tuple[Behaviour, ...] = ()
    examples: tuple[Example, ...] = ()
    sha256: str = ""

    def parameter(self, path: str) -> Parameter | None:
        return next((p for p in self.parameters if p.path == path), None)


@dataclass(frozen=True)
class FormatDef(Located):
    name: str = ""
    description: str = ""
    pattern: str | None = None
    any_of: tuple[str, ...] = ()
    docs_name: str | None = None  # how the docs pages name the format


@dataclass(frozen=True)
class ErrorCode(Located):
    code: str = ""
    status: int = 400
    family: str = ""
    when: str = ""
    inferred: bool = False


@dataclass(frozen=True)
class TaskDef(Located):
    name: str = ""
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    response: tuple[Parameter, ...] = ()


@dataclass(frozen=True)
class DeliveryMethod:
    """One ``deliveryMethod`` value of a task type and what the request is answered with:
    ``results`` (the finished items, when the task is done) or ``acknowledgement``."""

    value: str
    answer: str
    description: str = ""


@dataclass(frozen=True)
class ResultShape:
    """What a finished result item of a task type carries: ``fields`` (the platform's
    response fields) and the role of some of them (the media's UUID, the seed, the NSFW
    flag, the cost) and, per ``outputType`` value, the field that carries the media."""

    uuid: str = ""
    seed: str = ""
    nsfw: str = ""
    cost: str = ""
    output_types: Mapping[str, str] = field(default_factory=dict)
    fields: tuple[Parameter, ...] = ()


@dataclass(frozen=True)
class TaskType(Located):
    """An inference task type a model spec may name, with its lifecycle."""

    name: str = ""
    description: str = ""
    media: str = ""
    delivery_methods: tuple[DeliveryMethod, ...] = ()
    default_delivery: str = ""
    acknowledgement: tuple[str, ...] = ()
    result: ResultShape = field(default_factory=ResultShape)
    polled_fields: tuple[Parameter, ...] = ()

    def delivery(self, value: str) -> DeliveryMethod | None:
        return next((d for d in self.delivery_methods if d.value == value), None)


@dataclass(frozen=True)
class RuleKind(Located):
    name: str = ""
    description: str = ""
    codes: Mapping[str, str] = field(default_factory=dict)
    phrasings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Platform(Located):
    name: str = ""
    docs: str = ""
    transport: Mapping[str, Any] = field(default_factory=dict)
    presence: str = ""
    formats: Mapping[str, FormatDef] = field(default_factory=dict)
    api_options: tuple[Parameter, ...] = ()
    tasks: Mapping[str, TaskDef] = field(default_factory=dict)
    task_statuses: tuple[EnumValue, ...] = ()
    task_types: Mapping[str, TaskType] = field(default_factory=dict)  # inference task types
    errors: tuple[ErrorCode, ...] = ()
    constraint_codes: Mapping[str, str] = field(default_factory=dict)
    rule_kinds: Mapping[str, RuleKind] = field(default_factory=dict)
    pricing_units: Mapping[str, str | None] = field(default_factory=dict)  # unit -> parameter
    pricing_amounts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # unit -> keys
    pricing_results: str = "numberResults"  # a task's price is a result's times this
    pricing_terms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # label term
    capabilities: tuple[str, ...] = ()  # the known ones; a model may name others
    sha256: str = ""
    text: str = field(default="", repr=False, compare=False)  # the file, shipped in the package

    def error(self, code: str) -> ErrorCode | None:
        return next((e for e in self.errors if e.code == code), None)

    def result_fields(self, model: ModelSpec) -> tuple[Parameter, ...]:
        """Every field a finished or polled item of ``model`` may carry: the model's own
        response fields, then its task type's result fields the model does not list, then
        the fields a getResponse item adds."""
        task_type = self.task_types.get(model.task_type)
        if task_type is None:
            return model.response
        listed = {p.path for p in model.response}
        extra = tuple(p for p in task_type.result.fields if p.path not in listed)
        return (*model.response, *extra, *task_type.polled_fields)


@dataclass(frozen=True)
class SpecSet:
    """The platform spec and every model spec, as loaded from one spec folder."""

    platform: Platform
    models: tuple[ModelSpec, ...]

    def model(self, model_id: str) -> ModelSpec:
        for m in self.models:
            if m.id == model_id:
                return m
        raise KeyError(model_id)
