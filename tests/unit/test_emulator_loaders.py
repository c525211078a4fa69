"""What the loaders refuse when an inventory asks for something AWS cannot have: a task
set on a service with the ECS deployment controller, App Runner, CodeBuild or Lightsail
resources in a region without the service (AgentCore, with no region data, loads
anywhere). (Emulator internals: the front door would raise the same while
setting up.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from moto import mock_aws

from sweeper_emulator.inventory import Workloads
from sweeper_emulator.loaders import load_workloads
from sweeper_emulator.served.agentcore import agentcore_backends

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


@pytest.mark.parametrize(
    ("section", "region"),
    [
        pytest.param({"codebuild": {"projects": [{"name": "p", "image": "x"}]}}, "ca-west-1"),
        pytest.param({"lightsail": {"container_services": [{"name": "s"}]}}, "us-west-1"),
    ],
    ids=["codebuild", "lightsail"],
)
def test_a_served_source_needs_a_region_with_its_service(moto, section, region):
    with pytest.raises(ValueError, match=f"not offered in {region}"):
        load_workloads(Workloads.model_validate(section), ACCOUNT, region)


def test_agentcore_has_no_region_data_so_it_loads_in_any_region(moto):
    section = {"agentcore": {"runtimes": [{"name": "r", "versions": ["x"]}]}}
    load_workloads(Workloads.model_validate(section), ACCOUNT, "ca-west-1")
    assert [r.name for r in agentcore_backends[ACCOUNT]["ca-west-1"].section.runtimes] == ["r"]
