"""The five steps of the workflow, each a function of its inputs and the AWS clients.

Handlers call these; so can a local command. The decisions themselves are in
core/ (pure); these functions only fetch data, call the core and store results.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import HTTPClientError
from pydantic import ValidationError

from ecr_sweeper import run_lock
from ecr_sweeper.adapters import ecr as ecr_api
from ecr_sweeper.adapters import eks as eks_api
from ecr_sweeper.adapters import in_use_lists, resource_tags
from ecr_sweeper.adapters.accounts import assume
from ecr_sweeper.adapters.agentcore import collect_agentcore_usage
from ecr_sweeper.adapters.app_runner import collect_app_runner_usage
from ecr_sweeper.adapters.batch import collect_batch_usage
from ecr_sweeper.adapters.codebuild import collect_codebuild_usage
from ecr_sweeper.adapters.config_source import read_config
from ecr_sweeper.adapters.ecs import EcsScan, collect_ecs_usage
from ecr_sweeper.adapters.emr_serverless import collect_emr_serverless_usage
from ecr_sweeper.adapters.inspector import collect_inspector_usage
from ecr_sweeper.adapters.lambda_functions import collect_lambda_usage
from ecr_sweeper.adapters.lightsail import collect_lightsail_usage
from ecr_sweeper.adapters.regions import offered
from ecr_sweeper.adapters.sagemaker import collect_sagemaker_usage
from ecr_sweeper.adapters.scheduled_tasks import (
    collect_scheduled_task_definitions,
    describe_task_definition_images,
)
from ecr_sweeper.adapters.task_definition_cache import TaskDefinitionCache
from ecr_sweeper.core import approval
from ecr_sweeper.core.config import (
    Config,
    RepositoryRule,
    ScanTarget,
    Sources,
    parse_duration,
    wildcard_match,
)
from ecr_sweeper.core.images import ImageKind, RepositoryImages
from ecr_sweeper.core.in_use import InUseBuilder, InUseSet, PlaceBuilder, RepositoryUsage
from ecr_sweeper.core.policy import (
    Action,
    ImageDecision,
    Protection,
    Reason,
    RepositoryPlan,
    plan_repository,
)
from ecr_sweeper.core.recheck import recheck
from ecr_sweeper.core.report import (
    Count,
    ImageAction,
    KindRow,
    Links,
    Report,
    RepositoryResult,
    build_report,
    held_by_max_deletions,
    render_failure,
    render_markdown,
    render_notification,
    report_location,
)
from ecr_sweeper.core.report_changes import changes_since
from ecr_sweeper.errors import (
    AwsRequestError,
    DeleteFailed,
    DeletionCapExceeded,
    NothingInUse,
    RepositoriesFailed,
    RunDataError,
    RunDataMismatch,
    SweeperError,
    TransientAwsError,
)
from ecr_sweeper.events import (
    INLINE_BYTES,
    CapsOutput,
    CollectOutput,
    DeleteEvent,
    DeleteOutput,
    EvaluateOutput,
    PlanOutcome,
    RunContext,
    SealedFile,
    SummaryOutput,
)
from ecr_sweeper.run_store import (
    APPROVED,
    CONFIG_SNAPSHOT,
    IN_USE,
    REPORT,
    REPORT_MARKDOWN,
    REPOSITORIES,
    RunStore,
    read_latest,
    repository_file,
    sha256,
    write_latest,
)

logger = Logger(service="ecr-sweeper")


def scan_in_use(
    *,
    config_source: str,
    execution_name: str,
    dry_run_default: bool,
    dry_run_override: bool | None,
    account_id: str,
    region: str,
    bucket: str,
    now: datetime,
    max_concurrency: int,
    clients: Any,
    wrap_member_client: Callable[[Any], Any] | None = None,
    refuse_blind_scan: bool = True,
) -> RunContext:
    """Step 1. Fails (and so fails the run) on a bad config, any unreadable source, or
    (unless `refuse_blind_scan` is false: `ecr-sweeper scan` only lists) a blind scan."""
    # First: a config that is missing or bad stops the run here, before any other read.
    config = read_config(config_source, clients)
    for warning in config.warnings:
        logger.warning(warning)
    config = config.with_missing_sources_scanned()
    store = RunStore(bucket, f"runs/{execution_name}", clients("s3"))

    targets = [
        name
        for name in ecr_api.list_repository_names(clients("ecr"))
        if config.rule_for_repository(name) is not None
    ]
    builder = InUseBuilder(account_id=account_id, region=region)
    # A task definition revision never changes: the images of those described by earlier
    # runs are cached in the bucket (outside runs/), and only new revisions are described.
    # Its keys are ARNs, so one cache serves every account and region.
    task_definitions = (
        TaskDefinitionCache(clients("s3"), bucket).load()
        if config.clusters or config.task_definitions
        else TaskDefinitionCache.disabled()
    )
    timings: dict[str, float] = {}
    unavailable: list[str] = []  # sources whose service is not offered in their place
    needed: dict[str, str] = {}
    described = cached = 0
    for target in config.scan_targets(account_id, region):
        try:
            scan = _scan_place(
                target,
                config,
                builder,
                clients,
                task_definitions,
                timings,
                unavailable,
                now,
                execution_name,
                wrap_member_client,
            )
        except (AwsRequestError, TransientAwsError) as error:
            if target.role_arn is None:
                raise
            # Same type (the state machine routes on it), naming the place that failed.
            raise type(error)(f"{target.place} (role {target.role_arn}): {error}") from error
        needed.update(scan.task_definitions)
        described, cached = described + scan.described, cached + scan.cached
    task_definitions.save(needed)
    for entry in config.in_use_lists:  # each list with its own figures in the report
        with _timed(timings, in_use_lists.source_name(entry)):
            in_use_lists.collect_in_use_list(clients("s3"), entry, builder, now)
    # The protect tag of every repository of this registry, in one paged call.
    protected = resource_tags.protected_repositories(clients("resourcegroupstaggingapi"))
    in_use = builder.build().model_copy(update={"protected": protected})
    if refuse_blind_scan:
        refuse_a_blind_scan(config, in_use)
    # Per source: what it found (references kept) and how long it took.
    source_figures: dict[str, dict[str, float | str]] = {
        name: {"found": in_use.sources.get(name, 0), "seconds": seconds}
        for name, seconds in timings.items()
    }
    source_figures.update(
        {name: {"found": 0, "seconds": 0.0, "status": NOT_AVAILABLE} for name in unavailable}
    )

    config_sha256 = store.put_json_sealed(CONFIG_SNAPSHOT, config.model_dump(mode="json"))
    in_use_sha256 = store.put_model_sealed(IN_USE, in_use)
    repositories_sha256 = store.put_json_sealed(
        REPOSITORIES, [{"repository": name} for name in targets]
    )
    logger.info(
        "in-use scan done",
        extra={
            "repositories": len(targets),
            "in_use_images": in_use.image_count(),
            "sources": in_use.sources,
            "ignored": in_use.ignored,
            "task_definitions_described": described,
            "task_definitions_cached": cached,
        },
    )
    return RunContext(
        execution_name=execution_name,
        bucket=bucket,
        prefix=store.prefix,
        repositories_key=store.key(REPOSITORIES),
        dry_run=dry_run_default if dry_run_override is None else dry_run_override,
        now=now,
        max_concurrency=max_concurrency,
        repositories=len(targets),
        in_use_images=in_use.image_count(),
        sources=source_figures,
        sources_off=config.sources_off(account_id, region),
        config_sha256=config_sha256,
        in_use_sha256=in_use_sha256,
        repositories_sha256=repositories_sha256,
    )


def _scan_place(
    target: ScanTarget,
    config: Config,
    builder: InUseBuilder,
    clients: Any,
    task_definitions: TaskDefinitionCache,
    timings: dict[str, float],
    unavailable: list[str],
    now: datetime,
    execution_name: str,
    wrap_member_client: Callable[[Any], Any] | None,
) -> EcsScan:
    """Every AWS source of one account and region into `builder`: those its sources turn
    on, and whose service botocore's region data lists there (the others are added to
    `unavailable`)."""
    if target.role_arn is None:  # this account and region, with the function's own role
        place_clients, place_builder, suffix = clients, builder, ""
    else:
        with _timed(timings, f"sts@{target.place}"):
            place_clients = assume(clients("sts"), target, execution_name, wrap_member_client)
        place_builder, suffix = PlaceBuilder(builder, target.place), f"@{target.place}"
    ecs_scan = EcsScan()
    if offered("ecs", target.region):
        with _timed(timings, f"ecs{suffix}"):
            ecs_scan = collect_ecs_usage(
                place_clients("ecs"), config, place_builder, task_definitions
            )
    else:
        unavailable.append(f"ecs{suffix}")
    if offered("lambda", target.region):
        with _timed(timings, f"lambda{suffix}"):
            collect_lambda_usage(place_clients("lambda"), config, place_builder)
    else:
        unavailable.append(f"lambda{suffix}")
    _scan_eks(target, builder, place_clients, timings, unavailable)
    collect_other_sources(
        target.sources,
        place_builder,
        place_clients,
        now,
        timings,
        region=target.region,
        unavailable=unavailable,
        suffix=suffix,
        inspector=target.role_arn is None,  # Inspector reports on this registry only
    )
    return ecs_scan


def _scan_eks(
    target: ScanTarget,
    builder: InUseBuilder,
    place_clients: Any,
    timings: dict[str, float],
    unavailable: list[str],
) -> None:
    """The place's selected EKS clusters, each a source of its own in the figures
    (eks@<account>/<region>/<cluster>). Users name the place outside this account and
    region, as PlaceBuilder's do."""
    if not target.eks:
        return
    if not offered("eks", target.region):
        unavailable.append(f"{eks_api.SOURCE}@{target.place}")
        return
    # Listing is not a source of its own in the figures: each cluster is.
    with _timed({}, f"{eks_api.SOURCE}@{target.place}"):
        clusters = eks_api.selected_clusters(place_clients("eks"), target.eks)
    user_prefix = "" if target.role_arn is None else f"{target.place} "
    for cluster in clusters:
        source = eks_api.source_name(target.place, cluster)
        with _timed(timings, source):
            eks_api.collect_cluster_usage(
                place_clients("eks"),
                place_clients("sts"),
                cluster,
                builder,
                source=source,
                user_prefix=user_prefix,
            )


# How a source the service does not offer in a place shows in the per-source figures.
NOT_AVAILABLE = "not available here"

# The sources read the same way (one client, one adapter): the `sources` switch, the
# boto3 service (whose region data says where it is offered), how the figures name it.
WORKLOAD_SOURCES: tuple[tuple[str, str, str, Callable[[Any, Any], None]], ...] = (
    ("codebuild", "codebuild", "codebuild", collect_codebuild_usage),
    ("sagemaker", "sagemaker", "sagemaker", collect_sagemaker_usage),
    ("emr_serverless", "emr-serverless", "emr_serverless", collect_emr_serverless_usage),
    ("agentcore", "bedrock-agentcore-control", "agentcore", collect_agentcore_usage),
    ("lightsail", "lightsail", "lightsail", collect_lightsail_usage),
)


@contextmanager
def _timed(timings: dict[str, float], source: str) -> Iterator[None]:
    """Time one source's read. A network failure (no connection, a timeout) fails it
    like any error, as TransientAwsError naming the source: "not offered here" is
    decided from botocore's region data, never from an error."""
    start = time.perf_counter()
    try:
        yield
    except (BotocoreConnectionError, HTTPClientError) as error:
        raise TransientAwsError(f"{source}: {error}") from error
    timings[source] = round(time.perf_counter() - start, 3)


def collect_other_sources(
    sources: Sources,
    builder: InUseBuilder | PlaceBuilder,
    clients: Any,
    now: datetime,
    timings: dict[str, float] | None = None,
    *,
    region: str,
    unavailable: list[str] | None = None,
    suffix: str = "",
    inspector: bool = True,
) -> None:
    """The sources beyond ecrm's that `sources` (one place's) turns on: scheduled ECS
    tasks, Batch, App Runner, the WORKLOAD_SOURCES, Amazon Inspector. Those whose service
    is not offered in `region` are not read but added to `unavailable`. `suffix` names
    the place in the figures (`@account/region`)."""
    timings = {} if timings is None else timings
    unavailable = [] if unavailable is None else unavailable
    if sources.scheduled_tasks:
        events = clients("events") if offered("events", region) else None
        scheduler = clients("scheduler") if offered("scheduler", region) else None
        if events is None and scheduler is None:
            unavailable.append(f"scheduled_tasks{suffix}")
        else:
            with _timed(timings, f"scheduled_tasks{suffix}"):
                ecs = clients("ecs")
                scheduled = collect_scheduled_task_definitions(events, scheduler, ecs)
                for arn, used_by in sorted(scheduled.items()):
                    for image in describe_task_definition_images(ecs, arn):
                        builder.add(image, used_by, "scheduled_tasks")
    if sources.batch and not offered("batch", region):
        unavailable.append(f"batch{suffix}")
    elif sources.batch:
        with _timed(timings, f"batch{suffix}"):
            collect_batch_usage(clients("batch"), builder, keep_count=sources.batch_keep_count)
    if sources.app_runner and not offered("apprunner", region):
        unavailable.append(f"apprunner{suffix}")
    elif sources.app_runner:
        with _timed(timings, f"apprunner{suffix}"):
            collect_app_runner_usage(clients("apprunner"), builder)
    for switch, service, figure, collect in WORKLOAD_SOURCES:
        if getattr(sources, switch) and not offered(service, region):
            unavailable.append(f"{figure}{suffix}")
        elif getattr(sources, switch):
            with _timed(timings, f"{figure}{suffix}"):
                collect(clients(service), builder)
    if sources.inspector and inspector and not offered("inspector2", region):
        unavailable.append("inspector")
    elif sources.inspector and inspector:
        within = parse_duration(sources.inspector_in_use_within)
        with _timed(timings, "inspector"):
            collect_inspector_usage(clients("inspector2"), builder, now, within)


def refuse_a_blind_scan(config: Config, in_use: InUseSet) -> None:
    """A scan that finds nothing in use while sources are configured is more likely
    blind (a wrong cluster name, a missing permission) than right: fail the run.

    `config` is the one the scan used, a section left out already replaced by a
    catch-all: a source scanned in full is a configured source."""
    configured = config.sources_configured
    if in_use.image_count() == 0 and configured and not config.safety.allow_nothing_in_use:
        raise NothingInUse(
            f"the scan found no image in use although it read {', '.join(configured)} "
            "(a section left out of the config is read in full): nothing was deleted. "
            "Check the names and patterns (and the scan's permissions); if the account "
            "really runs nothing, set safety.allow_nothing_in_use: true"
        )


def _store(run: RunContext, clients: Any) -> RunStore:
    return RunStore(run.bucket, run.prefix, clients("s3"))


def _rule(config: Config, repository: str) -> RepositoryRule:
    rule = config.rule_for_repository(repository)
    if rule is None:
        raise RunDataError(f"no repository rule matches {repository!r} in this run's config")
    return rule


def collect_repository(repository: str, run: RunContext, clients: Any) -> CollectOutput:
    """Step 2a. Every image of the repository, as ECR reports it, to S3 (the scan read
    the protect tags of every repository)."""
    images = ecr_api.describe_all_images(clients("ecr"), repository)
    # A small repository's images travel in the payload to Evaluate; a large one's in S3.
    images_sha256, inline = _store(run, clients).put_model_or_inline(
        repository_file("images", repository),
        RepositoryImages(repository=repository, images=images),
        INLINE_BYTES,
    )
    return CollectOutput(
        repository=repository, images=len(images), images_sha256=images_sha256, inline=inline
    )


def _config(store: RunStore, run: RunContext) -> Config:
    # Read once per warm container and run (run_store.py), not once per repository.
    return Config.model_validate(
        store.get_json_sealed(CONFIG_SNAPSHOT, run.config_sha256, cached=True)
    )


def _in_use(store: RunStore, run: RunContext) -> InUseSet:
    return store.get_model_sealed(IN_USE, InUseSet, run.in_use_sha256, cached=True)


def _protection(config: Config, repository_reason: str = "") -> Protection:
    return Protection(
        repository=repository_reason,
        tag_patterns=tuple(config.protect_tag_patterns),
        matches=wildcard_match,
    )


def evaluate_repository(
    repository: str,
    run: RunContext,
    clients: Any,
    *,
    images_sha256: str,
    images_inline: str | None = None,
) -> EvaluateOutput:
    return plan_and_evaluate(
        repository, run, clients, images_sha256=images_sha256, images_inline=images_inline
    )[1]


def plan_and_evaluate(
    repository: str,
    run: RunContext,
    clients: Any,
    *,
    images_sha256: str,
    images_inline: str | None = None,
) -> tuple[RepositoryPlan, EvaluateOutput]:
    """Step 2b. Keep or delete each image, and why, against the in-use set. Returns the
    plan's SHA-256 and what it deletes: the state machine carries them to the caps check
    and the deleter, which act on this plan only."""
    store = _store(run, clients)
    config = _config(store, run)
    rule = _rule(config, repository)
    in_use = _in_use(store, run)
    images = store.get_model_or_inline(
        repository_file("images", repository), RepositoryImages, images_sha256, images_inline
    )
    if images.repository != repository:
        raise RunDataMismatch(f"the images file of {repository} describes {images.repository}")
    plan = plan_repository(
        repository,
        images.images,
        rule,
        in_use.usage_for(repository),
        run.now,
        protection=_protection(config, in_use.protected.get(repository, "")),
    ).hold_if_ratio_exceeded(config.safety.max_delete_ratio, config.safety.ratio_min_images)
    text = plan.model_dump_json()
    planned = 0 if plan.held else len(plan.deleted())
    # A small plan that is swept travels on to its deleter, through the plan Map's results
    # (where it can be read too) and the approved list. A large one is a file, and so is
    # a held one: it shows what the cap stopped. A plan that keeps everything is read by
    # nobody.
    inline = bool(planned) and len(text.encode()) <= INLINE_BYTES
    if plan.deleted() and not inline:
        store.put_text(repository_file("plans", repository), text)
    totals = plan.totals()
    return plan, EvaluateOutput(
        repository=repository,
        plan_sha256=sha256(text),
        plan=text if inline else None,
        planned=planned,
        held=bool(plan.held),
        total=Count(**totals["total"]),
        expired=Count(**totals["expired"]),
        keep=Count(**totals["keep"]),
        result=None if planned else unswept_result(plan, rule, run, store),
    )


def unswept_result(
    plan: RepositoryPlan, rule: RepositoryRule, run: RunContext, store: RunStore
) -> RepositoryResult:
    """The result of a repository the sweep leaves alone (its plan deletes nothing, or
    is held): what the deleter would record for it, without a child to record it."""
    return RepositoryResult(
        repository=plan.repository,
        rule=plan.rule,
        dry_run=run.dry_run,
        status="held" if plan.held else "ok",
        held=plan.held,
        action=rule.action,
        rows=kind_rows(plan, rule.action),
        kept_reasons=_kept_reasons(plan),
        archived=_archived(plan),
        plan_key=store.key(repository_file("plans", plan.repository)) if plan.deleted() else "",
    )


def _kept_reasons(plan: RepositoryPlan) -> dict[str, int]:
    return dict(Counter(str(d.reason) for d in plan.decisions if d.action is Action.KEEP))


def _archived(plan: RepositoryPlan) -> Count:
    return Count(
        count=sum(1 for d in plan.decisions if d.archived),
        bytes=sum(d.size_bytes for d in plan.decisions if d.archived),
    )


def check_caps(run: RunContext, outcomes: Sequence[PlanOutcome], clients: Any) -> CapsOutput:
    """Step 3, between planning and deleting. `outcomes` are what the evaluators returned
    through the state machine (the plan Map's results), one per repository whose planning
    finished. Only those plans may be acted on: the approved list (written here, its
    hash returned) is the sweep's items, and a run whose approved plans delete more than
    safety.max_deletions images in all deletes nothing."""
    store = _store(run, clients)
    config = _config(store, run)
    targets = [
        item["repository"] for item in store.get_json_sealed(REPOSITORIES, run.repositories_sha256)
    ]
    approved: dict[str, PlanOutcome] = {}
    wanted = set(targets)
    for outcome in outcomes:
        if outcome.repository not in wanted or outcome.repository in approved:
            raise RunDataMismatch(
                f"a plan for {outcome.repository!r}, which this run planned "
                f"{'twice' if outcome.repository in approved else 'never'}: nothing deleted"
            )
        approved[outcome.repository] = outcome
    planned = sum(o.planned for o in approved.values() if not o.held)
    held = sum(1 for o in approved.values() if o.held)
    unplanned = [name for name in targets if name not in approved]
    if unplanned:
        logger.warning(
            "planning did not finish: these repositories are not swept",
            extra={"repositories": unplanned[:50], "count": len(unplanned)},
        )
    limit = config.safety.max_deletions
    if planned > limit and not run.dry_run:
        raise DeletionCapExceeded(
            f"the plans delete {planned} images in {len(approved)} repositories, more than "
            f"safety.max_deletions ({limit}): nothing was deleted. Check the plans "
            f"(s3://{run.bucket}/{run.prefix}/plans/), then raise the cap in the config "
            "if they are right."
        )
    # Only the plans that delete or archive something are swept: the others' results
    # came with their plans, and a child started for them would have nothing to do.
    swept = [
        approved[name]
        for name in targets
        if name in approved and approved[name].planned and not approved[name].held
    ]
    root, proofs = approval.tree([approval.leaf(o.repository, o.plan_sha256) for o in swept])
    items = [
        {
            "repository": o.repository,
            "plan_sha256": o.plan_sha256,
            "plan": o.plan,
            "index": index,
            "proof": proof,
        }
        for index, (o, proof) in enumerate(zip(swept, proofs, strict=True))
    ]
    approved_sha256 = store.put_json_sealed(APPROVED, items)
    return CapsOutput(
        planned=planned,
        repositories=len(targets),
        unplanned=len(unplanned),
        held=held,
        limit=limit,
        approved=SealedFile(key=store.key(APPROVED), sha256=approved_sha256),
        approved_root=root,
        swept=len(items),
    )


def archives(decision: ImageDecision, action: str) -> bool:
    """Whether a planned deletion is carried out by archiving: under `action: archive`,
    everything the rule lets go except what is already archived (and has been long
    enough: archived_expires), which is deleted."""
    return action == "archive" and decision.reason is not Reason.ARCHIVED_EXPIRED


def kind_rows(plan: RepositoryPlan, action: str = "delete") -> list[KindRow]:
    """The report table's rows: EXPIRED holds what the plan deletes, ARCHIVE what it
    archives, so that TOTAL = EXPIRED + ARCHIVE + KEEP."""
    rows = []
    for row in plan.rows_by_kind():
        total, expired, keep = row["total"], row["expired"], row["keep"]
        moved = [d for d in plan.deleted() if d.kind is row["kind"] and archives(d, action)]
        archive = Count(count=len(moved), bytes=sum(d.size_bytes for d in moved))
        rows.append(
            KindRow(
                kind=str(row["kind"]),
                total=Count(count=total[0], bytes=total[1]),
                expired=Count(count=expired[0] - archive.count, bytes=expired[1] - archive.bytes),
                archive=archive,
                keep=Count(count=keep[0], bytes=keep[1]),
            )
        )
    return rows


def _action(
    decision: ImageDecision,
    reason: str | None = None,
    detail: str | None = None,
    *,
    archive: bool = False,
):
    return ImageAction(
        digest=decision.digest,
        tags=list(decision.tags),
        kind=str(decision.kind),
        size_bytes=decision.size_bytes,
        pushed_at=decision.pushed_at,
        reason=reason or decision.reason,
        detail=decision.detail if detail is None else detail,
        archive=archive,
    )


def _approved_plan(store: RunStore, item: DeleteEvent) -> RepositoryPlan:
    """The plan CheckCaps approved for the item's repository, exactly as the evaluator
    wrote it: the item must prove its place in the approved list against the root
    CheckCaps returned, and the plan (inline or its file) must have the approved hash."""
    repository, plan_sha256 = item.repository, item.plan_sha256
    if not approval.proves(
        approval.leaf(repository, plan_sha256), item.index, item.proof, item.approved_root
    ):
        raise RunDataMismatch(
            f"{repository}: CheckCaps approved no plan with SHA-256 {plan_sha256}: nothing deleted"
        )
    plan = store.get_model_or_inline(
        repository_file("plans", repository), RepositoryPlan, plan_sha256, item.plan
    )
    if plan.repository != repository:
        raise RunDataMismatch(f"the plan of {repository} is for {plan.repository}")
    return plan


@dataclass
class _Removal:
    """What the deleter did to one repository so far (also when it stops part-way)."""

    deleted: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    skipped: list[ImageAction] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)


def _remove(
    repository: str,
    run: RunContext,
    rule: RepositoryRule,
    usage: RepositoryUsage,
    config: Config,
    candidates: list[ImageDecision],
    removal: _Removal,
    store: RunStore,
    clients: Any,
    arn: str,
) -> None:
    """Delete (or archive) the candidates that pass the last look, journaling as it goes.

    The journal (progress/<repo>.json) is written before each request to ECR with what
    is about to be sent: a retried deleter (after a crash, or a journal write that
    failed) counts what an earlier attempt sent and ECR carried out as this run's work,
    not as "already gone", and never sends it twice.
    """
    if run.execution_arn:
        run_lock.check_held(clients("s3"), run.bucket, run.execution_arn)
    ecr = clients("ecr")
    journal_name = repository_file("progress", repository)
    journal = store.get_json_if_exists(journal_name) or {}  # one call: absent on a first try
    removal.deleted[:] = journal.get("deleted", [])
    removal.archived[:] = journal.get("archived", [])
    sent = set(journal.get("sent", []))
    sent_to_archive = set(journal.get("sent_to_archive", []))

    def save() -> None:
        store.put_json(
            journal_name,
            {
                "deleted": removal.deleted,
                "archived": removal.archived,
                "sent": sorted(sent),
                "sent_to_archive": sorted(sent_to_archive),
            },
        )

    done = set(removal.deleted) | set(removal.archived)
    pending = [d for d in candidates if d.digest not in done]
    current = ecr_api.describe_by_digest(ecr, repository, [d.digest for d in pending])
    for decision in pending:
        now = current.get(decision.digest)
        if decision.digest in sent and now is None:
            removal.deleted.append(decision.digest)
        elif decision.digest in sent_to_archive and now is not None and now.status != "ACTIVE":
            removal.archived.append(decision.digest)
    done = set(removal.deleted) | set(removal.archived)
    pending = [d for d in pending if d.digest not in done]
    if not pending:
        return
    # The repository's protect tag as it is now: set during the run, it keeps everything.
    protection = _protection(config, ecr_api.repository_protection(ecr, arn))
    look = recheck(
        pending, current, run.now, rule, usage, protection, cutoff=run.now - rule.expires_after
    )
    removal.already_gone.extend(look.gone)
    removal.skipped.extend(_action(d, reason, detail) for d, reason, detail in look.skipped)
    to_archive = [d.digest for d in look.go if archives(d, rule.action)]
    to_delete = [d.digest for d in look.go if d.digest not in set(to_archive)]
    if to_archive:
        sent_to_archive.update(to_archive)
        save()
        outcome = ecr_api.archive_images(ecr, repository, to_archive)
        removal.archived.extend(outcome.deleted)
        removal.already_gone.extend(outcome.already_gone)
        removal.failures.extend(
            {"digest": d, "code": c, "reason": r} for d, c, r in outcome.failures
        )
        save()
    if to_delete:

        def sending(batch: list[str]) -> None:
            sent.update(batch)
            save()

        outcome = ecr_api.delete_images(
            ecr, repository, to_delete, on_progress=removal.deleted.extend, before_sending=sending
        )
        removal.already_gone.extend(outcome.already_gone)
        removal.failures.extend(
            {"digest": d, "code": c, "reason": r} for d, c, r in outcome.failures
        )


def delete_repository(
    item: DeleteEvent,
    clients: Any,
    *,
    account_id: str = "",
    region: str = "",
) -> DeleteOutput:
    """Step 4. Delete (or archive) what the approved plan says, after a last look at each
    image; nothing in a dry run or when the plan is held. Records what it did, also when
    it stops part-way (then it raises, naming what left ECR before)."""
    repository, run = item.repository, item.run
    store = _store(run, clients)
    config = _config(store, run)
    rule = _rule(config, repository)
    plan = _approved_plan(store, item)
    usage = _in_use(store, run).usage_for(repository)
    decisions = {d.digest: d for d in plan.decisions}

    candidates: list[ImageDecision] = []
    removal = _Removal()
    for digest in plan.to_delete():
        decision = decisions[digest]
        # Last line of defence, independent of the policy code: never send an
        # in-use digest or tag to ECR.
        in_use_tags = [t for t in decision.tags if t in usage.tags]
        if decision.action is not Action.DELETE or digest in usage.digests or in_use_tags:
            logger.error("refusing to delete an image in use", extra={"digest": digest})
            removal.skipped.append(
                _action(decision, "in_use_guard", "in use: refused by the deleter")
            )
            continue
        candidates.append(decision)
    planned = [_action(d, archive=archives(d, rule.action)) for d in candidates]

    error: BaseException | None = None
    if not run.dry_run and candidates and not plan.held:
        if not (account_id and region):
            raise RunDataError("the deleter needs its account and region (the protect tag)")
        arn = ecr_api.repository_arn(account_id, region, repository)
        try:
            _remove(repository, run, rule, usage, config, candidates, removal, store, clients, arn)
        except Exception as caught:
            error = caught

    # An index's size is the largest of its children: counting it would count blobs twice.
    sizes = {a.digest: a.size_bytes for a in planned if a.kind != ImageKind.INDEX}
    if run.dry_run:
        gone = set() if plan.held else {a.digest for a in planned if not a.archive}
        moved = set() if plan.held else {a.digest for a in planned if a.archive}
    else:
        gone, moved = set(removal.deleted), set(removal.archived)
    failed = bool(removal.failures) or error is not None
    result = RepositoryResult(
        repository=repository,
        rule=plan.rule,
        dry_run=run.dry_run,
        status="failed" if failed else ("held" if plan.held else "ok"),
        held=plan.held,
        action=rule.action,
        rows=kind_rows(plan, rule.action),
        planned=[] if plan.held else planned,
        deleted=removal.deleted,
        archived_now=removal.archived,
        already_gone=removal.already_gone,
        skipped=removal.skipped,
        failures=removal.failures,
        error="" if error is None else f"{type(error).__name__}: {error}",
        bytes_reclaimed=sum(sizes.get(d, 0) for d in gone),
        bytes_archived=sum(sizes.get(d, 0) for d in moved),
        kept_reasons=_kept_reasons(plan),
        archived=_archived(plan),
        # An inline plan is in the plan Map's results (the summary says where).
        plan_key="" if item.plan is not None else store.key(repository_file("plans", repository)),
    )
    results_key = store.key(repository_file("results", repository))
    # A failed deleter's output is lost (the Map records its error only), and a large
    # result would not fit the payload: those go to S3; the others travel inline.
    inline = error is None and not removal.failures and fits_inline(result)
    if not inline:
        try:
            store.put_model(repository_file("results", repository), result)
        except Exception:
            if error is None:
                raise
            logger.exception("the result of a failed delete could not be written")
    logger.info(
        f"{'Would delete' if run.dry_run else 'Deleted'} {len(gone)} images"
        + (f" and {'would archive' if run.dry_run else 'archived'} {len(moved)}" if moved else "")
        + f" on {repository}",
        extra={"repository": repository, "dry_run": run.dry_run, "held": plan.held},
    )
    before = (
        f"{len(removal.deleted)} images deleted before the failure"
        + (f", {len(removal.archived)} archived" if removal.archived else "")
        + f" (s3://{run.bucket}/{results_key})"
    )
    if isinstance(error, SweeperError | TransientAwsError):
        # The same type (the state machine routes on it), saying what left ECR.
        raise type(error)(f"{repository}: {error}; {before}") from error
    if error is not None:
        raise error
    if removal.failures:
        first = removal.failures[0]
        raise DeleteFailed(
            f"{repository}: {len(removal.failures)} images could not be removed, first: "
            f"{first['digest']} {first['code']} {first['reason']}; {before}"
        )
    return DeleteOutput(
        repository=repository,
        dry_run=run.dry_run,
        deleted=len(gone),
        bytes_reclaimed=result.bytes_reclaimed,
        archived=len(moved),
        bytes_archived=result.bytes_archived,
        already_gone=len(removal.already_gone),
        result=result if inline else None,
    )


def fits_inline(result: RepositoryResult) -> bool:
    """Whether a repository's result travels in the state payload rather than a file."""
    return len(result.model_dump_json()) <= INLINE_BYTES


def _confirm_with_ecr(ecr: Any, repository: str, journal: dict[str, Any]) -> dict[str, Any]:
    """A deleter that stopped before writing its result journaled what it sent to ECR,
    but not always what ECR answered: ask ECR which of those images are gone, so that
    the report says what left ECR, not what was merely sent (read-only)."""
    deleted, archived = set(journal.get("deleted", [])), set(journal.get("archived", []))
    to_delete = set(journal.get("sent", [])) - deleted
    to_archive = set(journal.get("sent_to_archive", [])) - archived
    if not to_delete and not to_archive:
        return journal
    now = ecr_api.describe_by_digest(ecr, repository, sorted(to_delete | to_archive))
    gone = {d for d in to_delete if now.get(d) is None}
    moved = {
        d for d in to_archive if (image := now.get(d)) is not None and image.status != "ACTIVE"
    }
    return {**journal, "deleted": sorted(deleted | gone), "archived": sorted(archived | moved)}


def _with_changes(report: Report, s3: Any, bucket: str) -> Report:
    """`report` with what changed since the run before: one read of the last report
    (reports/latest.json). A retried summary finds its own report there: it keeps the
    changes it found the first time."""
    latest = read_latest(s3, bucket)
    try:
        previous = Report.model_validate(latest["report"]) if latest else None
    except (KeyError, TypeError, ValidationError):
        previous = None  # an older version's file: say nothing rather than guess
    if previous is None:
        return report
    if previous.execution_name == report.execution_name:
        return report.model_copy(
            update={
                "previous_execution": previous.previous_execution,
                "changes": previous.changes,
            }
        )
    return report.model_copy(
        update={
            "previous_execution": previous.execution_name,
            "changes": changes_since(previous, report),
        }
    )


def summarize_run(
    run: RunContext,
    clients: Any,
    *,
    links: Links | None = None,
    notify_on_success: bool = False,
    failures: Mapping[str, str] | None = None,
    executions: Mapping[str, Mapping[str, str]] | None = None,
    traces: Mapping[str, list[str]] | None = None,
    execution_arn: str = "",
    planned: Sequence[RepositoryResult] = (),
    swept: Sequence[RepositoryResult] = (),
    plan_results_key: str = "",
) -> tuple[SummaryOutput, Report]:
    """Step 5. The report; fails the run if any repository did not finish. `failures`:
    why a repository's child execution failed, `executions`: each repository's child
    executions by Map ("plan", "sweep"), both from the Maps' results; `planned` and
    `swept`: the results that came inline through the plan Map's results (the
    repositories not swept) and the sweep Map's (the deleters that finished). The others
    (a deleter that failed, or a result too large to travel inline) are files."""
    store = _store(run, clients)
    repositories = [
        item["repository"] for item in store.get_json_sealed(REPOSITORIES, run.repositories_sha256)
    ]
    results = {r.repository: r for r in planned}
    finished = {r.repository: r for r in swept}
    available = set(store.list_names("results/"))
    wanted = [
        n for n in repositories if n not in finished and repository_file("results", n) in available
    ]
    with ThreadPoolExecutor(max_workers=min(16, os.cpu_count() or 4)) as pool:
        loaded = pool.map(
            lambda n: store.get_model(repository_file("results", n), RepositoryResult), wanted
        )
        results.update({r.repository: r for r in loaded})
    results.update(finished)  # a deleter that finished on a retry: its last word
    if plan_results_key:  # where a swept plan that came inline can be read
        where = f"s3://{run.bucket}/{plan_results_key} (the plan Map's results)"
        unswept = {r.repository for r in planned}
        results = {
            name: r if r.plan_key or name in unswept else r.model_copy(update={"plan_key": where})
            for name, r in results.items()
        }
    # A deleter that stopped before writing its result left its journal: what ECR
    # confirmed, and what was sent to it.
    journals = set(store.list_names("progress/"))
    progress = {
        name: _confirm_with_ecr(
            clients("ecr"), name, store.get_json(repository_file("progress", name))
        )
        for name in repositories
        if name not in results and repository_file("progress", name) in journals
    }
    report = build_report(
        run.execution_name,
        run.dry_run,
        run.now,
        repositories,
        results,
        run.in_use_images,
        failures=failures or {},
        progress=progress,
        executions=executions,
        traces=traces,
    ).model_copy(
        update={
            "sources": run.sources,
            "sources_off": run.sources_off,
            "execution_arn": execution_arn or run.execution_arn,
        }
    )
    if run.dry_run:  # the deletion cap CheckCaps applies to deleting runs only
        report = held_by_max_deletions(report, _config(store, run).safety.max_deletions)
    report = _with_changes(report, clients("s3"), run.bucket)
    report_key = store.put_model(REPORT, report)
    markdown_key = store.put_text(
        REPORT_MARKDOWN, render_markdown(report, results), content_type="text/markdown"
    )
    write_latest(
        clients("s3"),
        run.bucket,
        {"report": report.model_dump(mode="json"), "report_key": report_key},
    )
    if run.execution_arn:  # after the report: a retried summary must find it written
        run_lock.release(clients("s3"), run.bucket, run.execution_arn)
    where = report_location(report, run.bucket, markdown_key)
    links = (links or Links()).model_copy(update={"report": where})
    subject, message = render_notification(report, links)
    if report.failed:
        raise RepositoriesFailed(render_failure(report) + f"; report: {where}")
    return (
        SummaryOutput(
            execution_name=run.execution_name,
            dry_run=run.dry_run,
            repositories=len(repositories),
            repositories_failed=0,
            images_total=report.images_total,
            images_deleted=report.images_deleted,
            bytes_reclaimed=report.bytes_reclaimed,
            images_archived=report.images_archived,
            bytes_archived=report.bytes_archived,
            report_key=report_key,
            report_markdown_key=markdown_key,
            bucket=run.bucket,
            notify=notify_on_success,
            subject=subject,
            message=message,
        ),
        report,
    )
