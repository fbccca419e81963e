# Source of runware_contract/strategies.py (copied by `python -m codegen generate`).
"""Hypothesis strategies for a model's tasks, built from its tables (needs ``hypothesis``).

- ``valid_tasks(model)``: tasks the spec allows: random optional parameters at and between
  their bounds, every value form, then *repaired* rule by rule (each rule kind knows how
  to make itself hold) and checked against the contract.
- ``field_violations(model, path, constraint)``: valid tasks but for one broken field
  constraint (``type``, ``enum``, ``maximum``, ``required``, ``unknown``...).
- ``rule_violations(model, rule_id)``: valid tasks but for one broken rule: a *breaker*
  forces the rule's violation and *locks* what it set, repair fixes every other rule
  around the locks, and the result must break that rule and nothing else. A shrunk
  example therefore still breaks it.
- ``cases(model)``: every (name, strategy) pair of the above.

Speed: every Hypothesis choice costs about as much as checking a whole task, so the
strategies make few of them: every strategy is built once per model (never inside a
draw); which optional children an object has is one integer draw per eight children;
a format value (URL, UUID, data URI...) is one ``binary`` draw shaped into the format;
a number or a string is one draw plus one for "at a bound or between"; repair draws
only where it has a real choice to make.

Example::

    from hypothesis import given
    from runware_contract import klingai_video_3_0_pro as kling
    from runware_contract.strategies import valid_tasks

    @given(valid_tasks(kling))
    def test_my_client_accepts(task):
        my_client.check(task)
"""

from __future__ import annotations

import base64
import copy
import decimal
import math
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

try:
    from hypothesis import assume
    from hypothesis import strategies as st
except ModuleNotFoundError as _missing:  # a client-only install
    raise ImportError(
        "runware_contract.strategies needs hypothesis, from the [testing] extra: "
        "pip install 'runware-contract-kit[testing]'"
    ) from _missing

from .platform import FORMAT_UNIONS, FORMATS
from .rule_kinds import KINDS, Clause, kind_of
from .runtime import Violation, provided
from .values import MISSING, get, put

__all__ = [
    "cases",
    "field_violations",
    "format_values",
    "rule_violations",
    "valid_tasks",
    "violation_targets",
]

Draw = Callable[[st.SearchStrategy[Any]], Any]
Drawer = Callable[[Draw], Any]  # draws one value with the draw function of a composite
TEXT = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
MAX_ITEMS = 3  # array sizes drawn when the spec sets no smaller bound
MAX_TEXT = 40  # string lengths drawn between the bounds (the bounds themselves too)
SEED_TEXT = 4  # a string longer than MAX_TEXT repeats a drawn seed of this length
SMALL_RANGE = 100  # integer ranges drawn in one choice (values and bounds coded together)


# ── values of the platform's formats ────────────────────────────────────────
# Builders for the formats platform.yaml defines: each shapes one drawn byte string of
# fixed size into a value (a single Hypothesis choice, far cheaper than generating from
# the regular expression; bytes of a fixed size cost no "one more?" draw each), and a test
# checks every value they give fully matches the regex. Lengths vary with a byte of the
# draw. A union of formats with builders spends the first byte on which one. A format
# without a builder is generated from its regex.

_HOSTS = ("example.com", "assets.example.org", "127.0.0.1:8080", "cdn.example.net")
_PATH_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_/."
_IMAGE_KINDS = ("png", "jpeg", "webp")


def _path(raw: bytes) -> str:
    """0 to len(raw) - 1 path characters (the first byte says how many)."""
    size = raw[0] % len(raw) if raw else 0
    return "".join(_PATH_CHARS[b % len(_PATH_CHARS)] for b in raw[1 : 1 + size])


def _url(raw: bytes) -> str:
    return (
        f"{('http', 'https')[raw[0] & 1]}://{_HOSTS[(raw[0] >> 1) % len(_HOSTS)]}/{_path(raw[1:])}"
    )


def _uri(raw: bytes) -> str:
    return f"urn:example:x{_path(raw[1:])}" if raw[0] & 8 else _url(raw)


def _uuid(raw: bytes, version: int | None = None) -> str:
    return str(uuid.UUID(bytes=raw[:16], version=version))


def _fresh_uuid4(raw: bytes) -> str:
    """A UUID v4 never given before, whatever was drawn: a server that has seen a taskUUID
    answers ``conflictTaskUUID`` to it ever after, and Hypothesis repeats draws (duplicate
    examples, the all-zero minimal example, shrinking, the replay of a failure). Everything
    else in a task replays and shrinks as drawn; no rule reads a UUID's value."""
    return str(uuid.uuid4())


def _base64(raw: bytes) -> str:
    """12 to 17 bytes (the 16 to 24 characters the format needs), encoded."""
    return base64.b64encode(raw[1 : 13 + raw[0] % 6]).decode()


def _data_uri(raw: bytes) -> str:
    payload = base64.b64encode(raw[2 : 3 + raw[1] % (len(raw) - 2)]).decode()
    return f"data:image/{_IMAGE_KINDS[raw[0] % len(_IMAGE_KINDS)]};base64,{payload}"


# name: (bytes drawn, builder)
_BUILDERS: dict[str, tuple[int, Callable[[bytes], str]]] = {
    "uuid-v4": (0, _fresh_uuid4),
    "uuid": (16, _uuid),
    "url": (14, _url),
    "uri": (14, _uri),
    "data-uri": (18, _data_uri),
    "base64": (18, _base64),
}
_FORMAT_DRAWERS: dict[str, Drawer] = {}


def format_drawer(name: str) -> Drawer:
    """A drawer of values of a platform format: a builder, a union of builders, or the regex."""
    if name not in _FORMAT_DRAWERS:
        _FORMAT_DRAWERS[name] = _format_drawer(name)
    return _FORMAT_DRAWERS[name]


def format_values(name: str) -> st.SearchStrategy[str]:
    """Values of a platform format (see ``format_drawer``)."""
    return _strategy(format_drawer(name))


def format_builder(name: str) -> tuple[int, Callable[[bytes], str]] | None:
    """(bytes per value, builder) of a format with a builder or a union of them, else None."""
    if name in _BUILDERS:
        return _BUILDERS[name]
    parts = FORMAT_UNIONS.get(name)
    if not parts or not all(p in _BUILDERS for p in parts):
        return None
    builders = [_BUILDERS[p] for p in parts]
    most = max(size for size, _ in builders)

    def pick(raw: bytes) -> str:
        size, build = builders[raw[0] % len(builders)]
        return build(raw[1 : 1 + size])

    return 1 + most, pick


def _format_drawer(name: str) -> Drawer:
    found = format_builder(name)
    if found is None:
        regex = st.from_regex(FORMATS[name][0], fullmatch=True)
        return lambda draw: draw(regex)
    size, build = found
    raw = st.binary(min_size=size, max_size=size)
    return lambda draw: build(draw(raw))


_INDEXES: dict[int, st.SearchStrategy[int]] = {}
_BOOLEANS = st.booleans()
_ANY_INTEGER = st.integers()
_EDGES = st.integers(0, 3)  # 0, 1: between the bounds; 2: at the lower; 3: at the upper


def _pick(draw: Draw, options: list[Any]) -> Any:
    """One of ``options`` (shrinking towards the first): ``sampled_from`` without building a
    strategy per draw."""
    if len(options) == 1:
        return options[0]
    if len(options) not in _INDEXES:
        _INDEXES[len(options)] = st.integers(0, len(options) - 1)
    return options[draw(_INDEXES[len(options)])]


def _strategy(drawer: Drawer) -> st.SearchStrategy[Any]:
    @st.composite
    def build(draw: Draw) -> Any:
        return drawer(draw)

    return build()


def _fit(seed: str, size: int) -> str:
    """``seed`` repeated or cut to exactly ``size`` characters."""
    seed = seed or "x"
    return (seed * (size // len(seed) + 1))[:size]


def text_drawer(low: int, high: int) -> Drawer:
    """Strings of ``low`` to ``high`` characters: half of them exactly at a bound, the rest
    of any length between (up to ``MAX_TEXT`` over the lower bound); two choices each: the
    length, then text of exactly that length (no "one more?" draw per character; a length
    over ``MAX_TEXT`` repeats a short drawn seed)."""
    top = min(high, low + MAX_TEXT)
    count = top - low + 1
    lengths = st.integers(0, 2 * count - 1)  # below count: low + that; above: a bound
    texts = {
        size: st.text(TEXT, min_size=size, max_size=size)
        for size in {*range(low, top + 1), high}
        if size <= low + MAX_TEXT
    }
    seeds = st.text(TEXT, min_size=SEED_TEXT, max_size=SEED_TEXT)

    def text(draw: Draw) -> str:
        code: int = draw(lengths)
        size = low + code if code < count else (low, high)[code % 2]
        if size in texts:
            drawn: str = draw(texts[size])
            return drawn
        return _fit(draw(seeds), size)

    return text


def integer_drawer(first: int, last: int, step: int) -> Drawer:
    """Multiples of ``step`` from ``first * step`` to ``last * step``: half of them at a
    bound, the rest anywhere between; one choice when there are at most ``SMALL_RANGE``
    values (Hypothesis draws such a range uniformly), else two."""
    count = last - first + 1
    if count <= SMALL_RANGE:
        codes = st.integers(0, 2 * count - 1)  # below count: that value; above: a bound

        def small(draw: Draw) -> int:
            code: int = draw(codes)
            return (first + code if code < count else (first, last)[code % 2]) * step

        return small
    between = st.integers(first, last)

    def integer(draw: Draw) -> int:
        edge = draw(_EDGES)
        return int((draw(between) if edge < 2 else (first, last)[edge - 2]) * step)

    return integer


# ── paths inside one scope (the task, or one item of an object array) ───────


def _at(obj: Any, wire: list[str]) -> Any:
    """The value at a wire path (array indexes as numbers), or MISSING."""
    for part in wire:
        if isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return MISSING
    return obj


def _delete(obj: dict[str, Any], parts: list[str]) -> None:
    parent = get(obj, parts[:-1]) if len(parts) > 1 else obj
    if isinstance(parent, dict):
        parent.pop(parts[-1], None)


def _rule_paths(rule: dict[str, Any]) -> Iterator[str]:
    """Every parameter path a rule reads (the position field aside: only its target)."""
    return (path for key, path in kind_of(rule).paths(rule) if key != "field")


class _Conflict(Exception):
    """Repair would have to change something a breaker locked."""


class Factory:
    """Generation and repair for one model, from its PARAMETERS, RULES and DIMENSIONS.
    Every strategy is built once (on first use) and reused for every draw."""

    def __init__(self, model: ModuleType) -> None:
        self.model = model
        self.params: dict[str, dict[str, Any]] = {p["path"]: p for p in model.tables.PARAMETERS}
        self.rules: list[dict[str, Any]] = list(model.tables.RULES)
        self.dimensions: dict[str, Any] | None = model.tables.DIMENSIONS
        self.dims: list[str] = list(self.dimensions["params"]) if self.dimensions else []
        self.rows: list[dict[str, Any]] = list(self.dimensions["rows"]) if self.dimensions else []
        self.row_values = st.sampled_from(self.rows) if self.rows else st.nothing()
        self.sizes = {tuple(row[d] for d in self.dims) for row in self.rows}
        self.object_arrays = {
            p for p, s in self.params.items() if s.get("items", {}).get("type") == "object"
        }
        self._drawers: dict[str, Drawer] = {}
        self._scopes: dict[tuple[str, frozenset[str]], Drawer] = {}
        # parameters the rules make impossible (tables.NEVER): never drawn
        self.never: set[str] = set(getattr(model.tables, "NEVER", ()))
        self.ruled = {path for rule in self.rules for path in _rule_paths(rule)} | set(self.dims)
        # what each rule kind puts into a fresh task for repair to aim (prompt references)
        self.seeds = [seed for rule in self.rules if (seed := kind_of(rule).seeder(self, rule))]

    # ── values: drawers (``draw -> value``) call primitive strategies directly, so a value
    # costs its choices and nothing more ────────────────────────────────────

    def children(self, scope: str) -> list[dict[str, Any]]:
        prefix = f"{scope}." if scope else ""
        return [
            p
            for path, p in self.params.items()
            if path.startswith(prefix) and "." not in path[len(prefix) :]
        ]

    def drawer(self, path: str) -> Drawer:
        if path not in self._drawers:
            self._drawers[path] = self._drawer(path)
        return self._drawers[path]

    def value(self, path: str) -> st.SearchStrategy[Any]:
        """Values of the parameter at ``path`` (objects with random optional children)."""
        return _strategy(self.drawer(path))

    def _drawer(self, path: str) -> Drawer:
        p = self.params[path]
        enum = p.get("enum", [])
        if "const" in p or len(enum) == 1:
            fixed = p.get("const", enum[0] if enum else None)
            return lambda draw: fixed
        if enum:
            values = st.sampled_from(enum)
            return lambda draw: draw(values)
        kind = p["types"][0]
        if kind == "object":
            return self.scope_drawer(path)
        if kind == "array":
            return self.array(p)
        return self.scalar(kind, p)

    def scalar(self, kind: str, p: dict[str, Any]) -> Drawer:
        if kind == "boolean":
            return lambda draw: draw(_BOOLEANS)
        if kind == "integer":
            step = int(p.get("multipleOf", 1))
            low = p.get("minimum", -(2**31))
            high = p.get("maximum", low + 10**6 if "minimum" in p else 2**31)
            return integer_drawer(math.ceil(low / step), math.floor(high / step), step)
        if kind == "number" and "multipleOf" in p:  # a float between steps would break it
            step = p["multipleOf"]
            places = max(0, -int(decimal.Decimal(str(step)).as_tuple().exponent))
            # the steps inside the bounds; a million steps past a missing bound (both missing:
            # a million either side of 0)
            first = math.ceil(p["minimum"] / step) if "minimum" in p else None
            last = math.floor(p["maximum"] / step) if "maximum" in p else None
            if first is None:
                first = (0 if last is None else last) - 10**6
            if last is None:
                last = first + 10**6 if "minimum" in p else 10**6
            steps = integer_drawer(first, last, 1)
            return lambda draw: round(steps(draw) * step, places)
        if kind == "number":
            numbers = st.floats(
                p.get("minimum"), p.get("maximum"), allow_nan=False, allow_infinity=False
            )
            return lambda draw: draw(numbers)
        fmt = p.get("format")
        if fmt is not None:
            return format_drawer(fmt)
        low = p.get("minLength", 0)
        return text_drawer(low, p.get("maxLength", low + MAX_TEXT))

    def array(self, p: dict[str, Any]) -> Drawer:
        items = p["items"]
        low = max(1, p.get("minItems", 1))  # empty arrays are "not provided"
        high = min(p.get("maxItems", MAX_ITEMS), MAX_ITEMS)
        if items["type"] == "object":
            high = min(high, 2)  # objects are large: two items exercise every per-item rule
            element = self.scope_drawer(p["path"])
        elif "format" in items:
            element = format_drawer(items["format"])
        else:
            element = self.scalar(items["type"], {})
        sizes = st.integers(low, max(low, high))
        found = format_builder(items["format"]) if "format" in items else None
        if found is not None:  # every item from one byte string: two choices in all
            unit, build = found
            batches = {
                n: st.binary(min_size=n * unit, max_size=n * unit)
                for n in range(low, max(low, high) + 1)
            }

            def formatted(draw: Draw) -> list[str]:
                raw: bytes = draw(batches[draw(sizes)])
                return [build(raw[i : i + unit]) for i in range(0, len(raw), unit)]

            return formatted
        return lambda draw: [element(draw) for _ in range(draw(sizes))]  # one choice for the size

    def scope_drawer(self, scope: str, skip: frozenset[str] = frozenset()) -> Drawer:
        """Objects of ``scope`` (the task when empty): every required child, and a random set
        of the optional ones (but ``skip``), chosen with one draw; the dimensions come as
        one supported row."""
        key = (scope, skip)
        if key not in self._scopes:
            self._scopes[key] = self._scope_drawer(scope, skip)
        return self._scopes[key]

    def _scope_drawer(self, scope: str, skip: frozenset[str]) -> Drawer:
        # (name, drawer, whether it draws the whole dimension row)
        required: list[tuple[str, Drawer, bool]] = []
        optional: list[tuple[str, Drawer, bool]] = []
        for child in self.children(scope):
            path = child["path"]
            if path in skip or path in self.dims[1:] or path in self.never:
                continue  # the first dimension stands for the row
            row = path in self.dims
            entry = (path.rsplit(".", 1)[-1], self.draw_row if row else self.drawer(path), row)
            (required if child.get("required") else optional).append(entry)
        # one choice for which optional children are there: a random bit each (bytes are
        # drawn uniformly; they shrink towards none)
        mask = st.binary(min_size=(len(optional) + 7) // 8, max_size=(len(optional) + 7) // 8)

        def build(draw: Draw) -> dict[str, Any]:
            obj: dict[str, Any] = {}
            for name, drawer, row in required:
                if row:
                    obj.update(drawer(draw))
                else:
                    obj[name] = drawer(draw)
            if optional:
                bits = int.from_bytes(draw(mask), "little")
                for index, (name, drawer, row) in enumerate(optional):
                    if bits >> index & 1:
                        if row:
                            obj.update(drawer(draw))
                        else:
                            obj[name] = drawer(draw)
            return obj

        return build

    def provided_value(self, draw: Draw, path: str) -> Any:
        """A value of ``path`` that counts as provided: an object drawn empty gets one child."""
        value = self.drawer(path)(draw)
        if provided(value) or not isinstance(value, dict):
            return value
        child = _pick(draw, self.children(path))["path"]
        value[child.rsplit(".", 1)[-1]] = self.provided_value(draw, child)
        return value

    def draw_row(self, draw: Draw) -> dict[str, Any]:
        """The dimension parameters of one supported row."""
        row = draw(self.row_values)
        return {name: row[name] for name in self.dims}

    # ── repair: make every rule hold, leaving locked paths alone ────────────

    def repair(
        self, draw: Draw, task: dict[str, Any], locked: set[str], skip: str | None, within: str = ""
    ) -> list[Violation]:
        """Make every rule but ``skip`` hold (only the rules scoped inside ``within``, if
        given); returns the task's violations after. The contract says which rules are
        broken, so a task that already keeps them costs one check."""
        rules = [
            r
            for r in self.rules
            if r["id"] != skip and (not within or f"{r.get('scope', '')}.".startswith(f"{within}."))
        ]
        ids = {r["id"] for r in rules}
        for attempt in range(20):  # random choices (which exactlyOne operand stays) converge
            found = self.violations(task)
            broken = {v.rule for v in found} & ids
            if not broken:
                return found
            changed = False
            for rule in rules:
                if rule["id"] not in broken:
                    continue
                scope = rule.get("scope", "")
                for obj, prefix in self._scope_objects(task, scope):
                    changed |= self._repair_rule(
                        draw, rule, obj, prefix, scope, locked, attempt > 2
                    )
            if not changed:
                break  # the contract sees a break that repair does not
        raise _Conflict("repair did not settle")

    def _scope_objects(
        self, task: dict[str, Any], scope: str
    ) -> Iterator[tuple[dict[str, Any], str]]:
        if not scope:
            yield task, ""
            return
        items = get(task, scope.split("."))
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    yield item, f"{scope}.{index}."

    def rel(self, path: str, scope: str) -> list[str]:
        return (path[len(scope) + 1 :] if scope else path).split(".")

    def present(self, obj: dict[str, Any], path: str, scope: str) -> bool:
        return provided(get(obj, self.rel(path, scope)))

    def add(
        self, draw: Draw, obj: dict[str, Any], path: str, scope: str, prefix: str, locked: set[str]
    ) -> bool:
        if self.present(obj, path, scope):
            return False
        self.guard(prefix, path, scope, locked)
        if path in self.dims:  # a dimension is drawn as a whole supported row
            row = draw(self.row_values)
            for name in self.dims:
                self.guard(prefix, name, scope, locked)
                put(obj, self.rel(name, scope), row[name])
            return True
        put(obj, self.rel(path, scope), self.provided_value(draw, path))
        return True

    def remove(
        self, obj: dict[str, Any], path: str, scope: str, prefix: str, locked: set[str]
    ) -> bool:
        if not self.present(obj, path, scope):
            return False
        self.guard(prefix, path, scope, locked, removal=True)
        _delete(obj, self.rel(path, scope))
        return True

    def guard(
        self, prefix: str, path: str, scope: str, locked: set[str], removal: bool = False
    ) -> None:
        if self.is_locked(prefix, path, scope, locked, removal):
            raise _Conflict(prefix + ".".join(self.rel(path, scope)))

    def is_locked(
        self, prefix: str, path: str, scope: str, locked: set[str], removal: bool = False
    ) -> bool:
        """Whether changing (or, with ``removal``, removing) ``path`` touches a lock. A lock
        is a wire path that must not change at all, or ``+`` and a wire path that must stay
        present (its inside may change)."""
        if not locked:
            return False
        where = prefix + ".".join(self.rel(path, scope))
        for lock in locked:
            if lock.startswith("+"):
                if removal and (where == lock[1:] or lock[1:].startswith(f"{where}.")):
                    return True
            elif where == lock or where.startswith(f"{lock}.") or lock.startswith(f"{where}."):
                return True
        return False

    def _repair_rule(
        self,
        draw: Draw,
        rule: dict[str, Any],
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: set[str],
        stubborn: bool = False,
    ) -> bool:
        """Make one rule hold in one object. When a lock keeps the fix out, or when adding
        what a condition requires keeps being undone (``stubborn``: repair has not settled
        after a few rounds), make the rule's condition false instead."""
        kind = kind_of(rule)
        conditional = "when" in rule and Clause.of(rule["when"], scope).holds(obj)
        if not (stubborn and conditional and kind.stubborn_drops_condition):
            try:
                return kind.repair(self, draw, rule, obj, prefix, scope, locked)
            except _Conflict:
                if not conditional:
                    raise
        present = [
            c["path"] for c in rule["when"]["conditions"] if self.present(obj, c["path"], scope)
        ]
        if rule["when"]["mode"] == "allOf":
            present = [
                p for p in present if not self.is_locked(prefix, p, scope, locked, removal=True)
            ][:1]
        if not present:
            raise _Conflict(rule["id"])
        return any([self.remove(obj, p, scope, prefix, locked) for p in present])

    # ── what repair and the breakers of rule_kinds use (its ``Repairer``) ──

    def pick(self, draw: Draw, options: Sequence[Any]) -> Any:
        return _pick(draw, list(options))

    def coin(self, draw: Draw) -> bool:
        drawn: bool = draw(_BOOLEANS)
        return drawn

    def lock_add(self, draw: Draw, task: dict[str, Any], path: str, locked: set[str]) -> None:
        """Make ``path`` present and lock it, its inside repaired first (a lock keeps
        repair out)."""
        wire = self.ensure(draw, task, path)
        if "object" in self.params[path]["types"] or path in self.object_arrays:
            try:
                self.repair(draw, task, locked, None, within=path)
            except _Conflict:
                assume(False)
        locked.update(self.dims if path in self.dims else [wire])

    def integer_drawer(self, low: int, high: int) -> Callable[[Draw], int]:
        """Integers from ``low`` to ``high``, one choice (the strategy built once)."""
        numbers = st.integers(low, high)
        return lambda draw: int(draw(numbers))

    def regex_drawer(
        self, pattern: str, *, accept: Callable[[str], bool] | None = None, or_empty: bool = False
    ) -> Callable[[Draw], str]:
        """Full matches of ``pattern`` (those ``accept`` passes; "" too with ``or_empty``)."""
        texts: st.SearchStrategy[str] = st.from_regex(pattern, fullmatch=True)
        if accept is not None:
            texts = texts.filter(accept)
        if or_empty:
            texts = st.one_of(st.just(""), texts)
        return lambda draw: str(draw(texts))

    def lock_remove(self, task: dict[str, Any], path: str, locked: set[str]) -> None:
        locked.add(self.discard(task, path))

    def make_hold(
        self, draw: Draw, clause: Mapping[str, Any], task: dict[str, Any], locked: set[str]
    ) -> None:
        """Make a rule's condition hold, locking what it set."""
        conditions = clause["conditions"]
        chosen = [_pick(draw, conditions)] if clause["mode"] == "anyOf" else conditions
        for cond in chosen:
            if cond.get("not"):  # absent (or not that value): leave it out
                self.lock_remove(task, cond["path"], locked)
            elif "equals" in cond:
                wire = self.ensure(draw, task, cond["path"])
                put(task, wire.split("."), cond["equals"])
                locked.add(wire)
            else:
                self.lock_add(draw, task, cond["path"], locked)

    # ── tasks ────────────────────────────────────────────────────────────────

    def base(
        self, draw: Draw, require: tuple[str, ...], skip: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Any], set[str]]:
        """A random task (rules not yet repaired) holding ``require`` and none of the
        top-level ``skip``, and presence locks (``+`` wire path) on the required parameters,
        for repair to keep them."""
        task: dict[str, Any] = self.scope_drawer("", skip)(draw)
        for seed in self.seeds:
            seed(draw, task)
        return task, {f"+{self.ensure(draw, task, path)}" for path in require}

    def ensure(self, draw: Draw, task: dict[str, Any], path: str) -> str:
        """Make ``path`` present (in the first item of any object array on the way);
        returns its wire path (``inputs.elements.0.videos``)."""
        if path in self.dims:  # dimensions come as a whole supported row
            if not all(isinstance(task.get(name), int) for name in self.dims):
                row = draw(self.row_values)
                for name in self.dims:
                    task[name] = row[name]
            return path
        node: Any = task
        walked: list[str] = []
        wire: list[str] = []
        for part in path.split("."):
            walked.append(part)
            if isinstance(node, list):  # (never empty: an empty one is not provided)
                node = node[0]
                wire.append("0")
            if not provided(node.get(part)):
                node[part] = self.provided_value(draw, ".".join(walked))
            node = node[part]
            wire.append(part)
        return ".".join(wire)

    def wire_path(self, path: str) -> str:
        """``path`` in the first item of every object array on the way
        (``inputs.elements.0.videos``)."""
        parts = path.split(".")
        wire: list[str] = []
        for k, part in enumerate(parts):
            wire.append(part)
            if k < len(parts) - 1 and ".".join(parts[: k + 1]) in self.object_arrays:
                wire.append("0")
        return ".".join(wire)

    def discard(self, task: dict[str, Any], path: str) -> str:
        """Remove ``path`` (from the first item of any object array on the way); returns
        its wire path."""
        wire = self.wire_path(path)
        parts = wire.split(".")
        parent = _at(task, parts[:-1])
        if isinstance(parent, dict):
            parent.pop(parts[-1], None)
        return wire

    def finish(
        self, draw: Draw, task: dict[str, Any], locked: set[str], skip: str | None
    ) -> list[Violation]:
        """Repair ``task`` in place (rejecting the example when locks make it impossible);
        returns its violations after."""
        try:
            return self.repair(draw, task, locked, skip)
        except _Conflict:
            assume(False)
            raise

    def violations(self, task: Any) -> list[Violation]:
        result: list[Violation] = self.model.CONTRACT.violations(task)
        return result


_FACTORIES: dict[str, Factory] = {}


def _factory(model: ModuleType) -> Factory:
    if model.MODEL_ID not in _FACTORIES:
        _FACTORIES[model.MODEL_ID] = Factory(model)
    return _FACTORIES[model.MODEL_ID]


def valid_tasks(
    model: ModuleType, *, require: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> st.SearchStrategy[dict[str, Any]]:
    """Tasks the spec allows. ``require`` forces parameters in; ``exclude`` keeps top-level
    ones out (for example webhookURL when the receiver does not exist)."""
    f = _factory(model)

    @st.composite
    def build(draw: Draw) -> dict[str, Any]:
        task, locked = f.base(draw, require, frozenset(exclude))
        found = f.finish(draw, task, locked | set(exclude), None)
        assume(all(name not in task for name in exclude))
        assume(not found)
        return task

    return build()


# ── single violations ───────────────────────────────────────────────────────


def _concrete(task: dict[str, Any], path: str) -> tuple[str, Any, str] | None:
    """(wire path, parent object, key) of the first occurrence of ``path`` in ``task``."""
    node: Any = task
    wire: list[str] = []
    parts = path.split(".")
    for i, part in enumerate(parts):
        if isinstance(node, list):
            index = next(
                (j for j, item in enumerate(node) if isinstance(item, dict) and part in item), None
            )
            if index is None:
                return None
            wire.append(str(index))
            node = node[index]
        if not isinstance(node, dict):
            return None
        if i == len(parts) - 1:
            return (".".join([*wire, part]), node, part) if part in node else None
        if part not in node:
            return None
        wire.append(part)
        node = node[part]
    return None


def _breaking_values(p: dict[str, Any], constraint: str) -> list[Any]:
    types = p["types"]
    if constraint == "type":
        pool = ["text", 7, True, [1], {"a": 1}, 1.5]
        kinds = {
            str: "string",
            bool: "boolean",
            int: "integer",
            list: "array",
            dict: "object",
            float: "number",
        }
        return [
            v
            for v in pool
            if kinds[type(v)] not in types
            and not (kinds[type(v)] == "integer" and "number" in types)
        ]
    if constraint == "const":
        return ["something-else" if isinstance(p["const"], str) else 123456]
    if constraint == "enum":
        return ["not-an-allowed-value"] if "string" in types else [123456]
    if constraint == "minimum":
        return [p["minimum"] - p.get("multipleOf", 1)]
    if constraint == "maximum":
        return [p["maximum"] + p.get("multipleOf", 1)]
    if constraint == "multipleOf":
        step = p["multipleOf"]
        if "number" in types:
            return [p.get("minimum", 0) + step / 2]
        # an integer within the bounds that is no multiple (half a step would be a float:
        # a type error), if there is one
        low = p.get("minimum", 0)
        value = low if low % step else low + 1
        return [value] if step != 1 and value <= p.get("maximum", value) else []
    if constraint == "minLength":
        return ["x" * (p["minLength"] - 1)] if p["minLength"] > 0 else []
    if constraint == "maxLength":
        return ["x" * (p["maxLength"] + 1)]
    if constraint == "format":
        return ["not a valid value!"]
    return []


def violation_targets(model: ModuleType) -> list[tuple[str, str]]:
    """Every (path, constraint) a field violation strategy exists for."""
    targets: list[tuple[str, str]] = []
    for p in model.tables.PARAMETERS:
        path = p["path"]
        if p.get("required"):
            targets.append((path, "required"))
        for constraint in (
            "type",
            "const",
            "enum",
            "minimum",
            "maximum",
            "multipleOf",
            "minLength",
            "maxLength",
            "format",
        ):
            if (constraint == "type" or constraint in p) and _breaking_values(p, constraint):
                targets.append((path, constraint))
        if "maxItems" in p:
            targets.append((path, "maxItems"))
        if p["types"] == ["object"] or p.get("items", {}).get("type") == "object":
            targets.append((path, "unknown"))
    return targets


def field_violations(
    model: ModuleType, path: str, constraint: str
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid tasks but for one broken ``constraint`` of the parameter at ``path``."""
    f = _factory(model)
    p = f.params[path]
    breaking = _breaking_values(p, constraint)
    # A broken value replaces the parameter's: only its parent needs drawing, unless rules
    # read the parameter (they must hold around it before it breaks).
    replace = constraint not in ("required", "unknown", "maxItems") and path not in f.ruled
    holder = path.rsplit(".", 1)[0] if "." in path else ""
    need = ((holder,) if holder else ()) if replace else (path,)
    # what repair must leave alone afterwards: the broken value, or (an added item or key)
    # only the presence of the parameter
    hold = "+" if constraint in ("maxItems", "unknown") else ""
    wire = f.wire_path(path)

    @st.composite
    def build(draw: Draw) -> dict[str, Any]:
        task, locked = f.base(draw, need)
        f.finish(draw, task, locked, None)
        if replace:
            parent = _at(task, wire.split(".")[:-1])
            assume(isinstance(parent, dict))
            found: tuple[str, Any, str] | None = (wire, parent, wire.rsplit(".", 1)[-1])
        else:
            found = _concrete(task, path)
        assume(found is not None)
        assert found is not None
        where, parent, key = found
        if constraint == "required":
            del parent[key]
        elif constraint == "unknown":
            target = parent[key]
            target = target[0] if isinstance(target, list) else target
            target["bogusKey"] = draw(_ANY_INTEGER)
            where = f"{where}.0.bogusKey" if isinstance(parent[key], list) else f"{where}.bogusKey"
        elif constraint == "maxItems":
            parent[key] = parent[key] + [copy.deepcopy(parent[key][0])] * (
                p["maxItems"] + 1 - len(parent[key])
            )
        else:
            parent[key] = _pick(draw, breaking)

        def alone(found: list[Violation]) -> bool:
            return bool(found) and all(v.rule == constraint and v.parameter == where for v in found)

        if not alone(f.violations(task)):  # rules may read the broken value: repair around it
            assume(alone(f.finish(draw, task, locked | {hold + where}, None)))
        return task

    return build()


def rule_violations(model: ModuleType, rule_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid tasks but for the one broken rule ``rule_id`` (st.nothing() when the rule
    cannot break alone: every way to break it breaks a field constraint too)."""
    f = _factory(model)
    rule = next(r for r in f.rules if r["id"] == rule_id)
    kind = kind_of(rule)
    if not kind.breakable(f, rule):
        return st.nothing()

    @st.composite
    def build(draw: Draw) -> dict[str, Any]:
        task, locked = f.base(draw, ())
        try:
            kind.break_(f, draw, rule, task, locked)
        except _Conflict:
            assume(False)
        found = f.finish(draw, task, locked, rule_id)
        assume(bool(found) and all(v.rule == rule_id for v in found))
        return task

    return build()


def cases(model: ModuleType) -> list[tuple[str, st.SearchStrategy[dict[str, Any]]]]:
    """Every single-violation strategy of the model, named ``path:constraint`` or ``rule id``."""
    found = [
        (f"{path}:{c}", field_violations(model, path, c)) for path, c in violation_targets(model)
    ]
    found += [
        (r["id"], rule_violations(model, r["id"]))
        for r in model.tables.RULES
        if KINDS[r["kind"]].outcomes
    ]  # a kind that never reports cannot be violated
    return found
