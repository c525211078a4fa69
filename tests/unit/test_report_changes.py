"""What changed since the run before: held or failing anew, deletions up or down by half."""

from datetime import datetime

import pytest

from ecr_sweeper.core.report_changes import CHANGE_FLOOR, changes_since
from ecr_sweeper.core.report_model import Report, RepositoryLine

NOW = datetime(2026, 11, 27)


def _report(deleted: int, statuses: dict[str, str], dry_run: bool = False) -> Report:
    return Report(
        execution_name="r",
        dry_run=dry_run,
        now=NOW,
        repositories=[RepositoryLine(repository=n, status=s) for n, s in statuses.items()],
        failed=[n for n, s in statuses.items() if s == "failed"],
        images_total=0,
        images_deleted=deleted,
        bytes_reclaimed=0,
        in_use_images=0,
    )


def test_newly_held_and_failing_and_no_longer() -> None:
    before = _report(20, {"a": "ok", "b": "held", "c": "failed"})
    now = _report(20, {"a": "held", "b": "ok", "c": "failed", "d": "failed"})
    assert changes_since(before, now) == [
        "newly HELD: a",
        "no longer HELD: b",
        "newly FAILED: d",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (20, 31, ["deletions up: deleted 31 images, 20 in the run before"]),
        (20, 30, []),  # up by exactly half: not more than half
        (20, 9, ["deletions down: deleted 9 images, 20 in the run before"]),
        (20, 10, []),
        (0, CHANGE_FLOOR, [f"deletions up: deleted {CHANGE_FLOOR} images, 0 in the run before"]),
        (1, 3, []),  # small numbers are not news
    ],
    ids=["up", "half-up", "down", "half-down", "from-nothing", "small"],
)
def test_deletions_up_or_down_by_more_than_half(old: int, new: int, expected: list[str]) -> None:
    assert changes_since(_report(old, {"a": "ok"}), _report(new, {"a": "ok"})) == expected


def test_a_change_of_mode_is_said() -> None:
    before = _report(20, {"a": "ok"}, dry_run=True)
    assert changes_since(before, _report(20, {"a": "ok"})) == ["the run before was a dry run"]
