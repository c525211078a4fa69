"""The report's data: per-repository results and the run report. Pure: no AWS."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Count(BaseModel):
    count: int = 0
    bytes: int = 0


class KindRow(BaseModel):
    """One row of ecrm's table: a repository and an image TYPE. TOTAL is EXPIRED (to
    delete) plus ARCHIVE (to move to the archive, for a rule with `action: archive`)
    plus KEEP."""

    kind: str
    total: Count
    expired: Count
    keep: Count
    archive: Count = Field(default_factory=Count)


class ImageAction(BaseModel):
    """An image the run deleted (or would delete, in a dry run), or skipped, and why."""

    digest: str
    tags: list[str] = Field(default_factory=list)
    kind: str
    size_bytes: int = 0
    pushed_at: datetime | None = None
    reason: str
    detail: str = ""
    archive: bool = False  # moved to the archive storage class, not deleted


class RepositoryResult(BaseModel):
    """What the deleter did for one repository (runs/<name>/results/<repo>.json)."""

    repository: str
    rule: str
    dry_run: bool
    status: str  # "ok", "held" (a safety cap left it untouched) or "failed"
    held: str = ""
    action: str = "delete"  # or "archive": what the rule does with what it lets go
    archived_now: list[str] = Field(default_factory=list)  # moved to the archive by this run
    rows: list[KindRow]
    planned: list[ImageAction] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    already_gone: list[str] = Field(default_factory=list)
    skipped: list[ImageAction] = Field(default_factory=list)
    failures: list[dict[str, str]] = Field(default_factory=list)
    # Why the deleter stopped part-way ("AwsRequestError: ..."), or "".
    error: str = ""
    bytes_reclaimed: int = 0  # deleted images only (indexes not counted twice)
    bytes_archived: int = 0  # moved to the archive storage class: still billed, for less
    # Why the rest were kept: reason code -> number of images (details in the plan file).
    kept_reasons: dict[str, int] = Field(default_factory=dict)
    # ARCHIVED images of the repository (also counted in `rows`), reported on their own.
    archived: Count = Field(default_factory=Count)
    plan_key: str = ""


class RepositoryLine(BaseModel):
    repository: str
    status: str
    rows: list[KindRow] = Field(default_factory=list)
    deleted: int = 0  # what left ECR, or would in a dry run
    bytes_reclaimed: int = 0
    archived_now: int = 0  # moved to the archive by this run, or would be in a dry run
    bytes_archived: int = 0
    archived: Count = Field(default_factory=Count)  # in the archive storage class (the plan)
    error: str = ""  # why the repository failed, or ""
    # Sent to ECR by a deleter that stopped before writing its result, not confirmed.
    unconfirmed: int = 0
    held: str = ""  # why a safety cap held the repository ("max_delete_ratio: ..."), or ""
    # The repository's child executions (ARNs), from each Map's ResultWriter: its steps.
    plan_execution: str = ""
    sweep_execution: str = ""
    # The stack trace of the function that failed the repository (the log has it too).
    trace: list[str] = Field(default_factory=list)


class Report(BaseModel):
    execution_name: str
    dry_run: bool
    now: datetime
    repositories: list[RepositoryLine]
    failed: list[str]
    images_total: int
    images_deleted: int
    bytes_reclaimed: int
    in_use_images: int
    images_archived: int = 0
    bytes_archived: int = 0
    # Per source of "in use": what it found and how long it took (from the scan), or
    # "status": "not available here" where botocore lists no such service.
    sources: dict[str, dict[str, float | str]] = Field(default_factory=dict)
    # The sources the config turns off, and where (every report lists them).
    sources_off: list[str] = Field(default_factory=list)
    # What changed since the run before (core/report_changes.py), and which run that was.
    previous_execution: str = ""
    changes: list[str] = Field(default_factory=list)
    # Where the run is: its execution's ARN (the console links' partition and region).
    execution_arn: str = ""


class Links(BaseModel):
    """Where an operator reads more: the console pages and the report in S3."""

    execution: str = ""
    plan_map_run: str = ""
    sweep_map_run: str = ""
    report: str = ""
