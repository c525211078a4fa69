"""Which images of a repository to keep and which to delete.

The decision follows ecrm (images sorted newest push first):

1. digest in use -> keep
2. a tag in use, or a tag matching ``keep_tag_patterns`` -> keep
3. pushed at or after the cutoff (``now - expires_after``) -> keep: expired means
   pushed strictly before it
4. tagged: the first ``keep_count`` such images -> keep (untagged images never take
   a slot). Image indexes count on their own counter, as in ecrm: the N newest
   expired tagged indexes are kept in addition to the N newest expired tagged images.
5. otherwise delete

and adds the image graph on top of it, only ever keeping more:

* a kept image index keeps all its children; an in-use child keeps every index
  containing it (and, through it, its siblings). A kept index whose children are
  unknown (ECR gives no manifest for an archived index) keeps every image that could
  be one of them: every image pushed at or before it;
* a referrer (``subject`` set, or tagged only with cosign-style
  ``sha256-<hex>[.sig|.att|.sbom]`` tags) whose subject is an image of this
  repository is kept with its subject. When the subject goes, the referrer is
  judged on its own as ecrm would judge it: kept if not expired, and an artifact
  (signature, SBOM, SOCI index) is kept unless the rule includes artifacts.
  Anything else (a subject elsewhere or missing, an ordinary tag too, its own
  digest) is an image like any other;
* an image naming as its subject a digest in use anywhere (cosign signatures kept
  in a repository of their own) is kept;
* an in-use reference that cannot be read keeps every image of its repository;
* artifacts (Helm charts, ...) and archived images are never deleted.

So that ecr-sweeper never deletes what ecrm keeps, keep_count counts exactly what
ecrm counts (tagged expired images and indexes, referrers among them) and skips
only images kept already. Kept images are marked from their roots outwards
(children and referrers of every kept image are kept before anything else is
judged), so an image that a kept image needs never takes a keep_count slot and is
never deleted. :func:`enforce_safety` then re-checks the finished plan against the
in-use set and the graph; it corrects (and reports) any violation, and is expected
never to find one.

Pure: no I/O, no clock (``now`` is a parameter).
"""

from __future__ import annotations

import heapq
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ecr_sweeper.core.images import IMAGE_CONFIG_MEDIA_TYPES, ImageKind, ImageRecord
from ecr_sweeper.core.in_use import RepositoryUsage
from ecr_sweeper.core.messages import short_repr

ACTIVE = "ACTIVE"

# cosign-style legacy tags (`.sig`, `.att`, `.sbom`) and the OCI referrers tag
# schema (bare `sha256-<hex>`, used by SOCI v1 tag indexes) name their subject.
_REFERRER_TAG_RE = re.compile(r"sha256-([a-f0-9]{64})(?:\.(?:sig|att|sbom))?")


class KeepRule(Protocol):
    """What :func:`plan_repository` needs from a repository rule of the config."""

    @property
    def label(self) -> str: ...

    @property
    def expires_after(self) -> timedelta: ...

    @property
    def keep_count(self) -> int: ...

    def keeps_tag(self, tag: str) -> bool: ...

    # Optional (read with getattr, default off): `include_artifacts: bool` lets
    # artifacts be judged like images; `archived_expires_after: timedelta | None`
    # lets ARCHIVED images go once archived that long.


class Action(StrEnum):
    KEEP = "keep"
    DELETE = "delete"


class Reason(StrEnum):
    # keep
    IN_USE_DIGEST = "in_use_digest"
    IN_USE_TAG = "in_use_tag"
    KEEP_TAG_PATTERN = "keep_tag_pattern"
    NOT_EXPIRED = "not_expired"
    KEEP_COUNT = "keep_count"
    CHILD_OF_KEPT_INDEX = "child_of_kept_index"
    POSSIBLE_CHILD_OF_KEPT_INDEX = "possible_child_of_kept_index"
    INDEX_OF_IN_USE_CHILD = "index_of_in_use_child"
    SUBJECT_OF_KEPT_REFERRER = "subject_of_kept_referrer"
    PROTECTED_REPOSITORY = "protected_repository"
    PROTECTED_TAG = "protected_tag"
    PULLED_RECENTLY = "pulled_recently"
    REFERRER_OF_KEPT = "referrer_of_kept"
    SUBJECT_IN_USE = "subject_in_use"
    UNREADABLE_REFERENCE = "unreadable_reference"
    ARTIFACT = "artifact"
    ARCHIVED_NOT_DELETED = "archived_not_deleted"
    # delete
    EXPIRED = "expired"
    ARCHIVED_EXPIRED = "archived_expired"
    REFERRER_OF_DELETED = "referrer_of_deleted"  # and itself expired


DELETE_REASONS = frozenset({Reason.EXPIRED, Reason.ARCHIVED_EXPIRED, Reason.REFERRER_OF_DELETED})

# A referrer kept for these reasons keeps itself only, not its subject: they are how
# ecrm would keep it on its own once its subject is gone.
_KEEPS_ONLY_ITSELF = frozenset({Reason.NOT_EXPIRED, Reason.ARTIFACT})

SAFETY_GUARD_PREFIX = "safety guard: "


class ImageDecision(BaseModel):
    """The verdict on one image, with the reason as a code and as a sentence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    digest: str
    tags: tuple[str, ...] = ()
    kind: ImageKind
    size_bytes: int = 0
    pushed_at: datetime
    action: Action
    reason: Reason
    detail: str
    # The graph, as the planner saw it (needed to order deletions).
    subject: str | None = None
    manifests: tuple[str, ...] = ()
    is_index: bool = False
    # An index whose manifest ECR does not give (archived): its children are unknown.
    children_unknown: bool = False
    archived: bool = False  # imageStatus is not ACTIVE

    @property
    def is_referrer(self) -> bool:
        return self.subject is not None


def _count(decisions: Iterable[ImageDecision]) -> tuple[int, int]:
    items = list(decisions)
    return len(items), sum(d.size_bytes for d in items)


class RepositoryPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repository: str
    rule: str
    now: datetime
    cutoff: datetime
    decisions: list[ImageDecision] = Field(default_factory=list)
    # Decisions the final safety pass had to turn into keep (expected empty).
    safety_corrections: list[str] = Field(default_factory=list)
    # Why the deleter must leave this repository untouched (e.g. a safety cap), or "".
    held: str = ""
    # How many images the rule could delete at all (see could_delete), or None (a plan
    # written before it was counted: every image).
    could_delete: int | None = None

    def hold_if_ratio_exceeded(self, max_ratio: float, min_images: int) -> RepositoryPlan:
        """The plan, held when it would delete more than `max_ratio` of the images the rule
        could delete (checked only when there are at least `min_images` of them): a sign
        that some use went unseen. Images that can never go (archived without
        archived_expires, artifacts without include_artifacts) do not count, so they
        cannot dilute the ratio."""
        total = len(self.decisions)
        population = total if self.could_delete is None else self.could_delete
        planned = len(self.deleted())
        if population >= min_images and population and planned / population > max_ratio:
            return self.model_copy(
                update={
                    "held": f"max_delete_ratio: the plan deletes {planned} of the {population} "
                    f"images the rule could delete ({total} in all; "
                    f"{planned / population:.0%} > {max_ratio:.0%}); nothing deleted"
                }
            )
        return self

    def deleted(self) -> list[ImageDecision]:
        return [d for d in self.decisions if d.action is Action.DELETE]

    def kept(self) -> list[ImageDecision]:
        return [d for d in self.decisions if d.action is Action.KEEP]

    def to_delete(self) -> list[str]:
        """Digests to delete: referrers first, then indexes, then other images.

        Whatever the group, an index comes before its children (ECR refuses to
        delete an image an index still references) and a referrer before its
        subject.
        """
        deleted = {d.digest: (position, d) for position, d in enumerate(self.deleted())}

        def key(digest: str) -> tuple[int, int]:
            position, decision = deleted[digest]
            if decision.is_referrer:
                group = 0
            elif decision.is_index or decision.manifests:
                group = 1
            else:
                group = 2
            return group, position

        after: dict[str, list[str]] = {digest: [] for digest in deleted}
        waiting: dict[str, int] = dict.fromkeys(deleted, 0)
        for digest, (_, decision) in deleted.items():
            successors = [c for c in decision.manifests if c in deleted and c != digest]
            if decision.subject in deleted and decision.subject != digest:
                successors.append(decision.subject)
            for successor in dict.fromkeys(successors):
                after[digest].append(successor)
                waiting[successor] += 1

        ready = [(key(d), d) for d, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        ordered: list[str] = []
        done: set[str] = set()
        while len(ordered) < len(deleted):
            if not ready:
                # A cycle (impossible with content-addressed digests): break it
                # at the first remaining image.
                stuck = min((d for d in deleted if d not in done), key=key)
                waiting[stuck] = 0
                ready.append((key(stuck), stuck))
            _, digest = heapq.heappop(ready)
            if digest in done:
                continue
            done.add(digest)
            ordered.append(digest)
            for successor in after[digest]:
                if successor in done:
                    continue
                waiting[successor] -= 1
                if waiting[successor] == 0:
                    heapq.heappush(ready, (key(successor), successor))
        return ordered

    def totals(self) -> dict[str, dict[str, int]]:
        """Counts and summed sizes as ecrm shows them ("expired" = to delete).

        Sizes are plain sums, indexes included, as in ecrm's table; see
        :meth:`bytes_reclaimed` for the honest number.
        """
        result = {}
        for name, decisions in (
            ("total", self.decisions),
            ("expired", self.deleted()),
            ("keep", self.kept()),
        ):
            count, size = _count(decisions)
            result[name] = {"count": count, "bytes": size}
        return result

    def rows_by_kind(self) -> list[dict[str, Any]]:
        """One row per kind present, in ImageKind order: the report table."""
        rows = []
        for kind in ImageKind:
            of_kind = [d for d in self.decisions if d.kind is kind]
            if not of_kind:
                continue
            rows.append(
                {
                    "kind": kind,
                    "total": _count(of_kind),
                    "expired": _count(d for d in of_kind if d.action is Action.DELETE),
                    "keep": _count(d for d in of_kind if d.action is Action.KEEP),
                }
            )
        return rows

    def bytes_reclaimed(self) -> int:
        """Summed size of the deleted images that are not indexes.

        An index's size is the max of its children's, so counting it would count
        the same blobs twice. (Layers shared with kept images are not freed
        either, so this is an upper bound.)
        """
        return sum(d.size_bytes for d in self.deleted() if not (d.is_index or d.manifests))


# ---------------------------------------------------------------------------
# planning


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _day(value: datetime) -> str:
    return f"{value:%Y-%m-%d}"


def _users(users: Sequence[str]) -> str:
    return ", ".join(users) if users else "an unnamed user"


def digests_named_by_tags(tags: Iterable[str], digest: str | None = None) -> set[str]:
    """``sha256:<hex>`` for each ``sha256-<hex>[.sig|.att|.sbom]`` tag, except the
    image's own digest."""
    named = {
        f"sha256:{match.group(1)}"
        for match in (_REFERRER_TAG_RE.fullmatch(tag) for tag in tags)
        if match
    }
    named.discard(digest or "")
    return named


def referrer_subject_from_tags(tags: Iterable[str], digest: str | None = None) -> str | None:
    """The subject the tags name when they make the image a referrer: every tag is a
    ``sha256-<hex>[.sig|.att|.sbom]`` tag, and together they name one digest, not the
    image's own. An image with any other tag is an image first: None."""
    tags = list(tags)
    if not tags or not all(_REFERRER_TAG_RE.fullmatch(tag) for tag in tags):
        return None
    named = digests_named_by_tags(tags)
    if len(named) != 1 or digest in named:
        return None
    return named.pop()


def _class_of(record: ImageRecord) -> str:
    """What ecrm takes the image for: "index" (its own keep_count counter), "image",
    or "artifact" (anything else, SOCI indexes and signatures included: ecrm never
    counts or judges those by age)."""
    if record.is_index:
        return "index"
    if record.artifact_media_type is None or record.artifact_media_type in IMAGE_CONFIG_MEDIA_TYPES:
        return "image"
    return "artifact"


_SLOT_SUFFIX = {"image": "", "index": " (image indexes)", "artifact": " (artifacts)"}


def could_delete(record: ImageRecord, rule: KeepRule) -> bool:
    """Whether the rule could ever delete the image, whatever its age and use: an ACTIVE
    image (an artifact only with include_artifacts), an ARCHIVED one only with
    archived_expires (and an archive time). The population of max_delete_ratio."""
    if record.status == ACTIVE:
        return _class_of(record) != "artifact" or bool(getattr(rule, "include_artifacts", False))
    return (
        record.status == "ARCHIVED"
        and record.archived_at is not None
        and getattr(rule, "archived_expires_after", None) is not None
    )


def _merge_duplicates(images: Sequence[ImageRecord]) -> dict[str, ImageRecord]:
    """One record per digest. Duplicates merge to the safer side, independently
    of input order: union of tags and children, latest push, any non-ACTIVE status,
    children unknown if any copy says so."""
    by_digest: dict[str, list[ImageRecord]] = {}
    for image in images:
        by_digest.setdefault(image.digest, []).append(image)
    merged: dict[str, ImageRecord] = {}
    for digest, copies in by_digest.items():
        if len(copies) == 1:
            merged[digest] = copies[0]
            continue
        ordered = sorted(
            copies, key=lambda r: (_utc(r.pushed_at), r.model_dump_json()), reverse=True
        )
        base = ordered[0]
        statuses = sorted({r.status for r in ordered if r.status != ACTIVE})
        merged[digest] = base.model_copy(
            update={
                "tags": tuple(dict.fromkeys(t for r in ordered for t in r.tags)),
                "manifests": tuple(dict.fromkeys(m for r in ordered for m in r.manifests)),
                "subject": next((r.subject for r in ordered if r.subject), None),
                "children_unknown": next(
                    (r.children_unknown for r in ordered if r.children_unknown), ""
                ),
                "status": statuses[0] if statuses else ACTIVE,
            }
        )
    return merged


class _Graph:
    def __init__(self, records: dict[str, ImageRecord]) -> None:
        self.records = records
        # Newest push first, ties by digest: the order of every pass.
        self.order = sorted(sorted(records), key=lambda d: _utc(records[d].pushed_at), reverse=True)
        # The subject of each referrer: only an image of this repository makes one.
        self.subject: dict[str, str | None] = {}
        # Every digest an image names as its subject (subjectManifestDigest, or a
        # referrer-shaped tag), in this repository or not.
        self.named: dict[str, tuple[str, ...]] = {}
        self.children: dict[str, list[str]] = {}
        self.parents: dict[str, list[str]] = {d: [] for d in self.order}
        self.referrers: dict[str, list[str]] = {d: [] for d in self.order}
        for digest in self.order:
            record = records[digest]
            subject = record.subject or referrer_subject_from_tags(record.tags, digest)
            self.subject[digest] = subject if subject in records and subject != digest else None
            named = digests_named_by_tags(record.tags, digest)
            if record.subject and record.subject != digest:
                named.add(record.subject)
            self.named[digest] = tuple(sorted(named))
            self.children[digest] = [
                c for c in dict.fromkeys(record.manifests) if c in records and c != digest
            ]
        # An index whose children are unknown could list any image that was in the
        # repository when it was pushed: ECR refuses an index whose children it does not
        # hold, and refuses to delete a child an index lists. Kept, it keeps them all.
        # (Only downwards: an image in use does not keep an index it may belong to.)
        self.possible_children: dict[str, list[str]] = {
            digest: [
                other
                for other in self.order
                if other != digest
                and _utc(records[other].pushed_at) <= _utc(records[digest].pushed_at)
            ]
            for digest in self.order
            if records[digest].children_unknown
        }
        for digest in self.order:
            for child in self.children[digest]:
                self.parents[child].append(digest)
            subject = self.subject[digest]
            if subject is not None:
                self.referrers[subject].append(digest)

    def kind(self, digest: str) -> ImageKind:
        record = self.records[digest]
        kind = record.kind
        from_tag = record.subject is None and self.subject[digest] is not None
        if from_tag and kind is not ImageKind.SOCI_INDEX:
            return ImageKind.REFERRER
        return kind

    def decision_subject(self, digest: str) -> str | None:
        """The subject a decision records: a referrer's, or the subjectManifestDigest
        ECR reports even when that image is not in this repository."""
        return self.subject[digest] or self.records[digest].subject


def _possible_child(index: str, why: str) -> str:
    return (
        f"may be a child of kept index {index}, pushed no later than it, whose children "
        f"are unknown ({why})"
    )


def _in_use(digest: str, tags: Iterable[str], usage: RepositoryUsage) -> tuple[Reason, str] | None:
    if digest in usage.digests:
        return Reason.IN_USE_DIGEST, f"in use by {_users(usage.digests[digest])}"
    for tag in tags:
        if tag in usage.tags:
            return Reason.IN_USE_TAG, f"tag '{tag}' in use by {_users(usage.tags[tag])}"
    return None


def _subject_in_use(named: Iterable[str], usage: RepositoryUsage) -> tuple[Reason, str] | None:
    """A signature (or other referrer) of an image in use anywhere is kept, wherever it
    is stored: admission control that verifies signatures needs it."""
    for subject in named:
        users = usage.digests.get(subject) or usage.digests_elsewhere.get(subject)
        if users:
            return Reason.SUBJECT_IN_USE, f"referrer of {subject}, in use by {_users(users)}"
    return None


def _unreadable(usage: RepositoryUsage) -> str | None:
    """Why every image is kept when an in-use reference to the repository cannot be read."""
    if not usage.unreadable:
        return None
    reference, users = next(iter(sorted(usage.unreadable.items())))
    more = len(usage.unreadable) - 1
    others = f" (and {more} more)" if more else ""
    return (
        f"the in-use reference {short_repr(reference, 200)}{others}, used by {_users(users)}, "
        "names this "
        "repository but its tag or digest cannot be read: every image is kept"
    )


def _keep_tag(tags: Iterable[str], rule: KeepRule) -> tuple[Reason, str] | None:
    for tag in tags:
        if rule.keeps_tag(tag):
            return Reason.KEEP_TAG_PATTERN, f"tag '{tag}' matches keep_tag_patterns"
    return None


@dataclass(frozen=True)
class Protection:
    """What the config and the repository's own tags protect, whatever the rule says."""

    # Why the whole repository is protected (e.g. its resource tag), or "" if it is not.
    repository: str = ""
    tag_patterns: tuple[str, ...] = ()
    matches: Callable[[str, str], bool] | None = None  # (pattern, tag) -> bool

    def protects(self, tag: str) -> str | None:
        for pattern in self.tag_patterns:
            if self.matches is not None and self.matches(pattern, tag):
                return pattern
        return None


def _protected_tag(tags: Iterable[str], protection: Protection) -> tuple[Reason, str] | None:
    for tag in tags:
        pattern = protection.protects(tag)
        if pattern is not None:
            return Reason.PROTECTED_TAG, f"tag '{tag}' matches protect_tag_patterns '{pattern}'"
    return None


def _decide(
    graph: _Graph,
    rule: KeepRule,
    usage: RepositoryUsage,
    cutoff: datetime,
    now: datetime,
    protection: Protection,
) -> dict[str, tuple[Action, Reason, str]]:
    records = graph.records
    kept: dict[str, tuple[Reason, str]] = {}
    if protection.repository:
        return {
            d: (Action.KEEP, Reason.PROTECTED_REPOSITORY, protection.repository)
            for d in graph.order
        }
    unreadable = _unreadable(usage)
    if unreadable:
        return {d: (Action.KEEP, Reason.UNREADABLE_REFERENCE, unreadable) for d in graph.order}
    pulled_within = getattr(rule, "keep_pulled_within_after", None)
    include_artifacts = bool(getattr(rule, "include_artifacts", False))
    archived_after = getattr(rule, "archived_expires_after", None)
    archived_expired: dict[str, str] = {}  # digest -> detail

    def keep_from(roots: Iterable[str], *, subjects_of_roots: bool = True) -> None:
        """Keep the children, referrers and (for a referrer) the subject of ``roots``,
        transitively: a signature or SOCI index is useless without its image. With
        ``subjects_of_roots=False`` the roots' own subjects are left to their fate."""
        queue = deque(roots)
        skip_subject = set() if subjects_of_roots else set(queue)
        while queue:
            digest = queue.popleft()
            subject = graph.subject[digest]
            if subject is not None and subject not in kept and digest not in skip_subject:
                kept[subject] = (
                    Reason.SUBJECT_OF_KEPT_REFERRER,
                    f"subject of kept referrer {digest}",
                )
                queue.append(subject)
            for child in graph.children[digest]:
                if child not in kept:
                    kept[child] = (Reason.CHILD_OF_KEPT_INDEX, f"child of kept index {digest}")
                    queue.append(child)
            for child in graph.possible_children.get(digest, ()):
                if child not in kept:
                    kept[child] = (
                        Reason.POSSIBLE_CHILD_OF_KEPT_INDEX,
                        _possible_child(digest, records[digest].children_unknown),
                    )
                    queue.append(child)
            for referrer in graph.referrers[digest]:
                if referrer not in kept:
                    kept[referrer] = (Reason.REFERRER_OF_KEPT, f"referrer of kept {digest}")
                    queue.append(referrer)

    # 1. In use (by digest or tag), a referrer of an image in use anywhere, and every
    #    index containing one of them.
    for digest in graph.order:
        found = _in_use(digest, records[digest].tags, usage) or _subject_in_use(
            graph.named[digest], usage
        )
        if found:
            kept[digest] = found
    queue = deque(d for d in graph.order if d in kept)
    while queue:
        digest = queue.popleft()
        for parent in graph.parents[digest]:
            if parent not in kept:
                kept[parent] = (
                    Reason.INDEX_OF_IN_USE_CHILD,
                    f"index of in-use child {digest}",
                )
                queue.append(parent)

    # 2. Kept whatever their age: keep_tag_patterns, archived, artifacts.
    for digest in graph.order:
        if digest in kept:
            continue
        record = records[digest]
        found = _protected_tag(record.tags, protection) or _keep_tag(record.tags, rule)
        pulled = record.last_pulled_at and _utc(record.last_pulled_at)
        if found:
            kept[digest] = found
        elif pulled_within is not None and pulled and pulled > now - pulled_within:
            kept[digest] = (
                Reason.PULLED_RECENTLY,
                f"pulled {_day(pulled)}, within keep_pulled_within",
            )
        elif record.status != ACTIVE:
            # Judged by time in the archive, never by push age or keep_count. An image
            # being restored, or with no archive time, is kept: never guess the time.
            archived_at = _utc(record.archived_at or record.pushed_at)
            if record.status == "ACTIVATING":
                kept[digest] = (
                    Reason.ARCHIVED_NOT_DELETED,
                    "status ACTIVATING: being restored from the archive",
                )
            elif archived_after is None:
                kept[digest] = (
                    Reason.ARCHIVED_NOT_DELETED,
                    f"status {record.status}: the rule has no archived_expires",
                )
            elif record.archived_at is None:
                kept[digest] = (
                    Reason.ARCHIVED_NOT_DELETED,
                    f"status {record.status}, but ECR gives no archive time (lastArchivedAt)",
                )
            elif archived_at > now - archived_after:
                kept[digest] = (
                    Reason.ARCHIVED_NOT_DELETED,
                    f"archived {_day(archived_at)}, archived_expires not reached",
                )
            else:
                archived_expired[digest] = (
                    f"archived {_day(archived_at)}, longer ago than archived_expires"
                )
        elif (
            graph.subject[digest] is None
            and _class_of(record) == "artifact"
            and not include_artifacts
        ):
            elsewhere = (
                f"; its subject {record.subject} is not in this repository"
                if record.subject
                else ""
            )
            kept[digest] = (
                Reason.ARTIFACT,
                f"artifact ({record.artifact_media_type}) never deleted{elsewhere}",
            )
    keep_from([d for d in graph.order if d in kept])

    def fresh(digest: str) -> bool:
        # Expired means pushed strictly before the cutoff, as in ecrm.
        return _utc(records[digest].pushed_at) >= cutoff

    def pushed(digest: str) -> str:
        return f"pushed {_day(_utc(records[digest].pushed_at))}"

    # 3. Not expired. A referrer is not judged by its own age here: it follows its
    #    subject, and is judged on its own (5.) only if the subject goes.
    for digest in graph.order:
        if digest in kept or digest in archived_expired or graph.subject[digest] is not None:
            continue
        if fresh(digest):
            kept[digest] = (
                Reason.NOT_EXPIRED,
                f"{pushed(digest)}, not expired (cutoff {_day(cutoff)})",
            )
            keep_from([digest])

    # 4. keep_count: the newest expired tagged images, and apart from them the newest
    #    expired tagged indexes, not kept otherwise. This counts what ecrm counts (a
    #    referrer among them: a slot keeps its subject too) and skips only images kept
    #    already, so every image ecrm keeps by keep_count is kept here too.
    keep_count = max(0, rule.keep_count)
    counters: dict[str, int] = {}
    for digest in graph.order:
        record = records[digest]
        if digest in kept or digest in archived_expired or not record.tags:
            continue
        kind = _class_of(record)
        if kind == "artifact" and not include_artifacts:
            continue  # never deleted, and ecrm does not count it
        if graph.subject[digest] is not None and fresh(digest):
            continue  # a referrer not expired: ecrm keeps it before counting
        counters[kind] = counters.get(kind, 0) + 1
        if counters[kind] <= keep_count:
            kept[digest] = (
                Reason.KEEP_COUNT,
                f"keep_count slot {counters[kind]} of {keep_count}{_SLOT_SUFFIX[kind]}",
            )
            keep_from([digest])

    # 5. A referrer whose subject goes is judged on its own, as ecrm judges it: kept
    #    if not expired, or if it is an artifact (signature, SBOM, SOCI index: ecrm
    #    never deletes those) and the rule does not include artifacts. It keeps itself
    #    (and what it needs), not its subject. Repeated for chains of referrers.
    changed = True
    while changed:
        changed = False
        for digest in graph.order:
            subject = graph.subject[digest]
            if digest in kept or digest in archived_expired or subject is None:
                continue
            record = records[digest]
            if subject in kept:
                kept[digest] = (Reason.REFERRER_OF_KEPT, f"referrer of kept {subject}")
            elif fresh(digest):
                kept[digest] = (
                    Reason.NOT_EXPIRED,
                    f"{pushed(digest)}, not expired (cutoff {_day(cutoff)}); "
                    f"its subject {subject} is deleted",
                )
            elif _class_of(record) == "artifact" and not include_artifacts:
                kept[digest] = (
                    Reason.ARTIFACT,
                    f"artifact ({record.artifact_media_type}) never deleted; "
                    f"its subject {subject} is deleted",
                )
            else:
                continue
            keep_from([digest], subjects_of_roots=False)
            changed = True

    # 6. Everything else goes.
    result: dict[str, tuple[Action, Reason, str]] = {}
    for digest in graph.order:
        if digest in kept:
            reason, detail = kept[digest]
            result[digest] = (Action.KEEP, reason, detail)
            continue
        subject = graph.subject[digest]
        when = f"{pushed(digest)}, cutoff {_day(cutoff)}"
        if digest in archived_expired:
            result[digest] = (Action.DELETE, Reason.ARCHIVED_EXPIRED, archived_expired[digest])
        elif subject is None:
            result[digest] = (Action.DELETE, Reason.EXPIRED, f"expired, not in use ({when})")
        else:
            result[digest] = (
                Action.DELETE,
                Reason.REFERRER_OF_DELETED,
                f"referrer of deleted {subject}, itself expired ({when})",
            )
    return result


def enforce_safety(
    decisions: Sequence[ImageDecision],
    usage: RepositoryUsage,
    rule: KeepRule,
    protection: Protection | None = None,
) -> tuple[list[ImageDecision], list[str]]:
    """Turn back into KEEP any DELETE that would remove an image in use (by digest or
    tag, or as the subject of a referrer), with a tag matching keep_tag_patterns, of
    a repository an unreadable in-use reference names, a child (or, for a kept index
    whose children are unknown, a possible child) of a kept index, a referrer of a
    kept subject, or the subject of a referrer kept other than on its own (age,
    artifact); repeat until nothing changes.

    Returns the corrected decisions (same order) and one line per correction.
    :func:`plan_repository` runs it last; on a correct plan it changes nothing.
    """
    result = list(decisions)
    parents: dict[str, list[str]] = {}
    for decision in result:
        for child in decision.manifests:
            if child != decision.digest:
                parents.setdefault(child, []).append(decision.digest)

    unreadable = _unreadable(usage)
    corrections: list[str] = []
    changed = True
    while changed:
        changed = False
        kept = {d.digest for d in result if d.action is Action.KEEP}
        keeps_its_subject = {
            d.digest
            for d in result
            if d.action is Action.KEEP and d.reason not in _KEEPS_ONLY_ITSELF
        }
        for i, decision in enumerate(result):
            if decision.action is not Action.DELETE:
                continue
            named = digests_named_by_tags(decision.tags, decision.digest)
            if decision.subject:
                named.add(decision.subject)
            found = (
                ((Reason.UNREADABLE_REFERENCE, unreadable) if unreadable else None)
                or _in_use(decision.digest, decision.tags, usage)
                or _subject_in_use(sorted(named), usage)
                or _protected_tag(decision.tags, protection or Protection())
                or _keep_tag(decision.tags, rule)
            )
            if found is None:
                kept_parent = next((p for p in parents.get(decision.digest, ()) if p in kept), None)
                possible_parent = next(
                    (
                        d.digest
                        for d in result
                        if d.children_unknown
                        and d.digest in kept
                        and d.digest != decision.digest
                        and _utc(decision.pushed_at) <= _utc(d.pushed_at)
                    ),
                    None,
                )
                if kept_parent is not None:
                    found = (Reason.CHILD_OF_KEPT_INDEX, f"child of kept index {kept_parent}")
                elif possible_parent is not None:
                    found = (
                        Reason.POSSIBLE_CHILD_OF_KEPT_INDEX,
                        _possible_child(possible_parent, "no manifest"),
                    )
                elif decision.subject in kept:
                    found = (Reason.REFERRER_OF_KEPT, f"referrer of kept {decision.subject}")
                else:
                    kept_referrer = next(
                        (
                            d.digest
                            for d in result
                            if d.subject == decision.digest and d.digest in keeps_its_subject
                        ),
                        None,
                    )
                    if kept_referrer is not None:
                        found = (
                            Reason.SUBJECT_OF_KEPT_REFERRER,
                            f"subject of kept referrer {kept_referrer}",
                        )
            if found is None:
                continue
            reason, detail = found
            corrections.append(f"{decision.digest}: {decision.reason} -> keep ({reason}: {detail})")
            result[i] = decision.model_copy(
                update={
                    "action": Action.KEEP,
                    "reason": reason,
                    "detail": SAFETY_GUARD_PREFIX + detail,
                }
            )
            kept.add(decision.digest)
            keeps_its_subject.add(decision.digest)
            changed = True
    return result, corrections


def plan_repository(
    repository: str,
    images: Sequence[ImageRecord],
    rule: KeepRule,
    usage: RepositoryUsage,
    now: datetime,
    protection: Protection | None = None,
) -> RepositoryPlan:
    """Decide keep or delete for every image of ``repository``."""
    protection = protection or Protection()
    now = _utc(now)
    cutoff = now - rule.expires_after
    records = _merge_duplicates(images)
    graph = _Graph(records)
    verdicts = _decide(graph, rule, usage, cutoff, now, protection)

    decisions = []
    for digest in graph.order:
        record = records[digest]
        action, reason, detail = verdicts[digest]
        decisions.append(
            ImageDecision(
                digest=digest,
                tags=record.tags,
                kind=graph.kind(digest),
                size_bytes=record.size_bytes,
                pushed_at=_utc(record.pushed_at),
                action=action,
                reason=reason,
                detail=detail,
                subject=graph.decision_subject(digest),
                manifests=record.manifests,
                is_index=record.is_index,
                children_unknown=bool(record.children_unknown),
                archived=record.status != ACTIVE,
            )
        )
    decisions, corrections = enforce_safety(decisions, usage, rule, protection)
    return RepositoryPlan(
        repository=repository,
        rule=rule.label,
        now=now,
        cutoff=cutoff,
        decisions=decisions,
        safety_corrections=corrections,
        could_delete=sum(1 for record in records.values() if could_delete(record, rule)),
    )
