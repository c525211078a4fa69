"""Two ecr-sweeper stacks over one registry (dev and prod, or two teams) never delete at once.

Each stack has its own run bucket, so the run lock in it (locks/sweep.json) cannot see
the other stack. A deleting run also looks, in Step Functions, for a RUNNING deleting
execution of another ecr-sweeper stack of the same account and region (its state
machine carries the ecr-sweeper:stack tag), started before it: finding one, it fails
with RunInProgress and deletes nothing. The run that started first goes on. A dry run,
or a run of a stack that never deletes (AllowDeletingRuns=false), blocks nothing.
"""

from pathlib import Path

import pytest
from conftest import image, inventory

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

CONFIG = (
    "safety: {allow_nothing_in_use: true}\n"
    "repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]\n"
)
DELETE = '{"dry_run": false}'
IMAGES = 5


@pytest.fixture
def two_stacks(tmp_path: Path):
    """emulate(other stack's parameters) -> (emulator, prod, other): two stacks of the
    template in one emulated account and region."""
    config = tmp_path / "ecrm.yaml"
    config.write_text(CONFIG)
    data = inventory({"app": [image(f"i{n}", tags=[f"i{n}"]) for n in range(IMAGES)]})
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:

        def emulate(parameters: dict[str, str]):
            other = emulator.deploy_stack("ecr-sweeper-team", parameters=parameters)
            return emulator, emulator.stack, other

        yield emulate


@pytest.mark.parametrize(
    ("parameters", "other_input"),
    [
        pytest.param({}, DELETE, id="asked-for-by-the-input"),
        pytest.param({"DryRun": "false"}, "{}", id="by-its-DryRun-default"),
    ],
)
def test_a_deleting_run_of_another_stack_started_first_blocks_this_one(
    two_stacks, parameters, other_input
):
    emulator, prod, other = two_stacks(parameters)
    first, second = emulator.run_overlapping([other_input, DELETE], stacks=[other, prod])
    assert first["status"] == "SUCCEEDED", first
    assert second["status"] == "FAILED", second
    assert second["error"] == "RunInProgress"
    assert "ecr-sweeper-team" in second["cause"] and first["execution_arn"] in second["cause"]
    assert "deletes nothing" in second["cause"]
    # The first run deleted everything; once it has ended, prod runs again and finds
    # nothing left to delete.
    again = emulator.run(DELETE, stack=prod)
    assert again["status"] == "SUCCEEDED", again
    assert again["output"]["images_deleted"] == 0
    assert again["repositories"]["app"]["remaining"] == []


@pytest.mark.parametrize(
    ("parameters", "other_input", "other_status"),
    [
        pytest.param({}, '{"dry_run": true}', "SUCCEEDED", id="a-dry-run"),
        pytest.param({"DryRun": "true"}, "{}", "SUCCEEDED", id="a-dry-run-by-default"),
        pytest.param(
            {"AllowDeletingRuns": "false", "DryRun": "false"},
            "{}",
            "FAILED",  # DeletingRunsForbidden
            id="a-stack-that-never-deletes",
        ),
    ],
)
def test_a_run_of_another_stack_that_deletes_nothing_blocks_nothing(
    two_stacks, parameters, other_input, other_status
):
    emulator, prod, other = two_stacks(parameters)
    first, second = emulator.run_overlapping([other_input, DELETE], stacks=[other, prod])
    assert first["status"] == other_status, first
    assert second["status"] == "SUCCEEDED", second
    after = emulator.run('{"dry_run": true}', stack=prod)
    assert after["repositories"]["app"]["remaining"] == []
