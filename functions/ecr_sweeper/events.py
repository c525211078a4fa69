"""The payloads that travel through the state machine.

Every model here is small and bounded whatever the number of images or repositories:
the data itself lives in S3 (see run_store.py), except one repository's data when it
fits INLINE_BYTES.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecr_sweeper.core.messages import validation_problems
from ecr_sweeper.core.report import Count, RepositoryResult
from ecr_sweeper.errors import InvalidExecutionInput


class ExecutionInput(BaseModel):
    """What a user may pass when starting an execution. Anything else is refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # Left out: the stack's DryRun parameter decides. Written, it must be a boolean
    # (`null` is refused: it is not a clear "use the default").
    dry_run: bool | None = Field(
        default=None, description="Override the stack's DryRun parameter for this run."
    )


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def parse_execution_input(raw: Any) -> ExecutionInput:
    """Validate the execution input as JSON values; an execution started with no input
    is `{}`. `null`, as the input or as dry_run, is refused, not read as "the default"."""
    if not isinstance(raw, dict):
        raise InvalidExecutionInput(
            'execution input must be a JSON object such as {"dry_run": true} (or {} for '
            f"the stack's DryRun default), got {_json_type(raw)}"
        )
    if "dry_run" in raw and raw["dry_run"] is None:
        raise InvalidExecutionInput(
            "invalid execution input: dry_run: must be true or false, not null (leave "
            "dry_run out to use the stack's DryRun default)"
        )
    try:
        return ExecutionInput.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(validation_problems(error, top="input"))
        raise InvalidExecutionInput(
            f"invalid execution input: {problems} (allowed keys: dry_run)"
        ) from error


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise InvalidExecutionInput(
            "invalid execution input: it repeats the key "
            + ", ".join(f"'{key}'" for key in repeated)
            + "; write each key once"
        )
    return dict(pairs)


def parse_execution_input_text(text: str) -> ExecutionInput:
    """The execution input as the user wrote it (StartExecution's `input`).

    Step Functions parses the input before the state machine sees it, and a repeated
    key reaches it once, with one of its values: `{"dry_run": true, "dry_run": false}`
    must not become a deleting run. Read as text, a repeated key is refused."""
    try:
        raw = json.loads(text, object_pairs_hook=_refuse_repeated_keys)
    except json.JSONDecodeError as error:
        raise InvalidExecutionInput(f"execution input is not JSON: {error}") from error
    return parse_execution_input(raw)


class ScanEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    execution_id: str
    execution_name: str | None = None
    input: Any = None

    @property
    def name(self) -> str:
        # The execution ARN ends with its name; the context object's Name is the same.
        return self.execution_name or self.execution_id.rsplit(":", 1)[-1]


class RunContext(BaseModel):
    """Everything a later step needs to find this run's data. Output of the in-use scan."""

    model_config = ConfigDict(extra="forbid")

    execution_name: str
    bucket: str
    prefix: str
    repositories_key: str
    dry_run: bool
    now: datetime
    max_concurrency: int
    repositories: int
    in_use_images: int
    # The execution that holds the run lock (deleting runs only; see run_lock.py).
    execution_arn: str = ""
    # Per source of "in use": {"found": references kept, "seconds": time taken}, and
    # "status": "not available here" for a service botocore lists nowhere in that place.
    sources: dict[str, dict[str, float | str]] = Field(default_factory=dict)
    # The sources the config turns off, and where ("app_runner@ACCOUNT/REGION (config)").
    sources_off: list[str] = Field(default_factory=list)
    # SHA-256 of the scan's files (run_store.py: sealed files), checked by their readers.
    config_sha256: str = ""
    in_use_sha256: str = ""
    repositories_sha256: str = ""


class RepositoryEvent(BaseModel):
    """Input of the collector and evaluator: one item of the plan Map."""

    model_config = ConfigDict(extra="ignore")

    repository: str
    run: RunContext
    # The evaluator's: the SHA-256 of the images file, as Collect returned it, and the
    # file's text when it came inline (None: it is in S3).
    images_sha256: str = ""
    images_inline: str | None = None


class SealedFile(BaseModel):
    """A run file and its SHA-256, as the step that wrote it returned them."""

    model_config = ConfigDict(extra="forbid")

    key: str
    sha256: str


class DeleteEvent(BaseModel):
    """Input of the deleter: one item of the sweep Map (an approved plan)."""

    model_config = ConfigDict(extra="ignore")

    repository: str
    run: RunContext
    plan_sha256: str  # the plan's hash, from CheckCaps' approved list
    # The plan's text when it fits INLINE_BYTES (None: the plan file).
    plan: str | None = None
    # The item's place in the approved list and its proof up to the list's root, which
    # CheckCaps returned (core/approval.py).
    index: int
    proof: list[str]
    approved_root: str


class MapResults(BaseModel):
    """Where a Distributed Map's ResultWriter wrote its children's results (the Map
    state's `ResultWriterDetails`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    bucket: str = Field(alias="Bucket")
    key: str = Field(alias="Key")


class CapsEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    run: RunContext
    plan_results: MapResults


class FailureEvent(BaseModel):
    """What a *Failed Pass state recorded: the failed state, the Catch's error and cause,
    the repository (in a Map's child), the execution it failed in and the run's name."""

    model_config = ConfigDict(extra="ignore")

    state: str
    error: str | None = ""
    cause: str | None = ""
    repository: str = ""
    execution_id: str = ""
    run: str = ""


class DescribedFailure(BaseModel):
    subject: str
    message: str
    cause: str


class SummaryEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    run: RunContext
    # For the notification's links.
    execution_id: str = ""
    plan_map_run: str = ""
    sweep_map_run: str = ""
    # Each Map's results: why a repository's child failed.
    plan_results: MapResults | None = None
    sweep_results: MapResults | None = None


# The largest per-repository data that travels in the payload rather than in a run
# file: a repository's images (Collect to Evaluate), its plan (Evaluate, through the
# plan Map's results and the approved list, to Delete), its result (Delete, or Evaluate
# for a plan with nothing to sweep, through the Maps' results to the summary). Well
# within the 256 KiB state payload: a state's payload stays under 16 KiB.
INLINE_BYTES = 8 * 1024


class CollectOutput(BaseModel):
    repository: str
    images: int
    images_sha256: str
    inline: str | None = None  # the images file's text, when it fits INLINE_BYTES


class PlanOutcome(BaseModel):
    """What the evaluator returns through the state machine about the plan it wrote."""

    model_config = ConfigDict(extra="ignore")

    repository: str
    plan_sha256: str
    planned: int  # images the plan deletes (0 when held)
    held: bool = False
    plan: str | None = None  # the plan's text, when it came inline


class EvaluateOutput(PlanOutcome):
    total: Count
    expired: Count
    keep: Count
    # The plan's text, for the deleter, when the plan is swept and fits INLINE_BYTES.
    plan: str | None = None
    # A plan that deletes nothing (or is held) is not swept: its result, for the summary,
    # travels in the plan Map's results (bounded: rows per kind and reason counts only).
    result: RepositoryResult | None = None


class CapsOutput(BaseModel):
    planned: int  # deletions in the approved plans (held ones count 0)
    repositories: int  # targeted by the run
    unplanned: int  # targeted, but their planning did not finish: never swept
    held: int
    limit: int
    # The sweep Map's items: the approved plans that delete or archive something (the
    # others have nothing to sweep: no child is started for them).
    approved: SealedFile
    # The root over the approved list (core/approval.py): each deleter checks its item.
    approved_root: str
    swept: int = 0  # repositories in the approved list


class DeleteOutput(BaseModel):
    repository: str
    dry_run: bool
    deleted: int  # deleted (or would be, in a dry run)
    bytes_reclaimed: int
    already_gone: int
    archived: int = 0  # moved to the archive storage class (or would be)
    bytes_archived: int = 0
    # What the deleter did, for the summary (through the sweep Map's results), when it
    # fits INLINE_BYTES; a larger one is written to results/<repo>.json.
    result: RepositoryResult | None = None


class SummaryOutput(BaseModel):
    execution_name: str
    dry_run: bool
    repositories: int
    repositories_failed: int
    images_total: int
    images_deleted: int
    bytes_reclaimed: int
    report_key: str
    images_archived: int = 0
    bytes_archived: int = 0
    report_markdown_key: str
    bucket: str
    # The success notification, published by the state machine when `notify` is true.
    notify: bool = False
    subject: str = ""
    message: str = ""
