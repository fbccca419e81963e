"""Put a mutant into a running interpreter without importing anything again.

A mutation inside a function body changes that function's code object and nothing else. Each
live function built from it (found through the collector: module attributes, methods, closures
a decorator made, lambdas kept in tables) gets the mutated code object, so every reference to
it, however it was imported, runs the mutant. A mutation of module-level or class-level code
(a decorator, a default value, a class attribute) cannot be put in this way: ``plan`` answers
None for it and the driver imports the mutated module afresh in a new process instead.
"""

from __future__ import annotations

import gc
import inspect
import os
import types
from collections.abc import Iterator

Key = tuple[str, int]  # a code object's qualified name and first line


def _key(code: types.CodeType) -> Key:
    return code.co_qualname, code.co_firstlineno


def _own(code: types.CodeType) -> tuple[object, ...]:
    """What a code object does itself, its nested code objects named rather than compared."""
    consts = tuple(
        ("<code>", c.co_qualname) if isinstance(c, types.CodeType) else (type(c), c)
        for c in code.co_consts
    )
    return code.co_code, code.co_names, consts, code.co_varnames


def _is_function(code: types.CodeType) -> bool:
    return bool(code.co_flags & inspect.CO_OPTIMIZED)


def _nested(code: types.CodeType) -> list[types.CodeType]:
    return [c for c in code.co_consts if isinstance(c, types.CodeType)]


def walk(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for inner in _nested(code):
        yield from walk(inner)


def _changed(old: types.CodeType, new: types.CodeType) -> list[types.CodeType] | None:
    """The outermost function code objects that differ between ``old`` and ``new`` (two
    compilations of one module), or None when code outside any function differs."""
    if old == new:
        return []
    if _is_function(new):
        return [new]
    old_inner, new_inner = _nested(old), _nested(new)
    if _own(old) != _own(new) or len(old_inner) != len(new_inner):
        return None
    found: list[types.CodeType] = []
    for a, b in zip(old_inner, new_inner, strict=True):
        inner = _changed(a, b)
        if inner is None:
            return None
        found += inner
    return found


def plan(original: str, mutated: str, path: str) -> dict[Key, types.CodeType] | None:
    """Every function code object the mutation changed (the outermost and all it holds), by
    key; None when the mutation is outside any function (or changes no code at all)."""
    module = compile(mutated, path, "exec")
    changed = _changed(compile(original, path, "exec"), module)
    if not changed:
        return None
    changes = {_key(c): c for top in changed for c in walk(top)}
    keys = [_key(c) for c in walk(module)]
    if any(keys.count(key) > 1 for key in changes):  # (two lambdas on one line): not by key
        return None
    return changes


def apply(changes: dict[Key, types.CodeType], path: str) -> int:
    """Give every live function of ``path`` (by its real path: the generated package's links
    count) whose code ``changes`` replaces the mutated code; the number of functions patched.
    A function whose closure does not fit the new code raises ValueError."""
    real = os.path.realpath(path)
    patched = 0
    gc.unfreeze()  # (objects frozen out of collection are not listed otherwise)
    for obj in gc.get_objects():
        # type(), not isinstance(): isinstance reads __class__, which a weak proxy whose
        # object is gone answers with ReferenceError (the full suite leaves such proxies)
        if type(obj) is not types.FunctionType:
            continue
        code = obj.__code__
        new = changes.get(_key(code))
        if new is None or os.path.realpath(code.co_filename) != real:
            continue
        obj.__code__ = new.replace(co_filename=code.co_filename)
        patched += 1
    return patched
