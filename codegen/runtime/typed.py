# Source of runware_contract/typed.py (copied by `python -m codegen generate`).
"""Base class for typed request models: its validator runs the contract runtime.

The pydantic field types enforce each field's own constraints; this validator
runs the full ``Contract`` on the raw input first, so the typed model rejects
exactly what ``validate()`` rejects, with the same Runware codes (in each error's
``ctx``) and without a second implementation of any rule.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .runtime import Contract, Violation

__all__ = ["ContractModel", "as_wire", "to_json_data"]


def to_json_data(value: Any) -> Any:
    """Plain JSON data from a mix of dicts, lists, enums and pydantic models."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True, by_alias=True)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: to_json_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_data(v) for v in value]
    return value


def as_wire(task: Any) -> Any:
    """A task as wire data: a pydantic model is dumped, anything else passes unchanged
    (``validate()`` takes the JSON a client would send, so it copies nothing)."""
    if type(task) is dict:  # the common case, without isinstance on pydantic's metaclass
        return task
    if isinstance(task, BaseModel):
        return task.model_dump(mode="json", exclude_unset=True, by_alias=True)
    return task


def _loc(parameter: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.lstrip("-").isdigit() else p for p in parameter.split(".") if p)


def _line_error(v: Violation, data: Any) -> InitErrorDetails:
    context = {"message": v.message, "code": v.code, "parameter": v.parameter, "rule": v.rule}
    return InitErrorDetails(
        type=PydanticCustomError("runware_contract", "{message}", context),
        loc=_loc(v.parameter),
        input=data,
    )


class ContractModel(BaseModel):
    """A model whose raw input is checked against ``__contract__`` before parsing."""

    __contract__: ClassVar[Contract]

    @model_validator(mode="before")
    @classmethod
    def _check_contract(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        raw = to_json_data(data)
        violations = cls.__contract__.violations(raw)
        if violations:
            raise ValidationError.from_exception_data(
                cls.__name__, [_line_error(v, raw) for v in violations]
            )
        return data
