"""The workflow's scan and plan, run locally by the `ecr-sweeper` command.

These functions call the same adapters and core code as the workflow's steps
(steps.py), against the account the AWS credentials point at, but keep
everything in memory: nothing is written to S3 and nothing is deleted. Every
client they use is read-only: any call other than Describe*, List*, Get* or
BatchGet* is refused before it is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import yaml

from ecr_sweeper.adapters import ecr as ecr_api
from ecr_sweeper.adapters.aws import RETRY_CONFIG
from ecr_sweeper.adapters.ecs import collect_ecs_usage
from ecr_sweeper.adapters.lambda_functions import collect_lambda_usage
from ecr_sweeper.core.config import (
    DEFAULT_KEEP_TAG_PATTERNS,
    DEFAULT_RESOURCE_KEEP_COUNT,
    Config,
    load_config,
)
from ecr_sweeper.core.images import ImageKind
from ecr_sweeper.core.in_use import InUseBuilder, InUseSet, RepositoryUsage
from ecr_sweeper.core.policy import Action, RepositoryPlan, plan_repository
from ecr_sweeper.core.report import ImageAction, Report, RepositoryResult, build_report
from ecr_sweeper.errors import SweeperError
from ecr_sweeper.steps import kind_rows

READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet")
PLAN_NAME = "plan"  # the execution name a local plan's report carries

# `ecr-sweeper generate`, as `ecrm generate` writes it.
GENERATED_EXPIRES = "30d"
GENERATED_KEEP_COUNT = 5


class LocalError(SweeperError):
    """A local command cannot go on (bad arguments, missing credentials or region)."""


class ReadOnlyViolation(SweeperError):
    """A read-only command tried to call an AWS operation that changes something."""


def _refuse_writes(model: Any, **_: Any) -> None:
    if not model.name.startswith(READ_ONLY_PREFIXES):
        raise ReadOnlyViolation(
            f"refused {model.service_model.service_name}:{model.name}: this command only reads"
        )


def read_only(client: Any) -> Any:
    """`client`, refusing (before sending) every operation that is not a read."""
    client.meta.events.register("before-call", _refuse_writes)
    return client


@dataclass
class Account:
    """The account and region the credentials point at, with read-only clients for it."""

    session: Any
    account_id: str
    region: str
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = read_only(
                self.session.client(service, region_name=self.region, config=RETRY_CONFIG)
            )
        return self._clients[service]

    @property
    def registry(self) -> str:
        """The account's private ECR registry host in this region."""
        suffix = ".amazonaws.com.cn" if self.region.startswith("cn-") else ".amazonaws.com"
        return f"{self.account_id}.dkr.ecr.{self.region}{suffix}"


def open_account(session: Any | None = None) -> Account:
    """The account (sts:GetCallerIdentity) and region (the session's) to work on."""
    session = session or boto3.Session()
    region = session.region_name
    if not region:
        raise LocalError("no AWS region: set AWS_REGION (or a profile's region) or pass --region")
    sts = read_only(session.client("sts", region_name=region, config=RETRY_CONFIG))
    account_id = sts.get_caller_identity()["Account"]
    return Account(session=session, account_id=account_id, region=region)


# ---------------------------------------------------------------------------------------------
# The in-use scan (steps.scan_in_use without S3)
# ---------------------------------------------------------------------------------------------


def target_repositories(
    account: Account, config: Config, only: Sequence[str] | None = None
) -> list[str]:
    """The repositories a run would sweep (a rule matches them), sorted.

    `only` narrows them to the named repositories, each of which must exist and
    match a rule.
    """
    names = ecr_api.list_repository_names(account.client("ecr"))
    targets = [name for name in names if config.rule_for_repository(name) is not None]
    if not only:
        return targets
    existing = set(names)
    problems = [
        f"repository {name!r} does not exist in {account.account_id} {account.region}"
        if name not in existing
        else f"repository {name!r} matches no repository rule of the config"
        for name in dict.fromkeys(only)
        if name not in targets
    ]
    if problems:
        raise LocalError("; ".join(problems))
    wanted = set(only)
    return [name for name in targets if name in wanted]


def scan_in_use(account: Account, config: Config) -> InUseSet:
    """Every image the config's ECS and Lambda sources use, as the workflow's scan finds it."""
    builder = InUseBuilder(account_id=account.account_id, region=account.region)
    collect_ecs_usage(account.client("ecs"), config, builder)
    collect_lambda_usage(account.client("lambda"), config, builder)
    return builder.build()


def in_use_uris(in_use: InUseSet, registry: str) -> list[str]:
    """The in-use set as `ecrm scan` writes it: `<registry>/<repo>@<digest>` and
    `<registry>/<repo>:<tag>` for every digest and tag in use, sorted."""
    uris: set[str] = set()
    for repository, usage in in_use.repositories.items():
        uris.update(f"{registry}/{repository}@{digest}" for digest in usage.digests)
        uris.update(f"{registry}/{repository}:{tag}" for tag in usage.tags)
    return sorted(uris)


# ---------------------------------------------------------------------------------------------
# The plan (Collect, Evaluate and a dry-run Delete, without S3)
# ---------------------------------------------------------------------------------------------


def dry_run_result(plan: RepositoryPlan, usage: RepositoryUsage) -> RepositoryResult:
    """What the deleter records for `plan` in a dry run (steps.delete_repository).

    The deleter's last-line guard is applied the same way: an image that is not
    marked delete, or whose digest or a tag of which is in use, is skipped.
    """
    decisions = {d.digest: d for d in plan.decisions}
    planned: list[ImageAction] = []
    skipped: list[ImageAction] = []
    for digest in plan.to_delete():
        decision = decisions[digest]
        action = ImageAction(
            digest=digest,
            tags=list(decision.tags),
            kind=str(decision.kind),
            size_bytes=decision.size_bytes,
            pushed_at=decision.pushed_at,
            reason=decision.reason,
            detail=decision.detail,
        )
        in_use_tags = [t for t in decision.tags if t in usage.tags]
        if decision.action is not Action.DELETE or digest in usage.digests or in_use_tags:
            skipped.append(
                action.model_copy(
                    update={"reason": "in_use_guard", "detail": "in use: refused by the deleter"}
                )
            )
            continue
        planned.append(action)
    # An index's size is the largest of its children: counting it would count blobs twice.
    reclaimed = sum(a.size_bytes for a in planned if a.kind != ImageKind.INDEX)
    return RepositoryResult(
        repository=plan.repository,
        rule=plan.rule,
        dry_run=True,
        status="ok",
        rows=kind_rows(plan),
        planned=planned,
        skipped=skipped,
        bytes_reclaimed=reclaimed,
    )


@dataclass
class LocalPlan:
    report: Report
    in_use: InUseSet
    plans: dict[str, RepositoryPlan]
    results: dict[str, RepositoryResult]


def plan_account(
    account: Account,
    config: Config,
    now: datetime,
    *,
    repositories: Sequence[str] | None = None,
    progress: Callable[[list[str]], Iterable[str]] = iter,
) -> LocalPlan:
    """Scan, collect and evaluate every target repository, as a dry run would, in memory.

    `progress` wraps the iteration over the repositories (the CLI's progress bar).
    """
    targets = target_repositories(account, config, repositories)
    in_use = scan_in_use(account, config)
    plans: dict[str, RepositoryPlan] = {}
    results: dict[str, RepositoryResult] = {}
    for name in progress(targets):
        rule = config.rule_for_repository(name)
        assert rule is not None  # target_repositories keeps only matched repositories
        images = ecr_api.describe_all_images(account.client("ecr"), name)
        usage = in_use.usage_for(name)
        plans[name] = plan_repository(name, images, rule, usage, now)
        results[name] = dry_run_result(plans[name], usage)
    report = build_report(PLAN_NAME, True, now, targets, results, in_use.image_count())
    return LocalPlan(report=report, in_use=in_use, plans=plans, results=results)


def plan_json(local: LocalPlan, account: Account, config_path: str) -> dict[str, Any]:
    """`plan --format json`: per repository, the table rows and every image's decision."""
    repositories = []
    for line in local.report.repositories:
        plan, result = local.plans[line.repository], local.results[line.repository]
        repositories.append(
            {
                "repository": line.repository,
                "rule": plan.rule,
                "cutoff": plan.cutoff.isoformat(),
                "rows": [row.model_dump(mode="json") for row in line.rows],
                "would_delete": line.deleted,
                "bytes_reclaimed": line.bytes_reclaimed,
                "images": [
                    decision.model_dump(mode="json", include=IMAGE_FIELDS)
                    for decision in plan.decisions
                ],
                "skipped": [a.model_dump(mode="json") for a in result.skipped],
                "safety_corrections": plan.safety_corrections,
            }
        )
    return {
        "account_id": account.account_id,
        "region": account.region,
        "config": config_path,
        "now": local.report.now.isoformat(),
        "dry_run": True,
        "in_use_images": local.report.in_use_images,
        "images_total": local.report.images_total,
        "images_to_delete": local.report.images_deleted,
        "bytes_reclaimed": local.report.bytes_reclaimed,
        "repositories": repositories,
    }


IMAGE_FIELDS = {
    "digest",
    "tags",
    "kind",
    "size_bytes",
    "pushed_at",
    "action",
    "reason",
    "detail",
    "subject",
    "manifests",
}


# ---------------------------------------------------------------------------------------------
# generate (as `ecrm generate`)
# ---------------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, list items indented under their key, no `&id001` anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def name_to_pattern(name: str) -> str:
    """ecrm's rule: the name up to and including its first `/`, `_` or `-`, then `*`;
    a name with none of them stays as it is."""
    for i, char in enumerate(name):
        if char in "/_-":
            return name[: i + 1] + "*"
    return name


def _entries(names: Iterable[str], **settings: Any) -> list[dict[str, Any]]:
    patterns = {name_to_pattern(name) for name in names}
    entries = [
        {"name_pattern": p, **settings} if "*" in p else {"name": p, **settings} for p in patterns
    ]
    # As ecrm sorts them: patterns first (their name is empty), then names.
    return sorted(entries, key=lambda e: (e.get("name", ""), e.get("name_pattern", "")))


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterable[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def generate_config(account: Account) -> str:
    """An ecrm.yaml covering the account's clusters, task definition families, container
    image Lambda functions and repositories, one rule per name prefix."""
    ecs, lam = account.client("ecs"), account.client("lambda")
    clusters = [arn.rsplit("/", 1)[-1] for arn in _pages(ecs, "list_clusters", "clusterArns")]
    families = list(_pages(ecs, "list_task_definition_families", "families", status="ACTIVE"))
    functions = [
        f["FunctionName"]
        for f in _pages(lam, "list_functions", "Functions")
        if f.get("PackageType") == "Image"
    ]
    repositories = ecr_api.list_repository_names(account.client("ecr"))
    if not repositories:
        raise LocalError(
            f"no ECR repositories in {account.account_id} {account.region}: nothing to sweep"
        )
    data = {
        "clusters": _entries(clusters),
        "task_definitions": _entries(families, keep_count=DEFAULT_RESOURCE_KEEP_COUNT),
        "lambda_functions": _entries(functions, keep_count=DEFAULT_RESOURCE_KEEP_COUNT),
        "repositories": _entries(
            repositories,
            expires=GENERATED_EXPIRES,
            keep_count=GENERATED_KEEP_COUNT,
            keep_tag_patterns=list(DEFAULT_KEEP_TAG_PATTERNS),
        ),
    }
    header = (
        f"# Generated by `ecr-sweeper generate` for account {account.account_id}, "
        f"region {account.region}.\n"
        "# Review it before use: every rule matches a name prefix (see docs/config.md).\n"
    )
    sections = [
        yaml.dump({key: value}, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
        for key, value in data.items()
    ]
    text = header + "\n".join(sections)
    load_config(text, source="generated config")  # what we write must pass `validate`
    return text
