"""A running execution in words, for the command line: its phases, its Map Runs' progress,
and why it failed.

Reads Step Functions only: GetExecutionHistory for the states the execution entered and its
Map Runs, DescribeMapRun for how many items each Map Run has finished.
"""

from __future__ import annotations

from typing import Any

from ecr_sweeper.core.failure_words import WHAT_TO_DO, read_failure

# A Map Run's items are repositories; what a finished one was, by the Map state's Label
# (statemachine/sweep.asl.json).
MAP_RUN_VERBS = {"plan": "planned", "sweep": "swept"}
MAP_RUN_ENDS = frozenset({"MapRunSucceeded", "MapRunFailed", "MapRunAborted"})


def map_run_label(arn: str) -> str:
    """The Label of the Map state, which Step Functions puts in its Map Runs' ARNs:
    arn:aws:states:REGION:ACCOUNT:mapRun:STATE_MACHINE/LABEL:ID."""
    return arn.split(":mapRun:", 1)[-1].split("/", 1)[-1].rsplit(":", 1)[0]


class ExecutionProgress:
    """What an execution did since the last look, as lines to print.

    The history of the parent execution is short (its Maps' children run as executions of
    their own), so each look reads it whole and prints what is new: a `phase:` line per
    state entered, in order, and a Map Run's counts when they change. The counts of a Map
    Run are printed when it ends too, so the last ones are always there, however long
    between two looks.
    """

    def __init__(self, sfn: Any, execution_arn: str) -> None:
        self._sfn = sfn
        self._arn = execution_arn
        self._seen = 0
        self._open: str | None = None  # the Map Run going on
        self._shown: dict[str, tuple[int, int, int]] = {}
        self.map_runs: dict[str, str] = {}  # Map state Label -> Map Run ARN

    def look(self) -> list[str]:
        events = [
            event
            for page in self._sfn.get_paginator("get_execution_history").paginate(
                executionArn=self._arn, includeExecutionData=False
            )
            for event in page["events"]
        ]
        lines: list[str] = []
        for event in events[self._seen :]:
            kind = event["type"]
            if kind.endswith("StateEntered"):
                lines.append(f"phase: {event['stateEnteredEventDetails']['name']}")
            elif kind == "MapRunStarted":
                self._open = event["mapRunStartedEventDetails"]["mapRunArn"]
                self.map_runs[map_run_label(self._open)] = self._open
            elif kind in MAP_RUN_ENDS and self._open:
                lines += self._counts(self._open, ended=True)
                self._open = None
        self._seen = len(events)
        if self._open:
            lines += self._counts(self._open, ended=False)
        return lines

    def _counts(self, arn: str, ended: bool) -> list[str]:
        items = self._sfn.describe_map_run(mapRunArn=arn)["itemCounts"]
        failed = items["failed"] + items["timedOut"] + items["aborted"]
        counts = (items["succeeded"] + failed, items["total"], failed)
        # A Map Run counts no item until it has read them all: 0 of 0 is not news yet.
        if counts == self._shown.get(arn) or (counts[1] == 0 and not ended):
            return []
        self._shown[arn] = counts
        done, total, _ = counts
        label = map_run_label(arn)
        verb = MAP_RUN_VERBS.get(label)
        line = (
            f"repositories {verb} {done} of {total}"
            if verb
            else f"Map Run {label}: {done} of {total} items"
        )
        return [line + (f" ({failed} failed)" if failed else "")]


def failure_in_words(error: str | None, cause: str | None) -> str:
    """`error: ...`, `cause: ...` and, when the cause says it, `what to do: ...` lines.

    A failed run's cause is in words already (FailureFunction: `Type: message What to
    do: ...`); the type, said on the error line, is not repeated. A cause as the Lambda
    runtime writes it (JSON with errorType, errorMessage and stackTrace: a run whose
    FailureFunction could not answer, or an older stack) is read the same way, without
    its stack trace: the function's log has it."""
    failure = read_failure(error, cause)
    message, _, what_to_do = failure.message.partition(f" {WHAT_TO_DO}")
    if failure.error != (error or failure.error):
        message = f"{failure.error}: {message}"  # the runtime names a more precise type
    message = message.removeprefix(f"{error}: ") if error else message
    lines = [f"error: {error or '(none)'}", f"cause: {message or '(none)'}"]
    if what_to_do:
        lines.append(f"what to do: {what_to_do}")
    return "\n".join(lines)
