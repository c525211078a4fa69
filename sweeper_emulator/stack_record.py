"""The emulated deployment as CloudFormation shows it: a stack record DescribeStacks returns.

A command that finds a deployment by its stack's outputs (`ecr-sweeper run`, `report`,
`smoke`) then finds the emulated one, as it would find a real stack after `sam deploy`.
moto's CloudFormation holds the record: the stack's name, description, parameter values
and the template's Outputs, resolved against the resources the emulator created. The
record has no resources of its own (runtime.deploy creates them). An output that names a
resource the emulator does not create (the dead-letter queue, the IAM roles) is left out.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import boto3

from sweeper_emulator.template import Resolver

if TYPE_CHECKING:
    from sweeper_emulator.runtime import Stack

_SUB_NAME = re.compile(r"\$\{([^!}][^}.]*)(?:\.[^}]*)?\}")


def _named_resources(value: Any) -> set[str]:
    """The logical ids (and parameters) a template value refers to."""
    if isinstance(value, list):
        return {name for item in value for name in _named_resources(item)}
    if not isinstance(value, dict):
        return set()
    names: set[str] = set()
    for key, argument in value.items():
        if key == "Ref":
            names.add(argument)
        elif key == "Fn::GetAtt":
            names.add(argument[0] if isinstance(argument, list) else argument.split(".")[0])
        elif key == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            names |= set(_SUB_NAME.findall(text))
            if not isinstance(argument, str):
                names |= _named_resources(argument[1])
        else:
            names |= _named_resources(argument)
    return names


def resolved_outputs(template: dict[str, Any], resolver: Resolver) -> dict[str, dict[str, str]]:
    """The template's Outputs ({key: {Value, Description}}) that the emulated resources
    give a value to."""
    created = set(resolver.refs) | {logical for logical, _ in resolver.attributes}
    not_created = set(template.get("Resources", {})) - created
    outputs = {}
    for key, spec in template.get("Outputs", {}).items():
        if _named_resources(spec["Value"]) & not_created:
            continue
        outputs[key] = {"Value": str(resolver.resolve(spec["Value"]))}
        if "Description" in spec:
            outputs[key]["Description"] = str(spec["Description"])
    return outputs


def record(
    session: boto3.Session, stack: Stack, template: dict[str, Any], resolver: Resolver
) -> None:
    """Create the stack record in the mocked CloudFormation and keep its outputs on `stack`."""
    outputs = resolved_outputs(template, resolver)
    stack.outputs = {key: output["Value"] for key, output in outputs.items()}
    body = {
        "Description": str(template.get("Description", "")),
        "Parameters": {
            name: {"Type": str(spec.get("Type", "String"))}
            for name, spec in template.get("Parameters", {}).items()
        },
        "Resources": {},
        "Outputs": outputs,
    }
    session.client("cloudformation").create_stack(
        StackName=stack.name,
        TemplateBody=json.dumps(body),
        Parameters=[
            {"ParameterKey": name, "ParameterValue": value}
            for name, value in stack.parameters.items()
        ],
    )
