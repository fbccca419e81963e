"""The mutation driver puts a mutant into the running interpreter: every live function built
from the mutated code runs the mutant, however it was reached; a mutation outside any function
is left to a fresh interpreter."""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mutation import patching

SOURCE = """\
import functools

LIMIT = 10


def below(value):
    return value < LIMIT


def traced(function):
    @functools.wraps(function)
    def wrapper(*args):
        return function(*args)
    return wrapper


@traced
def doubled(value):
    return value * 2


def bound_by(limit):
    def check(value):
        return value <= limit
    return check


at_most_three = bound_by(3)
TABLE = {"positive": lambda value: value > 0}


class Shape:
    @property
    def sides(self):
        return 2 + 2

    @staticmethod
    def name():
        return "square" if True else "circle"
"""


def load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


Loaded = tuple[Path, types.ModuleType, types.ModuleType]


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Loaded]:
    """The module, and a second copy of it imported through a link (as the generated package
    links the runtime's sources in the driver's checkout)."""
    path = tmp_path / "shapes.py"
    path.write_text(SOURCE, encoding="utf-8")
    (tmp_path / "linked.py").symlink_to(path)
    first, second = load(path, "mutation_shapes"), load(tmp_path / "linked.py", "mutation_linked")
    yield path, first, second
    del sys.modules["mutation_shapes"], sys.modules["mutation_linked"]


def mutate(path: Path, old: str, new: str) -> int:
    original = path.read_text(encoding="utf-8")
    assert original.count(old) == 1
    changes = patching.plan(original, original.replace(old, new), str(path))
    assert changes is not None
    return patching.apply(changes, str(path))


def test_a_plain_function_changes_in_every_copy_and_every_reference(modules: Loaded) -> None:
    path, first, second = modules
    kept = first.below  # a reference taken before the mutation
    assert kept(9) and second.below(9)
    assert mutate(path, "value < LIMIT", "value >= LIMIT") == 2
    assert not kept(9) and not first.below(9) and not second.below(9)


def test_a_decorated_function_a_closure_and_a_lambda_in_a_table_change(modules: Loaded) -> None:
    path, first, _ = modules
    mutate(path, "value * 2", "value / 2")
    assert first.doubled(4) == 2
    assert first.at_most_three(3)
    mutate(path, "value <= limit", "value < limit")  # the closure made at import time
    assert not first.at_most_three(3)
    mutate(path, "value > 0", "value >= 0")
    assert first.TABLE["positive"](0)


def test_methods_properties_and_static_methods_change(modules: Loaded) -> None:
    path, first, _ = modules
    mutate(path, "2 + 2", "2 - 2")
    assert first.Shape().sides == 0
    mutate(path, "if True else", "if False else")
    assert first.Shape.name() == "circle"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("LIMIT = 10", "LIMIT = 11"),
        ("@traced\n", ""),
        ("at_most_three = bound_by(3)", "at_most_three = bound_by(4)"),
    ],
)
def test_a_mutation_outside_any_function_is_not_planned(old: str, new: str) -> None:
    assert patching.plan(SOURCE, SOURCE.replace(old, new), "shapes.py") is None


def test_two_lambdas_on_one_line_are_not_told_apart_so_not_planned() -> None:
    source = "PAIR = (lambda v: v < 1, lambda v: v > 1)\n"
    assert patching.plan(source, source.replace("v < 1", "v <= 1"), "pair.py") is None
