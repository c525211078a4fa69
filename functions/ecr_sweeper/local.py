"""The workflow's steps, run locally by the `ecr-sweeper` command.

`plan` and `scan` call the workflow's own steps (steps.py: the in-use scan,
Collect, Evaluate, the caps check, a dry-run Delete and Summarize) against the
account the AWS credentials point at. The run data those steps keep in the run
bucket stays in memory instead (:class:`MemoryS3`), so no bucket is needed and
nothing is written. Every AWS client they get is read-only: any call other than
Describe*, List*, Get* or BatchGet* is refused before it is sent, so nothing can
be deleted even by mistake.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

import boto3
import yaml
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from ecr_sweeper import steps
from ecr_sweeper.adapters import ecr as ecr_api
from ecr_sweeper.adapters.aws import FIRST_CALL_CONFIG, RETRY_CONFIG
from ecr_sweeper.core.config import (
    DEFAULT_KEEP_TAG_PATTERNS,
    DEFAULT_RESOURCE_KEEP_COUNT,
    Config,
    load_config,
)
from ecr_sweeper.core.in_use import InUseSet
from ecr_sweeper.core.policy import RepositoryPlan
from ecr_sweeper.core.report import Report, RepositoryResult
from ecr_sweeper.errors import NothingInUse, RepositoriesFailed, SourceReadError, SweeperError
from ecr_sweeper.events import CapsOutput, DeleteEvent, EvaluateOutput, RunContext
from ecr_sweeper.run_store import RunStore, repository_file

# AssumeRole changes nothing: it gives the scan credentials to read another account
# (config `accounts`), whose clients are made read-only too.
READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet", "AssumeRole")
PLAN_NAME = "plan"  # the execution name of a local run (its report carries it)
LOCAL_BUCKET = "local"  # the name the steps see for the in-memory run bucket
WORKFLOW_LOGGER = "ecr-sweeper"  # the steps' Powertools logger

# `ecr-sweeper generate`, as `ecrm generate` writes it.
GENERATED_EXPIRES = "30d"
GENERATED_KEEP_COUNT = 5


class LocalError(SweeperError):
    """A local command cannot go on (bad arguments, missing region, ...)."""


class ReadOnlyViolation(SweeperError):
    """A read-only command tried to call an AWS operation that changes something."""


class RunWouldFail(SweeperError):
    """`plan`'s verdict: the workflow's run would fail in its scan, deleting nothing."""


# What fails a run's scan for the account's sake (not for the local command's): `plan`
# reports them as the run's verdict.
SCAN_GUARDS = (NothingInUse, SourceReadError)


def _refuse_writes(model: Any, **_: Any) -> None:
    if not model.name.startswith(READ_ONLY_PREFIXES):
        raise ReadOnlyViolation(
            f"refused {model.service_model.service_name}:{model.name}: this command only reads"
        )


def read_only(client: Any) -> Any:
    """`client`, refusing (before sending) every operation that is not a read."""
    client.meta.events.register("before-call", _refuse_writes)
    return client


class MemoryS3:
    """The S3 calls the steps make on the run bucket, on a dict in memory.

    Any other S3 operation fails, so that a step that starts to use one fails
    loudly here instead of touching a real bucket. With `elsewhere` (a factory of a
    read-only S3 client), the objects of buckets other than `run_bucket` (the
    config's in-use lists) are read from S3, as the workflow reads them.
    """

    def __init__(
        self, run_bucket: str | None = None, elsewhere: Callable[[], Any] | None = None
    ) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.run_bucket = run_bucket
        self.elsewhere = elsewhere

    def _outside(self, bucket: str) -> Any:
        """The S3 client for `bucket` if it is not the run bucket, else None."""
        if self.elsewhere is None or bucket == self.run_bucket:
            return None
        return self.elsewhere()

    @staticmethod
    def _missing(operation: str, bucket: str, key: str) -> ClientError:
        return ClientError(
            {
                "Error": {"Code": "NoSuchKey", "Message": f"s3://{bucket}/{key}: no such key"},
                "ResponseMetadata": {"HTTPStatusCode": 404},
            },
            operation,
        )

    def put_object(self, *, Bucket: str, Key: str, Body: bytes | str, **_: Any) -> dict[str, Any]:
        if self._outside(Bucket) is not None:
            raise LocalError(f"a local run writes nothing: refused s3://{Bucket}/{Key}")
        self.objects[(Bucket, Key)] = Body.encode() if isinstance(Body, str) else bytes(Body)
        return {}

    def get_object(self, *, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        outside = self._outside(Bucket)
        if outside is not None:
            return dict(outside.get_object(Bucket=Bucket, Key=Key))
        if (Bucket, Key) not in self.objects:
            raise self._missing("GetObject", Bucket, Key)
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def head_object(self, *, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        if (Bucket, Key) not in self.objects:
            error = self._missing("HeadObject", Bucket, Key)
            error.response["Error"]["Code"] = "404"
            raise error
        return {"ContentLength": len(self.objects[(Bucket, Key)])}

    def get_paginator(self, operation: str) -> Any:
        if operation != "list_objects_v2":
            raise LocalError(f"S3 {operation} is not available to a local run")
        return self

    def paginate(self, *, Bucket: str, Prefix: str = "", **_: Any) -> Iterator[dict[str, Any]]:
        keys = sorted(k for b, k in self.objects if b == Bucket and k.startswith(Prefix))
        yield {"Contents": [{"Key": k, "Size": len(self.objects[(Bucket, k)])} for k in keys]}

    def __getattr__(self, operation: str) -> Any:
        raise AttributeError(f"S3 {operation} is not available to a local run")


@contextmanager
def workflow_logs(stream: TextIO, level: int = logging.ERROR) -> Iterator[None]:
    """Send the steps' JSON logs to `stream` (stderr), only from `level` up, meanwhile.

    The steps log for CloudWatch, on stdout; the CLI's stdout is its output.
    """
    logger = logging.getLogger(WORKFLOW_LOGGER)
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    saved = [(h, h.stream) for h in handlers]
    saved_level = logger.level
    for handler in handlers:
        handler.setStream(stream)
    logger.setLevel(level)
    try:
        yield
    finally:
        for handler, original in saved:
            handler.setStream(original)
        logger.setLevel(saved_level)


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
        raise LocalError(
            "no AWS region: pass --region, or set AWS_DEFAULT_REGION (or AWS_REGION) or a "
            "region in the profile"
        )
    return Account(session=session, account_id=reach_aws(session), region=region)


def reach_aws(session: Any) -> str:
    """The account id (sts:GetCallerIdentity), with short timeouts and one retry: a
    machine that cannot reach AWS learns it in seconds, with what to check."""
    region = session.region_name
    sts = read_only(session.client("sts", region_name=region, config=FIRST_CALL_CONFIG))
    try:
        return str(sts.get_caller_identity()["Account"])
    except (
        EndpointConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
        ResponseParserError,  # something answered that is not AWS (a proxy, a captive portal)
    ) as error:
        said = " ".join(str(error).split())
        raise LocalError(
            f"cannot reach AWS STS in {region} ({said}). Check the network or VPN, a proxy "
            "(HTTPS_PROXY, NO_PROXY), the region (--region, AWS_DEFAULT_REGION) and any "
            "AWS_ENDPOINT_URL setting"
        ) from error
    except NoCredentialsError as error:
        raise LocalError(
            "no AWS credentials: pass --profile, or set AWS_PROFILE or the AWS_ACCESS_KEY_ID "
            "variables, or log in (aws sso login)"
        ) from error


# ---------------------------------------------------------------------------------------------
# A local run: the workflow's steps on an in-memory run bucket
# ---------------------------------------------------------------------------------------------


class LocalRun:
    """One dry run of the workflow's steps, in this process, deleting and writing nothing."""

    def __init__(self, account: Account, now: datetime) -> None:
        self.account = account
        self.now = now
        self.s3 = MemoryS3(LOCAL_BUCKET, elsewhere=lambda: account.client("s3"))
        self.run: RunContext | None = None
        # What each evaluator returned (the plan Map's results), and the caps' answer.
        self.outcomes: list[EvaluateOutput] = []
        self.plans: dict[str, RepositoryPlan] = {}
        self.caps: CapsOutput | None = None
        # The results that travel inline in the workflow (the Maps' results).
        self.swept: list[RepositoryResult] = []

    def clients(self, service: str) -> Any:
        """What the steps get for `clients`: for S3 the memory (the run bucket) and
        read-only S3 (the in-use lists), read-only AWS otherwise."""
        return self.s3 if service == "s3" else self.account.client(service)

    @property
    def store(self) -> RunStore:
        assert self.run is not None, "scan first"
        return RunStore(self.run.bucket, self.run.prefix, self.s3)

    def scan(self, config_path: str, *, refuse_blind_scan: bool = True) -> RunContext:
        """The in-use scan step (it also lists the repositories a rule matches)."""
        self.run = steps.scan_in_use(
            config_source=config_path,
            execution_name=PLAN_NAME,
            dry_run_default=True,
            dry_run_override=True,
            account_id=self.account.account_id,
            region=self.account.region,
            bucket=LOCAL_BUCKET,
            now=self.now,
            max_concurrency=1,
            clients=self.clients,
            wrap_member_client=read_only,
            refuse_blind_scan=refuse_blind_scan,
        )
        return self.run

    def in_use(self) -> InUseSet:
        return self.store.get_model(steps.IN_USE, InUseSet)

    def repositories(self) -> list[str]:
        return [item["repository"] for item in self.store.get_json(steps.REPOSITORIES)]

    def narrow(self, names: Sequence[str]) -> None:
        """Sweep only `names` (the Map's items, as the scan wrote them, narrowed)."""
        assert self.run is not None
        wanted = set(names)
        kept = [name for name in self.repositories() if name in wanted]
        sealed = self.store.put_json_sealed(
            steps.REPOSITORIES, [{"repository": name} for name in kept]
        )
        self.run = self.run.model_copy(
            update={"repositories": len(kept), "repositories_sha256": sealed}
        )

    def plan(self, repository: str) -> None:
        """Collect and Evaluate one repository."""
        assert self.run is not None
        collected = steps.collect_repository(repository, self.run, self.clients)
        plan, outcome = steps.plan_and_evaluate(
            repository,
            self.run,
            self.clients,
            images_sha256=collected.images_sha256,
            images_inline=collected.inline,
        )
        self.plans[repository] = plan
        self.outcomes.append(outcome)

    def check_caps(self) -> dict[str, Any]:
        assert self.run is not None
        self.caps = steps.check_caps(self.run, self.outcomes, self.clients)
        return self.caps.model_dump(mode="json")

    def delete(self, repository: str) -> RepositoryResult:
        """The Delete step of a dry run: what it would delete, recorded (a plan the sweep
        leaves alone: the result its evaluator returned)."""
        assert self.run is not None and self.run.dry_run and self.caps is not None
        (outcome,) = [o for o in self.outcomes if o.repository == repository]
        if outcome.result is not None:
            return outcome.result
        (item,) = [i for i in self.store.get_json(steps.APPROVED) if i["repository"] == repository]
        output = steps.delete_repository(
            DeleteEvent.model_validate(
                {**item, "run": self.run, "approved_root": self.caps.approved_root}
            ),
            self.clients,
        )
        if output.result is None:
            return self.store.get_model(repository_file("results", repository), RepositoryResult)
        self.swept.append(output.result)
        return output.result

    def summarize(self) -> tuple[Report, str | None]:
        """The report, and why the run would end FAILED (None if it would succeed)."""
        assert self.run is not None
        try:
            _output, report = steps.summarize_run(
                self.run,
                self.clients,
                planned=[o.result for o in self.outcomes if o.result is not None],
                swept=self.swept,
            )
        except RepositoriesFailed as error:
            return self.store.get_model("report.json", Report), str(error)
        return report, None

    def plan_of(self, repository: str) -> RepositoryPlan:
        return self.plans[repository]


def check_repositories(account: Account, config: Config, names: Sequence[str]) -> None:
    """Each of `names` must exist and match a repository rule (before a long scan)."""
    existing = set(ecr_api.list_repository_names(account.client("ecr")))
    problems = []
    for name in dict.fromkeys(names):
        if name not in existing:
            problems.append(
                f"repository {name!r} does not exist in {account.account_id} {account.region}"
            )
        elif config.rule_for_repository(name) is None:
            problems.append(f"repository {name!r} matches no repository rule of the config")
    if problems:
        raise LocalError("; ".join(problems))


@dataclass
class LocalPlan:
    report: Report
    failure: str | None  # why a run would end FAILED, if it would
    caps: dict[str, Any]
    in_use: InUseSet
    plans: dict[str, RepositoryPlan]
    results: dict[str, RepositoryResult]


def plan_account(
    account: Account,
    config_path: str,
    now: datetime,
    *,
    repositories: Sequence[str] | None = None,
    progress: Callable[[list[str]], Iterable[str]] = iter,
) -> LocalPlan:
    """A dry run of the workflow's steps on every repository a rule matches (or on
    `repositories`), in memory. `progress` wraps the loop over the repositories."""
    local = LocalRun(account, now)
    try:
        local.scan(config_path)  # with the workflow's guards
    except SCAN_GUARDS as error:
        raise RunWouldFail(
            f"a run would end FAILED in ScanInUse: {type(error).__name__}: {error}"
        ) from error
    if repositories:
        local.narrow(repositories)
    names = local.repositories()
    for name in progress(names):
        local.plan(name)
    caps = local.check_caps()
    results = {name: local.delete(name) for name in names}
    report, failure = local.summarize()
    return LocalPlan(
        report=report,
        failure=failure,
        caps=caps,
        in_use=local.in_use(),
        plans={name: local.plan_of(name) for name in names},
        results=results,
    )


def scan_in_use(account: Account, config_path: str, now: datetime) -> InUseSet:
    """The in-use set, as the workflow's scan step builds it (empty or not: a listing)."""
    local = LocalRun(account, now)
    local.scan(config_path, refuse_blind_scan=False)
    return local.in_use()


def in_use_uris(in_use: InUseSet, registry: str) -> list[str]:
    """The in-use set as `ecrm scan` writes it: `<registry>/<repo>@<digest>` and
    `<registry>/<repo>:<tag>` for every digest and tag in use, sorted."""
    uris: set[str] = set()
    for repository, usage in in_use.repositories.items():
        uris.update(f"{registry}/{repository}@{digest}" for digest in usage.digests)
        uris.update(f"{registry}/{repository}:{tag}" for tag in usage.tags)
    return sorted(uris)


def plan_json(local: LocalPlan, account: Account, config_path: str) -> dict[str, Any]:
    """`plan --format json`: per repository, the table rows and every image's decision."""
    repositories = []
    for line in local.report.repositories:
        plan, result = local.plans[line.repository], local.results[line.repository]
        repositories.append(
            {
                "repository": line.repository,
                "rule": plan.rule,
                "status": result.status,
                "cutoff": plan.cutoff.isoformat(),
                "rows": [row.model_dump(mode="json") for row in line.rows],
                "would_delete": line.deleted,
                "bytes_reclaimed": line.bytes_reclaimed,
                "would_archive": line.archived_now,
                "bytes_archived": line.bytes_archived,
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
        "images_to_archive": local.report.images_archived,
        "bytes_archived": local.report.bytes_archived,
        "failed": local.report.failed,
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


# What each source section selects, for the note on a section generate found nothing for.
GENERATED_SOURCES = {
    "clusters": "ECS cluster",
    "task_definitions": "active task definition family",
    "lambda_functions": "container image Lambda function",
}
CATCH_ALL = {"name_pattern": "*"}


@dataclass
class GeneratedConfig:
    text: str
    # Source sections written as a catch-all: the account had none of their resources.
    catch_all: list[str]


def _catch_all_note(section: str) -> str:
    what = GENERATED_SOURCES[section]
    return (
        f"# No {what} found: a catch-all, so that one created later is scanned too.\n"
        f"# (`{section}: []` would turn this source off.)\n"
    )


def generate_config(account: Account) -> GeneratedConfig:
    """An ecrm.yaml covering the account's clusters, task definition families, container
    image Lambda functions and repositories, one rule per name prefix.

    A source section is never `[]`, which turns the source off: a section with nothing
    to name is a catch-all (`name_pattern: "*"`), so what runs later is still seen."""
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
    keep = {"keep_count": DEFAULT_RESOURCE_KEEP_COUNT}
    found = {
        "clusters": (clusters, {}),
        "task_definitions": (families, keep),
        "lambda_functions": (functions, keep),
    }
    catch_all = [section for section, (names, _) in found.items() if not names]
    data = {
        **{
            section: _entries(names, **settings) or [{**CATCH_ALL, **settings}]
            for section, (names, settings) in found.items()
        },
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
        (_catch_all_note(key) if key in catch_all else "")
        + yaml.dump({key: value}, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
        for key, value in data.items()
    ]
    text = header + "\n".join(sections)
    load_config(text, source="generated config")  # what we write must pass `validate`
    return GeneratedConfig(text=text, catch_all=catch_all)
