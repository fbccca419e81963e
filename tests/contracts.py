"""Build runtime Contracts straight from a loaded spec (the same tables the generator emits)."""

from __future__ import annotations

from codegen.emit import tables
from codegen.spec.model import ModelSpec, Platform
from runware_contract.runtime import Contract


def contract_for(model: ModelSpec, platform: Platform) -> Contract:
    return Contract(
        task_label=model.name,
        docs=model.docs,
        parameters=tables.parameters_table(model.parameters),
        rules=tables.rules_table(model),
        formats={name: (rx, text) for name, (rx, text) in tables.formats_table(platform).items()},
        constraint_codes=dict(platform.constraint_codes),
        rule_codes=tables.rule_codes_table(platform),
        dimensions=tables.dimensions_table(model),
    )
