"""Per-repository results and the run report: pure data and rendering, no AWS."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from tabulate import tabulate

from ecr_sweeper.core.sizes import format_cell, format_size


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


def _first_failure(result: RepositoryResult) -> str:
    if result.error:
        return result.error
    if result.failures:
        first = result.failures[0]
        return (
            f"{len(result.failures)} images could not be removed, first: {first.get('digest')} "
            f"{first.get('code')} {first.get('reason', '')}"
        ).strip()
    return ""


def build_report(
    execution_name: str,
    dry_run: bool,
    now: datetime,
    repositories: list[str],
    results: dict[str, RepositoryResult],
    in_use_images: int,
    *,
    failures: Mapping[str, str] | None = None,
    progress: Mapping[str, Mapping[str, Any]] | None = None,
) -> Report:
    """Combine every repository's result; a repository with no result did not finish.

    `failures`: why a repository's child execution failed ("Error: Cause"); `progress`:
    the journal of a deleter that stopped before writing its result (what ECR confirmed
    it deleted or archived, and what it sent)."""
    failures, progress = failures or {}, progress or {}
    lines: list[RepositoryLine] = []
    failed: list[str] = []
    for name in repositories:
        result = results.get(name)
        if result is None:
            failed.append(name)
            journal = progress.get(name, {})
            gone, moved = set(journal.get("deleted", [])), set(journal.get("archived", []))
            sent = set(journal.get("sent", [])) | set(journal.get("sent_to_archive", []))
            lines.append(
                RepositoryLine(
                    repository=name,
                    status="failed",
                    deleted=0 if dry_run else len(gone),
                    archived_now=0 if dry_run else len(moved),
                    error=failures.get(name, "the repository did not finish"),
                    unconfirmed=len(sent - gone - moved),
                )
            )
            continue
        if result.status == "failed":  # "held" is a safety cap doing its job, not a failure
            failed.append(name)
        if dry_run:
            deleted = sum(1 for a in result.planned if not a.archive)
            archived_now = len(result.planned) - deleted
        else:
            deleted, archived_now = len(result.deleted), len(result.archived_now)
        lines.append(
            RepositoryLine(
                repository=name,
                status=result.status,
                rows=result.rows,
                deleted=deleted,
                bytes_reclaimed=result.bytes_reclaimed,
                archived_now=archived_now,
                bytes_archived=result.bytes_archived,
                archived=result.archived,
                error=(_first_failure(result) or failures.get(name, ""))
                if result.status == "failed"
                else "",
            )
        )
    # Most bytes reclaimed first, as an operator reads it.
    lines.sort(key=lambda line: (-line.bytes_reclaimed, line.repository))
    return Report(
        execution_name=execution_name,
        dry_run=dry_run,
        now=now,
        repositories=lines,
        failed=failed,
        images_total=sum(row.total.count for line in lines for row in line.rows),
        images_deleted=sum(line.deleted for line in lines),
        bytes_reclaimed=sum(line.bytes_reclaimed for line in lines),
        in_use_images=in_use_images,
        images_archived=sum(line.archived_now for line in lines),
        bytes_archived=sum(line.bytes_archived for line in lines),
    )


TABLE_HEADERS = ("REPOSITORY", "TYPE", "TOTAL", "EXPIRED", "KEEP")
# With a rule that archives: EXPIRED is what goes (deleted), ARCHIVE what is archived.
ARCHIVE_TABLE_HEADERS = ("REPOSITORY", "TYPE", "TOTAL", "EXPIRED", "ARCHIVE", "KEEP")


def _archives(report: Report) -> bool:
    return any(row.archive.count for line in report.repositories for row in line.rows)


def table_headers(report: Report) -> tuple[str, ...]:
    """ecrm's columns, and ARCHIVE when the plans archive anything."""
    return ARCHIVE_TABLE_HEADERS if _archives(report) else TABLE_HEADERS


def table_rows(report: Report, archive: bool | None = None) -> list[tuple[str, ...]]:
    """One row per repository and TYPE; with the ARCHIVE cell when `archive` (default:
    when the report archives anything)."""
    archive = _archives(report) if archive is None else archive
    rows = []
    for line in report.repositories:
        for row in line.rows:
            rows.append(
                (
                    line.repository,
                    row.kind,
                    format_cell(row.total.count, row.total.bytes),
                    format_cell(row.expired.count, row.expired.bytes, negative=True),
                    *([format_cell(row.archive.count, row.archive.bytes)] if archive else []),
                    format_cell(row.keep.count, row.keep.bytes),
                )
            )
    return rows


def render_table(report: Report, tablefmt: str = "presto") -> str:
    """ecrm's table: REPOSITORY | TYPE | TOTAL | EXPIRED | KEEP, cells `N (size)`; with
    an ARCHIVE column (between EXPIRED and KEEP) when the plans archive anything."""
    rows = table_rows(report)
    if not rows:
        return _no_rows(report)
    return tabulate(rows, headers=table_headers(report), tablefmt=tablefmt, disable_numparse=True)


def _no_rows(report: Report) -> str:
    if report.repositories:
        return "(no repository finished: see the failures)"
    return "(no repositories matched the config)"


def first_names(names: list[str], limit: int, what: str = "") -> str:
    """The first `limit` names, then how many more: a list whose size does not grow with
    the number of repositories (a notification, a state's payload). The report lists
    them all."""
    shown = ", ".join(names[:limit])
    more = len(names) - limit
    return shown + (f", and {more} more{' ' + what if what else ''}" if more > 0 else "")


def _archive_verb(report: Report) -> str:
    return "would archive" if report.dry_run else "archived"


def render_summary_line(report: Report) -> str:
    verb = "would delete" if report.dry_run else "deleted"
    archived = (
        f", and {_archive_verb(report)} {report.images_archived} images "
        f"({format_size(report.bytes_archived)})"
        if report.images_archived
        else ""
    )
    return (
        f"{'DRY RUN: ' if report.dry_run else ''}{verb} {report.images_deleted} images, "
        f"{format_size(report.bytes_reclaimed)}{archived}, "
        f"in {len(report.repositories)} repositories"
        + (
            f"; {len(report.failed)} repositories FAILED: "
            + first_names(report.failed, FAILURE_ROWS)
            if report.failed
            else ""
        )
    )


def render_markdown(report: Report, results: dict[str, RepositoryResult]) -> str:
    mode = "dry run (nothing deleted)" if report.dry_run else "delete"
    parts = [
        f"# ecr-sweeper run {report.execution_name}",
        "",
        f"- mode: {mode}",
        f"- time: {report.now.isoformat()}",
        f"- images in use found by the scan: {report.in_use_images}"
        + (
            " ("
            + ", ".join(
                f"{name}: {f['status']}"
                if "status" in f
                else f"{name}: {int(f.get('found', 0))} in {float(f.get('seconds', 0)):.1f} s"
                for name, f in sorted(report.sources.items())
            )
            + ")"
            if report.sources
            else ""
        ),
        *[f"- {line}" for line in sources_lines(report)],
        f"- {render_summary_line(report)}",
        "",
        render_table(report, tablefmt="github"),
        "",
    ]
    for line in report.repositories:
        result = results.get(line.repository)
        if result is None:
            parts += [f"## {line.repository}", "", f"FAILED: {line.error}", ""]
            if line.deleted or line.archived_now or line.unconfirmed:
                parts += [
                    f"Deleted before the failure: {line.deleted} images"
                    + (f", archived {line.archived_now}" if line.archived_now else "")
                    + " (confirmed by ECR)"
                    + (
                        f"; {line.unconfirmed} more were sent to ECR without an answer"
                        if line.unconfirmed
                        else ""
                    )
                    + ".",
                    "",
                ]
            continue
        # In a deleting run, list what ECR confirmed deleted or archived; failures are
        # listed below.
        if report.dry_run:
            removed = [a for a in result.planned if not a.archive]
            moved = [a for a in result.planned if a.archive]
        else:
            gone, archived_now = set(result.deleted), set(result.archived_now)
            removed = [a for a in result.planned if a.digest in gone]
            moved = [a for a in result.planned if a.digest in archived_now]
        if not (
            removed
            or moved
            or result.skipped
            or result.failures
            or result.archived.count
            or result.held
            or result.archived_now
            or line.error
        ):
            continue
        parts += [f"## {line.repository}", "", f"Rule: `{result.rule}`", ""]
        if line.error:
            parts += [
                f"FAILED: {line.error}. Deleted before the failure: {len(result.deleted)} "
                + "images"
                + (f", archived {len(result.archived_now)}" if result.archived_now else "")
                + f" (`results/{line.repository}.json`).",
                "",
            ]
        if result.kept_reasons:
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(result.kept_reasons.items()))
            parts += [f"Kept: {reasons} (every image's reason: `{result.plan_key}`)", ""]
        if result.archived.count:
            parts += [
                f"In the archive storage class when planned: {result.archived.count} images "
                f"({format_size(result.archived.bytes)})."
                " Archive storage bills a 90-day minimum: deleting an image archived for less"
                " than 90 days does not lower this bill.",
                "",
            ]
        for verb, actions in (
            ("Would delete" if report.dry_run else "Deleted", removed),
            ("Would archive" if report.dry_run else "Archived", moved),
        ):
            if not actions:
                continue
            parts += [f"{verb}:", ""]
            parts += [
                f"- `{a.digest}` {', '.join(a.tags) or '(untagged)'} {a.kind}, "
                f"{format_size(a.size_bytes)}: {a.detail or a.reason}"
                for a in actions
            ]
            parts.append("")
        if moved:
            parts += [
                "To restore an archived image: `aws ecr update-image-storage-class "
                f"--repository-name {line.repository} --image-id imageDigest=DIGEST "
                "--target-storage-class STANDARD` (or push it again).",
                "",
            ]
        if result.held:
            parts += [f"HELD, nothing deleted: {result.held}", ""]
        if result.skipped:
            parts += ["Skipped:", ""]
            parts += [f"- `{a.digest}`: {a.detail or a.reason}" for a in result.skipped]
            parts.append("")
        if result.failures:
            parts += ["Failures:", ""]
            parts += [
                f"- `{f.get('digest')}`: {f.get('code')} {f.get('reason', '')}"
                for f in result.failures
            ]
            parts.append("")
    return "\n".join(parts)


class Links(BaseModel):
    """Where an operator reads more: the console pages and the report in S3."""

    execution: str = ""
    plan_map_run: str = ""
    sweep_map_run: str = ""
    report: str = ""


def link_lines(links: Links) -> list[str]:
    """One labelled line per link that is set."""
    labelled = (
        ("Execution", links.execution),
        ("Map Run (plan)", links.plan_map_run),
        ("Map Run (delete)", links.sweep_map_run),
        ("Full report", links.report),
    )
    return [f"{label}: {link}" for label, link in labelled if link]


def console_link(region: str, arn: str) -> str:
    """The Step Functions console page of an execution or a Map Run."""
    if not arn:
        return ""
    page = "map-run" if ":mapRun:" in arn else "executions"
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/{page}/details/{arn}"
    )


def sources_lines(report: Report) -> list[str]:
    """What the scan did not read, and why: the sources the config turns off, and those
    whose service is not offered in a place (botocore's region data)."""
    lines = []
    if report.sources_off:
        lines.append(f"sources off: {', '.join(report.sources_off)}")
    absent = sorted(name for name, f in report.sources.items() if "status" in f)
    if absent:
        lines.append(f"not available here (botocore's region data): {', '.join(absent)}")
    return lines


NOTIFICATION_ROWS = 10  # repositories listed one by one; the rest are summed in one line


def render_notification(report: Report, links: Links) -> tuple[str, str]:
    """(subject, message) of the run's SNS notification, readable in an email or a chat.

    ecrm's table, the repositories with most bytes reclaimed first; past the first
    NOTIFICATION_ROWS, the rest are summed in one line, and past as many held
    repositories, the rest are counted: the message (also the summary's output, a
    state's payload) has a size bound whatever the number of repositories. The full
    report, linked at the end, lists them all.
    """
    mode = "DRY RUN" if report.dry_run else "DELETED"
    verb = "would delete" if report.dry_run else "deleted"
    archived = (
        f", {_archive_verb(report)} {report.images_archived} ({format_size(report.bytes_archived)})"
        if report.images_archived
        else ""
    )
    subject = (
        f"ecr-sweeper {mode}: {verb} {report.images_deleted} images "
        f"({format_size(report.bytes_reclaimed)}){archived} "
        f"in {len(report.repositories)} repositories"
    )[:100]  # SNS subjects are at most 100 characters
    shown = report.repositories[:NOTIFICATION_ROWS]
    rest = report.repositories[NOTIFICATION_ROWS:]
    # The same columns for the rows shown and for the sum of the rest.
    headers = table_headers(report)
    rows = table_rows(
        report.model_copy(update={"repositories": shown}), archive=headers != TABLE_HEADERS
    )
    table = (
        tabulate(rows, headers=headers, tablefmt="presto", disable_numparse=True)
        if rows
        else _no_rows(report)
    )
    if rest:
        # A sentence, not a table row: its large sums would widen every column, and the
        # message (a state's payload) would grow with the number of repositories.
        columns = [c.lower() for c in headers[2:]]
        sums = {
            column: Count(
                count=sum(getattr(r, column).count for line in rest for r in line.rows),
                bytes=sum(getattr(r, column).bytes for line in rest for r in line.rows),
            )
            for column in columns
        }
        table += f"\n... and {len(rest)} more repositories: " + ", ".join(
            f"{column.upper()} {format_cell(c.count, c.bytes, negative=column == 'expired')}"
            for column, c in sums.items()
        )
    done = "images deleted and archived" if report.images_archived else "images deleted"
    lines = [
        f"ecr-sweeper run {report.execution_name}: "
        + ("dry run, nothing was deleted" if report.dry_run else done),
        "",
        render_summary_line(report),
        f"Images in use found by the scan: {report.in_use_images}",
        *[line[0].upper() + line[1:] for line in sources_lines(report)],
        "",
        table,
        "",
    ]
    held = [line.repository for line in report.repositories if line.status == "held"]
    if held:
        lines += [
            f"Held by a safety cap (nothing deleted): {len(held)} repositories: "
            + first_names(held, NOTIFICATION_ROWS, "held repositories (see the full report)"),
            "",
        ]
    lines += link_lines(links)
    return subject, "\n".join(lines)


FAILURE_ROWS = 10  # repositories named one by one in a failure's cause
FAILURE_DETAIL = 300  # characters of each repository's error


def render_failure(report: Report) -> str:
    """Why a run failed, for the notification (the error's cause): which repositories
    failed and why, and what left ECR, per repository. Its size does not grow with the
    number of repositories: past FAILURE_ROWS, the rest are counted."""
    verb = "would delete" if report.dry_run else "deleted"
    by_line = {line.repository: line for line in report.repositories}
    failed = [by_line[name] for name in report.failed if name in by_line]
    reasons = "; ".join(
        f"{line.repository} ({line.error[:FAILURE_DETAIL] or 'failed'})"
        for line in failed[:FAILURE_ROWS]
    )
    more = len(failed) - FAILURE_ROWS
    gone = sorted(
        (
            line
            for line in report.repositories
            if line.deleted or line.archived_now or line.unconfirmed
        ),
        key=lambda line: (-line.deleted, -line.archived_now, line.repository),
    )
    per_repository = ", ".join(
        f"{line.repository}: {line.deleted}"
        + (f" ({line.archived_now} archived)" if line.archived_now else "")
        + (f" (+{line.unconfirmed} unconfirmed)" if line.unconfirmed else "")
        for line in gone[:FAILURE_ROWS]
    )
    if len(gone) > FAILURE_ROWS:
        per_repository += f", and {len(gone) - FAILURE_ROWS} more repositories"
    return (
        f"{len(report.failed)} of {len(report.repositories)} repositories failed: {reasons}"
        + (f"; and {more} more" if more > 0 else "")
        + f"; {verb} {report.images_deleted} images in all"
        + f" ({format_size(report.bytes_reclaimed)})"
        + (
            f", {_archive_verb(report)} {report.images_archived}"
            f" ({format_size(report.bytes_archived)})"
            if report.images_archived
            else ""
        )
        + (f": {per_repository}" if per_repository else "")
    )
