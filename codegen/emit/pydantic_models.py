"""Pydantic v2 models from a fields-only JSON Schema, via datamodel-code-generator.

Options chosen for strict JSON typing: StrictStr/StrictInt/StrictBool/StrictFloat,
optional fields that may be absent but never null (the MISSING sentinel, and
non-nullable defaults), enums as classes, unknown fields per ``extra``. Rules are
not given to datamodel-code-generator (it ignores ``dependentRequired`` and loses
``oneOf`` beside other composition); the request's root class instead gets a base
class whose validator runs the generated rule runtime.
"""

from __future__ import annotations

import json
from typing import Any

import datamodel_code_generator as dcg
from datamodel_code_generator._format_types import PythonVersion
from datamodel_code_generator.enums import (
    DataModelType,
    InputFileType,
    StrictTypes,
    TargetPydanticVersion,
)


def pydantic_models(
    schema: dict[str, Any],
    class_name: str,
    header: str,
    *,
    extra: str,
    base_class: str | None = None,
) -> str:
    options: dict[str, Any] = {
        "input_file_type": InputFileType.JsonSchema,
        "output_model_type": DataModelType.PydanticV2BaseModel,
        "target_python_version": PythonVersion.PY_311,
        "target_pydantic_version": TargetPydanticVersion.V2_14,
        "strict_types": [StrictTypes.str, StrictTypes.int, StrictTypes.bool, StrictTypes.float],
        "extra_fields": extra,
        "field_constraints": True,
        "use_annotated": True,
        "use_field_description": True,
        "use_schema_description": True,
        "use_standard_collections": True,
        "use_union_operator": True,
        "use_double_quotes": True,
        "use_title_as_name": True,
        "use_subclass_enum": True,
        "capitalise_enum_members": True,
        "set_default_enum_member": True,
        "use_missing_sentinel": True,
        "strict_nullable": True,
        "disable_timestamp": True,
        "formatters": [],
        "class_name": class_name,
        "custom_file_header": header.rstrip("\n"),
    }
    if base_class is not None:
        options["base_class_map"] = {class_name: base_class}
    clean = {k: v for k, v in schema.items() if k not in ("$comment",)}
    result = dcg.generate(json.dumps(clean), **options)
    if not isinstance(result, str):
        raise RuntimeError(
            f"datamodel-code-generator returned {type(result).__name__}, not one module"
        )
    return result
