"""A running execution in words (ecr_sweeper.run_progress): phases, Map Run counts, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecr_sweeper.run_progress import ExecutionProgress, failure_in_words, map_run_label

PLAN = "arn:aws:states:eu-west-1:123456789012:mapRun:ecr-sweeper-sweep/plan:0b1c"
OTHER = "arn:aws:states:eu-west-1:123456789012:mapRun:ecr-sweeper-sweep/extra:9f8e"


def entered(name: str) -> dict[str, Any]:
    return {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": name}}


def map_run_started(arn: str) -> dict[str, Any]:
    return {"type": "MapRunStarted", "mapRunStartedEventDetails": {"mapRunArn": arn}}


def counts(succeeded: int, total: int, failed: int = 0) -> dict[str, int]:
    return {"succeeded": succeeded, "failed": failed, "timedOut": 0, "aborted": 0, "total": total}


class ScriptedStepFunctions:
    """The history and Map Run counts an execution shows, changed by the test between looks."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.items: dict[str, dict[str, int]] = {}

    def get_paginator(self, name: str) -> Any:
        assert name == "get_execution_history"
        events = self.events

        class Pages:
            def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                half = len(events) // 2  # two pages
                return [{"events": events[:half]}, {"events": events[half:]}]

        return Pages()

    def describe_map_run(self, mapRunArn: str) -> dict[str, Any]:
        return {"itemCounts": self.items[mapRunArn]}


def test_each_look_says_what_is_new() -> None:
    sfn = ScriptedStepFunctions()
    progress = ExecutionProgress(sfn, "arn:execution")
    sfn.events += [entered("ScanInUse")]
    assert progress.look() == ["phase: ScanInUse"]
    assert progress.look() == []
    sfn.events += [entered("PlanRepositories"), map_run_started(PLAN)]
    sfn.items[PLAN] = counts(0, 0)  # the items are not read yet
    assert progress.look() == ["phase: PlanRepositories"]
    sfn.items[PLAN] = counts(1, 3)
    assert progress.look() == ["repositories planned 1 of 3"]
    assert progress.look() == []
    sfn.items[PLAN] = counts(2, 3, failed=1)
    sfn.events += [{"type": "MapRunFailed"}, entered("PlanFailed")]
    assert progress.look() == ["repositories planned 3 of 3 (1 failed)", "phase: PlanFailed"]
    assert progress.map_runs == {"plan": PLAN}


def test_a_map_run_that_ended_between_two_looks_still_gets_its_counts() -> None:
    sfn = ScriptedStepFunctions()
    sfn.events = [
        entered("Other"),
        map_run_started(OTHER),
        {"type": "MapRunSucceeded"},
        entered("Next"),
    ]
    sfn.items[OTHER] = counts(0, 0)
    assert ExecutionProgress(sfn, "arn:execution").look() == [
        "phase: Other",
        "Map Run extra: 0 of 0 items",
        "phase: Next",
    ]


def test_map_run_label_is_the_map_states_label() -> None:
    assert map_run_label(PLAN) == "plan"


@pytest.mark.parametrize(
    ("error", "cause", "words"),
    [
        pytest.param(
            "AwsRequestError",
            json.dumps(
                {
                    "errorType": "AwsRequestError",
                    "errorMessage": "ecs:list_clusters: AccessDenied",
                    "stackTrace": ['  File "steps.py", line 1, in scan\n'],
                }
            ),
            "error: AwsRequestError\ncause: ecs:list_clusters: AccessDenied",
            id="a function's error: its message, no stack trace",
        ),
        pytest.param(
            "States.TaskFailed",
            json.dumps({"errorType": "KeyError", "errorMessage": "'run'", "stackTrace": []}),
            "error: States.TaskFailed\ncause: KeyError: 'run'",
            id="the type when the error names another",
        ),
        pytest.param(
            "States.Timeout",
            "The execution timed out",
            "error: States.Timeout\ncause: The execution timed out",
            id="a cause in words stays as it is",
        ),
        pytest.param(None, None, "error: (none)\ncause: (none)", id="none given"),
    ],
)
def test_failure_in_words(error: str | None, cause: str | None, words: str) -> None:
    assert failure_in_words(error, cause) == words
