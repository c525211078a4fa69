"""One sweep at a time: the run lock.

Two executions that overlap (a schedule retry and a manual run) must not both
delete. The in-use scan takes a lock object in the run bucket with an S3
conditional write (If-None-Match: *), recording its execution. A lock whose holder
is no longer RUNNING (it ended in any way, even without releasing) is taken over
with a second conditional write (If-Match on the ETag seen), so a crashed run
never blocks the next one. The deleter checks that its execution still holds the
lock before each repository; the summary releases it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.errors import RunInProgress

LOCK_KEY = "locks/sweep.json"


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
