"""The deleter's last look: has anything changed since the plan was made?

The scan is a snapshot and the world moves on while a run goes. Just before its
BatchDeleteImage calls, the deleter re-reads each candidate and keeps (skips) any
that was pulled after the run began, gained a tag, or now matches a keep rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ecr_sweeper.core.images import ImageRecord
from ecr_sweeper.core.in_use import RepositoryUsage
from ecr_sweeper.core.policy import ImageDecision, KeepRule, Protection


@dataclass
class Recheck:
    go: list[ImageDecision] = field(default_factory=list)  # still to delete, in plan order
    gone: list[str] = field(default_factory=list)  # no longer in the repository
    skipped: list[tuple[ImageDecision, str, str]] = field(default_factory=list)  # reason, detail


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def recheck(
    candidates: Sequence[ImageDecision],
    current: Mapping[str, ImageRecord | None],
    run_started: datetime,
    rule: KeepRule,
    usage: RepositoryUsage,
    protection: Protection,
) -> Recheck:
    """Split the planned deletions into those still to go, those gone, and those to skip."""
    result = Recheck()
    for decision in candidates:
        image = current.get(decision.digest)
        if image is None:
            result.gone.append(decision.digest)
            continue
        new_tags = sorted(set(image.tags) - set(decision.tags))
        pulled = image.last_pulled_at and _utc(image.last_pulled_at)
        keep_tag = next(
            (
                t
                for t in image.tags
                if rule.keeps_tag(t) or protection.protects(t) or t in usage.tags
            ),
            None,
        )
        if pulled and pulled > _utc(run_started):
            result.skipped.append(
                (decision, "pulled_during_run", f"pulled {pulled.isoformat()}, after the run began")
            )
        elif new_tags:
            result.skipped.append(
                (
                    decision,
                    "tagged_during_run",
                    f"gained tag(s) {', '.join(new_tags)} during the run",
                )
            )
        elif keep_tag is not None:
            result.skipped.append(
                (decision, "now_matches_keep_rule", f"tag '{keep_tag}' now matches a keep rule")
            )
        else:
            result.go.append(decision)
    return result
