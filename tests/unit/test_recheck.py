"""The last look (core/recheck.py): what ECR says now against what the plan rested on."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ecr_sweeper.core.images import ImageKind, ImageRecord
from ecr_sweeper.core.in_use import RepositoryUsage
from ecr_sweeper.core.policy import Action, ImageDecision, Protection, Reason
from ecr_sweeper.core.recheck import recheck

NOW = datetime(2026, 11, 27, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=30)
OLD = NOW - timedelta(days=60)


@dataclass
class Rule:
    label: str = "app"
    expires_after: timedelta = timedelta(days=30)
    keep_count: int = 0
    archived_expires_after: timedelta | None = timedelta(days=90)

    def keeps_tag(self, tag: str) -> bool:
        return tag.startswith("release-")


def _planned(name: str, reason: Reason = Reason.EXPIRED, **extra) -> ImageDecision:
    return ImageDecision(
        digest=name,
        kind=ImageKind.IMAGE,
        pushed_at=extra.pop("pushed_at", OLD),
        action=Action.DELETE,
        reason=reason,
        detail="planned",
        **extra,
    )


def _now(name: str, **extra) -> ImageRecord:
    return ImageRecord(digest=name, pushed_at=extra.pop("pushed_at", OLD), **extra)


def _look(candidates, current, protection=None):
    protection = protection or Protection()
    return recheck(candidates, current, NOW, Rule(), RepositoryUsage(), protection, cutoff=CUTOFF)


@pytest.mark.parametrize(
    ("planned", "now", "reason"),
    [
        (_planned("a"), _now("a", pushed_at=CUTOFF), "not_expired_now"),
        (_planned("a"), _now("a", status="ACTIVATING"), "being_restored"),
        (_planned("a"), _now("a", status="ARCHIVED", archived_at=OLD), "status_changed"),
        (
            _planned("a", Reason.ARCHIVED_EXPIRED, archived=True),
            _now("a", status="ACTIVE"),
            "status_changed",
        ),
        (
            _planned("a", Reason.ARCHIVED_EXPIRED, archived=True),
            _now("a", status="ARCHIVED"),
            "archive_time_unknown",
        ),
        (
            _planned("a", Reason.ARCHIVED_EXPIRED, archived=True),
            _now("a", status="ARCHIVED", archived_at=NOW - timedelta(days=10)),
            "archived_recently",
        ),
        (_planned("a"), _now("a", last_pulled_at=NOW + timedelta(hours=1)), "pulled_during_run"),
        (_planned("a"), _now("a", tags=("release-1",)), "tagged_during_run"),
        (
            _planned("a", tags=("release-1",)),
            _now("a", tags=("release-1",)),
            "now_matches_keep_rule",
        ),
    ],
    ids=[
        "pushed-at-the-cutoff",
        "activating",
        "archived-since",
        "restored-since",
        "no-archive-time",
        "archived-recently",
        "pulled",
        "tagged",
        "keep-rule",
    ],
)
def test_a_changed_fact_keeps_the_image(planned, now, reason):
    look = _look([planned], {planned.digest: now})
    assert look.go == []
    assert [(d.digest, r) for d, r, _ in look.skipped] == [(planned.digest, reason)]


def test_a_protect_tag_set_during_the_run_keeps_every_image():
    candidates = [_planned("a"), _planned("b")]
    protection = Protection(repository="repository tag ecr-sweeper:protect=true")
    look = _look(candidates, {"a": _now("a"), "b": _now("b")}, protection)
    assert look.go == []
    assert {r for _, r, _ in look.skipped} == {"protected_repository"}


def test_unchanged_images_go_and_missing_ones_are_gone():
    look = _look([_planned("a"), _planned("b")], {"a": _now("a"), "b": None})
    assert [d.digest for d in look.go] == ["a"]
    assert look.gone == ["b"]


def test_what_goes_with_a_kept_image_stays_with_it():
    index = _planned("index", manifests=("child",), is_index=True)
    signature = _planned("sig", Reason.REFERRER_OF_DELETED, subject="index")
    child = _planned("child")
    other = _planned("other")
    current = {
        "index": _now("index", last_pulled_at=NOW + timedelta(hours=1)),
        "sig": _now("sig"),
        "child": _now("child"),
        "other": _now("other"),
    }
    look = _look([signature, index, child, other], current)
    assert [d.digest for d in look.go] == ["other"]
    assert {d.digest: r for d, r, _ in look.skipped} == {
        "index": "pulled_during_run",
        "sig": "kept_with",
        "child": "kept_with",
    }
    details = {d.digest: detail for d, _, detail in look.skipped}
    assert details["child"] == "goes with index, which stays"


def test_a_kept_index_whose_children_are_unknown_keeps_what_was_pushed_before_it():
    index = _planned(
        "index",
        Reason.ARCHIVED_EXPIRED,
        archived=True,
        is_index=True,
        children_unknown=True,
    )
    before = _planned("before", pushed_at=OLD - timedelta(days=1))
    after = _planned("after", pushed_at=OLD + timedelta(days=1))
    current = {
        "index": _now("index", status="ACTIVATING"),
        "before": _now("before", pushed_at=OLD - timedelta(days=1)),
        "after": _now("after", pushed_at=OLD + timedelta(days=1)),
    }
    look = _look([index, before, after], current)
    assert [d.digest for d in look.go] == ["after"]
    assert {d.digest: r for d, r, _ in look.skipped} == {
        "index": "being_restored",
        "before": "kept_with",
    }
