"""The inventory's sections for the other sources of "in use" (scheduled tasks, Batch,
App Runner, task sets) validate like the rest of the inventory: defaults filled in,
contradictions and typos refused, in the account and in a member account alike."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from sweeper_emulator.inventory import inventory_from_dict

SECTIONS = {
    "eventbridge_rules": [{"name": "nightly", "task_definition": "nightly"}],
    "schedules": [
        {"name": "cleanup", "group": "jobs", "task_definition": "cleanup"},
        {"name": "archive", "task_definition": "archive:2", "universal": True},
    ],
    "batch": {
        "job_definitions": [
            {"name": "etl", "revision": 1, "images": ["etl:r1"]},
            {"name": "pod", "revision": 1, "images": ["pod:init", "pod:main"]},
        ],
        "jobs": [{"queue": "high", "job_definition": "etl:1"}],
    },
    "app_runner": {"services": [{"name": "a", "image": "x"}]},
    "task_sets": [{"cluster": "c", "service": "s", "task_definition": "f:1"}],
}


def test_the_sections_fill_in_their_defaults():
    inventory = inventory_from_dict(SECTIONS)
    assert [d.kind for d in inventory.batch.job_definitions] == ["container", "eks"]
    assert inventory.batch.jobs[0].status == "RUNNING"
    assert inventory.task_sets[0].controller == "EXTERNAL"
    assert inventory.eventbridge_rules[0].event_bus == "default"
    assert json.loads(inventory.model_dump_json())["schedules"][1]["universal"] is True


def test_a_member_account_has_the_same_sections():
    member = {"account_id": "210987654321", "region": "eu-west-1", **SECTIONS}
    inventory = inventory_from_dict({"accounts": [member]})
    assert inventory.accounts[0].app_runner.services[0].name == "a"
    assert inventory.accounts[0].batch.job_definitions[1].kind == "eks"


@pytest.mark.parametrize(
    ("sections", "says"),
    [
        pytest.param(
            {
                "batch": {
                    "job_definitions": [
                        {"name": "x", "revision": 1, "images": ["a", "b"], "kind": "container"}
                    ]
                }
            },
            "exactly one image",
            id="container-with-two-images",
        ),
        pytest.param({"app_runner": {"services": [{"nam": "typo"}]}}, "Extra inputs", id="typo"),
        pytest.param(
            {
                "task_sets": [
                    {"cluster": "c", "service": "s", "task_definition": "f:1", "controller": "ECS"}
                ]
            },
            "'EXTERNAL' or 'CODE_DEPLOY'",
            id="ecs-controller",
        ),
        pytest.param(
            {"eventbridge_rules": [{"name": "r", "task_definition": "f", "state": "PAUSED"}]},
            "'ENABLED' or 'DISABLED'",
            id="unknown-state",
        ),
    ],
)
def test_a_bad_section_is_refused_and_says_why(sections, says):
    with pytest.raises(ValidationError, match=says):
        inventory_from_dict(sections)
