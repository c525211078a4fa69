"""AWS Lambda as a source of "in use": container-image functions and their versions.

Calls, only if `lambda_functions` selects something: ListFunctions (50 a page, the most
it returns), then per selected container-image function ListAliases (10,000 a page),
ListVersionsByFunction (50 a page; skipped when keep_count is 0, as only aliased versions
are kept then) and one GetFunction per kept version. Every call is made once; the
per-function listings, then the GetFunction calls, run concurrently (at most
DESCRIBE_CONCURRENCY at a time).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently
from ecr_sweeper.core.config import Config
from ecr_sweeper.core.in_use import InUseBuilder

SOURCE = "lambda"
FUNCTIONS_PAGE_SIZE = 50  # ListFunctions returns at most 50 a page, whatever is asked
VERSIONS_PAGE_SIZE = 50  # ListVersionsByFunction: likewise
ALIASES_PAGE_SIZE = 10_000  # ListAliases: MaxItems' maximum


def _pages(
    lam: Any, operation: str, key: str, page_size: int, **kwargs: Any
) -> list[dict[str, Any]]:
    try:
        return [
            item
            for page in lam.get_paginator(operation).paginate(
                **kwargs, PaginationConfig={"PageSize": page_size}
            )
            for item in page.get(key, [])
        ]
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


def _aliased(aliases: Iterable[dict[str, Any]]) -> set[str]:
    aliased: set[str] = set()
    for alias in aliases:
        aliased.add(alias["FunctionVersion"])
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        aliased.update(weights)
    return aliased


def collect_lambda_usage(lam: Any, config: Config, builder: InUseBuilder) -> None:
    if not config.lambda_functions:  # None (not configured) or [] (nothing selected)
        return
    selected: list[tuple[str, int]] = []
    for function in _pages(lam, "list_functions", "Functions", FUNCTIONS_PAGE_SIZE):
        if function.get("PackageType") != "Image":
            continue
        rule = config.lambda_rule(function["FunctionName"])
        if rule is not None:
            selected.append((function["FunctionName"], rule.keep_count))

    # 1. Every function's aliases and versions, all listings at once.
    listings: list[tuple[str, str]] = []
    for name, keep_count in selected:
        listings.append(("list_aliases", name))
        if keep_count > 0:
            listings.append(("list_versions_by_function", name))

    def listing(job: tuple[str, str]) -> list[dict[str, Any]]:
        operation, name = job
        if operation == "list_aliases":
            return _pages(lam, operation, "Aliases", ALIASES_PAGE_SIZE, FunctionName=name)
        return _pages(lam, operation, "Versions", VERSIONS_PAGE_SIZE, FunctionName=name)

    listed = dict(zip(listings, concurrently(listing, listings), strict=True))

    # 2. The code of every version to keep, all GetFunction calls at once.
    kept: list[tuple[str, str]] = []
    for name, keep_count in selected:
        aliased = _aliased(listed[("list_aliases", name)])
        versions = [v["Version"] for v in listed.get(("list_versions_by_function", name), [])]
        kept.extend((name, v) for v in versions_to_keep(versions, aliased, keep_count))

    def code(job: tuple[str, str]) -> dict[str, Any]:
        name, version = job
        try:
            return dict(lam.get_function(FunctionName=name, Qualifier=version).get("Code", {}))
        except ClientError as error:
            raise classify(error, f"lambda:GetFunction {name}:{version}") from error

    for (name, version), function_code in zip(kept, concurrently(code, kept), strict=True):
        used_by = f"lambda:{name}:{version}"
        # ImageUri is what was deployed (maybe a tag that has moved since);
        # ResolvedImageUri is the digest that actually runs. Keep both.
        for uri in (function_code.get("ImageUri"), function_code.get("ResolvedImageUri")):
            if uri:
                builder.add(uri, used_by, SOURCE)
