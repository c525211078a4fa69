"""The JSON Schema of ecrm.yaml, for editors: generated from the config models, then
brought in line with what `validate` accepts where the models alone would say otherwise.

Adjustments to pydantic's schema, each taken from config_check.py's tables so that they
follow the checker:

* a key written with no value (`keep_count:`) counts as not set: every key that is not
  required may be null;
* a key a section refuses although its model has it (keep_aliase outside
  lambda_functions) is left out of that section's entries;
* an entry selected by name or name_pattern has exactly one of them, as a string;
* `repositories` is required and has at least one rule.

The schema checks shapes and types; `validate` checks the rest (durations, region names,
role ARNs) and says where. tools/ecrm_schema.py writes it to schema/ecrm.schema.json,
and tests/unit/test_config_schema.py fails when that file is out of date.

Pure: no I/O.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ecr_sweeper.core.config_check import RULE_SECTIONS, check_name_selector
from ecr_sweeper.core.config_model import Config

__all__ = ["SCHEMA_PATH", "ecrm_schema", "ecrm_schema_text"]

# Where the repository keeps it, from the repository's root.
SCHEMA_PATH = "schema/ecrm.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def ecrm_schema() -> dict[str, Any]:
    schema = Config.model_json_schema()
    definitions: dict[str, Any] = schema["$defs"]
    for section, rules in RULE_SECTIONS.items():
        model = rules.model.__name__
        refused = sorted(key for key, message in rules.refused.items() if message is None)
        if refused:
            variant = f"{model}In{''.join(p.title() for p in section.split('_'))}"
            entry = copy.deepcopy(definitions[model])
            for key in refused:
                entry["properties"].pop(key)
            definitions[variant] = entry
            _retarget(schema["properties"][section], model, variant)
            model = variant
        if rules.whole is check_name_selector:
            definitions[model]["oneOf"] = [
                {"required": [key], "properties": {key: {"type": "string"}}}
                for key in ("name", "name_pattern")
            ]
    for definition in [schema, *definitions.values()]:
        _nullable_unless_required(definition)
    repositories = schema["properties"]["repositories"]
    for option in repositories.get("anyOf", [repositories]):
        if option.get("type") == "array":
            option["minItems"] = 1
    schema["required"] = ["repositories"]
    return {
        "$schema": DRAFT,
        "title": "ecrm.yaml (ecr-sweeper)",
        "description": (
            "What ecr-sweeper sweeps, in the format of ecrm's ecrm.yaml plus ecr-sweeper's "
            "extensions. Generated from the config models; `ecr-sweeper validate` checks "
            "more than this schema can."
        ),
        **{key: value for key, value in schema.items() if key != "title"},
    }


def ecrm_schema_text() -> str:
    """The schema as the repository keeps it: sorted keys are not used, so it reads in
    the models' order; two-space indents and a final newline."""
    return json.dumps(ecrm_schema(), indent=2, ensure_ascii=False) + "\n"


def _retarget(node: Any, model: str, variant: str) -> None:
    """Point every reference to `model` under `node` at `variant`."""
    if isinstance(node, dict):
        if node.get("$ref") == f"#/$defs/{model}":
            node["$ref"] = f"#/$defs/{variant}"
        for value in node.values():
            _retarget(value, model, variant)
    elif isinstance(node, list):
        for value in node:
            _retarget(value, model, variant)


def _nullable_unless_required(definition: dict[str, Any]) -> None:
    required = set(definition.get("required", ()))
    for key, prop in definition.get("properties", {}).items():
        if key in required or _allows_null(prop):
            continue
        keep = {k: prop.pop(k) for k in ("default", "title", "description") if k in prop}
        definition["properties"][key] = {"anyOf": [prop, {"type": "null"}], **keep}


def _allows_null(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(
        option.get("type") == "null" for option in prop.get("anyOf", ())
    )
