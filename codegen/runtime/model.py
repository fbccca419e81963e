# Source of runware_contract/model.py (copied by `python -m codegen generate`).
"""One model's compiled contract and functions, made from its tables: the one factory of
model modules. Each generated ``<model>/contract.py`` is made by ``compile_model``, and so is
every model the mock loads at run time (``--spec``, ``--page``), so the two cannot drift.

``tables`` is anything with the attributes of a generated ``<model>/tables.py`` (the module
itself, or a namespace of ``codegen.emit.tables.model_tables``); the platform's formats and
codes are passed in, since this module is shared by packages with different platforms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .runtime import Contract, PriceUnavailable, RunwareError, price_of
from .typed import as_wire


@dataclass(frozen=True, slots=True)
class CompiledModel:
    """What a model module exports besides its tables and typed classes."""

    contract: Contract
    result_contract: Contract
    validate: Callable[[Any], list[RunwareError]]
    validate_result: Callable[[Any], list[RunwareError]]
    with_defaults: Callable[[Any], dict[str, Any]]
    price: Callable[..., float]
    task_price: Callable[..., float]


def compile_model(
    tables: Any,
    formats: Mapping[str, Sequence[str]],
    constraint_codes: Mapping[str, str],
    rule_codes: Mapping[str, Mapping[str, str]],
) -> CompiledModel:
    """The contract of ``tables`` (request parameters and rules), the contract of its result
    items (response fields), and the functions over them."""
    pairs = {name: (rx, text) for name, (rx, text) in formats.items()}  # (pattern, text)
    contract = Contract(
        task_label=f"{tables.MODEL_NAME} ({tables.MODEL_ID})",
        docs=tables.DOCS,
        parameters=tables.PARAMETERS,
        rules=tables.RULES,
        formats=pairs,
        constraint_codes=constraint_codes,
        rule_codes=rule_codes,
        dimensions=tables.DIMENSIONS,
    )
    result_contract = Contract(
        task_label=f"a {tables.TASK_TYPE} result",
        docs=tables.DOCS,
        parameters=tables.RESPONSE_FIELDS,
        formats=pairs,
        constraint_codes=constraint_codes,
        rule_codes=rule_codes,
    )

    def validate(task: Any) -> list[RunwareError]:
        """Every violation of a raw task (a dict as sent on the wire), as Runware errors."""
        return contract.validate(as_wire(task))

    def validate_result(item: Any) -> list[RunwareError]:
        """Every way a finished result item departs from the documented response fields."""
        return result_contract.validate(as_wire(item))

    def with_defaults(task: Any) -> dict[str, Any]:
        """A copy of a valid task with every documented default filled in."""
        return contract.with_defaults(as_wire(task))

    def price(task: Mapping[str, Any] | Any, *, audio: bool | None = None) -> float:
        """Cost in USD of one result of ``task`` (the first row of the spec's price table
        whose conditions the task meets); ``PriceUnavailable`` when the model has no pricing
        or no row matches."""
        if tables.PRICING is None:
            raise PriceUnavailable(f"{tables.MODEL_ID} has no pricing")
        return price_of(with_defaults(task), tables.PRICING, tables.DIMENSIONS, audio=audio)

    def task_price(task: Mapping[str, Any] | Any, *, audio: bool | None = None) -> float:
        """Cost in USD of the whole task: ``price`` of one result times the number of
        results it asks for (the pricing table's ``resultsParameter``, after defaults)."""
        one = price(task, audio=audio)
        count = with_defaults(task).get(tables.PRICING.get("resultsParameter", ""), 1)
        return float(Decimal(str(one)) * Decimal(int(count)))

    return CompiledModel(
        contract, result_contract, validate, validate_result, with_defaults, price, task_price
    )
