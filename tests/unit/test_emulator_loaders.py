"""What the loaders refuse when an inventory asks for something AWS cannot have: a task
set on a service with the ECS deployment controller, App Runner services in a region
without App Runner. (Emulator internals: the front door would raise the same while
setting up.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from moto import mock_aws

from sweeper_emulator.inventory import Workloads
from sweeper_emulator.loaders import load_workloads

ACCOUNT = "123456789012"


@pytest.fixture
def moto(fake_credentials: Callable[[str], None]) -> Iterator[None]:
    fake_credentials("ap-northeast-1")
    with mock_aws():
        yield


def test_a_task_set_needs_a_service_without_the_ecs_controller(moto):
    workloads = Workloads.model_validate(
        {
            "ecs": {
                "task_definitions": [{"family": "web", "revision": 1, "images": ["web:1"]}],
                "clusters": [
                    {
                        "name": "c",
                        "services": [
                            {"name": "web", "deployments": [{"task_definition": "web:1"}]}
                        ],
                    }
                ],
            },
            "task_sets": [{"cluster": "c", "service": "web", "task_definition": "web:1"}],
        }
    )
    with pytest.raises(ValueError, match="ECS deployment controller"):
        load_workloads(workloads, ACCOUNT, "ap-northeast-1")


def test_app_runner_services_need_a_region_with_app_runner(moto):
    workloads = Workloads.model_validate({"app_runner": {"services": [{"name": "a"}]}})
    with pytest.raises(ValueError, match="not offered in ca-central-1"):
        load_workloads(workloads, ACCOUNT, "ca-central-1")
