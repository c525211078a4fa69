"""The deleter's last look: has anything changed since the plan was made?

The scan is a snapshot and the world moves on while a run goes. Just before its
BatchDeleteImage calls, the deleter re-reads each candidate (and the repository's
protect tag) in ECR and keeps (skips) any image whose deletion no longer rests on what
ECR says now:

- the repository is tagged ``ecr-sweeper:protect=true``;
- the image is being restored from the archive (ACTIVATING), or its status is not the
  one the plan saw (restored to ACTIVE, or archived, since);
- it was pulled after the run began, gained a tag, or a tag of it now matches a keep
  rule (keep_tag_patterns, protect_tag_patterns, a tag in use);
- planned as expired: it was pushed at or after the cutoff (pushed again);
- planned as archived too long: ECR gives no archive time, or a later one than the
  rule's ``archived_expires`` allows.

An image kept here keeps the referrers and the children the plan deletes with it
(a signature is never deleted while its image stays; a kept index keeps its children,
and an index whose children are unknown keeps every image pushed no later than it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ecr_sweeper.core.images import ImageRecord
from ecr_sweeper.core.in_use import RepositoryUsage
from ecr_sweeper.core.policy import ImageDecision, KeepRule, Protection, Reason

ACTIVE, ACTIVATING = "ACTIVE", "ACTIVATING"


@dataclass
class Recheck:
    go: list[ImageDecision] = field(default_factory=list)  # still to delete, in plan order
    gone: list[str] = field(default_factory=list)  # no longer in the repository
    skipped: list[tuple[ImageDecision, str, str]] = field(default_factory=list)  # reason, detail


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _why_keep(
    decision: ImageDecision,
    image: ImageRecord,
    run_started: datetime,
    rule: KeepRule,
    usage: RepositoryUsage,
    protection: Protection,
    cutoff: datetime,
) -> tuple[str, str] | None:
    """(reason, detail) if ECR's answer now keeps the image, None if it may go."""
    if protection.repository:
        return "protected_repository", f"{protection.repository}, set during the run"
    if image.status == ACTIVATING:
        return "being_restored", "status ACTIVATING: being restored from the archive"
    if (image.status != ACTIVE) != decision.archived:
        was = "archived" if decision.archived else "ACTIVE"
        return "status_changed", f"status {image.status} now, {was} when planned"
    pulled = image.last_pulled_at and _utc(image.last_pulled_at)
    if pulled and pulled > _utc(run_started):
        return "pulled_during_run", f"pulled {pulled.isoformat()}, after the run began"
    new_tags = sorted(set(image.tags) - set(decision.tags))
    if new_tags:
        return "tagged_during_run", f"gained tag(s) {', '.join(new_tags)} during the run"
    for tag in image.tags:
        if rule.keeps_tag(tag) or protection.protects(tag) or tag in usage.tags:
            return "now_matches_keep_rule", f"tag '{tag}' now matches a keep rule"
    if decision.reason is Reason.EXPIRED and _utc(image.pushed_at) >= _utc(cutoff):
        return (
            "not_expired_now",
            f"pushed {_utc(image.pushed_at).isoformat()}: not before the cutoff "
            f"{_utc(cutoff).isoformat()}",
        )
    if decision.reason is Reason.ARCHIVED_EXPIRED:
        after: timedelta | None = getattr(rule, "archived_expires_after", None)
        if image.archived_at is None:
            return "archive_time_unknown", "ECR gives no archive time (lastArchivedAt)"
        archived_at = _utc(image.archived_at)
        if after is None or archived_at > _utc(run_started) - after:
            return "archived_recently", f"archived {archived_at.isoformat()}, too recently"
    return None


def recheck(
    candidates: Sequence[ImageDecision],
    current: Mapping[str, ImageRecord | None],
    run_started: datetime,
    rule: KeepRule,
    usage: RepositoryUsage,
    protection: Protection,
    *,
    cutoff: datetime,
) -> Recheck:
    """Split the planned deletions into those still to go, those gone, and those to skip.

    `protection.repository` is the repository's protect tag as ECR reports it now.
    """
    result = Recheck()
    kept: dict[str, str] = {}  # digest -> why, for what the last look keeps
    for decision in candidates:
        image = current.get(decision.digest)
        if image is None:
            result.gone.append(decision.digest)
            continue
        why = _why_keep(decision, image, run_started, rule, usage, protection, cutoff)
        if why is not None:
            result.skipped.append((decision, *why))
            kept[decision.digest] = why[0]
    # What goes with a kept image stays with it: its referrers, and an index's children.
    go = [d for d in candidates if d.digest not in kept and current.get(d.digest) is not None]
    changed = True
    while changed:
        changed = False
        holding = {d.digest: d for d in candidates if d.digest in kept}
        children = {
            child: digest for digest, parent in holding.items() for child in parent.manifests
        }
        # An index whose children are unknown holds every image pushed no later than it.
        unknown = [d for d in holding.values() if d.children_unknown]
        for decision in list(go):
            holder = (
                decision.subject if decision.subject in holding else children.get(decision.digest)
            ) or next(
                (
                    index.digest
                    for index in unknown
                    if index.digest != decision.digest
                    and _utc(decision.pushed_at) <= _utc(index.pushed_at)
                ),
                None,
            )
            if holder is not None:
                go.remove(decision)
                kept[decision.digest] = "kept_with"
                result.skipped.append((decision, "kept_with", f"goes with {holder}, which stays"))
                changed = True
    result.go = go
    return result
