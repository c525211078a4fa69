import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ecr_sweeper.core.images import ImageKind, ImageRecord
from ecr_sweeper.core.in_use import RepositoryUsage
from ecr_sweeper.core.policy import (
    Action,
    ImageDecision,
    Reason,
    RepositoryPlan,
    enforce_safety,
    plan_repository,
    referrer_subject_from_tags,
)
from ecr_sweeper.core.sizes import format_cell, format_size

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
HELM = "application/vnd.cncf.helm.config.v1+json"
SOCI_V1 = "application/vnd.amazon.soci.index.v1+json"
SOCI_V2 = "application/vnd.amazon.soci.index.v2+json"
SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json"
MB = 1_000_000


@dataclass(frozen=True)
class Rule:
    """A KeepRule: glob patterns with ``*`` and ``?`` only."""

    label: str = "test-rule"
    expires_after: timedelta = timedelta(days=30)
    keep_count: int = 0
    keep_tag_patterns: tuple[str, ...] = ("latest",)
    include_artifacts: bool = False

    def keeps_tag(self, tag: str) -> bool:
        for pattern in self.keep_tag_patterns:
            regex = "".join(
                ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
            )
            if re.fullmatch(regex, tag):
                return True
        return False


def dg(n: int) -> str:
    return f"sha256:{n:064x}"


def img(n: int, days_ago: float, *tags: str, size: int = MB, **fields) -> ImageRecord:
    fields.setdefault("media_type", MANIFEST)
    return ImageRecord(
        digest=dg(n),
        tags=tags,
        pushed_at=NOW - timedelta(days=days_ago),
        size_bytes=size,
        **fields,
    )


def index(n: int, days_ago: float, children: list[int], *tags: str, **fields) -> ImageRecord:
    fields.setdefault("media_type", INDEX)
    return img(n, days_ago, *tags, manifests=tuple(dg(c) for c in children), **fields)


def usage(digests=(), tags=()) -> RepositoryUsage:
    return RepositoryUsage(
        digests={dg(d): [f"ecs:task/prod/{d}"] for d in digests},
        tags={t: [f"lambda:fn-{t}:1"] for t in tags},
    )


def plan(images, rule=None, used=None, now=NOW) -> RepositoryPlan:
    result = plan_repository("web", images, rule or Rule(), used or RepositoryUsage(), now)
    # The safety pass must never have had anything to correct.
    assert result.safety_corrections == []
    assert len(result.decisions) == len({i.digest for i in images})
    return result


def by(result: RepositoryPlan) -> dict[int, ImageDecision]:
    return {int(d.digest.split(":")[1], 16): d for d in result.decisions}


def verdicts(result: RepositoryPlan) -> dict[int, tuple[Action, Reason]]:
    return {n: (d.action, d.reason) for n, d in by(result).items()}


KEEP, DELETE = Action.KEEP, Action.DELETE


# --- ecrm's order, case by case ---------------------------------------------


def test_in_use_digest_keeps_an_expired_untagged_image():
    d = by(plan([img(1, 400)], used=usage(digests=[1])))[1]
    assert (d.action, d.reason) == (KEEP, Reason.IN_USE_DIGEST)
    assert d.detail == "in use by ecs:task/prod/1"


def test_in_use_tag_keeps_the_image_carrying_it():
    d = by(plan([img(1, 400, "v1", "build-7")], used=usage(tags=["build-7"])))[1]
    assert (d.action, d.reason) == (KEEP, Reason.IN_USE_TAG)
    assert d.detail == "tag 'build-7' in use by lambda:fn-build-7:1"


def test_keep_tag_patterns():
    rule = Rule(keep_tag_patterns=("latest", "release-*", "v?"))
    result = plan(
        [img(1, 400, "latest"), img(2, 400, "release-2024"), img(3, 400, "v1"), img(4, 400, "v10")],
        rule,
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.KEEP_TAG_PATTERN),
        2: (KEEP, Reason.KEEP_TAG_PATTERN),
        3: (KEEP, Reason.KEEP_TAG_PATTERN),
        4: (DELETE, Reason.EXPIRED),
    }
    assert by(result)[1].detail == "tag 'latest' matches keep_tag_patterns"


def test_not_expired_and_the_cutoff_boundary():
    rule = Rule(expires_after=timedelta(days=30))
    result = plan(
        [
            img(1, 29),
            img(2, 30),  # pushed exactly at the cutoff: not before it, so not expired
            img(3, 30 - 1 / 86400),  # one second after the cutoff
            img(4, 30 + 1 / 86400),  # one second before the cutoff
        ],
        rule,
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.NOT_EXPIRED),
        2: (KEEP, Reason.NOT_EXPIRED),
        3: (KEEP, Reason.NOT_EXPIRED),
        4: (DELETE, Reason.EXPIRED),
    }
    assert by(result)[1].detail == "pushed 2026-10-30, not expired (cutoff 2026-10-29)"
    assert result.cutoff == NOW - timedelta(days=30)
    assert by(result)[4].detail.startswith("expired, not in use")


def test_keep_count_counts_only_tagged_expired_images_newest_first():
    rule = Rule(keep_count=2)
    result = plan(
        [
            img(1, 1, "fresh"),  # not expired: no slot
            img(2, 40),  # untagged: never a slot
            img(3, 50, "b"),
            img(4, 60),
            img(5, 70, "c"),
            img(6, 80, "d"),
        ],
        rule,
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.NOT_EXPIRED),
        2: (DELETE, Reason.EXPIRED),
        3: (KEEP, Reason.KEEP_COUNT),
        4: (DELETE, Reason.EXPIRED),
        5: (KEEP, Reason.KEEP_COUNT),
        6: (DELETE, Reason.EXPIRED),
    }
    assert by(result)[3].detail == "keep_count slot 1 of 2"
    assert by(result)[5].detail == "keep_count slot 2 of 2"


def test_in_use_and_pattern_images_do_not_use_up_slots():
    rule = Rule(keep_count=2)
    result = plan(
        [img(1, 40, "a"), img(2, 50, "latest"), img(3, 60, "b"), img(4, 70, "c"), img(5, 80, "d")],
        rule,
        usage(digests=[1]),
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.IN_USE_DIGEST),
        2: (KEEP, Reason.KEEP_TAG_PATTERN),
        3: (KEEP, Reason.KEEP_COUNT),
        4: (KEEP, Reason.KEEP_COUNT),
        5: (DELETE, Reason.EXPIRED),
    }


def test_keep_count_zero_and_negative():
    for keep_count in (0, -3):
        result = plan([img(1, 40, "a")], Rule(keep_count=keep_count))
        assert verdicts(result) == {1: (DELETE, Reason.EXPIRED)}


def test_push_time_ties_are_broken_by_digest():
    rule = Rule(keep_count=1)
    result = plan([img(2, 40, "b"), img(1, 40, "a")], rule)
    assert verdicts(result) == {1: (KEEP, Reason.KEEP_COUNT), 2: (DELETE, Reason.EXPIRED)}
    assert [d.digest for d in result.decisions] == [dg(1), dg(2)]


def test_blog_example_55_images_5_expired():
    """ecrm README: example-web | Image | 55 (924 MB) | -5 (84 MB) | 50 (840 MB)."""
    size = 16_800_000
    images = [img(100 + i, i % 29, f"v{100 + i}", size=size) for i in range(41)]  # recent
    images.append(img(200, 300, "latest", size=size))
    images += [img(201, 200, "a", size=size), img(202, 210, size=size)]  # in use by tag/digest
    images.append(img(203, 220, "b", size=size))  # in use by tag
    images += [img(300 + i, 100 + i, f"old-{i}", size=size) for i in range(5)]  # slots
    expired = [
        img(400, 150, "old-x", size=size),
        img(401, 160, "old-y", size=size),
        img(402, 170, "old-z", size=size),
        img(403, 40, size=size),
        img(404, 500, size=size),
    ]
    images += expired
    assert len(images) == 55
    result = plan(images, Rule(keep_count=5), usage(digests=[202], tags=["a", "b"]))

    assert sorted(result.to_delete()) == sorted(i.digest for i in expired)
    assert all(d.reason is Reason.EXPIRED for d in result.deleted())
    slots = [d for d in result.decisions if d.reason is Reason.KEEP_COUNT]
    assert [d.tags for d in slots] == [(f"old-{i}",) for i in range(5)]

    assert result.totals() == {
        "total": {"count": 55, "bytes": 924 * MB},
        "expired": {"count": 5, "bytes": 84 * MB},
        "keep": {"count": 50, "bytes": 840 * MB},
    }
    [row] = result.rows_by_kind()
    assert row["kind"] is ImageKind.IMAGE
    cells = (
        format_cell(*row["total"]),
        format_cell(*row["expired"], negative=True),
        format_cell(*row["keep"]),
    )
    assert cells == ("55 (924 MB)", "-5 (84 MB)", "50 (840 MB)")
    assert result.bytes_reclaimed() == 84 * MB


# --- image indexes ------------------------------------------------------------


def test_multi_arch_kept_by_tag_keeps_its_three_year_old_children():
    years = 3 * 365
    result = plan(
        [index(1, years, [2, 3], "latest"), img(2, years), img(3, years)],
        Rule(keep_count=0),
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.KEEP_TAG_PATTERN),
        2: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
        3: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
    }
    assert by(result)[2].detail == f"child of kept index {dg(1)}"
    assert result.to_delete() == []


def test_in_use_child_keeps_its_expired_index_and_siblings():
    result = plan(
        [index(1, 400, [2, 3, 4], "v1"), img(2, 400), img(3, 400), img(4, 400)],
        used=usage(digests=[3]),
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.INDEX_OF_IN_USE_CHILD),
        2: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
        3: (KEEP, Reason.IN_USE_DIGEST),
        4: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
    }
    assert dg(3) in by(result)[1].detail


def test_in_use_child_by_tag_keeps_every_index_containing_it():
    result = plan(
        [
            index(1, 400, [3, 4], media_type=DOCKER_LIST),
            index(2, 500, [3, 5]),
            img(3, 600, "arm64"),
            img(4, 600),
            img(5, 600),
        ],
        used=usage(tags=["arm64"]),
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.INDEX_OF_IN_USE_CHILD),
        2: (KEEP, Reason.INDEX_OF_IN_USE_CHILD),
        3: (KEEP, Reason.IN_USE_TAG),
        4: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
        5: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
    }


def test_expired_index_is_deleted_with_its_untagged_children_index_first():
    result = plan([img(2, 400), img(3, 400), index(1, 400, [2, 3], "v1"), img(4, 1)])
    assert verdicts(result) == {
        1: (DELETE, Reason.EXPIRED),
        2: (DELETE, Reason.EXPIRED),
        3: (DELETE, Reason.EXPIRED),
        4: (KEEP, Reason.NOT_EXPIRED),
    }
    assert result.to_delete() == [dg(1), dg(2), dg(3)]


def test_child_of_a_deleted_index_is_judged_alone():
    result = plan([index(1, 400, [2, 3]), img(2, 5), img(3, 400, "old")], Rule(keep_count=1))
    assert verdicts(result) == {
        1: (DELETE, Reason.EXPIRED),
        2: (KEEP, Reason.NOT_EXPIRED),
        3: (KEEP, Reason.KEEP_COUNT),
    }


def test_child_shared_with_a_kept_index_is_kept():
    result = plan([index(1, 400, [3]), index(2, 1, [3, 4]), img(3, 400), img(4, 400)])
    assert verdicts(result) == {
        1: (DELETE, Reason.EXPIRED),
        2: (KEEP, Reason.NOT_EXPIRED),
        3: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
        4: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
    }
    assert by(result)[3].detail == f"child of kept index {dg(2)}"


def test_children_of_kept_indexes_take_no_keep_count_slot():
    # The index's children carry tags (e.g. per-arch tags) and are expired.
    result = plan(
        [
            index(1, 100, [2, 3], "v2"),
            img(2, 101, "v2-amd64"),
            img(3, 101, "v2-arm64"),
            img(4, 200, "v1"),
            img(5, 300, "v0"),
            img(6, 400, "v-1"),
        ],
        Rule(keep_count=2),
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.KEEP_COUNT),
        2: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
        3: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
        4: (KEEP, Reason.KEEP_COUNT),
        5: (KEEP, Reason.KEEP_COUNT),
        6: (DELETE, Reason.EXPIRED),
    }


def test_indexes_count_apart_from_images_as_in_ecrm():
    """ecrm keeps the N newest expired tagged indexes *and* the N newest expired
    tagged images: one shared counter would delete what ecrm keeps."""
    result = plan(
        [
            index(1, 100, [], "i3"),
            img(2, 110, "b3"),
            index(3, 120, [], "i2"),
            img(4, 130, "b2"),
            index(5, 140, []),  # untagged: never a slot
            index(6, 150, [], "i1"),
            img(7, 160, "b1"),
        ],
        Rule(keep_count=2),
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.KEEP_COUNT),
        2: (KEEP, Reason.KEEP_COUNT),
        3: (KEEP, Reason.KEEP_COUNT),
        4: (KEEP, Reason.KEEP_COUNT),
        5: (DELETE, Reason.EXPIRED),
        6: (DELETE, Reason.EXPIRED),
        7: (DELETE, Reason.EXPIRED),
    }
    assert by(result)[1].detail == "keep_count slot 1 of 2 (image indexes)"
    assert by(result)[3].detail == "keep_count slot 2 of 2 (image indexes)"
    assert by(result)[4].detail == "keep_count slot 2 of 2"


def test_not_expired_index_keeps_expired_children():
    result = plan([index(1, 2, [2]), img(2, 400)])
    assert verdicts(result) == {
        1: (KEEP, Reason.NOT_EXPIRED),
        2: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
    }


def test_nested_indexes():
    result = plan([index(1, 400, [2], "latest"), index(2, 400, [3]), img(3, 400)])
    assert verdicts(result) == {
        1: (KEEP, Reason.KEEP_TAG_PATTERN),
        2: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
        3: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
    }
    deleted = plan([index(1, 400, [2]), index(2, 400, [3]), img(3, 400), img(4, 400)])
    assert deleted.to_delete() == [dg(1), dg(2), dg(3), dg(4)]
    # an in-use grandchild keeps both levels of index
    used = plan(
        [index(1, 400, [2]), index(2, 400, [3, 4]), img(3, 400), img(4, 400)],
        used=usage(digests=[3]),
    )
    assert verdicts(used) == {
        1: (KEEP, Reason.INDEX_OF_IN_USE_CHILD),
        2: (KEEP, Reason.INDEX_OF_IN_USE_CHILD),
        3: (KEEP, Reason.IN_USE_DIGEST),
        4: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
    }


def test_children_missing_from_the_repository_are_ignored():
    result = plan([index(1, 400, [2, 99]), img(2, 400)])
    assert verdicts(result) == {1: (DELETE, Reason.EXPIRED), 2: (DELETE, Reason.EXPIRED)}


# --- referrers ----------------------------------------------------------------


def test_referrer_is_kept_with_its_subject_whatever_its_age_and_tags():
    result = plan(
        [
            img(1, 1, "v1"),
            img(2, 900, "sig", subject=dg(1), artifact_media_type=SIGNATURE),
            img(3, 40, "old"),
        ],
        Rule(keep_count=1),
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.NOT_EXPIRED),
        2: (KEEP, Reason.REFERRER_OF_KEPT),
        3: (KEEP, Reason.KEEP_COUNT),  # the tagged referrer took no slot
    }
    assert by(result)[2].detail == f"referrer of kept {dg(1)}"
    assert by(result)[2].kind is ImageKind.REFERRER


def test_a_referrer_whose_subject_goes_is_judged_on_its_own_as_ecrm_would():
    images = [
        img(1, 400),
        img(2, 1, subject=dg(1), artifact_media_type=SIGNATURE),  # new
        img(3, 400, subject=dg(1), artifact_media_type=SIGNATURE),  # old, an artifact
        img(4, 400, subject=dg(1)),  # old, an image to ecrm
    ]
    result = plan(images)
    assert verdicts(result) == {
        1: (DELETE, Reason.EXPIRED),
        2: (KEEP, Reason.NOT_EXPIRED),
        3: (KEEP, Reason.ARTIFACT),
        4: (DELETE, Reason.REFERRER_OF_DELETED),
    }
    assert by(result)[2].detail == (
        f"pushed 2026-11-27, not expired (cutoff 2026-10-29); its subject {dg(1)} is deleted"
    )
    assert by(result)[4].detail == (
        f"referrer of deleted {dg(1)}, itself expired (pushed 2025-10-24, cutoff 2026-10-29)"
    )
    assert result.to_delete() == [dg(4), dg(1)]
    # include_artifacts: the old signature is judged like an image too
    result = plan(images, Rule(include_artifacts=True))
    assert verdicts(result)[3] == (DELETE, Reason.REFERRER_OF_DELETED)
    assert verdicts(result)[2] == (KEEP, Reason.NOT_EXPIRED)


def test_a_referrer_whose_subject_is_not_in_the_repository_is_an_image_like_any_other():
    result = plan(
        [
            img(2, 400, subject=dg(1), artifact_media_type=SIGNATURE),
            img(3, 1, subject=dg(1)),
            img(4, 400, subject=dg(1)),
            img(5, 400, "v1", subject=dg(1)),
        ],
        Rule(keep_count=1),
    )
    assert verdicts(result) == {
        2: (KEEP, Reason.ARTIFACT),
        3: (KEEP, Reason.NOT_EXPIRED),
        4: (DELETE, Reason.EXPIRED),
        5: (KEEP, Reason.KEEP_COUNT),
    }
    assert by(result)[2].detail == (
        f"artifact ({SIGNATURE}) never deleted; its subject {dg(1)} is not in this repository"
    )
    assert by(result)[2].kind is ImageKind.REFERRER  # as ECR reports it


def test_a_referrer_of_an_image_in_use_anywhere_is_kept():
    """cosign's COSIGN_REPOSITORY: signatures in a repository of their own."""
    sig_tag = dg(1).replace(":", "-") + ".sig"
    used = RepositoryUsage(digests_elsewhere={dg(1): ["app: ecs:task/prod/1"]})
    result = plan(
        [
            img(2, 400, sig_tag),
            img(3, 400, subject=dg(1)),
            img(4, 400, "v1", dg(1).replace(":", "-") + ".att"),  # an image first, but kept
            img(5, 400, dg(9).replace(":", "-") + ".sig"),
        ],
        used=used,
    )
    assert verdicts(result) == {
        2: (KEEP, Reason.SUBJECT_IN_USE),
        3: (KEEP, Reason.SUBJECT_IN_USE),
        4: (KEEP, Reason.SUBJECT_IN_USE),
        5: (DELETE, Reason.EXPIRED),
    }
    assert by(result)[2].detail == f"referrer of {dg(1)}, in use by app: ecs:task/prod/1"
    # in use in this repository, by digest, but not pushed here
    result = plan([img(2, 400, sig_tag)], used=usage(digests=[1]))
    assert verdicts(result) == {2: (KEEP, Reason.SUBJECT_IN_USE)}


def test_an_unreadable_in_use_reference_keeps_every_image_of_its_repository():
    used = RepositoryUsage(unreadable={"registry/web:bad tag": ["ecs:task/prod/1"]})
    result = plan([img(1, 400), img(2, 400, "v1"), index(3, 400, [1])], used=used)
    assert {d.reason for d in result.decisions} == {Reason.UNREADABLE_REFERENCE}
    assert all(d.action is KEEP for d in result.decisions)
    assert by(result)[1].detail == (
        "the in-use reference 'registry/web:bad tag', used by ecs:task/prod/1, names this "
        "repository but its tag or digest cannot be read: every image is kept"
    )


def test_a_referrer_in_use_keeps_its_subject():
    result = plan(
        [img(1, 400), img(2, 400, subject=dg(1), artifact_media_type=SIGNATURE)],
        used=usage(digests=[2]),
    )
    assert verdicts(result) == {
        1: (KEEP, Reason.SUBJECT_OF_KEPT_REFERRER),
        2: (KEEP, Reason.IN_USE_DIGEST),
    }


def test_referrer_chains_follow_the_root_subject():
    images = [
        img(1, 400, "v1"),
        img(2, 400, subject=dg(1), artifact_media_type="application/spdx+json"),
        img(3, 400, subject=dg(2), artifact_media_type=SIGNATURE),
    ]
    kept = plan(images, used=usage(tags=["v1"]))
    assert verdicts(kept) == {
        1: (KEEP, Reason.IN_USE_TAG),
        2: (KEEP, Reason.REFERRER_OF_KEPT),
        3: (KEEP, Reason.REFERRER_OF_KEPT),
    }
    # The SBOM is an artifact: ecrm never deletes it, and its signature stays with it.
    alone = plan(images)
    assert verdicts(alone) == {
        1: (DELETE, Reason.EXPIRED),
        2: (KEEP, Reason.ARTIFACT),
        3: (KEEP, Reason.REFERRER_OF_KEPT),
    }
    gone = plan(images, Rule(include_artifacts=True))
    assert verdicts(gone) == {
        1: (DELETE, Reason.EXPIRED),
        2: (DELETE, Reason.REFERRER_OF_DELETED),
        3: (DELETE, Reason.REFERRER_OF_DELETED),
    }
    assert gone.to_delete() == [dg(3), dg(2), dg(1)]


def test_referrer_of_a_child_of_a_kept_index():
    result = plan(
        [
            index(1, 400, [2], "latest"),
            img(2, 400),
            img(3, 400, subject=dg(2), artifact_media_type=SIGNATURE),
        ]
    )
    assert verdicts(result)[3] == (KEEP, Reason.REFERRER_OF_KEPT)


def test_soci_index_is_kept_with_its_subject_and_otherwise_is_an_artifact():
    images = [
        img(1, 400),
        img(2, 400, subject=dg(1), artifact_media_type=SOCI_V2),
        img(3, 1, "keep-me"),
        img(4, 400, subject=dg(3), artifact_media_type=SOCI_V2),
    ]
    result = plan(images)
    assert verdicts(result) == {
        1: (DELETE, Reason.EXPIRED),
        2: (KEEP, Reason.ARTIFACT),  # ecrm never deletes a SOCI index it finds this way
        3: (KEEP, Reason.NOT_EXPIRED),
        4: (KEEP, Reason.REFERRER_OF_KEPT),
    }
    assert by(result)[2].kind is ImageKind.SOCI_INDEX
    assert verdicts(plan(images, Rule(include_artifacts=True)))[2] == (
        DELETE,
        Reason.REFERRER_OF_DELETED,
    )


@pytest.mark.parametrize("suffix", [".sig", ".att", ".sbom"])
def test_cosign_tag_referrer(suffix):
    subject = dg(1)
    tag = subject.replace(":", "-") + suffix
    images = [img(1, 400, "v1"), img(2, 1, tag)]
    kept = plan(images, used=usage(tags=["v1"]))
    assert verdicts(kept)[2] == (KEEP, Reason.REFERRER_OF_KEPT)
    assert by(kept)[2].subject == subject
    assert by(kept)[2].kind is ImageKind.REFERRER
    slot = plan(images, Rule(keep_count=5))
    # keep_count keeps the subject: the signature lives too, and took no slot
    assert verdicts(slot) == {1: (KEEP, Reason.KEEP_COUNT), 2: (KEEP, Reason.REFERRER_OF_KEPT)}
    # The subject goes: the signature, an image to ecrm, is judged by its own age.
    gone = plan(images)
    assert verdicts(gone) == {1: (DELETE, Reason.EXPIRED), 2: (KEEP, Reason.NOT_EXPIRED)}
    old = [img(1, 400, "v1"), img(2, 300, tag)]
    assert verdicts(plan(old)) == {
        1: (DELETE, Reason.EXPIRED),
        2: (DELETE, Reason.REFERRER_OF_DELETED),
    }
    # ecrm counts the signature (a tagged expired image) for keep_count: so do we, and
    # its slot keeps its subject too
    assert verdicts(plan(old, Rule(keep_count=1))) == {
        1: (KEEP, Reason.SUBJECT_OF_KEPT_REFERRER),
        2: (KEEP, Reason.KEEP_COUNT),
    }
    # No subject in the repository: an image like any other.
    assert verdicts(plan([img(2, 1, tag)])) == {2: (KEEP, Reason.NOT_EXPIRED)}
    assert verdicts(plan([img(2, 300, tag)])) == {2: (DELETE, Reason.EXPIRED)}
    assert by(plan([img(2, 1, tag)]))[2].kind is ImageKind.IMAGE


def test_a_referrer_tag_does_not_make_a_referrer_of_an_image_with_an_ordinary_tag():
    tag = dg(1).replace(":", "-") + ".sig"
    result = plan([img(1, 400), img(2, 1, "v9.9.9", tag)], Rule(keep_count=5))
    assert verdicts(result) == {1: (DELETE, Reason.EXPIRED), 2: (KEEP, Reason.NOT_EXPIRED)}
    assert by(result)[2].subject is None and by(result)[2].kind is ImageKind.IMAGE
    old = plan([img(1, 400), img(2, 300, "v9.9.9", tag)], Rule(keep_count=1))
    assert verdicts(old) == {1: (DELETE, Reason.EXPIRED), 2: (KEEP, Reason.KEEP_COUNT)}


def test_an_image_tagged_with_its_own_digest_is_an_ordinary_image():
    own = dg(1).replace(":", "-")
    assert verdicts(plan([img(1, 1, own)])) == {1: (KEEP, Reason.NOT_EXPIRED)}
    assert verdicts(plan([img(1, 300, own + ".sig")], Rule(keep_count=1))) == {
        1: (KEEP, Reason.KEEP_COUNT)
    }


def test_soci_v1_tag_index_lives_and_dies_with_its_subject():
    tag = dg(1).replace(":", "-")
    images = [
        img(1, 400, "v1"),
        index(2, 400, [3], tag),  # the SOCI v1 "tag index"
        img(3, 400, artifact_media_type=SOCI_V1),
    ]
    kept = plan(images, used=usage(tags=["v1"]))
    assert verdicts(kept) == {
        1: (KEEP, Reason.IN_USE_TAG),
        2: (KEEP, Reason.REFERRER_OF_KEPT),
        3: (KEEP, Reason.ARTIFACT),  # a SOCI index, and the child of a kept index
    }
    # The tag index (an index to ecrm) is judged on its own; the SOCI index it lists
    # is an artifact, kept unless the rule includes artifacts.
    gone = plan(images)
    assert verdicts(gone) == {
        1: (DELETE, Reason.EXPIRED),
        2: (DELETE, Reason.REFERRER_OF_DELETED),
        3: (KEEP, Reason.ARTIFACT),
    }
    assert gone.to_delete() == [dg(2), dg(1)]
    assert by(gone)[3].kind is ImageKind.SOCI_INDEX
    assert plan(images, Rule(include_artifacts=True)).to_delete() == [dg(2), dg(1), dg(3)]


def test_referrer_subject_from_tags():
    hexd = "ab" * 32
    assert referrer_subject_from_tags([f"sha256-{hexd}.sig"]) == f"sha256:{hexd}"
    assert referrer_subject_from_tags([f"sha256-{hexd}", f"sha256-{hexd}.att"]) == (
        f"sha256:{hexd}"
    )
    assert referrer_subject_from_tags(["v1", f"sha256-{hexd}"]) is None  # an image first
    assert referrer_subject_from_tags([f"sha256-{hexd}"], f"sha256:{hexd}") is None  # itself
    assert referrer_subject_from_tags([f"sha256-{hexd}", f"sha256-{'cd' * 32}.sig"]) is None
    assert referrer_subject_from_tags([]) is None
    assert referrer_subject_from_tags([f"sha256-{hexd}.txt"]) is None
    assert referrer_subject_from_tags([f"sha256-{hexd[:-2]}.sig"]) is None
    assert referrer_subject_from_tags(["latest"]) is None


# --- artifacts, archived, duplicates --------------------------------------------


def test_artifacts_are_kept_and_take_no_slot():
    result = plan(
        [img(1, 400, "chart-1.0", artifact_media_type=HELM), img(2, 500, "v1")],
        Rule(keep_count=1),
    )
    assert verdicts(result) == {1: (KEEP, Reason.ARTIFACT), 2: (KEEP, Reason.KEEP_COUNT)}
    assert by(result)[1].detail == f"artifact ({HELM}) never deleted"
    assert by(result)[1].kind is ImageKind.ARTIFACT


def test_archived_images_are_kept():
    result = plan([img(1, 400, status="ARCHIVED"), img(2, 400, status="ACTIVATING")])
    assert verdicts(result) == {
        1: (KEEP, Reason.ARCHIVED_NOT_DELETED),
        2: (KEEP, Reason.ARCHIVED_NOT_DELETED),
    }


def test_duplicate_digests_are_one_image_on_the_safe_side():
    a = img(1, 400, "old")
    b = img(1, 400, "latest")
    for images in ([a, b], [b, a]):
        result = plan_repository("web", images, Rule(), RepositoryUsage(), NOW)
        [decision] = result.decisions
        assert (decision.action, decision.reason) == (KEEP, Reason.KEEP_TAG_PATTERN)
        assert set(decision.tags) == {"old", "latest"}


def test_input_order_does_not_matter():
    images = [
        index(1, 400, [2, 3], "v1"),
        img(2, 400),
        img(3, 400),
        img(4, 50, "a"),
        img(5, 50, "b"),
        img(6, 1, subject=dg(4)),
        img(7, 400, "c"),
    ]
    rule = Rule(keep_count=1)
    expected = plan(images, rule).model_dump_json()
    assert plan(list(reversed(images)), rule).model_dump_json() == expected
    assert plan(images[3:] + images[:3], rule).model_dump_json() == expected


def test_naive_now_is_utc():
    naive = NOW.replace(tzinfo=None)
    assert (
        plan([img(1, 29), img(2, 31)], now=naive).decisions
        == plan([img(1, 29), img(2, 31)]).decisions
    )


def test_plan_json_round_trip():
    result = plan([index(1, 400, [2]), img(2, 400), img(3, 300, subject=dg(1))])
    again = RepositoryPlan.model_validate_json(result.model_dump_json())
    assert again == result
    assert again.to_delete() == result.to_delete() == [dg(3), dg(1), dg(2)]
    assert again.decisions[0].reason is result.decisions[0].reason
    assert result.rule == "test-rule"


# --- plan views -------------------------------------------------------------------


def test_to_delete_orders_referrers_then_indexes_then_images():
    images = [
        img(10, 500),  # plain image, oldest
        img(11, 100),  # plain image
        index(20, 300, [21, 22]),
        img(21, 300),
        img(22, 300),
        index(30, 200, [20]),  # an index of an index: must go before it
        img(40, 50, subject=dg(11), artifact_media_type=SIGNATURE),
        img(41, 60, subject=dg(99), artifact_media_type=SIGNATURE),  # orphan
    ]
    result = plan(images, Rule(expires_after=timedelta(days=10), include_artifacts=True))
    assert all(d.action is DELETE for d in result.decisions)
    assert result.to_delete() == [dg(40), dg(41), dg(30), dg(20), dg(11), dg(21), dg(22), dg(10)]


def test_totals_rows_and_bytes_reclaimed_do_not_double_count_indexes():
    images = [
        index(1, 400, [2, 3], size=300 * MB),  # ECR reports the max of its children
        img(2, 400, size=300 * MB),
        img(3, 400, size=200 * MB),
        img(4, 1, "new", size=50 * MB),
        img(5, 400, subject=dg(2), size=1 * MB, artifact_media_type=SIGNATURE),
        img(6, 400, "chart", size=2 * MB, artifact_media_type=HELM),
    ]
    result = plan(images)
    assert result.totals() == {
        "total": {"count": 6, "bytes": 853 * MB},
        "expired": {"count": 3, "bytes": 800 * MB},
        "keep": {"count": 3, "bytes": 53 * MB},
    }
    assert result.bytes_reclaimed() == 500 * MB
    assert result.rows_by_kind() == [
        {
            "kind": ImageKind.IMAGE,
            "total": (3, 550 * MB),
            "expired": (2, 500 * MB),
            "keep": (1, 50 * MB),
        },
        {
            "kind": ImageKind.INDEX,
            "total": (1, 300 * MB),
            "expired": (1, 300 * MB),
            "keep": (0, 0),
        },
        {
            "kind": ImageKind.REFERRER,
            "total": (1, 1 * MB),
            "expired": (0, 0),
            "keep": (1, 1 * MB),  # a signature, an artifact: ecrm never deletes it
        },
        {
            "kind": ImageKind.ARTIFACT,
            "total": (1, 2 * MB),
            "expired": (0, 0),
            "keep": (1, 2 * MB),
        },
    ]


def test_empty_repository():
    result = plan([])
    assert result.decisions == [] and result.to_delete() == []
    assert result.totals()["total"] == {"count": 0, "bytes": 0}
    assert result.rows_by_kind() == []
    assert result.bytes_reclaimed() == 0


# --- the safety pass ----------------------------------------------------------------


def _decision(n: int, action: Action, reason: Reason, *tags: str, **fields) -> ImageDecision:
    return ImageDecision(
        digest=dg(n),
        tags=tags,
        kind=ImageKind.IMAGE,
        size_bytes=1,
        pushed_at=NOW,
        action=action,
        reason=reason,
        detail="x",
        **fields,
    )


def test_enforce_safety_corrects_every_kind_of_violation_transitively():
    wrong = [
        _decision(1, DELETE, Reason.EXPIRED),  # in use by digest
        _decision(2, DELETE, Reason.EXPIRED, "prod"),  # in use by tag
        _decision(3, DELETE, Reason.EXPIRED, "latest"),  # keep_tag_patterns
        # a kept index (4) -> deleted inner index (5) -> deleted child (6)
        _decision(4, KEEP, Reason.NOT_EXPIRED, manifests=(dg(5),), is_index=True),
        _decision(5, DELETE, Reason.EXPIRED, manifests=(dg(6),), is_index=True),
        _decision(6, DELETE, Reason.EXPIRED),
        # referrer of the child, listed before it
        _decision(7, DELETE, Reason.REFERRER_OF_DELETED, subject=dg(6)),
        _decision(8, DELETE, Reason.EXPIRED),  # rightly deleted
    ]
    fixed, corrections = enforce_safety(wrong, usage(digests=[1], tags=["prod"]), Rule())
    assert {int(d.digest[7:], 16): (d.action, d.reason) for d in fixed} == {
        1: (KEEP, Reason.IN_USE_DIGEST),
        2: (KEEP, Reason.IN_USE_TAG),
        3: (KEEP, Reason.KEEP_TAG_PATTERN),
        4: (KEEP, Reason.NOT_EXPIRED),
        5: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
        6: (KEEP, Reason.CHILD_OF_KEPT_INDEX),
        7: (KEEP, Reason.REFERRER_OF_KEPT),
        8: (DELETE, Reason.EXPIRED),
    }
    assert len(corrections) == 6
    changed = [new for old, new in zip(wrong, fixed, strict=True) if old != new]
    assert len(changed) == 6
    assert all(d.detail.startswith("safety guard: ") for d in changed)
    assert [d.digest for d in fixed] == [d.digest for d in wrong]


def test_enforce_safety_leaves_a_correct_plan_alone():
    result = plan([index(1, 400, [2]), img(2, 400), img(3, 1, "latest"), img(4, 400)])
    fixed, corrections = enforce_safety(result.decisions, RepositoryUsage(), Rule())
    assert corrections == [] and fixed == result.decisions


# --- sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (9, "9 B"),
        (10, "10 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1049, "1.0 kB"),
        (1050, "1.1 kB"),  # go-humanize rounds half up before printing
        (9_949, "9.9 kB"),
        (9_950, "10 kB"),
        (84_000_000, "84 MB"),
        (84_499_999, "84 MB"),
        (924_000_000, "924 MB"),
        (999_949_999, "1000 MB"),
        (1_000_000, "1.0 MB"),
        (1_200_000_000, "1.2 GB"),
        (3_400_000_000_000, "3.4 TB"),
        (5 * 10**15, "5.0 PB"),
        (2 * 10**18, "2.0 EB"),
        (2 * 10**21, "2000 EB"),
    ],
)
def test_format_size(n, text):
    assert format_size(n) == text


def test_format_cell():
    assert format_cell(55, 924 * MB) == "55 (924 MB)"
    assert format_cell(5, 84 * MB, negative=True) == "-5 (84 MB)"
    assert format_cell(0, 0, negative=True) == "0 (0 B)"
