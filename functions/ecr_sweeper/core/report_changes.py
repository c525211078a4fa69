"""What changed since the run before: the lines each report starts with. Pure: no AWS.

An operator reads one run at a time; what needs their eyes is what moved: a repository
held or failing that was not before, and deletions that doubled or halved (a rule or a
deploy that changed what is in use). Small numbers are left out: from 1 to 3 deletions is
not news.
"""

from __future__ import annotations

from ecr_sweeper.core.report_model import Report

# Below this many deletions in both runs, a change is not reported.
CHANGE_FLOOR = 10


def _planned(report: Report) -> int:
    """What the run deleted or archived, or would have in a dry run."""
    return report.images_deleted + report.images_archived


def changes_since(previous: Report, current: Report) -> list[str]:
    """Repositories newly held or failing (and no longer), and whether the run's
    deletions went up or down by more than half since `previous`."""
    lines = []
    before = {line.repository: line.status for line in previous.repositories}
    for status, word in (("held", "HELD"), ("failed", "FAILED")):
        now = sorted(line.repository for line in current.repositories if line.status == status)
        new = [name for name in now if before.get(name) != status]
        if new:
            lines.append(f"newly {word}: {', '.join(new[:10])}" + _more(len(new)))
        still = {line.repository for line in current.repositories if line.status == status}
        gone = sorted(name for name, was in before.items() if was == status and name not in still)
        if gone:
            lines.append(f"no longer {word}: {', '.join(gone[:10])}" + _more(len(gone)))
    old, new_count = _planned(previous), _planned(current)
    verb = "would delete" if current.dry_run else "deleted"
    if max(old, new_count) >= CHANGE_FLOOR:
        # Up by more than half (over 1.5 times), or down by more than half (under half).
        if 2 * new_count > 3 * old:
            lines.append(f"deletions up: {verb} {new_count} images, {old} in the run before")
        elif 2 * new_count < old:
            lines.append(f"deletions down: {verb} {new_count} images, {old} in the run before")
    if previous.dry_run != current.dry_run:
        lines.append(f"the run before was {'a dry run' if previous.dry_run else 'a deleting run'}")
    return lines


def _more(count: int) -> str:
    return f", and {count - 10} more" if count > 10 else ""
