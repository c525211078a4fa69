"""The run report: combining every repository's result, and rendering it (report.md,
the summary line, the notification, a failure's cause). Pure: no AWS.

The data is in report_model.py, the table in report_table.py, the links in links.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ecr_sweeper.core.failure_words import DEFAULT_NEXT, NEXT_STEPS
from ecr_sweeper.core.links import arn_parts, s3_with_link, states_link
from ecr_sweeper.core.report_model import (
    Count,
    ImageAction,
    KindRow,
    Links,
    Report,
    RepositoryLine,
    RepositoryResult,
)
from ecr_sweeper.core.report_table import (
    ARCHIVE_TABLE_HEADERS,
    TABLE_HEADERS,
    held_by,
    plural,
    render_table,
    status_cell,
    table_headers,
)
from ecr_sweeper.core.sizes import format_size

__all__ = [
    "ARCHIVE_TABLE_HEADERS",
    "TABLE_HEADERS",
    "Count",
    "ImageAction",
    "KindRow",
    "Links",
    "Report",
    "RepositoryLine",
    "RepositoryResult",
    "build_report",
    "console_link",
    "first_names",
    "held_by_max_deletions",
    "link_lines",
    "plural",
    "render_failure",
    "render_markdown",
    "render_notification",
    "render_summary_line",
    "render_table",
    "table_headers",
]


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
    executions: Mapping[str, Mapping[str, str]] | None = None,
    traces: Mapping[str, list[str]] | None = None,
) -> Report:
    """Combine every repository's result; a repository with no result did not finish.

    `failures`: why a repository's child execution failed ("Error: Cause"); `progress`:
    the journal of a deleter that stopped before writing its result (what ECR confirmed
    it deleted or archived, and what it sent); `executions`: each repository's child
    executions, by Map ("plan", "sweep": their ARNs); `traces`: the stack trace of the
    function that failed a repository's child."""
    failures, progress, executions = failures or {}, progress or {}, executions or {}
    traces = traces or {}
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
                    plan_execution=executions.get(name, {}).get("plan", ""),
                    sweep_execution=executions.get(name, {}).get("sweep", ""),
                    trace=traces.get(name, []),
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
                held=result.held,
                plan_execution=executions.get(name, {}).get("plan", ""),
                sweep_execution=executions.get(name, {}).get("sweep", ""),
                trace=traces.get(name, []) if result.status == "failed" else [],
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


def held_by_max_deletions(report: Report, limit: int) -> Report:
    """A dry run whose plans delete more than safety.max_deletions in all: a deleting run
    would fail in CheckCaps and delete nothing. Say so where the operator reads it: every
    repository it would have deleted from is HELD (max_deletions)."""
    planned = report.images_deleted + report.images_archived
    if not report.dry_run or planned <= limit:
        return report
    why = (
        f"max_deletions: the plans delete {planned} images in all, more than "
        f"safety.max_deletions ({limit}): a deleting run would delete nothing"
    )
    lines = [
        line.model_copy(update={"status": "held", "held": why})
        if line.status == "ok" and (line.deleted or line.archived_now)
        else line
        for line in report.repositories
    ]
    return report.model_copy(update={"repositories": lines})


def first_names(names: list[str], limit: int, what: str = "") -> str:
    """The first `limit` names, then how many more: a list whose size does not grow with
    the number of repositories (a notification, a state's payload). The report lists
    them all."""
    shown = ", ".join(names[:limit])
    more = len(names) - limit
    return shown + (f", and {more} more{' ' + what if what else ''}" if more > 0 else "")


def _archive_verb(report: Report) -> str:
    return "would archive" if report.dry_run else "archived"


def _index_bytes(report: Report) -> int:
    """What the table's EXPIRED cells count for image indexes. An index's size is its
    largest child's, so the summary's bytes leave it out (counted once, with the child)."""
    return sum(
        row.expired.bytes + row.archive.bytes
        for line in report.repositories
        if line.status != "held"
        for row in line.rows
        if row.kind == "Image index"
    )


def _held(report: Report) -> list[RepositoryLine]:
    return [line for line in report.repositories if line.status == "held"]


def render_summary_line(report: Report, *, names: bool = True) -> str:
    """One line: what left ECR (or would), where, and the repositories held or failed
    (their first names, or only how many without `names`: the notification lists
    them below). A dry run says so once, at its start."""
    verb = "would delete" if report.dry_run else "deleted"
    archived = (
        f", and {_archive_verb(report)} {plural(report.images_archived, 'image')} "
        f"({format_size(report.bytes_archived)})"
        if report.images_archived
        else ""
    )
    indexes = (
        " (image indexes count 0 B here: their size is their children's)"
        if _index_bytes(report)
        else ""
    )
    held = _held(report)
    return (
        f"{'DRY RUN: ' if report.dry_run else ''}{verb} {plural(report.images_deleted, 'image')}"
        f" ({format_size(report.bytes_reclaimed)}){indexes}{archived} "
        f"in {plural(len(report.repositories), 'repository', 'repositories')}"
        + (
            f"; {plural(len(held), 'repository', 'repositories')} HELD"
            + (
                ": "
                + first_names([f"{h.repository} ({held_by(h.held)})" for h in held], FAILURE_ROWS)
                if names
                else ""
            )
            if held
            else ""
        )
        + (
            f"; {plural(len(report.failed), 'repository', 'repositories')} FAILED"
            + (": " + first_names(report.failed, FAILURE_ROWS) if names else "")
            if report.failed
            else ""
        )
    )


def repository_links(line: RepositoryLine) -> list[tuple[str, str]]:
    """(label, console link or ARN) of a repository's child executions: its steps."""
    found = []
    for label, arn in (("plan", line.plan_execution), ("sweep", line.sweep_execution)):
        if arn:
            found.append((label, states_link(arn) or arn))
    return found


def report_location(report: Report, bucket: str, key: str) -> str:
    """`s3://bucket/key`, with its S3 console page when the run's partition has one."""
    partition, region = arn_parts(report.execution_arn)
    return s3_with_link(partition, region, bucket, key)


def render_markdown(report: Report, results: dict[str, RepositoryResult]) -> str:
    mode = "dry run (nothing deleted)" if report.dry_run else "delete"
    execution = console_link(report.execution_arn) if report.execution_arn else ""
    parts = [
        f"# ecr-sweeper run {report.execution_name}",
        "",
        f"- mode: {mode}",
        *([f"- execution: {execution}"] if execution else []),
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
        f"- {render_summary_line(report).removeprefix('DRY RUN: ')}",
        *_changes_lines(report),
        "",
        render_table(report, tablefmt="github"),
        "",
    ]
    quiet: list[RepositoryLine] = []  # nothing to delete, skip or report: one line each
    for line in report.repositories:
        result = results.get(line.repository)
        steps = [
            f"- {label} steps: [{'console' if link.startswith('https://') else 'ARN'}]({link})"
            for label, link in repository_links(line)
        ]
        if result is None:
            parts += [f"## {line.repository}", "", f"FAILED: {line.error}", ""]
            parts += [*_what_to_do(line), *steps, "", *_trace(line)]
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
            quiet.append(line)
            continue
        parts += [
            f"## {line.repository}",
            "",
            f"Status: {status_cell(line)}. Rule: `{result.rule}`",
            "",
            *steps,
            *([""] if steps else []),
        ]
        if line.error:
            parts += [*_what_to_do(line), *_trace(line)]
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
    if quiet:
        parts += ["## Nothing to do", ""]
        parts += [
            f"- {line.repository}: "
            + (
                ", ".join(f"[{label} steps]({link})" for label, link in repository_links(line))
                or "ok"
            )
            for line in quiet
        ]
        parts.append("")
    return "\n".join(parts)


def _what_to_do(line: RepositoryLine) -> list[str]:
    error = line.error.split(":", 1)[0].strip()
    return [f"What to do: {NEXT_STEPS.get(error, DEFAULT_NEXT)}", ""]


def _trace(line: RepositoryLine) -> list[str]:
    """The failed function's stack trace, folded: the words come first."""
    if not line.trace:
        return []
    return [
        "<details><summary>Stack trace</summary>",
        "",
        "```",
        *[frame.rstrip("\n") for frame in line.trace],
        "```",
        "",
        "</details>",
        "",
    ]


def _changes_lines(report: Report) -> list[str]:
    if not report.previous_execution:
        return ["- since the run before: no earlier report in the run bucket"]
    if not report.changes:
        return [f"- since the run before ({report.previous_execution}): nothing notable changed"]
    return [f"- since the run before ({report.previous_execution}):"] + [
        f"  - {change}" for change in report.changes
    ]


def link_lines(links: Links) -> list[str]:
    """One labelled line per link that is set."""
    labelled = (
        ("Execution", links.execution),
        ("Map Run (plan)", links.plan_map_run),
        ("Map Run (delete)", links.sweep_map_run),
        ("Full report", links.report),
    )
    return [f"{label}: {link}" for label, link in labelled if link]


def console_link(arn: str) -> str:
    """The Step Functions console page of an execution or a Map Run, in the ARN's own
    partition and region (core/links.py); the ARN itself where no console host is known."""
    return states_link(arn) or arn


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


def _steps_lines(lines: list[RepositoryLine], limit: int) -> list[str]:
    """`- repo: HELD (max_delete_ratio), plan steps <link>`, for the first `limit`
    repositories (why a cap held each one is in the report)."""
    out = []
    for line in lines[:limit]:
        links = "; ".join(f"{label} steps {link}" for label, link in repository_links(line))
        out.append(f"- {line.repository}: {status_cell(line)}" + (f", {links}" if links else ""))
    if len(lines) > limit:
        out.append(f"- and {len(lines) - limit} more (see the full report)")
    return out


def render_notification(report: Report, links: Links) -> tuple[str, str]:
    """(subject, message) of the run's SNS notification, readable in an email or a chat.

    ecrm's table with STATUS and a TOTAL line, the repositories with most bytes
    reclaimed first; past the first NOTIFICATION_ROWS, the rest are summed in one row, and
    past as many held repositories, the rest are counted: the message (also the
    summary's output, a state's payload) has a size bound whatever the number of
    repositories. The full report, linked at the end, lists them all.
    """
    mode = "DRY RUN" if report.dry_run else "DELETED"
    verb = "would delete" if report.dry_run else "deleted"
    archived = (
        f", {_archive_verb(report)} {report.images_archived} ({format_size(report.bytes_archived)})"
        if report.images_archived
        else ""
    )
    held = _held(report)
    subject = (
        f"ecr-sweeper {mode}: {verb} {plural(report.images_deleted, 'image')} "
        f"({format_size(report.bytes_reclaimed)}){archived} "
        f"in {plural(len(report.repositories), 'repository', 'repositories')}"
        + (f", {len(held)} HELD" if held else "")
    )[:100]  # SNS subjects are at most 100 characters
    done = "images deleted and archived" if report.images_archived else "images deleted"
    lines = [
        f"ecr-sweeper run {report.execution_name}: "
        + ("dry run, nothing was deleted" if report.dry_run else done),
        "",
        render_summary_line(report, names=False).removeprefix("DRY RUN: "),
        f"Images in use found by the scan: {report.in_use_images}",
        *[line[0].upper() + line[1:] for line in sources_lines(report)],
        *[f"Since the run before ({report.previous_execution}): {c}" for c in report.changes],
        "",
        render_table(report, limit=NOTIFICATION_ROWS),
        "",
    ]
    if held:
        lines += [
            f"Held by a safety cap: {plural(len(held), 'repository', 'repositories')}:",
            *_steps_lines(held, NOTIFICATION_ROWS),
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
        f"{line.repository} ({line.error[:FAILURE_DETAIL] or 'failed'}"
        + "".join(f"; {label} steps: {link}" for label, link in repository_links(line))
        + ")"
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
        f"{len(report.failed)} of {plural(len(report.repositories), 'repository', 'repositories')}"
        f" failed: {reasons}"
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
