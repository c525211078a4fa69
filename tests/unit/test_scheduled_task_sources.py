"""The scheduled-tasks adapter finds the task definitions that EventBridge rules and
Scheduler schedules run, on an emulated account, with the calls AWS would need."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ecr_sweeper.adapters.scheduled_tasks import collect_scheduled_task_definitions
from ecr_sweeper.core.in_use import InUseBuilder, InUseSet
from ecr_sweeper.errors import SourceReadError

ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition"


def revisions(family: str, count: int, inactive: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    """Task definitions `family`:1..count, revision r running `<family>:r<r>`."""
    return [
        {
            "family": family,
            "revision": r,
            "images": [f"{REGISTRY}/{family}:r{r}"],
            "status": "INACTIVE" if r in inactive else "ACTIVE",
        }
        for r in range(1, count + 1)
    ]


def counted(client: Any) -> Counter[str]:
    calls: Counter[str] = Counter()
    client.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
    return calls


def tags(in_use: InUseSet) -> dict[str, dict[str, list[str]]]:
    return {repo: dict(usage.tags) for repo, usage in in_use.repositories.items()}


SCHEDULED = {
    "ecs": {
        "task_definitions": [
            *revisions("nightly", 3, inactive=(3,)),
            *revisions("report", 2),
            *revisions("cleanup", 4),
            *revisions("pinned", 2),
            *revisions("archive", 2),
            *revisions("retired", 1, inactive=(1,)),
        ]
    },
    "eventbridge_rules": [
        # unversioned ARN: the latest ACTIVE revision (3 is INACTIVE, so 2)
        {"name": "nightly", "task_definition": f"{TD}/nightly"},
        # family:revision on a custom bus, a disabled rule still counts
        {"name": "report", "event_bus": "ops", "task_definition": "report:1", "state": "DISABLED"},
    ],
    "schedules": [
        {"name": "cleanup", "group": "jobs", "task_definition": "cleanup"},  # family only
        {"name": "pinned", "task_definition": f"{TD}/pinned:1"},
        {"name": "archive", "task_definition": "archive:2", "universal": True},
        {"name": "gone", "task_definition": "retired"},  # no ACTIVE revision: runs nothing
    ],
}


def test_rules_and_schedules_find_their_task_definitions_and_images(emulated):
    with emulated(SCHEDULED) as aws:
        scheduler = aws.client("scheduler")
        scheduler.create_schedule(  # not an ECS target: never fetched
            Name="lambda",
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "RoleArn": "r" * 20},
        )
        events, ecs = aws.client("events"), aws.client("ecs")
        events_calls, scheduler_calls, ecs_calls = counted(events), counted(scheduler), counted(ecs)

        found = collect_scheduled_task_definitions(events, scheduler, ecs)

        assert found == {
            f"{TD}/archive:2": "scheduler:schedule/default/archive",
            f"{TD}/cleanup:4": "scheduler:schedule/jobs/cleanup",
            f"{TD}/nightly:2": "events:rule/nightly",
            f"{TD}/pinned:1": "scheduler:schedule/default/pinned",
            f"{TD}/report:1": "events:rule/ops/report",
        }
        assert events_calls == Counter(
            {"ListEventBuses": 1, "ListRules": 2, "ListTargetsByRule": 2}
        )
        # GetSchedule only for the four schedules whose target runs an ECS task
        assert scheduler_calls == Counter({"ListSchedules": 1, "GetSchedule": 4})
        # one ListTaskDefinitions per unversioned family: nightly, cleanup, retired
        assert ecs_calls == Counter({"ListTaskDefinitions": 3})

        builder = InUseBuilder(ACCOUNT, REGION)
        for task_definition, used_by in found.items():
            described = ecs.describe_task_definition(taskDefinition=task_definition)
            for container in described["taskDefinition"]["containerDefinitions"]:
                builder.add(container["image"], used_by, "scheduled_tasks")
    assert tags(builder.build()) == {
        "archive": {"r2": ["scheduler:schedule/default/archive"]},
        "cleanup": {"r4": ["scheduler:schedule/jobs/cleanup"]},
        "nightly": {"r2": ["events:rule/nightly"]},
        "pinned": {"r1": ["scheduler:schedule/default/pinned"]},
        "report": {"r1": ["events:rule/ops/report"]},
    }


def test_an_unversioned_reference_is_the_latest_active_revision_with_aws_paging(emulated):
    """With the emulator's paging (sort DESC applied, one revision a page), one call."""
    inventory = {
        "ecs": {
            "task_definitions": [
                *revisions("nightly", 5, inactive=(5, 2)),
                *revisions("nightly-extra", 9),  # a longer family name is another family
            ]
        },
        "eventbridge_rules": [{"name": "n", "task_definition": "nightly"}],
    }
    with emulated(inventory) as aws:
        ecs = aws.client("ecs")
        calls = counted(ecs)
        found = collect_scheduled_task_definitions(aws.client("events"), None, ecs)
    assert found == {f"{TD}/nightly:4": "events:rule/n"}
    assert calls == Counter({"ListTaskDefinitions": 1})


def test_a_reference_that_is_not_a_task_definition_fails_the_scan(emulated):
    inventory = {"eventbridge_rules": [{"name": "odd", "task_definition": "not a task definition"}]}
    with emulated(inventory) as aws, pytest.raises(SourceReadError, match="events:rule/odd"):
        collect_scheduled_task_definitions(aws.client("events"), None, aws.client("ecs"))


def test_a_universal_target_whose_input_is_not_json_fails_the_scan(emulated):
    with emulated({}) as aws:
        aws.client("scheduler").create_schedule(
            Name="broken",
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:scheduler:::aws-sdk:ecs:runTask",
                "RoleArn": "r" * 20,
                "Input": "{not json",
            },
        )
        with pytest.raises(SourceReadError, match="scheduler:schedule/default/broken"):
            collect_scheduled_task_definitions(None, aws.client("scheduler"), aws.client("ecs"))
