"""The table: STATUS for every repository, rows for failed ones, a TOTAL line that adds up."""

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from ecr_sweeper.core.report import (
    Count,
    KindRow,
    Links,
    Report,
    RepositoryLine,
    render_notification,
    render_summary_line,
)
from ecr_sweeper.core.report_table import render_table

NOW = datetime(2026, 11, 27)


def _row(kind: str, total: int, expired: int, size: int = 1_000_000) -> KindRow:
    return KindRow(
        kind=kind,
        total=Count(count=total, bytes=total * size),
        expired=Count(count=expired, bytes=expired * size),
        keep=Count(count=total - expired, bytes=(total - expired) * size),
    )


def _report(lines: list[RepositoryLine], dry_run: bool = True) -> Report:
    return Report(
        execution_name="run-1",
        dry_run=dry_run,
        now=NOW,
        repositories=lines,
        failed=[line.repository for line in lines if line.status == "failed"],
        images_total=sum(r.total.count for line in lines for r in line.rows),
        images_deleted=sum(line.deleted for line in lines),
        bytes_reclaimed=sum(line.bytes_reclaimed for line in lines),
        in_use_images=1,
    )


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("|")]


HELD = RepositoryLine(
    repository="old",
    status="held",
    held="max_delete_ratio: the plan deletes 5 of the 5 images (100% > 95%); nothing deleted",
    rows=[_row("Image", 5, 5)],
)
FAILED = RepositoryLine(repository="broken", status="failed", error="AwsRequestError: denied")
OK = RepositoryLine(repository="app", status="ok", rows=[_row("Image", 10, 2)], deleted=2)


def test_held_and_failed_repositories_are_marked_and_failed_ones_have_a_row() -> None:
    lines = render_table(_report([OK, HELD, FAILED])).splitlines()
    assert _cells(lines[0]) == ["REPOSITORY", "TYPE", "TOTAL", "EXPIRED", "KEEP", "STATUS"]
    rows = {_cells(line)[0]: _cells(line) for line in lines[2:] if not line.startswith("-")}
    assert rows["old"][-1] == "HELD (max_delete_ratio)"
    assert rows["broken"] == ["broken", "-", "-", "-", "-", "FAILED"]
    assert rows["app"][-1] == "ok"
    assert rows["TOTAL"] == [
        "TOTAL",
        "",
        "15 (15 MB)",
        "-7 (7.0 MB)",
        "8 (8.0 MB)",
        "1 ok, 1 HELD, 1 FAILED",
    ]


def test_never_failed_for_a_success_and_plurals_agree() -> None:
    line = render_summary_line(_report([OK], dry_run=False))
    assert line == "deleted 2 images (0 B) in 1 repository"
    assert "FAILED" not in render_table(_report([OK, HELD]))
    subject, message = render_notification(_report([OK, HELD]), Links())
    assert "FAILED" not in subject + message
    assert subject.endswith("in 2 repositories, 1 HELD")


def test_the_summary_line_says_index_bytes_are_left_out() -> None:
    index = RepositoryLine(repository="multi", status="ok", rows=[_row("Image index", 2, 1)])
    assert "image indexes count 0 B here" in render_summary_line(_report([index]))
    assert "image indexes" not in render_summary_line(_report([OK]))


counts = st.tuples(st.integers(0, 10_000), st.integers(0, 10_000))


@given(st.lists(counts, min_size=1, max_size=30), st.integers(1, 12))
def test_the_total_line_is_the_sum_of_the_rows_above_it(pairs, limit) -> None:
    lines = [
        RepositoryLine(repository=f"r{i}", status="ok", rows=[_row("Image", a + b, b, size=1)])
        for i, (a, b) in enumerate(pairs)
    ]
    table = render_table(_report(lines), limit=limit).splitlines()
    body = [_cells(line) for line in table[2:] if not line.startswith("-")]
    *rows, total = body
    assert total[0] == "TOTAL"
    for column in (2, 3, 4):
        assert int(total[column].split(" ")[0]) == sum(int(r[column].split(" ")[0]) for r in rows)
    assert len(rows) == min(len(lines), limit) + (1 if len(lines) > limit else 0)


def test_a_dry_run_over_max_deletions_shows_what_a_deleting_run_would_hold() -> None:
    from ecr_sweeper.core.report import held_by_max_deletions

    quiet = RepositoryLine(repository="quiet", status="ok", rows=[_row("Image", 3, 0)])
    report = _report([OK, quiet])
    assert held_by_max_deletions(report, limit=2) == report  # 2 deletions: within the cap
    held = held_by_max_deletions(report, limit=1)
    status = {line.repository: line.status for line in held.repositories}
    assert status == {"app": "held", "quiet": "ok"}  # quiet would delete nothing anyway
    assert "HELD (max_deletions)" in render_table(held)
    assert "1 repository HELD: app (max_deletions)" in render_summary_line(held)
    deleting = _report([OK], dry_run=False)  # CheckCaps fails such a run: no report
    assert held_by_max_deletions(deleting, limit=1) == deleting
