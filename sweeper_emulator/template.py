"""Read template.yaml and resolve the CloudFormation intrinsics our template uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = ("Ref", "Fn::Sub", "Fn::GetAtt", "Fn::If", "Fn::Equals", "Fn::Not", "Fn::Join")


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...)."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix == "Ref" or suffix == "Condition" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return yaml.load(handle, Loader=_Loader)


class TemplateError(Exception):
    """The template uses something the emulator cannot resolve."""


@dataclass
class Resolver:
    """Resolves intrinsics against parameter values and the emulated resources."""

    parameters: dict[str, str]
    pseudo: dict[str, str]
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                try:
                    return self.attributes[(logical, attribute)]
                except KeyError as error:
                    raise TemplateError(f"cannot resolve !GetAtt {logical}.{attribute}") from error
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.resolve(when_true if self.conditions.get(name) else when_false)
            if key == "Fn::Join":
                separator, items = arg
                if not isinstance(items, list):  # a CommaDelimitedList parameter's Ref
                    resolved = str(self.resolve(items))
                    return separator.join(resolved.split(",")) if resolved else ""
                return separator.join(str(self.resolve(i)) for i in items)
            if key.startswith("Fn::"):
                raise TemplateError(f"the emulator does not support {key}")
        return {k: self.resolve(v) for k, v in value.items()}

    def condition(self, expression: Any) -> bool:
        if isinstance(expression, dict) and "Fn::Equals" in expression:
            left, right = (self.resolve(v) for v in expression["Fn::Equals"])
            return str(left) == str(right)
        if isinstance(expression, dict) and "Fn::Not" in expression:
            return not self.condition(expression["Fn::Not"][0])
        if isinstance(expression, dict) and "Condition" in expression:
            return self.conditions[expression["Condition"]]
        raise TemplateError(f"unsupported condition {expression!r}")

    def _ref(self, name: str) -> str:
        for table in (self.pseudo, self.parameters, self.refs):
            if name in table:
                return table[name]
        raise TemplateError(f"cannot resolve !Ref {name}")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {k: str(self.resolve(v)) for k, v in variables.items()}
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            out.append(text[i:start])
            end = text.index("}", start)
            name = text[start + 2 : end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in local:
                out.append(local[name])
            elif "." in name:
                out.append(self.resolve({"Fn::GetAtt": name.split(".", 1)}))
            else:
                out.append(str(self._ref(name)))
            i = end + 1
        return "".join(out)


def parameter_values(template: dict[str, Any], parameters: dict[str, str] | None) -> dict[str, str]:
    """Every parameter's value: the given ones, the template's defaults for the rest."""
    values = {
        name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()
    }
    unknown = set(parameters or {}) - set(values)
    if unknown:
        raise TemplateError(f"unknown template parameters: {', '.join(sorted(unknown))}")
    values.update(parameters or {})
    return values


def stack_resolver(
    template: dict[str, Any], values: dict[str, str], *, region: str, account_id: str, stack: str
) -> Resolver:
    """A resolver for one stack of the template: its parameter values, pseudo parameters
    and conditions (the resources' Ref and GetAtt values are added as they are created)."""
    resolver = Resolver(
        parameters=values,
        pseudo={
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": stack,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        },
    )
    for name, expression in template.get("Conditions", {}).items():
        resolver.conditions[name] = resolver.condition(expression)
    return resolver


def substitute_definition(text: str, substitutions: dict[str, Any], resolver: Resolver) -> str:
    """A state machine definition as CloudFormation hands it to Step Functions: each
    `${Name}` of DefinitionSubstitutions replaced by its resolved value."""
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", str(resolver.resolve(value)))
    if "${" in text:
        start = text.index("${")
        raise TemplateError(f"unsubstituted placeholder {text[start : start + 40]!r}")
    return text
