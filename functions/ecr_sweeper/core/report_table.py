"""ecrm's table, with a STATUS column and a TOTAL line. Pure: no AWS.

ecrm prints REPOSITORY | TYPE | TOTAL | EXPIRED | KEEP. We keep its columns in its order
(ARCHIVE between EXPIRED and KEEP when a rule archives) and add STATUS last: `ok`,
`HELD (max_delete_ratio)` for a repository a safety cap left untouched (its EXPIRED cell
is what the plan would have deleted: nothing was), `FAILED`. A repository that failed
before its plan has no counts: it still has a row, with `-` cells. The TOTAL line is the
sum of the rows above it, whatever their status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tabulate import SEPARATING_LINE, tabulate

from ecr_sweeper.core.report_model import Count, Report, RepositoryLine
from ecr_sweeper.core.sizes import format_cell

TABLE_HEADERS = ("REPOSITORY", "TYPE", "TOTAL", "EXPIRED", "KEEP", "STATUS")
# With a rule that archives: EXPIRED is what goes (deleted), ARCHIVE what is archived.
ARCHIVE_TABLE_HEADERS = ("REPOSITORY", "TYPE", "TOTAL", "EXPIRED", "ARCHIVE", "KEEP", "STATUS")
COUNT_COLUMNS = ("total", "expired", "archive", "keep")


def plural(count: int, singular: str, many: str = "") -> str:
    """`1 repository`, `2 repositories`, `0 images`."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def held_by(held: str) -> str:
    """The cap's name, from the held reason (`max_delete_ratio: the plan deletes ...`)."""
    return held.split(":", 1)[0].strip() or "a safety cap"


def status_cell(line: RepositoryLine) -> str:
    if line.status == "failed":
        return "FAILED"
    if line.status == "held":
        return f"HELD ({held_by(line.held)})"
    return "ok"


def _archives(repositories: Sequence[RepositoryLine]) -> bool:
    return any(row.archive.count for line in repositories for row in line.rows)


def table_headers(report: Report) -> tuple[str, ...]:
    """ecrm's columns, ARCHIVE when the plans archive anything, and STATUS."""
    return ARCHIVE_TABLE_HEADERS if _archives(report.repositories) else TABLE_HEADERS


def _columns(archive: bool) -> tuple[str, ...]:
    return COUNT_COLUMNS if archive else ("total", "expired", "keep")


def column_sums(lines: Sequence[RepositoryLine]) -> dict[str, Count]:
    """Each count column summed over `lines`: what a TOTAL line shows."""
    return {
        column: Count(
            count=sum(getattr(row, column).count for line in lines for row in line.rows),
            bytes=sum(getattr(row, column).bytes for line in lines for row in line.rows),
        )
        for column in COUNT_COLUMNS
    }


def _cells(counts: dict[str, Count], archive: bool) -> list[str]:
    return [
        format_cell(counts[c].count, counts[c].bytes, negative=c == "expired")
        for c in _columns(archive)
    ]


def status_counts(lines: Sequence[RepositoryLine]) -> str:
    """`2 ok, 1 HELD, 1 FAILED`: the STATUS cell of a TOTAL line."""
    counted = Counter(line.status for line in lines)
    return ", ".join(
        f"{counted[status]} {word}"
        for status, word in (("ok", "ok"), ("held", "HELD"), ("failed", "FAILED"))
        if counted[status]
    )


def table_rows(
    lines: Sequence[RepositoryLine], archive: bool, *, rest: Sequence[RepositoryLine] = ()
) -> list[tuple[str, ...] | str]:
    """One row per repository and TYPE (`-` cells for a repository with no plan), then,
    for `rest`, one row of their sums, then a separator and the TOTAL line."""
    rows: list[tuple[str, ...] | str] = []
    blank = ["-"] * len(_columns(archive))
    for line in lines:
        if not line.rows:
            rows.append((line.repository, "-", *blank, status_cell(line)))
        for row in line.rows:
            counts = {c: getattr(row, c) for c in COUNT_COLUMNS}
            rows.append((line.repository, row.kind, *_cells(counts, archive), status_cell(line)))
    if rest:
        rows.append(
            (
                f"... {plural(len(rest), 'more repository', 'more repositories')}",
                "",
                *_cells(column_sums(rest), archive),
                status_counts(rest),
            )
        )
    every = [*lines, *rest]
    rows.append(SEPARATING_LINE)
    rows.append(("TOTAL", "", *_cells(column_sums(every), archive), status_counts(every)))
    return rows


def render_table(report: Report, tablefmt: str = "presto", *, limit: int | None = None) -> str:
    """The table of `report`; past `limit` repositories, the rest summed in one row (a
    notification's size must not grow with the number of repositories)."""
    if not report.repositories:
        return "(no repositories matched the config)"
    archive = _archives(report.repositories)
    shown = report.repositories if limit is None else report.repositories[:limit]
    rest = [] if limit is None else report.repositories[limit:]
    rows = table_rows(shown, archive, rest=rest)
    if tablefmt == "github":  # markdown has no separator row: it would print dashes
        rows = [row for row in rows if row is not SEPARATING_LINE]
    headers = ARCHIVE_TABLE_HEADERS if archive else TABLE_HEADERS
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
