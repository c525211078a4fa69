"""Property tests of the keep/delete decision: the safety guarantees hold for
any repository, usage set and rule, including odd graphs (shared children,
cycles, missing subjects, duplicate digests, colliding tags)."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_sweeper.core.images import ImageRecord
from ecr_sweeper.core.in_use import RepositoryUsage
from ecr_sweeper.core.policy import (
    Action,
    Reason,
    RepositoryPlan,
    enforce_safety,
    plan_repository,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ARTIFACT_TYPES = [
    None,
    None,
    None,
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.cncf.helm.config.v1+json",
    "application/vnd.amazon.soci.index.v2+json",
    "application/vnd.dev.cosign.artifact.sig.v1+json",
]
MAX_ID = 24  # digests 1..MAX_ID exist or not; references may point beyond


@dataclass(frozen=True)
class Rule:
    label: str
    expires_after: timedelta
    keep_count: int
    keep_tag_patterns: tuple[str, ...]

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


def cosign_tag(n: int, suffix: str) -> str:
    return f"sha256-{n:064x}{suffix}"


TAGS = ["latest", "v1", "v2", "prod", "a", "b", "rc-1"]
MISSING = [MAX_ID + 1, MAX_ID + 2]  # ids of images not in the repository


@st.composite
def image(draw, n: int, present: list[int]) -> ImageRecord:
    # References mostly point at images of the repository, sometimes elsewhere.
    refs = st.sampled_from(present + MISSING)
    tags = draw(
        st.lists(
            st.one_of(
                st.sampled_from(TAGS),
                st.sampled_from(TAGS),
                st.sampled_from(TAGS),
                st.builds(cosign_tag, refs, st.sampled_from([".sig", ".att", ".sbom", ""])),
            ),
            max_size=3,
            unique=True,
        )
    )
    is_index = draw(st.integers(0, 3)) == 0
    children = draw(st.lists(refs, max_size=4, unique=True)) if is_index else []
    subject = draw(st.one_of(st.none(), st.none(), st.none(), refs))
    # whole days, plus times exactly at and just after a 30-day cutoff
    age = draw(
        st.one_of(
            st.integers(0, 120).map(lambda d: timedelta(days=d)),
            st.sampled_from([timedelta(days=30), timedelta(days=30, seconds=-1)]),
        )
    )
    return ImageRecord(
        digest=dg(n),
        tags=tuple(tags),
        pushed_at=NOW - age,
        size_bytes=draw(st.integers(0, 10**9)),
        media_type=INDEX if is_index else MANIFEST,
        artifact_media_type=draw(st.sampled_from(ARTIFACT_TYPES)),
        manifests=tuple(dg(c) for c in children),
        subject=dg(subject) if subject is not None else None,
        status=draw(st.sampled_from(["ACTIVE"] * 8 + ["ARCHIVED"])),
    )


@st.composite
def repository(draw) -> list[ImageRecord]:
    # Duplicates in the list of ids give duplicate digests (treated as one image).
    numbers = draw(st.lists(st.integers(1, MAX_ID), max_size=20))
    present = sorted(set(numbers)) or [1]
    return [draw(image(n, present)) for n in numbers]


repositories = repository()
ids = st.integers(1, MAX_ID + 2)
usages = st.builds(
    lambda digests, tags: RepositoryUsage(
        digests={dg(d): ["ecs:task/prod/x"] for d in digests},
        tags={t: ["lambda:fn:1"] for t in tags},
    ),
    st.lists(ids, max_size=4),
    st.lists(st.sampled_from(TAGS), max_size=2),
)
rules = st.builds(
    Rule,
    label=st.just("rule"),
    expires_after=st.integers(0, 60).map(lambda d: timedelta(days=d)),
    keep_count=st.integers(-1, 4),
    keep_tag_patterns=st.lists(
        st.sampled_from(["latest", "v*", "p?od", "rc-?", "*"]), max_size=2
    ).map(tuple),
)

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(plan: RepositoryPlan, images, usage: RepositoryUsage, rule: Rule) -> None:
    decisions = {d.digest: d for d in plan.decisions}
    kept = {d for d, x in decisions.items() if x.action is Action.KEEP}
    deleted = {d for d, x in decisions.items() if x.action is Action.DELETE}

    # (d) every image gets exactly one decision
    assert len(plan.decisions) == len(decisions) == len({i.digest for i in images})
    assert set(decisions) == {i.digest for i in images}
    assert kept | deleted == set(decisions) and not kept & deleted

    # the safety pass never had anything to correct, and agrees now
    assert plan.safety_corrections == []
    _, corrections = enforce_safety(plan.decisions, usage, rule)
    assert corrections == []

    for digest in deleted:
        decision = decisions[digest]
        # (a) nothing in use, by digest or by tag, is deleted; nor a protected tag
        assert digest not in usage.digests
        assert not any(t in usage.tags for t in decision.tags)
        assert not any(rule.keeps_tag(t) for t in decision.tags)
        # (c) no referrer of a kept subject is deleted
        assert decision.subject not in kept
        # (e) deleted only when pushed strictly before the cutoff, a referrer included
        assert decision.reason in (Reason.EXPIRED, Reason.REFERRER_OF_DELETED)
        assert decision.pushed_at < plan.cutoff
        if decision.reason is Reason.REFERRER_OF_DELETED:
            assert decision.subject in deleted

    # (b) no child of a kept image (index) is deleted;
    # (c') no subject of a kept referrer is deleted, unless the referrer is kept only
    # on its own account, as ecrm would keep it (not expired, an artifact)
    for digest in kept:
        for child in decisions[digest].manifests:
            assert child not in deleted
        if decisions[digest].reason not in (Reason.NOT_EXPIRED, Reason.ARTIFACT):
            assert decisions[digest].subject not in deleted

    # keep_count slots are 1..n, n <= keep_count, newest first, only tagged expired
    # images; image indexes (and artifacts) count on their own
    for suffix in ("", " (image indexes)", " (artifacts)"):
        slots = [
            d
            for d in plan.decisions
            if d.reason is Reason.KEEP_COUNT and d.detail.endswith(f"{rule.keep_count}{suffix}")
        ]
        assert len(slots) <= max(0, rule.keep_count)
        for number, decision in enumerate(slots, start=1):
            assert decision.detail == f"keep_count slot {number} of {rule.keep_count}{suffix}"
            assert decision.tags
            assert decision.is_index == (suffix == " (image indexes)")
            assert decision.pushed_at < plan.cutoff
    assert all(
        d.detail.startswith("keep_count slot ")
        for d in plan.decisions
        if d.reason is Reason.KEEP_COUNT
    )

    # to_delete lists exactly the deleted images, parents before children and
    # referrers before subjects (whenever the deleted graph has no cycle)
    order = plan.to_delete()
    assert sorted(order) == sorted(deleted)
    edges = set()
    for digest in deleted:
        decision = decisions[digest]
        edges |= {(digest, c) for c in decision.manifests if c in deleted and c != digest}
        if decision.subject in deleted and decision.subject != digest:
            edges.add((digest, decision.subject))
    if not _has_cycle(edges):
        position = {d: i for i, d in enumerate(order)}
        assert all(position[a] < position[b] for a, b in edges)


def _has_cycle(edges: set[tuple[str, str]]) -> bool:
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1 or (nxt not in state and visit(nxt)):
                return True
        state[node] = 2
        return False

    return any(node not in state and visit(node) for node in list(graph))


@SETTINGS
@given(images=repositories, usage=usages, rule=rules)
def test_safety_properties(images, usage, rule):
    plan = plan_repository("repo", images, rule, usage, NOW)
    _check(plan, images, usage, rule)


@SETTINGS
@given(images=repositories, usage=usages, rule=rules, data=st.data())
def test_deterministic_regardless_of_input_order(images, usage, rule, data):
    shuffled = data.draw(st.permutations(images))
    one = plan_repository("repo", images, rule, usage, NOW)
    two = plan_repository("repo", shuffled, rule, usage, NOW)
    assert one.model_dump_json() == two.model_dump_json()
    assert one.to_delete() == two.to_delete()


@SETTINGS
@given(images=repositories, usage=usages, rule=rules)
def test_more_usage_never_deletes_more(images, usage, rule):
    """Adding references to the in-use set can only turn deletes into keeps."""
    extra = RepositoryUsage(
        digests={**usage.digests, **{i.digest: ["x"] for i in images[:2]}},
        tags={**usage.tags, "v1": ["y"]},
    )
    before = plan_repository("repo", images, rule, usage, NOW)
    after = plan_repository("repo", images, rule, extra, NOW)
    _check(after, images, extra, rule)
    deleted_before = {d.digest for d in before.deleted()}
    deleted_after = {d.digest for d in after.deleted()}
    # keep_count slots freed by newly in-use images may keep others: never fewer keeps
    assert deleted_after <= deleted_before
