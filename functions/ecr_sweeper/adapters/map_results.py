"""The results a Distributed Map's ResultWriter wrote: what each child execution returned.

Step Functions writes them with the state machine's role (`map-results/`, which no
function may write) and names the manifest in the Map state's output, which travels in
the payload: so they are what the children really returned. The manifest lists the
result files by status; each file is a JSON array of child executions, with `Input`
and, for SUCCEEDED, `Output`, for FAILED, `Error` and `Cause` (JSON strings), and the
child's `ExecutionArn`: the page of its steps in the console.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.core.failure_words import read_failure
from ecr_sweeper.core.report import RepositoryResult
from ecr_sweeper.errors import RunDataError
from ecr_sweeper.events import MapResults

PREFIX = "map-results/"


@dataclass
class ChildResults:
    succeeded: list[dict[str, Any]] = field(default_factory=list)  # each child's Output
    # repository -> "Error: message" of each failed child
    failed: dict[str, str] = field(default_factory=dict)
    # repository -> its child execution's ARN (succeeded or failed): its steps
    executions: dict[str, str] = field(default_factory=dict)
    # repository -> the stack trace of the function that failed it, for the report
    traces: dict[str, list[str]] = field(default_factory=dict)


def _read_json(s3: Any, bucket: str, key: str) -> Any:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        raise classify(error, f"reading s3://{bucket}/{key}") from error
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise RunDataError(f"s3://{bucket}/{key} is not JSON: {error}") from error


def _note_execution(results: ChildResults, child: dict[str, Any]) -> str:
    """The child's repository (from its Input); its ExecutionArn recorded, when given."""
    repository = str(json.loads(child.get("Input") or "{}").get("repository", "?"))
    if child.get("ExecutionArn"):
        results.executions[repository] = str(child["ExecutionArn"])
    return repository


def read_child_results(s3: Any, where: MapResults, run_bucket: str) -> ChildResults:
    """Every child's output (SUCCEEDED) and error (FAILED) of one Map Run."""
    if where.bucket != run_bucket or not where.key.startswith(PREFIX):
        raise RunDataError(f"Map results at s3://{where.bucket}/{where.key}: not this run's")
    manifest = _read_json(s3, where.bucket, where.key)
    results = ChildResults()
    try:
        files = manifest["ResultFiles"]
        for entry in files.get("SUCCEEDED", []):
            for child in _read_json(s3, where.bucket, entry["Key"]):
                results.succeeded.append(json.loads(child["Output"]))
                _note_execution(results, child)
        for entry in files.get("FAILED", []):
            for child in _read_json(s3, where.bucket, entry["Key"]):
                repository = _note_execution(results, child)
                # The Lambda runtime's JSON in words; its stack trace apart.
                failure = read_failure(child.get("Error"), child.get("Cause"))
                results.failed[repository] = failure.short()
                if failure.trace:
                    results.traces[repository] = failure.trace
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as error:
        raise RunDataError(f"Map results at s3://{where.bucket}/{where.key}: {error}") from error
    return results


def inline_results(outputs: list[dict[str, Any]], phase: str) -> list[RepositoryResult]:
    """The repository results that travelled in the children's outputs: a plan child's
    output is the evaluator's (`result` when the plan is not swept), a sweep child's is
    its state, with the deleter's output in `result` (and its `result` when it fit)."""
    found = []
    for output in outputs:
        answer = output.get("result") if phase == "plan" else (output.get("result") or {})
        result = answer if phase == "plan" else answer.get("result")
        if result is None:
            continue
        try:
            found.append(RepositoryResult.model_validate(result))
        except ValidationError as error:
            raise RunDataError(f"a {phase} child's result is malformed: {error}") from error
    return found
