"""Fixtures for the unit tests: fake credentials for those that call moto directly, an
emulated account for those that read one through a product adapter, and the state
machine definition as CloudFormation substitutes it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from sweeper_emulator.template import (
    Resolver,
    load_template,
    parameter_values,
    stack_resolver,
    substitute_definition,
)

ROOT = Path(__file__).resolve().parents[2]
# Where the substituted definitions pretend to be deployed.
ACCOUNT, REGION, STACK = "123456789012", "us-east-1", "ecr-sweeper"
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@contextmanager
def emulated_account(inventory: dict[str, Any]) -> Iterator[Any]:
    """The emulator's account with `inventory` loaded (through its front door), as a
    session with the emulator's own credentials: what an adapter under test reads."""
    from sweeper_emulator.emulator import Emulator  # moto and the template: only when used
    from sweeper_emulator.inventory import inventory_from_dict

    with Emulator(inventory_from_dict(inventory)) as emulator:
        yield emulator.session


@pytest.fixture
def emulated() -> Callable[[dict[str, Any]], Any]:
    """emulated(inventory): a context manager giving a session on the emulated account."""
    return emulated_account


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """fake_credentials(region): credentials and a region that can only reach moto, never
    a real account (and no MOTO_ACCOUNT_ID: the account comes from the access key, as in
    the emulator)."""

    def use(region: str) -> None:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)

    return use


def parameters_reaching(value: Any, template: dict[str, Any]) -> set[str]:
    """The template parameters that an expression depends on: its Refs, the `${Name}` of
    its Fn::Sub, the conditions of its Fn::If, and the name properties (FunctionName,
    BucketName, ...) of the resources it refers to, which make their Ref and Arn."""
    parameters, resources = template.get("Parameters", {}), template["Resources"]
    found: set[str] = set()

    def resource(logical: str) -> None:
        properties = resources.get(logical, {}).get("Properties", {})
        names = {k: v for k, v in properties.items() if k.endswith("Name")}
        found.update(parameters_reaching(names, template))

    if isinstance(value, list):
        for item in value:
            found |= parameters_reaching(item, template)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref":
                found.update({arg} & set(parameters))
                resource(arg)
            elif key == "Fn::GetAtt":
                resource(arg[0] if isinstance(arg, list) else arg.split(".", 1)[0])
            elif key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                for name in _SUB_NAME.findall(text):
                    found.update({name} & set(parameters))
                    resource(name.split(".", 1)[0])
                found |= parameters_reaching(variables, template)
            elif key == "Fn::If":
                found |= parameters_reaching(template["Conditions"][arg[0]], template)
                found |= parameters_reaching(arg[1:], template)
            elif key == "Condition":
                found |= parameters_reaching(template["Conditions"][arg], template)
            else:
                found |= parameters_reaching(arg, template)
    return found


def _add_resources(resolver: Resolver, resources: dict[str, Any]) -> None:
    """Ref and Arn values shaped as CloudFormation makes them (stack-logical-suffix)."""
    for logical, spec in resources.items():
        physical = f"{STACK}-{logical}-1A2B3C4D5E6F"
        if spec["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            ref, arn = physical, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}"
        elif spec["Type"] == "AWS::SNS::Topic":
            ref = arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{physical}"
        elif spec["Type"] == "AWS::S3::Bucket":
            ref = physical.lower()
            arn = f"arn:aws:s3:::{ref}"
        else:
            continue  # a Ref or GetAtt of another type fails to resolve: TemplateError
        resolver.refs[logical] = ref
        resolver.attributes[(logical, "Arn")] = arn


@pytest.fixture(scope="session")
def substituted_definitions() -> dict[str, str]:
    """The state machine's definition as CloudFormation hands it to Step Functions, its
    DefinitionSubstitutions filled in by the emulator's own code, once for every allowed
    value of each parameter that reaches them (the others at their defaults). Keyed
    "Parameter=value" ("defaults" if no parameter reaches them)."""
    template = load_template(ROOT / "template.yaml")
    resources = template["Resources"].values()
    (spec,) = [s for s in resources if s["Type"] == "AWS::Serverless::StateMachine"]
    properties = spec["Properties"]
    text = (ROOT / properties["DefinitionUri"]).read_text()
    substitutions = properties.get("DefinitionSubstitutions", {})
    variants: dict[str, dict[str, str]] = {}
    for name in sorted(parameters_reaching(substitutions, template)):
        declared = template["Parameters"][name]
        for value in declared.get("AllowedValues", [declared.get("Default", "")]):
            variants[f"{name}={value}"] = {name: str(value)}
    definitions = {}
    for label, parameters in (variants or {"defaults": {}}).items():
        values = parameter_values(template, parameters)
        resolver = stack_resolver(template, values, region=REGION, account_id=ACCOUNT, stack=STACK)
        _add_resources(resolver, template["Resources"])
        definitions[label] = substitute_definition(text, substitutions, resolver)
    return definitions
