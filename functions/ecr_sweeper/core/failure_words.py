"""A failure in words: what failed, why, and what to do next. Pure: no AWS.

A Catch hands the state machine the error name and its cause. When a function failed,
the cause is what the Lambda runtime wrote: JSON with errorType, errorMessage, the
requestId and a stack trace, 1-3 kB with `\\n` escapes, unreadable in an e-mail. Here
it becomes a few lines: the error type, the message, the repository or source, what to
do next, and where the stack trace is (the function's log, found by its request id).
The trace itself stays in the log and in the report, never in the notification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

SUBJECT_LIMIT = 100  # SNS subjects are at most 100 characters
MESSAGE_LIMIT = 4000  # of the error's message in a notification: the report has it all

# Error name -> what the operator does next. The names are the Step Functions error
# names: our exception classes (errors.py), and those Step Functions and Lambda raise.
NEXT_STEPS = {
    "ConfigError": "fix the config (`make validate` or `ecr-sweeper validate` shows "
    "every problem) and deploy again. Nothing was read or deleted.",
    "InvalidExecutionInput": "start the run with no input, `{}`, or "
    '`{"dry_run": true}` / `{"dry_run": false}` only. Nothing was deleted.',
    "SourceReadError": "the scan could not read a source of images in use, so the run "
    "deleted nothing. Give the scan's role the permission named above (docs/security.md), "
    "or turn that source off in the config (`sources`).",
    "NothingInUse": "the sources found no image in use, which looks like a blind scan. "
    "Check that the config's clusters, task_definitions and lambda_functions name what "
    "runs; if nothing runs, set `safety: {allow_nothing_in_use: true}`. Nothing was deleted.",
    "DeletionCapExceeded": "look at the plans (`ecr-sweeper plan`, or the report of a dry "
    "run); if they are right, raise safety.max_deletions. Nothing was deleted.",
    "RunInProgress": "another deleting run is going on: let it end, then start this one "
    "again. Nothing was deleted.",
    "DeletingRunsForbidden": "this stack never deletes (AllowDeletingRuns=false): run "
    'with `{"dry_run": true}`, or deploy with AllowDeletingRuns=true. Nothing was deleted.',
    "RunDataError": "run data in the run bucket is missing or malformed: start a new "
    "run; if it happens again, open an issue with this message.",
    "RunDataMismatch": "run data in the run bucket was changed after its step wrote it: "
    "nothing in it was used. Find who wrote it (CloudTrail S3 data events), then start a "
    "new run.",
    "DeleteFailed": "ECR refused some deletions (the report lists each image and ECR's "
    "reason). The other repositories went on; run again once the cause is fixed.",
    "AwsRequestError": "AWS refused a request (see the message: often access denied or a "
    "resource that does not exist). Fix the permission or the resource, then run again.",
    "TransientAwsError": "AWS kept throttling or failing after every retry: run again "
    "later, or lower MapMaxConcurrency.",
    "RepositoriesFailed": "open each failed repository's steps (the links in the report) "
    "to see which step failed and why; the other repositories were swept.",
    "States.Timeout": "a step took longer than its timeout: look at its log, then run "
    "again (a Distributed Map's children can be redriven, docs/runbook.md).",
    "States.ExceedToleratedFailureThreshold": "too many repositories failed: open the Map "
    "Run in the console (link below) to see each one's error.",
    "Sandbox.Timedout": "the function ran out of time (900 s): look at its log; a very "
    "large repository may need a run on its own.",
}
WHAT_TO_DO = "What to do: "  # how the readable cause joins the message and the next step
DEFAULT_NEXT = "read the failed step's log (link below) for the stack trace, then run again."


@dataclass(frozen=True)
class Failure:
    """A failure as an operator reads it."""

    error: str  # the error type (the Step Functions error name)
    message: str
    request_id: str = ""  # the Lambda invocation's, to find its log lines
    trace: list[str] = field(default_factory=list)  # the stack trace, for the report only

    @property
    def next_step(self) -> str:
        return NEXT_STEPS.get(self.error, DEFAULT_NEXT)

    def short(self) -> str:
        """`Type: message`: one line, for a table cell or a Fail state's cause."""
        return f"{self.error}: {self.message}" if self.message else self.error


def read_failure(error: str | None, cause: str | None) -> Failure:
    """The error and message of a Catch's (Error, Cause). A function's cause is the Lambda
    runtime's JSON; any other cause (Step Functions' own errors) is already text."""
    error, cause = error or "", cause or ""
    try:
        lambda_error = json.loads(cause)
    except ValueError:
        lambda_error = None
    if not isinstance(lambda_error, dict) or "errorMessage" not in lambda_error:
        return Failure(error=error or "Error", message=cause)
    trace = lambda_error.get("stackTrace") or []
    return Failure(
        # The error name the state machine saw, unless the runtime names a more precise
        # one (Step Functions says Lambda.Unknown or States.TaskFailed for some).
        error=str(lambda_error.get("errorType") or error or "Error"),
        message=str(lambda_error["errorMessage"]).strip(),
        request_id=str(lambda_error.get("requestId") or ""),
        trace=[str(line) for line in trace] if isinstance(trace, list) else [str(trace)],
    )


@dataclass(frozen=True)
class Described:
    subject: str
    message: str
    cause: str  # for the Fail state: the execution's cause, as `describe-execution` shows it


def describe(
    failure: Failure,
    *,
    state: str,
    run: str,
    repository: str = "",
    links: dict[str, str] | None = None,
) -> Described:
    """The notification (subject, message) and the readable cause of a failure."""
    where = f"repository {repository} " if repository else ""
    subject = f"ecr-sweeper: {where or 'run '}FAILED in {state}: {failure.error}"
    message = failure.message
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT] + " ... (the rest is in the report and the log)"
    lines = [
        f"ecr-sweeper run {run}: {where}FAILED in state {state}.",
        "",
        f"Error: {failure.error}",
        f"What happened: {message or '(no message)'}",
    ]
    if repository:
        lines.append(f"Repository: {repository}")
    lines.append(f"What to do: {failure.next_step}")
    if repository:
        lines += ["", "The other repositories go on; the run will end FAILED."]
    labelled = [(label, link) for label, link in (links or {}).items() if link]
    if labelled:
        lines.append("")
        lines += [f"{label}: {link}" for label, link in labelled]
    return Described(
        subject=subject[:SUBJECT_LIMIT],
        message="\n".join(lines),
        cause=f"{failure.short()} {WHAT_TO_DO}{failure.next_step}",
    )
