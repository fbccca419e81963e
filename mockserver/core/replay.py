"""Documented examples: a task equal to an example (taskUUID aside, defaults applied)
replays that example's result values."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import runware_contract as rc


def _params(full: Mapping[str, Any]) -> dict[str, Any]:
    """A task's parameters with defaults applied, taskUUID aside."""
    params = dict(full)  # a copy and a delete: a third of a filtering comprehension's time
    params.pop("taskUUID", None)
    return params


class ExampleIndex:
    """Examples by prompt, compared by value. Plain equality is exact here: both sides
    passed the contract's strict JSON types, so no field can hold True on one side and
    1 on the other."""

    def __init__(self, models: Mapping[str, ModuleType]) -> None:
        self._by_prompt: dict[Any, list[tuple[dict[str, Any], rc.Example]]] = {}
        self._by_name: dict[str, rc.Example] = {}
        for module in models.values():
            for example in module.EXAMPLES:
                params = _params(module.with_defaults(example.request))
                prompt = example.request.get("positivePrompt")
                self._by_prompt.setdefault(prompt, []).append((params, example))
                self._by_name[example.name] = example

    def match(self, full: Mapping[str, Any]) -> rc.Example | None:
        """The example equal to ``full`` (a valid task with its defaults applied), if any:
        the same number of parameters, taskUUID aside, each equal to the example's (compared
        in place, without a copy of ``full``)."""
        candidates = self._by_prompt.get(full.get("positivePrompt"), ())
        if not candidates:
            return None
        size = len(full) - ("taskUUID" in full)
        items = full.items()
        return next(
            (example for p, example in candidates if len(p) == size and p.items() <= items),
            None,
        )

    def by_name(self, name: str) -> rc.Example | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)
