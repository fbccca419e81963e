"""Documented examples: a task equal to an example (taskUUID aside, defaults applied)
replays that example's result values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import runware_contract as rc


def _key(module: ModuleType, task: Mapping[str, Any]) -> str:
    full = module.with_defaults({k: v for k, v in task.items() if k != "taskUUID"})
    full.pop("taskUUID", None)
    return json.dumps(full, sort_keys=True, separators=(",", ":"))


class ExampleIndex:
    def __init__(self, models: Mapping[str, ModuleType]) -> None:
        self._by_key: dict[str, rc.Example] = {}
        self._by_name: dict[str, rc.Example] = {}
        for module in models.values():
            for example in module.EXAMPLES:
                self._by_key[_key(module, example.request)] = example
                self._by_name[example.name] = example

    def match(self, task: Mapping[str, Any]) -> rc.Example | None:
        module = rc.model_for(dict(task))
        return self._by_key.get(_key(module, task)) if module is not None else None

    def by_name(self, name: str) -> rc.Example | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)
