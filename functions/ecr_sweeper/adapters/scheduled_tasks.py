"""Scheduled ECS tasks as a source of "in use": EventBridge rules and EventBridge
Scheduler schedules whose target runs an ECS task.

This module only finds the task definitions; the caller describes them with the ECS
adapter's code (and its cache), exactly like the task definitions of services and tasks.

Calls:

* ListEventBuses (100 a page), then per event bus ListRules (100 a page), then per rule
  ListTargetsByRule (100 a page), only if an `events` client is given;
* ListSchedules (100 a page, every group at once), then GetSchedule for each schedule
  whose target is an ECS cluster or the universal `aws-sdk:ecs:runTask` / `startTask`
  target (ListSchedules shows only the target's ARN), only if a `scheduler` client is given;
* ListTaskDefinitions (one call, maxResults 1, newest ACTIVE first) per distinct family
  named without a revision: an unversioned reference runs the latest ACTIVE revision.

Rules and schedules count whatever their state: a disabled rule can be enabled again.
The per-rule, per-schedule and per-family calls run concurrently (at most
DESCRIBE_CONCURRENCY at a time). Every API error goes through `classify`, so the scan
fails rather than miss a task definition. A reference that is neither a task definition
ARN nor `family[:revision]` fails the scan too (SourceReadError), as does a universal
target whose Input is not JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently
from ecr_sweeper.errors import SourceReadError

SOURCE = "scheduled_tasks"
EVENTS_PAGE_SIZE = 100  # ListEventBuses, ListRules, ListTargetsByRule: Limit's maximum
SCHEDULES_PAGE_SIZE = 100  # ListSchedules: MaxResults' maximum
DEFAULT_BUS = "default"

_TASK_DEFINITION_ARN = re.compile(
    r"arn:(?P<partition>[\w-]+):ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"task-definition/(?P<family>[A-Za-z0-9_-]{1,255})(?::(?P<revision>\d+))?"
)
_FAMILY = re.compile(r"(?P<family>[A-Za-z0-9_-]{1,255})(?::(?P<revision>\d+))?")
_CLUSTER_ARN = re.compile(
    r"arn:(?P<partition>[\w-]+):ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):cluster/.+"
)
# EventBridge Scheduler's universal targets that start an ECS task.
_UNIVERSAL_ECS = re.compile(r"arn:[\w-]+:scheduler:::aws-sdk:ecs:(?:runTask|startTask)")


@dataclass(frozen=True)
class Reference:
    """A task definition as a rule or schedule names it, and who names it."""

    task_definition: str
    used_by: str
    cluster: str | None = None  # the target's cluster ARN, when known


def collect_scheduled_task_definitions(
    events: Any | None, scheduler: Any | None, ecs: Any
) -> dict[str, str]:
    """Task definition -> the first rule or schedule (in name order) that runs it.

    Keys are task definition ARNs with a revision, or `family:revision` when a universal
    target names a revision without a cluster ARN (DescribeTaskDefinition takes both).
    Unversioned references are resolved to the latest ACTIVE revision; a family with no
    ACTIVE revision cannot run, so it adds nothing. Pass None for a client to skip that
    service.
    """
    references: list[Reference] = []
    if events is not None:
        references.extend(rule_references(events))
    if scheduler is not None:
        references.extend(schedule_references(scheduler))
    return resolve_task_definitions(ecs, references)


# --- EventBridge rules ---------------------------------------------------------------


def _events_error(error: ClientError, doing: str) -> Exception:
    return classify(error, f"events:{doing}")


def _event_buses(events: Any) -> list[str]:
    """Every event bus name. ListEventBuses has no boto3 paginator: page by hand."""
    names: list[str] = []
    kwargs: dict[str, Any] = {"Limit": EVENTS_PAGE_SIZE}
    while True:
        try:
            page = events.list_event_buses(**kwargs)
        except ClientError as error:
            raise _events_error(error, "ListEventBuses") from error
        names.extend(bus["Name"] for bus in page.get("EventBuses", []) if bus.get("Name"))
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    if DEFAULT_BUS not in names:  # always there; never miss it
        names.append(DEFAULT_BUS)
    return sorted(set(names))


def _paginate(client: Any, operation: str, key: str, page_size: int, **kwargs: Any) -> list[Any]:
    return [
        item
        for page in client.get_paginator(operation).paginate(
            **kwargs, PaginationConfig={"PageSize": page_size}
        )
        for item in page.get(key, [])
    ]


def _rules(events: Any, bus: str) -> list[str]:
    try:
        rules = _paginate(events, "list_rules", "Rules", EVENTS_PAGE_SIZE, EventBusName=bus)
    except ClientError as error:
        raise _events_error(error, f"ListRules {bus}") from error
    return sorted(rule["Name"] for rule in rules if rule.get("Name"))


def _targets(events: Any, bus: str, rule: str) -> list[dict[str, Any]]:
    try:
        return _paginate(
            events, "list_targets_by_rule", "Targets", EVENTS_PAGE_SIZE, Rule=rule, EventBusName=bus
        )
    except ClientError as error:
        raise _events_error(error, f"ListTargetsByRule {bus}/{rule}") from error


def rule_used_by(bus: str, rule: str) -> str:
    """`events:rule/NAME` on the default bus, `events:rule/BUS/NAME` on another (as in
    the rule's ARN)."""
    return f"events:rule/{rule}" if bus == DEFAULT_BUS else f"events:rule/{bus}/{rule}"


def rule_references(events: Any) -> list[Reference]:
    """The task definition of every ECS target of every rule on every event bus."""
    buses = _event_buses(events)
    rules = [
        (bus, rule)
        for bus, names in zip(buses, concurrently(lambda b: _rules(events, b), buses), strict=True)
        for rule in names
    ]
    references: list[Reference] = []
    for (bus, rule), targets in zip(
        rules, concurrently(lambda job: _targets(events, *job), rules), strict=True
    ):
        for target in targets:
            task_definition = (target.get("EcsParameters") or {}).get("TaskDefinitionArn")
            if task_definition:
                references.append(
                    Reference(task_definition, rule_used_by(bus, rule), target.get("Arn"))
                )
    return references


# --- EventBridge Scheduler ------------------------------------------------------------


def _runs_ecs_task(target_arn: str) -> bool:
    return bool(_CLUSTER_ARN.fullmatch(target_arn) or _UNIVERSAL_ECS.fullmatch(target_arn))


def schedule_used_by(group: str, name: str) -> str:
    return f"scheduler:schedule/{group}/{name}"


def schedule_references(scheduler: Any) -> list[Reference]:
    """The task definition of every schedule (any group, any state) that runs an ECS task."""
    try:
        summaries = _paginate(scheduler, "list_schedules", "Schedules", SCHEDULES_PAGE_SIZE)
    except ClientError as error:
        raise classify(error, "scheduler:ListSchedules") from error
    selected = sorted(
        (s.get("GroupName") or "default", s["Name"])
        for s in summaries
        if s.get("Name") and _runs_ecs_task((s.get("Target") or {}).get("Arn", ""))
    )

    def target(job: tuple[str, str]) -> dict[str, Any]:
        group, name = job
        try:
            return dict(scheduler.get_schedule(Name=name, GroupName=group).get("Target") or {})
        except ClientError as error:
            raise classify(error, f"scheduler:GetSchedule {group}/{name}") from error

    references: list[Reference] = []
    for (group, name), schedule_target in zip(
        selected, concurrently(target, selected), strict=True
    ):
        used_by = schedule_used_by(group, name)
        arn = schedule_target.get("Arn", "")
        if _UNIVERSAL_ECS.fullmatch(arn):
            reference = _universal_reference(schedule_target.get("Input"), used_by)
            if reference is not None:
                references.append(reference)
            continue
        task_definition = (schedule_target.get("EcsParameters") or {}).get("TaskDefinitionArn")
        if task_definition:
            references.append(Reference(task_definition, used_by, arn))
    return references


def _universal_reference(text: str | None, used_by: str) -> Reference | None:
    """The task definition of an `aws-sdk:ecs:runTask` target: its Input is the request."""
    try:
        request = json.loads(text or "{}")
    except ValueError as error:
        raise SourceReadError(
            f"{used_by}: the Input of its ECS target is not JSON, so the task definition it "
            "runs is unknown: nothing is deleted while a source of in-use images is unreadable"
        ) from error
    if not isinstance(request, dict):
        return None
    task_definition = request.get("TaskDefinition") or request.get("taskDefinition")
    cluster = request.get("Cluster") or request.get("cluster")
    if not isinstance(task_definition, str) or not task_definition:
        return None  # RunTask needs one: this target cannot start a task
    return Reference(task_definition, used_by, cluster if isinstance(cluster, str) else None)


# --- resolving references to revisions --------------------------------------------------


def resolve_task_definitions(ecs: Any, references: list[Reference]) -> dict[str, str]:
    """Task definition (ARN with revision) -> first user, in (used_by, reference) order."""
    resolved: dict[str, str] = {}
    unversioned: dict[str, str] = {}  # family -> first user
    for reference in sorted(references, key=lambda r: (r.used_by, r.task_definition)):
        key, family = _normalise(reference)
        if key is not None:
            resolved.setdefault(key, reference.used_by)
        else:
            unversioned.setdefault(family, reference.used_by)
    families = sorted(unversioned)
    for family, arn in zip(
        families, concurrently(lambda f: latest_active(ecs, f), families), strict=True
    ):
        if arn is not None:
            resolved.setdefault(arn, unversioned[family])
    return dict(sorted(resolved.items()))


def _normalise(reference: Reference) -> tuple[str | None, str]:
    """(the key to describe, family). The key is None when the reference has no revision."""
    text = reference.task_definition.strip()
    arn = _TASK_DEFINITION_ARN.fullmatch(text)
    if arn:
        return (text if arn["revision"] else None), arn["family"]
    short = _FAMILY.fullmatch(text)
    if not short:
        raise SourceReadError(
            f"{reference.used_by}: {reference.task_definition!r} is neither a task definition "
            "ARN nor family[:revision], so the images it runs are unknown: nothing is deleted "
            "while a source of in-use images is unreadable"
        )
    if short["revision"] is None:
        return None, short["family"]
    cluster = _CLUSTER_ARN.fullmatch(reference.cluster or "")
    if cluster:  # a task definition lives in the account and region of its cluster
        return (
            f"arn:{cluster['partition']}:ecs:{cluster['region']}:{cluster['account']}:"
            f"task-definition/{text}",
            short["family"],
        )
    return text, short["family"]


def latest_active(ecs: Any, family: str) -> str | None:
    """The ARN of the newest ACTIVE revision of `family`, or None if it has none.

    One call: ListTaskDefinitions' familyPrefix is the full family name, and sort DESC
    lists the newest revision first. The newest of whatever the page holds is taken,
    rather than trusting the order alone.
    """
    try:
        arns = ecs.list_task_definitions(
            familyPrefix=family, status="ACTIVE", sort="DESC", maxResults=1
        ).get("taskDefinitionArns", [])
    except ClientError as error:
        raise classify(error, f"ecs:ListTaskDefinitions {family}") from error
    revisions = [
        (int(match["revision"]), arn)
        for arn in arns
        if (match := _TASK_DEFINITION_ARN.fullmatch(arn))
        and match["family"] == family
        and match["revision"]
    ]
    return max(revisions)[1] if revisions else None


def describe_task_definition_images(ecs: Any, task_definition: str) -> list[str]:
    """The container images of one task definition (DescribeTaskDefinition)."""
    try:
        definition = ecs.describe_task_definition(taskDefinition=task_definition)
    except ClientError as error:
        raise classify(error, f"ecs:DescribeTaskDefinition {task_definition}") from error
    containers = definition.get("taskDefinition", {}).get("containerDefinitions", [])
    return [c["image"] for c in containers if c.get("image")]
