"""The inventory's Lambda functions in moto: container-image functions with their
versions (a gap is a deleted version), aliases (weighted routing included) and the
image URIs GetFunction gives (`Code.ImageUri`, `Code.ResolvedImageUri`)."""

from __future__ import annotations

from typing import Any

import boto3
from moto.awslambda.models import LambdaFunction, lambda_backends

from sweeper_emulator.inventory import Lambda
from sweeper_emulator.loaders.iam import role_arn

LAMBDA_ROLE = "emulated-workload"


_original_get_code = LambdaFunction.get_code


def _get_code(self: LambdaFunction) -> dict[str, Any]:
    response = _original_get_code(self)
    code = getattr(self, "emulated_code", None)
    if code is not None:
        response["Code"] = dict(code)
    return response


def load_lambda(section: Lambda, account: str, region: str) -> None:
    if not section.functions:
        return
    LambdaFunction.get_code = _get_code
    session = boto3.Session(region_name=region)
    role = role_arn(session, LAMBDA_ROLE)
    lam = session.client("lambda")
    backend = lambda_backends[account][region]
    for fn in section.functions:
        by_version = {v.version: v for v in fn.versions}
        latest = by_version.get("$LATEST") or fn.versions[-1]
        lam.create_function(
            FunctionName=fn.name,
            Role=role,
            PackageType="Image",
            Code={"ImageUri": latest.image_uri},
        )
        numbers = sorted(int(v) for v in by_version if v.isdigit())
        for number in range(1, (numbers[-1] if numbers else 0) + 1):
            # moto, like Lambda, publishes nothing when nothing changed: mark a change.
            backend.get_function(fn.name, None).code_or_config_updated = True
            lam.publish_version(FunctionName=fn.name, Description=str(number))
        for number in range(1, (numbers[-1] if numbers else 0) + 1):
            if str(number) not in by_version:  # a gap: that version was deleted
                lam.delete_function(FunctionName=fn.name, Qualifier=str(number))
        for version, spec in by_version.items():
            target = backend.get_function(fn.name, None if version == "$LATEST" else version)
            target.emulated_code = {
                "RepositoryType": "ECR",
                "ImageUri": spec.image_uri,
                **(
                    {"ResolvedImageUri": spec.resolved_image_uri} if spec.resolved_image_uri else {}
                ),
            }
        for alias in fn.aliases:
            routing = (
                {"RoutingConfig": {"AdditionalVersionWeights": alias.additional_versions}}
                if alias.additional_versions
                else {}
            )
            lam.create_alias(
                FunctionName=fn.name, Name=alias.name, FunctionVersion=alias.version, **routing
            )
