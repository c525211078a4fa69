"""ChildExecutionType=EXPRESS: the per-repository children run as EXPRESS executions."""

import json
from pathlib import Path

import pytest
from conftest import deleted, digest, image, inventory, remaining, uri

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict
from sweeper_emulator.moto_patches.express import ExpressError, as_standard

ROOT = Path(__file__).resolve().parents[2]


def small_account() -> dict:
    return inventory(
        {
            "app": [image("a-new", tags=["v3"], age_days=2), image("a-old", tags=["v1"])],
            "web": [image("w-used", tags=["v2"]), image("w-old")],
        },
        ecs={
            "clusters": [{"name": "prod", "services": [{"name": "web", "deployments": []}]}],
            "task_definitions": [{"family": "web", "revision": 1, "images": [uri("web", ":v2")]}],
        },
    )


def test_a_run_with_express_children_sweeps_like_a_standard_one(run_workflow):
    results = {
        kind: run_workflow(small_account(), parameters={"ChildExecutionType": kind})
        for kind in ("EXPRESS", "STANDARD")
    }
    express = results["EXPRESS"]
    assert express["status"] == "SUCCEEDED", (express["error"], express["cause"])
    assert deleted(express, "app") == {digest("a-old")}
    assert deleted(express, "web") == {digest("w-old")}
    assert remaining(express, "web") == {digest("w-used")}
    standard = results["STANDARD"]
    for key in ("repositories", "api_calls", "history_events", "state_transitions"):
        assert express[key] == standard[key], key


def test_the_emulator_deploys_express_children(tmp_path):
    config = tmp_path / "ecrm.yaml"
    config.write_text('repositories: [{name_pattern: "*", expires: 30d}]\n')
    with Emulator(
        inventory_from_dict(small_account()),
        config_file=config,
        parameters={"ChildExecutionType": "EXPRESS"},
    ) as emulator:
        assert emulator.stack is not None
        assert emulator.stack.child_execution_type == "EXPRESS"
        definition = json.loads(emulator.stack.definition)  # as deployed: EXPRESS
        processor = definition["States"]["SweepRepositories"]["ItemProcessor"]
        assert processor["ProcessorConfig"]["ExecutionType"] == "EXPRESS"


def test_an_express_child_may_not_use_what_only_standard_workflows_have():
    definition = json.loads((ROOT / "statemachine" / "sweep.asl.json").read_text())
    mapped = next(s for s in definition["States"].values() if s["Type"] == "Map")
    mapped["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "EXPRESS"
    as_standard(json.dumps(definition))  # the sweeper's own children: fine
    child = next(iter(mapped["ItemProcessor"]["States"].values()))
    child["Resource"] = "arn:aws:states:::lambda:invoke.waitForTaskToken"
    with pytest.raises(ExpressError, match=r"waitForTaskToken"):
        as_standard(json.dumps(definition))
