"""One sweep at a time: the run lock.

Two executions that overlap (a schedule retry and a manual run) must not both
delete. The in-use scan takes a lock object in the run bucket with an S3
conditional write (If-None-Match: *), recording its execution. A lock whose holder
is no longer RUNNING (it ended in any way, even without releasing) is taken over
with a second conditional write (If-Match on the ETag seen), so a crashed run
never blocks the next one. The deleter checks that its execution still holds the
lock before each repository; the summary releases it.

Another ecr-sweeper stack of the same account and region (dev beside prod) deletes
from the same registry but has a bucket of its own, where this lock is not. So a
deleting run also looks for the deleting runs of the other stacks, in Step Functions
(`refuse_if_another_stack_deletes`): the state machine of every stack is named
`<stack>-sweep` and tagged with its stack, its DryRun default and whether it allows
deleting runs. Of two deleting runs that overlap, the one that started first goes
on and the other fails with RunInProgress, whichever looks first: a run is RUNNING
from the moment it starts, so the later one always finds the earlier one (and the
earlier one ignores the later one, which will stop). No resource is shared and none
is written: there is no lock to take over and nothing to clean up. The scan looks,
and CheckCaps looks again just before the sweep: ListExecutions is eventually
consistent, and by then the other run has been RUNNING for the whole planning
phase. docs/design.md says why this design and what it does not cover.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.errors import InvalidExecutionInput, RunInProgress
from ecr_sweeper.events import parse_execution_input

LOCK_KEY = "locks/sweep.json"

# The tags every stack puts on its state machine (template.yaml, StateMachine.Tags).
STACK_TAG = "ecr-sweeper:stack"
DRY_RUN_TAG = "ecr-sweeper:dry-run-default"
DELETING_RUNS_TAG = "ecr-sweeper:deleting-runs"
STATE_MACHINE_SUFFIX = "-sweep"  # the state machine is named <stack>-sweep


def _execution_status(sfn: Any, execution_arn: str) -> str:
    try:
        return str(sfn.describe_execution(executionArn=execution_arn)["status"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            return "GONE"
        raise classify(error, f"states:DescribeExecution {execution_arn}") from error


def _read(s3: Any, bucket: str) -> tuple[dict[str, Any], str] | None:
    try:
        response = s3.get_object(Bucket=bucket, Key=LOCK_KEY)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise classify(error, f"reading s3://{bucket}/{LOCK_KEY}") from error
    try:
        holder = json.loads(response["Body"].read())
    except json.JSONDecodeError:
        holder = {}
    return holder, response["ETag"]


def _write(s3: Any, bucket: str, body: dict[str, Any], **condition: str) -> bool:
    try:
        s3.put_object(Bucket=bucket, Key=LOCK_KEY, Body=json.dumps(body).encode(), **condition)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {
            "PreconditionFailed",
            "ConditionalRequestConflict",
        }:
            return False
        raise classify(error, f"writing s3://{bucket}/{LOCK_KEY}") from error
    return True


def acquire(s3: Any, sfn: Any, bucket: str, execution_arn: str, now: datetime) -> None:
    """Take the lock for `execution_arn`, or raise RunInProgress."""
    body = {"execution_arn": execution_arn, "acquired_at": now.isoformat()}
    if _write(s3, bucket, body, IfNoneMatch="*"):
        return
    current = _read(s3, bucket)
    if current is None:  # released in between: try once more from scratch
        if _write(s3, bucket, body, IfNoneMatch="*"):
            return
        raise RunInProgress("another execution took the run lock at the same moment")
    holder, etag = current
    holder_arn = str(holder.get("execution_arn", ""))
    if holder_arn and holder_arn != execution_arn:
        status = _execution_status(sfn, holder_arn)
        if status == "RUNNING":
            raise RunInProgress(
                f"execution {holder_arn} is still running and holds the run lock "
                f"(since {holder.get('acquired_at')}); this run deletes nothing"
            )
    if not _write(s3, bucket, body, IfMatch=etag):
        raise RunInProgress("another execution took over the run lock at the same moment")


def check_held(s3: Any, bucket: str, execution_arn: str) -> None:
    """Raise RunInProgress unless `execution_arn` holds the lock (checked before deleting)."""
    current = _read(s3, bucket)
    holder = "" if current is None else str(current[0].get("execution_arn", ""))
    if holder != execution_arn:
        raise RunInProgress(
            f"this execution no longer holds the run lock (holder: {holder or 'nobody'}); "
            "nothing deleted"
        )


def release(s3: Any, bucket: str, execution_arn: str) -> None:
    """Release the lock if this execution holds it."""
    current = _read(s3, bucket)
    if current is None or current[0].get("execution_arn") != execution_arn:
        return
    try:
        s3.delete_object(Bucket=bucket, Key=LOCK_KEY, IfMatch=current[1])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "PreconditionFailed":
            raise classify(error, f"deleting s3://{bucket}/{LOCK_KEY}") from error


@dataclass(frozen=True)
class DeletingRun:
    """A RUNNING execution of another ecr-sweeper stack that deletes, or may."""

    stack: str
    execution_arn: str
    started: datetime


def _state_machine_of(execution_arn: str) -> str:
    """arn:...:execution:NAME:ID -> arn:...:stateMachine:NAME"""
    head, name, _ = execution_arn.rsplit(":", 2)
    return f"{head.removesuffix(':execution')}:stateMachine:{name}"


def _pages(sfn: Any, operation: str, key: str, **arguments: Any) -> Iterator[dict[str, Any]]:
    try:
        for page in sfn.get_paginator(operation).paginate(**arguments):
            yield from page.get(key, [])
    except ClientError as error:
        raise classify(error, f"states:{operation} {arguments or ''}".rstrip()) from error


def _gone(error: ClientError) -> bool:
    """A state machine or execution that went away between two calls."""
    return error.response.get("Error", {}).get("Code") in {
        "StateMachineDoesNotExist",
        "ExecutionDoesNotExist",
        "ResourceNotFound",
    }


def _deletes(execution_input: str | None, dry_run_default: str | None) -> bool:
    """Whether a run of another stack deletes: its input's dry_run, else its stack's
    DryRun default. When unsure (an input this version cannot read, a stack whose tag
    says nothing), it does."""
    try:
        run_input = parse_execution_input(json.loads(execution_input or "{}"))
    except (ValueError, InvalidExecutionInput):
        return True
    if run_input.dry_run is not None:
        return not run_input.dry_run
    return dry_run_default != "true"


def deleting_runs_of_other_stacks(sfn: Any, execution_arn: str) -> list[DeletingRun]:
    """The RUNNING executions of the other ecr-sweeper stacks of this account and region
    that delete (or may): their state machines are named <stack>-sweep and carry
    STACK_TAG; a stack whose DELETING_RUNS_TAG is "false" refuses every deleting run."""
    own = _state_machine_of(execution_arn)
    runs: list[DeletingRun] = []
    for machine in _pages(sfn, "list_state_machines", "stateMachines"):
        arn = str(machine["stateMachineArn"])
        if arn == own or not str(machine["name"]).endswith(STATE_MACHINE_SUFFIX):
            continue
        try:
            tags = {
                t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=arn)["tags"]
            }
        except ClientError as error:
            if _gone(error):
                continue
            raise classify(error, f"states:ListTagsForResource {arn}") from error
        if STACK_TAG not in tags or tags.get(DELETING_RUNS_TAG) == "false":
            continue
        running = _pages(
            sfn, "list_executions", "executions", stateMachineArn=arn, statusFilter="RUNNING"
        )
        for execution in running:
            try:
                described = sfn.describe_execution(executionArn=execution["executionArn"])
            except ClientError as error:
                if _gone(error):
                    continue
                raise classify(
                    error, f"states:DescribeExecution {execution['executionArn']}"
                ) from error
            if described["status"] == "RUNNING" and _deletes(
                described.get("input"), tags.get(DRY_RUN_TAG)
            ):
                runs.append(
                    DeletingRun(tags[STACK_TAG], described["executionArn"], described["startDate"])
                )
    return runs


def refuse_if_another_stack_deletes(sfn: Any, execution_arn: str) -> None:
    """Raise RunInProgress if a deleting run of another ecr-sweeper stack of this account
    and region started before this one (at the same instant: the smaller ARN first)."""
    try:
        started = sfn.describe_execution(executionArn=execution_arn)["startDate"]
    except ClientError as error:
        raise classify(error, f"states:DescribeExecution {execution_arn}") from error
    earlier = sorted(
        (run.started, run.execution_arn, run.stack)
        for run in deleting_runs_of_other_stacks(sfn, execution_arn)
        if (run.started, run.execution_arn) < (started, execution_arn)
    )
    if earlier:
        first, arn, stack = earlier[0]
        raise RunInProgress(
            f"stack {stack} is deleting in this account and region: its execution {arn}, "
            f"started {first.isoformat()} (before this one), is still running; this run "
            "deletes nothing"
            + (f" ({len(earlier) - 1} more such runs)" if len(earlier) > 1 else "")
        )
