"""The run lock across stacks: a deleting run gives way to an earlier deleting run of
another ecr-sweeper stack of the same account and region, and to nothing else."""

from datetime import UTC, datetime, timedelta

import pytest

from ecr_sweeper.errors import RunInProgress
from ecr_sweeper.run_lock import refuse_if_another_stack_deletes

PREFIX = "arn:aws:states:eu-west-1:123456789012"
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
MINE = f"{PREFIX}:execution:prod-sweep:mine"
DELETING = '{"dry_run": false}'


class FakeSfn:
    """Step Functions from a script: state machines (name -> tags) and their RUNNING
    executions (ARN -> start offset in seconds and input). `hidden` executions are
    not listed yet (ListExecutions is eventually consistent)."""

    def __init__(self, machines: dict[str, dict[str, str]], runs: dict[str, tuple[int, str]]):
        self.machines = {"prod-sweep": {"ecr-sweeper:stack": "prod"}, **machines}
        self.runs = {MINE: (0, DELETING), **runs}
        self.hidden: set[str] = set()

    def get_paginator(self, operation: str):
        return self

    def paginate(self, **arguments):
        if "stateMachineArn" not in arguments:
            names = sorted(self.machines)
            yield {"stateMachines": [{"name": n, "stateMachineArn": self._arn(n)} for n in names]}
            return
        assert arguments["statusFilter"] == "RUNNING"
        prefix = arguments["stateMachineArn"].replace(":stateMachine:", ":execution:") + ":"
        listed = [a for a in self.runs if a.startswith(prefix) and a not in self.hidden]
        yield {"executions": [{"executionArn": a} for a in listed]}

    def list_tags_for_resource(self, resourceArn: str):
        name = resourceArn.rsplit(":", 1)[1]
        return {"tags": [{"key": k, "value": v} for k, v in self.machines[name].items()]}

    def describe_execution(self, executionArn: str):
        offset, text = self.runs[executionArn]
        return {
            "executionArn": executionArn,
            "status": "RUNNING",
            "startDate": T0 + timedelta(seconds=offset),
            "input": text,
        }

    @staticmethod
    def _arn(name: str) -> str:
        return f"{PREFIX}:stateMachine:{name}"


def _team(**tags: str) -> dict[str, dict[str, str]]:
    return {"team-sweep": {"ecr-sweeper:stack": "team", **tags}}


def _run(offset: int, text: str = DELETING) -> dict[str, tuple[int, str]]:
    return {f"{PREFIX}:execution:team-sweep:theirs": (offset, text)}


@pytest.mark.parametrize(
    ("machines", "runs"),
    [
        pytest.param(_team(), _run(-5), id="asked-to-delete-by-its-input"),
        pytest.param(
            _team(**{"ecr-sweeper:dry-run-default": "false"}), _run(-5, "{}"), id="its-default"
        ),
        pytest.param(_team(), _run(-5, "{}"), id="a-stack-whose-default-is-unknown"),
        pytest.param(_team(), _run(-5, '{"dry_run": "no"}'), id="an-input-it-cannot-read"),
        pytest.param(
            {"dev-sweep": {"ecr-sweeper:stack": "team"}},  # dev-sweep < prod-sweep
            {f"{PREFIX}:execution:dev-sweep:theirs": (0, DELETING)},
            id="started-at-the-same-instant-with-a-smaller-arn",
        ),
    ],
)
def test_an_earlier_deleting_run_of_another_stack_stops_this_one(machines, runs):
    with pytest.raises(RunInProgress, match="stack team is deleting") as raised:
        refuse_if_another_stack_deletes(FakeSfn(machines, runs), MINE)
    assert "-sweep:theirs" in str(raised.value)
    assert "this run deletes nothing" in str(raised.value)


@pytest.mark.parametrize(
    ("machines", "runs"),
    [
        pytest.param(_team(), _run(5), id="a-later-run-gives-way-itself"),
        pytest.param(_team(), _run(0), id="started-at-the-same-instant-with-a-larger-arn"),
        pytest.param(_team(), _run(-5, '{"dry_run": true}'), id="a-dry-run"),
        pytest.param(
            _team(**{"ecr-sweeper:dry-run-default": "true"}),
            _run(-5, "{}"),
            id="a-dry-run-by-default",
        ),
        pytest.param(
            _team(**{"ecr-sweeper:deleting-runs": "false"}),
            _run(-5),
            id="a-stack-that-refuses-deleting-runs",
        ),
        pytest.param(
            {"team-sweep": {"owner": "someone"}}, _run(-5), id="a-state-machine-of-something-else"
        ),
        pytest.param(
            {"team-workflow": {"ecr-sweeper:stack": "team"}},
            {f"{PREFIX}:execution:team-workflow:theirs": (-5, DELETING)},
            id="a-state-machine-not-named-sweep",
        ),
        pytest.param({}, {f"{PREFIX}:execution:prod-sweep:other": (-5, DELETING)}, id="this-stack"),
    ],
)
def test_nothing_else_stops_it(machines, runs):
    refuse_if_another_stack_deletes(FakeSfn(machines, runs), MINE)


def test_a_run_not_listed_yet_at_the_scan_is_found_before_the_sweep():
    """What CheckCaps' second look is for: at the scan, ListExecutions does not list
    the other stack's run yet, though it started first."""
    sfn = FakeSfn(_team(), _run(-1))
    sfn.hidden = set(_run(-1))
    refuse_if_another_stack_deletes(sfn, MINE)  # the scan
    sfn.hidden.clear()
    with pytest.raises(RunInProgress):
        refuse_if_another_stack_deletes(sfn, MINE)  # CheckCaps
