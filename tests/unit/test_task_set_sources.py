"""The task-sets adapter finds the task definitions of the task sets of EXTERNAL and
CODE_DEPLOY services, on an emulated account, from one DescribeServices a page."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ecr_sweeper.adapters.task_sets import collect_task_set_definitions, task_set_definitions
from ecr_sweeper.core.in_use import InUseBuilder

ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster"


def revisions(family: str, count: int) -> list[dict[str, Any]]:
    """Task definitions `family`:1..count, revision r running `<family>:r<r>`."""
    return [
        {"family": family, "revision": r, "images": [f"{REGISTRY}/{family}:r{r}"]}
        for r in range(1, count + 1)
    ]


def test_task_sets_of_external_and_code_deploy_services(emulated):
    inventory = {
        "ecs": {"task_definitions": [*revisions("web", 3), *revisions("api", 2)]},
        "task_sets": [
            {"cluster": "blue", "service": "web", "task_definition": "web:2", "status": "PRIMARY"},
            {"cluster": "blue", "service": "web", "task_definition": "web:1", "status": "DRAINING"},
            {
                "cluster": "blue",
                "service": "api",
                "task_definition": "api:1",
                "controller": "CODE_DEPLOY",
            },
        ],
    }
    with emulated(inventory) as aws:
        ecs = aws.client("ecs")
        calls: Counter[str] = Counter()
        ecs.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
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
        for task_definition, used_by in found.items():
            described = ecs.describe_task_definition(taskDefinition=task_definition)
            for container in described["taskDefinition"]["containerDefinitions"]:
                builder.add(container["image"], used_by, "ecs_task_sets")
    in_use = builder.build()
    assert {repo: set(usage.tags) for repo, usage in in_use.repositories.items()} == {
        "web": {"r1", "r2"},  # web:3 is no task set's
        "api": {"r1"},
    }
