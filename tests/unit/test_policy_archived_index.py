"""An index whose children are unknown (ECR gives no manifest for an archived index):
kept, it keeps every image pushed no later than it; going, it keeps nothing."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ecr_sweeper.core.images import ImageRecord
from ecr_sweeper.core.in_use import RepositoryUsage
from ecr_sweeper.core.policy import Action, Reason, enforce_safety, plan_repository

NOW = datetime(2026, 11, 28, tzinfo=UTC)
INDEX = "application/vnd.oci.image.index.v1+json"
UNKNOWN = "status ARCHIVED: ECR gives no manifest (ImageNotFound: archived)"


@dataclass(frozen=True)
class Rule:
    label: str = "app"
    expires_after: timedelta = timedelta(days=30)
    keep_count: int = 0
    archived_expires_after: timedelta | None = None

    def keeps_tag(self, tag: str) -> bool:
        return tag.startswith("release-")


def _image(name: str, days_ago: int, *tags: str, **fields) -> ImageRecord:
    return ImageRecord(
        digest="sha256:" + name.encode().hex().ljust(64, "0"),
        tags=tags,
        pushed_at=NOW - timedelta(days=days_ago),
        **fields,
    )


ARCHIVED = {"status": "ARCHIVED", "archived_at": NOW - timedelta(days=200)}
INDEX_UNKNOWN = {"media_type": INDEX, "children_unknown": UNKNOWN, **ARCHIVED}


def _verdicts(images, rule=None):
    plan = plan_repository("app", images, rule or Rule(), RepositoryUsage(), NOW)
    assert plan.safety_corrections == []
    names = {i.digest: i.tags[0] if i.tags else str(i.pushed_at.date()) for i in images}
    return {names[d.digest]: (d.action, d.reason) for d in plan.decisions}


def test_a_kept_index_with_unknown_children_keeps_every_image_pushed_no_later():
    images = [
        _image("rel", 300, "release-1.0", **INDEX_UNKNOWN),
        _image("same", 300, "same", **ARCHIVED),
        _image("older", 400, "older"),
        _image("newer", 200, "newer"),
    ]
    for rule in (Rule(), Rule(archived_expires_after=timedelta(days=90))):
        verdicts = _verdicts(images, rule)
        assert verdicts["release-1.0"][0] is Action.KEEP
        assert verdicts["same"] == (
            Action.KEEP,
            Reason.POSSIBLE_CHILD_OF_KEPT_INDEX
            if rule.archived_expires_after
            else Reason.ARCHIVED_NOT_DELETED,  # kept on its own account first
        )
        assert verdicts["older"] == (Action.KEEP, Reason.POSSIBLE_CHILD_OF_KEPT_INDEX)
        assert verdicts["newer"] == (Action.DELETE, Reason.EXPIRED)


def test_an_index_with_unknown_children_that_goes_keeps_nothing():
    rule = Rule(archived_expires_after=timedelta(days=90))
    images = [_image("idx", 300, **INDEX_UNKNOWN), _image("older", 400, "older")]
    verdicts = _verdicts(images, rule)
    assert set(verdicts.values()) == {
        (Action.DELETE, Reason.ARCHIVED_EXPIRED),
        (Action.DELETE, Reason.EXPIRED),
    }


def test_an_image_in_use_does_not_keep_an_index_it_may_belong_to():
    rule = Rule(archived_expires_after=timedelta(days=90))
    images = [_image("idx", 300, **INDEX_UNKNOWN), _image("older", 400, "older")]
    used = RepositoryUsage(tags={"older": ["ecs:task/prod/1"]})
    plan = plan_repository("app", images, rule, used, NOW)
    by_digest = {d.digest: d for d in plan.decisions}
    assert by_digest[images[0].digest].reason is Reason.ARCHIVED_EXPIRED
    assert by_digest[images[1].digest].reason is Reason.IN_USE_TAG


def test_the_safety_pass_keeps_a_possible_child_of_a_kept_index():
    images = [_image("rel", 300, "release-1.0", **INDEX_UNKNOWN), _image("older", 400)]
    plan = plan_repository("app", images, Rule(), RepositoryUsage(), NOW)
    broken = [
        d.model_copy(update={"action": Action.DELETE, "reason": Reason.EXPIRED})
        if d.digest == images[1].digest
        else d
        for d in plan.decisions
    ]
    fixed, corrections = enforce_safety(broken, RepositoryUsage(), Rule())
    assert len(corrections) == 1
    assert {d.digest: d.reason for d in fixed}[images[1].digest] is (
        Reason.POSSIBLE_CHILD_OF_KEPT_INDEX
    )
