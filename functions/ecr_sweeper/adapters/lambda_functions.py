"""AWS Lambda as a source of "in use": container-image functions and their versions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.core.config import Config
from ecr_sweeper.core.in_use import InUseBuilder

SOURCE = "lambda"


def _pages(lam: Any, operation: str, key: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
    try:
        for page in lam.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    except ClientError as error:
        raise classify(error, f"lambda:{operation}") from error


def versions_to_keep(versions: list[str], aliased: set[str], keep_count: int) -> list[str]:
    """Every aliased version, plus the newest keep_count others ($LATEST counts as one)."""

    def newest_first(version: str) -> tuple[int, int, str]:
        if version == "$LATEST":
            return (0, 0, version)
        return (1, -int(version), version) if version.isdigit() else (2, 0, version)

    others = sorted((v for v in versions if v not in aliased), key=newest_first)
    return sorted(aliased, key=newest_first) + others[:keep_count]


def collect_lambda_usage(lam: Any, config: Config, builder: InUseBuilder) -> None:
    if config.lambda_functions is None:
        return
    for function in _pages(lam, "list_functions", "Functions", PaginationConfig={"PageSize": 50}):
        if function.get("PackageType") != "Image":
            continue
        name = function["FunctionName"]
        rule = config.lambda_rule(name)
        if rule is None:
            continue
        versions = [
            v["Version"]
            for v in _pages(
                lam,
                "list_versions_by_function",
                "Versions",
                FunctionName=name,
                PaginationConfig={"PageSize": 50},
            )
        ]
        aliased: set[str] = set()
        for alias in _pages(
            lam, "list_aliases", "Aliases", FunctionName=name, PaginationConfig={"PageSize": 50}
        ):
            aliased.add(alias["FunctionVersion"])
            weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            aliased.update(weights)
        for version in versions_to_keep(versions, aliased, rule.keep_count):
            try:
                code = lam.get_function(FunctionName=name, Qualifier=version).get("Code", {})
            except ClientError as error:
                raise classify(error, f"lambda:GetFunction {name}:{version}") from error
            used_by = f"lambda:{name}:{version}"
            # ImageUri is what was deployed (maybe a tag that has moved since);
            # ResolvedImageUri is the digest that actually runs. Keep both.
            for uri in (code.get("ImageUri"), code.get("ResolvedImageUri")):
                if uri:
                    builder.add(uri, used_by, SOURCE)
