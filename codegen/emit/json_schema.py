"""Emit JSON Schema 2020-12 for a model's request and response, straight from the spec.

Field constraints become keywords; cross-field rules become ``oneOf``/``not``/
``if``-``then``/``dependentRequired``/``contains`` wherever JSON Schema can say
them, placed on the object they hold for (the root, or each item of an array).
Each kind's encoding is its own (``kinds.py``); a kind JSON Schema cannot express
(prompt references) is named in ``$comment``; the generated rule validators enforce
every rule.

``fields_only=True`` leaves the rules out: that variant feeds
datamodel-code-generator, which mishandles rule composition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..spec.kinds import codegen_kind
from ..spec.model import Dimensions, ModelSpec, Parameter, Platform, Rule
from ..spec.param_tree import ROOT, ParamTree, pascal, relative, singular

Schema = dict[str, Any]
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def format_regex(platform: Platform, name: str) -> str:
    """The full regular expression of a format (unions expanded), unanchored."""
    fmt = platform.formats[name]
    if fmt.pattern is not None:
        return fmt.pattern
    return "|".join(f"(?:{format_regex(platform, part)})" for part in fmt.any_of)


def anchored(regex: str) -> str:
    return f"^(?:{regex})$"


class SchemaBuilder:
    """Builds the request or response schema of one model."""

    def __init__(
        self,
        platform: Platform,
        params: Sequence[Parameter],
        docs: str,
        dimensions: Dimensions | None = None,
    ) -> None:
        self.docs = docs
        self.dimensions = dimensions
        self.platform = platform
        self.tree = ParamTree.build(params)
        self.defs: dict[str, Schema] = {}
        self.def_names: dict[str, str] = {}

    # ── fields ──────────────────────────────────────────────────────────────

    def object_schema(self, path: str, rules: dict[str, list[Schema]]) -> Schema:
        kids = self.tree.kids(path)
        schema: Schema = {"type": "object", "additionalProperties": False}
        schema["properties"] = {k.name: self.field_schema(k, rules) for k in kids}
        required = [k.name for k in kids if k.required]
        if required:
            schema["required"] = required
        if rules.get(path):
            schema["allOf"] = rules[path]
        return schema

    def def_ref(self, path: str, name: str, schema: Schema) -> Schema:
        if name in self.defs and self.def_names.get(name) != path:
            name = pascal(path)
        self.defs[name] = schema
        self.def_names[name] = path
        return {"$ref": f"#/$defs/{name}"}

    def field_schema(self, p: Parameter, rules: dict[str, list[Schema]]) -> Schema:
        schema: Schema = {}
        if p.types == ("object",):
            obj = self.object_schema(p.path, rules)
            obj["title"] = pascal(p.path if p.path.count(".") > 0 else p.name)
            if p.description:
                obj["description"] = self.describe(p)
            return self.def_ref(p.path, obj["title"], obj)
        schema["type"] = p.types[0] if len(p.types) == 1 else list(p.types)
        if p.description:
            schema["description"] = self.describe(p)
        if p.const is not None:
            schema["const"] = p.const
        if p.enum:
            schema["enum"] = [e.value for e in p.enum]
        if p.default is not None:
            schema["default"] = p.default
        schema.update(p.bounds())
        if p.format is not None:
            schema["pattern"] = anchored(format_regex(self.platform, p.format))
        if p.items is not None:
            if p.items.type == "object":
                item = self.object_schema(p.path, rules)
                item["title"] = pascal(singular(p.name))
                schema["items"] = self.def_ref(p.path, item["title"], item)
            else:
                items: Schema = {"type": p.items.type}
                if p.items.format is not None:
                    items["pattern"] = anchored(format_regex(self.platform, p.items.format))
                schema["items"] = items
        return schema

    def describe(self, p: Parameter) -> str:
        text = p.description or ""
        if p.anchor:
            text += f"\n\nDocs: {self.docs}#{p.anchor}"
        return text

    # ── rules ───────────────────────────────────────────────────────────────

    def provided(self, path: str) -> Schema:
        """Schema true exactly when ``path`` (relative to its scope) is provided."""
        head, _, rest = path.partition(".")
        if rest:
            return {"required": [head], "properties": {head: self.provided(rest)}}
        return {"required": [head], "properties": {head: {"minItems": 1, "minProperties": 1}}}

    def condition(self, cond: Mapping[str, Any], scope: str) -> Schema:
        rel = relative(cond["path"], scope)
        if "equals" not in cond:
            positive = self.provided(rel)
        else:
            positive = self.nest(rel, {"const": cond["equals"]}, require=True)
        return {"not": positive} if cond.get("not") else positive

    def clause(self, clause: Mapping[str, Any], scope: str) -> Schema:
        parts = [self.condition(c, scope) for c in clause["conditions"]]
        return parts[0] if len(parts) == 1 else {clause["mode"]: parts}

    def relative(self, path: str, scope: str) -> str:
        return relative(path, scope)

    def any_provided(self, paths: Iterable[str], scope: str) -> Schema:
        parts = [self.provided(relative(p, scope)) for p in paths]
        return parts[0] if len(parts) == 1 else {"anyOf": parts}

    def nest(self, path: str, leaf: Schema, *, require: bool = False) -> Schema:
        """Apply ``leaf`` to the value at ``path`` (when present, or required)."""
        head, _, rest = path.partition(".")
        inner = self.nest(rest, leaf, require=require) if rest else leaf
        schema: Schema = {"properties": {head: inner}}
        if require:
            schema["required"] = [head]
        return schema

    def rules_by_scope(self, rules: Iterable[Rule]) -> dict[str, list[Schema]]:
        by_scope: dict[str, list[Schema]] = {}
        for rule in rules:
            paths = [p for _, p in rule.referenced_paths()]
            scope = self.tree.array_scope(paths) if paths else ROOT
            kind = codegen_kind(rule.kind)
            if not rule.enforced:  # a curator's resolution: the validators leave it out too
                note = f"rule {rule.id} is not enforced (see its notes in the spec)"
                by_scope.setdefault(scope, []).append({"$comment": note})
                continue
            if not kind.expressible:
                note = f"rule {rule.id} ({rule.kind}) is enforced by the generated validators only"
                by_scope.setdefault(scope, []).append({"$comment": note})
                continue
            schema = kind.schema(self, rule.args, scope)
            by_scope.setdefault(scope, []).append({"$comment": f"rule {rule.id}", **schema})
        return by_scope

    def document(self, title: str, rules: Iterable[Rule], header: str) -> Schema:
        root = self.object_schema(ROOT, self.rules_by_scope(rules))
        schema: Schema = {"$schema": DIALECT, "$comment": header, "title": title}
        schema.update(root)
        if self.defs:
            schema["$defs"] = dict(sorted(self.defs.items()))
        return schema


def request_schema(
    model: ModelSpec, platform: Platform, *, header: str, fields_only: bool = False
) -> Schema:
    builder = SchemaBuilder(platform, model.parameters, model.docs, model.dimensions)
    rules = () if fields_only else model.rules
    return builder.document(f"{pascal(model.task_type)}Request", rules, header)


def response_schema(model: ModelSpec, platform: Platform, *, header: str) -> Schema:
    builder = SchemaBuilder(platform, platform.result_fields(model), model.docs)
    return builder.document(f"{pascal(model.task_type)}Result", (), header)


def task_schema(platform: Platform, name: str, params: Sequence[Parameter], header: str) -> Schema:
    """Schema of a platform task's request or response (no rules)."""
    return SchemaBuilder(platform, params, platform.docs).document(name, (), header)
