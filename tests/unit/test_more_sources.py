"""Scheduled tasks, ECS task sets, AWS Batch and App Runner as sources of "in use", on
moto with the emulator's loaders (and its own App Runner)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ecr_sweeper.adapters.app_runner import collect_app_runner_usage
from ecr_sweeper.adapters.batch import collect_batch_usage, images
from ecr_sweeper.adapters.scheduled_tasks import collect_scheduled_task_definitions
from ecr_sweeper.adapters.task_sets import collect_task_set_definitions, task_set_definitions
from ecr_sweeper.core.in_use import IGNORED_NOT_ECR, InUseBuilder, InUseSet
from ecr_sweeper.errors import AwsRequestError, SourceReadError, TransientAwsError
from sweeper_emulator import faults, more_sources, paging
from sweeper_emulator.inventory import Fault

ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster"


def uri(repository: str, tag: str) -> str:
    return f"{REGISTRY}/{repository}:{tag}"


@pytest.fixture
def aws(fake_credentials: Callable[[str], None]) -> Any:
    fake_credentials(REGION)
    more_sources.install()  # before any session: botocore copies its handlers into each
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def counted(client: Any) -> Counter[str]:
    calls: Counter[str] = Counter()
    client.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
    return calls


def register(ecs: Any, family: str, revisions: int, inactive: tuple[int, ...] = ()) -> None:
    """Revisions 1..N of `family`, revision r running `<family>:r<r>`."""
    for revision in range(1, revisions + 1):
        ecs.register_task_definition(
            family=family,
            containerDefinitions=[
                {"name": "app", "image": uri(family, f"r{revision}"), "memory": 128}
            ],
        )
    for revision in inactive:
        ecs.deregister_task_definition(taskDefinition=f"{family}:{revision}")


def describe_into(ecs: Any, found: dict[str, str], builder: InUseBuilder, source: str) -> None:
    """What the caller does with the task definitions found: describe them, add the images."""
    for task_definition, used_by in found.items():
        described = ecs.describe_task_definition(taskDefinition=task_definition)
        for container in described["taskDefinition"]["containerDefinitions"]:
            builder.add(container["image"], used_by, source)


def tags(in_use: InUseSet) -> dict[str, dict[str, list[str]]]:
    return {repo: dict(usage.tags) for repo, usage in in_use.repositories.items()}


# --- scheduled tasks ---------------------------------------------------------------------


SCHEDULED = {
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


def test_rules_and_schedules_find_their_task_definitions_and_images(aws):
    ecs = aws.client("ecs")
    register(ecs, "nightly", 3, inactive=(3,))
    register(ecs, "report", 2)
    register(ecs, "cleanup", 4)
    register(ecs, "pinned", 2)
    register(ecs, "archive", 2)
    register(ecs, "retired", 1, inactive=(1,))
    more_sources.load_scheduled_tasks(SCHEDULED, ACCOUNT, REGION)
    scheduler = aws.client("scheduler")
    scheduler.create_schedule(  # not an ECS target: never fetched
        Name="lambda",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "RoleArn": "r" * 20},
    )
    events = aws.client("events")
    events_calls, scheduler_calls, ecs_calls = counted(events), counted(scheduler), counted(ecs)

    found = collect_scheduled_task_definitions(events, scheduler, ecs)

    assert found == {
        f"{TD}/archive:2": "scheduler:schedule/default/archive",
        f"{TD}/cleanup:4": "scheduler:schedule/jobs/cleanup",
        f"{TD}/nightly:2": "events:rule/nightly",
        f"{TD}/pinned:1": "scheduler:schedule/default/pinned",
        f"{TD}/report:1": "events:rule/ops/report",
    }
    assert events_calls == Counter({"ListEventBuses": 1, "ListRules": 2, "ListTargetsByRule": 2})
    # GetSchedule only for the four schedules whose target runs an ECS task
    assert scheduler_calls == Counter({"ListSchedules": 1, "GetSchedule": 4})
    # one ListTaskDefinitions per unversioned family: nightly, cleanup, retired
    assert ecs_calls == Counter({"ListTaskDefinitions": 3})

    builder = InUseBuilder(ACCOUNT, REGION)
    describe_into(ecs, found, builder, "scheduled_tasks")
    assert tags(builder.build()) == {
        "archive": {"r2": ["scheduler:schedule/default/archive"]},
        "cleanup": {"r4": ["scheduler:schedule/jobs/cleanup"]},
        "nightly": {"r2": ["events:rule/nightly"]},
        "pinned": {"r1": ["scheduler:schedule/default/pinned"]},
        "report": {"r1": ["events:rule/ops/report"]},
    }


def test_an_unversioned_reference_is_the_latest_active_revision_with_aws_paging(aws):
    """With the emulator's paging (sort DESC applied, one revision a page), one call."""
    paging.install()
    ecs = aws.client("ecs")
    register(ecs, "nightly", 5, inactive=(5, 2))
    register(ecs, "nightly-extra", 9)  # a longer family name is another family
    more_sources.load_scheduled_tasks(
        {"eventbridge_rules": [{"name": "n", "task_definition": "nightly"}]}, ACCOUNT, REGION
    )
    calls = counted(ecs)
    found = collect_scheduled_task_definitions(aws.client("events"), None, ecs)
    assert found == {f"{TD}/nightly:4": "events:rule/n"}
    assert calls == Counter({"ListTaskDefinitions": 1})


def test_a_reference_that_is_not_a_task_definition_fails_the_scan(aws):
    more_sources.load_scheduled_tasks(
        {"eventbridge_rules": [{"name": "odd", "task_definition": "not a task definition"}]},
        ACCOUNT,
        REGION,
    )
    with pytest.raises(SourceReadError, match="events:rule/odd"):
        collect_scheduled_task_definitions(aws.client("events"), None, aws.client("ecs"))


def test_a_universal_target_whose_input_is_not_json_fails_the_scan(aws):
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


# --- task sets ----------------------------------------------------------------------------


def test_task_sets_of_external_and_code_deploy_services(aws):
    ecs = aws.client("ecs")
    register(ecs, "web", 3)
    register(ecs, "api", 2)
    more_sources.load_task_sets(
        [
            {"cluster": "blue", "service": "web", "task_definition": "web:2", "status": "PRIMARY"},
            {"cluster": "blue", "service": "web", "task_definition": "web:1", "status": "DRAINING"},
            {
                "cluster": "blue",
                "service": "api",
                "task_definition": "api:1",
                "controller": "CODE_DEPLOY",
            },
        ],
        ACCOUNT,
        REGION,
    )
    calls = counted(ecs)
    found = collect_task_set_definitions(ecs, [f"{CLUSTER}/blue"])
    assert calls == Counter({"ListServices": 1, "DescribeServices": 1})
    assert set(found) == {f"{TD}/web:2", f"{TD}/web:1", f"{TD}/api:1"}
    for task_definition, used_by in found.items():
        family = task_definition.rsplit("/", 1)[1].split(":")[0]
        assert used_by.startswith(f"ecs:task-set/blue/{family}/ecs-svc/")

    # The same from the ECS scan's own DescribeServices answer, without a call.
    services = ecs.describe_services(cluster="blue", services=["web", "api"])["services"]
    assert task_set_definitions(f"{CLUSTER}/blue", services) == found

    builder = InUseBuilder(ACCOUNT, REGION)
    describe_into(ecs, found, builder, "ecs_task_sets")
    assert {repo: set(t) for repo, t in tags(builder.build()).items()} == {
        "web": {"r1", "r2"},  # web:3 is no task set's
        "api": {"r1"},
    }


def test_task_sets_need_a_service_without_the_ecs_controller(aws):
    ecs = aws.client("ecs")
    register(ecs, "web", 1)
    ecs.create_cluster(clusterName="c")
    ecs.create_service(cluster="c", serviceName="web", taskDefinition="web:1", desiredCount=0)
    with pytest.raises(ValueError, match="ECS deployment controller"):
        more_sources.load_task_sets(
            [{"cluster": "c", "service": "web", "task_definition": "web:1"}], ACCOUNT, REGION
        )


# --- Batch ---------------------------------------------------------------------------------


BATCH = {
    "job_definitions": [
        *({"name": "etl", "revision": r, "images": [uri("etl", f"r{r}")]} for r in range(1, 8)),
        {"name": "old", "revision": 1, "images": [uri("old", "r1")], "status": "INACTIVE"},
        {"name": "old", "revision": 2, "images": [uri("old", "r2")], "status": "INACTIVE"},
        {"name": "pod", "revision": 1, "images": [uri("pod", "init"), uri("pod", "main")]},
    ],
    "jobs": [
        {"queue": "high", "job_definition": "etl:1", "status": "RUNNING"},
        {"queue": "high", "job_definition": "etl:2", "status": "SUCCEEDED"},  # done: not kept
        {"queue": "low", "job_definition": "old:1", "status": "RUNNABLE"},  # INACTIVE, queued
        {"queue": "low", "job_definition": "etl:7", "status": "SUBMITTED"},
    ],
}


def test_batch_keeps_the_newest_revisions_and_those_of_queued_or_running_jobs(aws):
    more_sources.load_batch(BATCH, ACCOUNT, REGION)
    batch = aws.client("batch")
    calls = counted(batch)
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_batch_usage(batch, builder, keep_count=5)
    in_use = tags(builder.build())
    assert {repo: set(t) for repo, t in in_use.items()} == {
        "etl": {"r1", "r3", "r4", "r5", "r6", "r7"},  # newest five, and r1 (running)
        "old": {"r1"},  # deregistered, but a queued job still uses it
        "pod": {"init", "main"},  # an EKS pod: init containers too
    }
    assert in_use["etl"]["r1"] == ["batch:job-definition/etl:1"]
    assert in_use["old"]["r1"] == ["batch:job-definition/old:1"]
    assert calls == Counter(
        {
            "DescribeJobDefinitions": 2,  # ACTIVE; then old:1 by ARN
            "DescribeJobQueues": 1,
            "ListJobs": 10,  # two queues, five statuses
            "DescribeJobs": 1,
        }
    )


def test_batch_keep_count_zero_keeps_only_what_jobs_use(aws):
    more_sources.load_batch(BATCH, ACCOUNT, REGION)
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_batch_usage(aws.client("batch"), builder, keep_count=0)
    assert {repo: set(t) for repo, t in tags(builder.build()).items()} == {
        "etl": {"r1", "r7"},
        "old": {"r1"},
    }


def test_batch_images_of_every_kind_of_job_definition_and_job():
    definition = {
        "containerProperties": {"image": "a"},
        "nodeProperties": {
            "nodeRangeProperties": [
                {"container": {"image": "node"}},
                {"ecsProperties": {"taskProperties": [{"containers": [{"image": "node-ecs"}]}]}},
                {"eksProperties": {"podProperties": {"containers": [{"image": "node-eks"}]}}},
            ]
        },
        "ecsProperties": {"taskProperties": [{"containers": [{"image": "e1"}, {"image": "e2"}]}]},
        "eksProperties": {
            "podProperties": {"initContainers": [{"image": "init"}], "containers": [{"image": "k"}]}
        },
    }
    assert list(images(definition)) == [
        "a",
        "node",
        "node-ecs",
        "node-eks",
        "e1",
        "e2",
        "init",
        "k",
    ]
    assert list(images({"container": {"image": "job"}})) == ["job"]  # a DescribeJobs job
    assert list(images({})) == []


# --- App Runner ---------------------------------------------------------------------------


def test_app_runner_only_ecr_sources_count(aws):
    services = [
        {"name": "api", "image": uri("api", "v7")},
        {"name": "paused", "image": uri("paused", "v1"), "status": "PAUSED"},
        {"name": "public", "image": "public.ecr.aws/nginx/nginx:1"},  # ECR_PUBLIC
        {"name": "code"},  # a code repository
        {"name": "deleted", "image": uri("deleted", "v1"), "status": "DELETED"},
        *({"name": f"filler-{i}"} for i in range(20)),  # a second ListServices page
    ]
    more_sources.load_app_runner({"services": services}, ACCOUNT, REGION)
    apprunner = aws.client("apprunner")
    calls = counted(apprunner)
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_app_runner_usage(apprunner, builder)
    in_use = builder.build()
    assert tags(in_use) == {
        "api": {"v7": ["apprunner:service/api"]},
        "paused": {"v1": ["apprunner:service/paused"]},
    }
    assert IGNORED_NOT_ECR not in in_use.ignored  # ECR Public is not even offered
    assert calls == Counter({"ListServices": 2, "DescribeService": 24})


def test_the_emulators_app_runner_answers_only_what_it_serves(aws):
    more_sources.load_app_runner({"services": []}, ACCOUNT, REGION)
    apprunner = aws.client("apprunner")
    assert apprunner.list_services()["ServiceSummaryList"] == []
    with pytest.raises(apprunner.exceptions.ResourceNotFoundException):
        apprunner.describe_service(
            ServiceArn=f"arn:aws:apprunner:{REGION}:{ACCOUNT}:service/none/0123"
        )
    with pytest.raises(apprunner.exceptions.InvalidRequestException):
        apprunner.list_connections()


def test_the_emulators_app_runner_is_reset_with_moto(aws):
    more_sources.load_app_runner({"services": [{"name": "a", "image": "x"}]}, ACCOUNT, REGION)
    with mock_aws():  # a nested mock does not reset
        assert len(aws.client("apprunner").list_services()["ServiceSummaryList"]) == 1
    more_sources.app_runner_backends.reset()
    assert aws.client("apprunner").list_services()["ServiceSummaryList"] == []


def test_a_service_deleted_between_list_and_describe_is_skipped():
    apprunner = boto3.client(
        "apprunner", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    arn = f"arn:aws:apprunner:{REGION}:{ACCOUNT}:service/gone/0123"
    with Stubber(apprunner) as stub:
        stub.add_response(
            "list_services",
            {"ServiceSummaryList": [{"ServiceArn": arn, "ServiceName": "gone"}]},
        )
        stub.add_client_error("describe_service", service_error_code="ResourceNotFoundException")
        builder = InUseBuilder(ACCOUNT, REGION)
        collect_app_runner_usage(apprunner, builder)
    assert builder.build().repositories == {}


def test_emulator_faults_reach_the_emulated_app_runner(aws):
    faults.install()
    faults.CALLS.reset([Fault(operation="apprunner:ListServices", error="AccessDeniedException")])
    try:
        more_sources.load_app_runner({"services": [{"name": "a", "image": "x"}]}, ACCOUNT, REGION)
        apprunner = boto3.client(
            "apprunner",
            region_name=REGION,
            aws_access_key_id=faults.HANDLER_ACCESS_KEY,
            aws_secret_access_key="x",
        )
        with pytest.raises(AwsRequestError, match="AccessDeniedException"):
            collect_app_runner_usage(apprunner, InUseBuilder(ACCOUNT, REGION))
        assert faults.CALLS.calls == Counter({"apprunner:ListServices": 1})
    finally:
        faults.CALLS.reset([])


# --- every API error is typed ---------------------------------------------------------------


def _client(service: str) -> Any:
    return boto3.client(
        service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )


def _denied(client: Any, operation: str, code: str = "AccessDeniedException") -> Stubber:
    stub = Stubber(client)
    stub.add_client_error(operation, service_error_code=code, http_status_code=400)
    stub.activate()
    return stub


def _scan_rules() -> None:
    events = _client("events")
    _denied(events, "list_event_buses")
    collect_scheduled_task_definitions(events, None, _client("ecs"))


def _scan_schedules() -> None:
    scheduler = _client("scheduler")
    _denied(scheduler, "list_schedules")
    collect_scheduled_task_definitions(None, scheduler, _client("ecs"))


def _resolve_a_family() -> None:
    scheduler, ecs = _client("scheduler"), _client("ecs")
    stub = Stubber(scheduler)
    target = {"Arn": f"{CLUSTER}/c"}
    stub.add_response("list_schedules", {"Schedules": [{"Name": "s", "Target": target}]})
    stub.add_response(
        "get_schedule",
        {
            "Name": "s",
            "Target": {**target, "RoleArn": "r" * 20, "EcsParameters": {"TaskDefinitionArn": "f"}},
        },
    )
    stub.activate()
    _denied(ecs, "list_task_definitions")
    collect_scheduled_task_definitions(None, scheduler, ecs)


def _scan_task_sets() -> None:
    ecs = _client("ecs")
    _denied(ecs, "list_services")
    collect_task_set_definitions(ecs, [f"{CLUSTER}/c"])


def _scan_batch() -> None:
    batch = _client("batch")
    _denied(batch, "describe_job_definitions")
    collect_batch_usage(batch, InUseBuilder(ACCOUNT, REGION))


def _scan_app_runner() -> None:
    apprunner = _client("apprunner")
    _denied(apprunner, "list_services")
    collect_app_runner_usage(apprunner, InUseBuilder(ACCOUNT, REGION))


@pytest.mark.parametrize(
    "scan",
    [
        _scan_rules,
        _scan_schedules,
        _resolve_a_family,
        _scan_task_sets,
        _scan_batch,
        _scan_app_runner,
    ],
)
def test_access_denied_fails_the_scan_with_a_typed_error(scan):
    with pytest.raises(AwsRequestError, match="AccessDeniedException"):
        scan()


def test_throttling_after_retries_is_transient():
    batch = _client("batch")
    _denied(batch, "describe_job_definitions", code="TooManyRequestsException")
    with pytest.raises(TransientAwsError):
        collect_batch_usage(batch, InUseBuilder(ACCOUNT, REGION))


def test_the_sections_validate_like_the_inventory():
    more = more_sources.MoreSources.model_validate(
        {
            "eventbridge_rules": SCHEDULED["eventbridge_rules"],
            "schedules": SCHEDULED["schedules"],
            "batch": BATCH,
            "app_runner": {"services": [{"name": "a", "image": "x"}]},
            "task_sets": [{"cluster": "c", "service": "s", "task_definition": "f:1"}],
        }
    )
    assert more.batch.job_definitions[-1].kind == "eks"
    with pytest.raises(ValueError, match="exactly one image"):
        more_sources.BatchJobDefinition(name="x", revision=1, images=["a", "b"], kind="container")
    with pytest.raises(ValueError):
        more_sources.MoreSources.model_validate({"app_runner": {"services": [{"nam": "typo"}]}})
    assert json.loads(more.model_dump_json())["schedules"][2]["universal"] is True


def test_the_loaders_take_any_model_with_the_sections_fields(aws):
    class Inventory(more_sources.MoreSources):  # as the emulator's Inventory will be
        account_id: str = ACCOUNT
        repositories: list[str] = []

    inventory = Inventory.model_validate(
        {"app_runner": {"services": [{"name": "api", "image": uri("api", "v1")}]}}
    )
    more_sources.load_more_sources(inventory, ACCOUNT, REGION)
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_app_runner_usage(aws.client("apprunner"), builder)
    assert tags(builder.build()) == {"api": {"v1": ["apprunner:service/api"]}}
