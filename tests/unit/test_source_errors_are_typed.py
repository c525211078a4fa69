"""Every AWS error the other sources' adapters meet is typed: refused access fails the
scan with AwsRequestError, throttling past botocore's retries is a TransientAwsError
(scripted fakes, no moto)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecr_sweeper.adapters.app_runner import collect_app_runner_usage
from ecr_sweeper.adapters.batch import collect_batch_usage
from ecr_sweeper.adapters.scheduled_tasks import collect_scheduled_task_definitions
from ecr_sweeper.adapters.task_sets import collect_task_set_definitions
from ecr_sweeper.core.in_use import InUseBuilder
from ecr_sweeper.errors import AwsRequestError, TransientAwsError

ACCOUNT, REGION = "123456789012", "ap-northeast-1"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster"


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
