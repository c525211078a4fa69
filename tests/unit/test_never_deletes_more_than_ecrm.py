"""Property: on random accounts restricted to what ecrm knows (images, image indexes,
tags of any shape and length, artifacts, in-use image URIs, repository rules), every
image ecr-sweeper's plans delete, ecrm would delete too.

`ecrm_deletes` below is a plain model of ecrm's rules, written from its documented
behaviour, not from the product's code: the first matching rule, its duration read
term by term with a carried sign, images newest first, exact string matching of
in-use URIs, the rules in order with one keep_count counter for images and one for
image indexes, the children of kept indexes kept, artifacts never deleted.

The one difference allowed is one the user writes explicitly, documented in
docs/config.md ("Differences from ecrm"): `keep_tag_patterns: []` is honoured as
written, where ecrm would use `[latest]`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from functools import partial

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from ecr_sweeper.core.config import load_config
from ecr_sweeper.core.images import ImageRecord
from ecr_sweeper.core.in_use import InUseBuilder
from ecr_sweeper.core.policy import plan_repository
from ecr_sweeper.errors import SourceReadError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ACCOUNT, REGION = "123456789012", "eu-west-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
COSIGN = "application/vnd.dev.cosign.artifact.sig.v1+json"
HELM = "application/vnd.cncf.helm.config.v1+json"

REPOSITORIES = ["app", "app/web", "team-a/api", "sigs"]
PATTERNS = ["*", "app*", "app/*", "?pp", "team-?/*", "s*s", "*/api"]
KEEP_PATTERNS = ["latest", "v*", "release-?", "*-prod", "*"]
TAGS = ["latest", "v1", "v2", "release-1", "x-prod", "dev", "r" * 150, "t" * 300]
DURATIONS = ["30d", "30 days", "720h", "2592000000msec", "4w2d", "1d-2h3h", "1.5d", "31d-12h12h"]
DAY = 86400
# Ages (seconds before now) exactly at, and a second either side of, the cutoffs above.
EDGES = [s + e for s in (30 * DAY, 19 * 3600, 36 * 3600) for e in (-1, 0, 1)]


def digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


@dataclass
class Image:
    digest: str
    age: int  # seconds before now
    tags: list[str] = field(default_factory=list)
    media_type: str = MANIFEST
    artifact_media_type: str | None = None
    manifests: list[str] = field(default_factory=list)
    subject: str | None = None

    def record(self) -> ImageRecord:
        return ImageRecord(
            digest=self.digest,
            tags=tuple(self.tags),
            pushed_at=NOW - timedelta(seconds=self.age),
            media_type=self.media_type,
            artifact_media_type=self.artifact_media_type,
            manifests=tuple(self.manifests),
            subject=self.subject,
        )


@dataclass
class Account:
    repositories: dict[str, list[Image]]
    rules: list[dict]
    in_use: list[str]

    def config_text(self) -> str:
        return "repositories:\n" + "".join(f"  - {json.dumps(rule)}\n" for rule in self.rules)


# ---------------------------------------------------------------------------------------------
# The model of ecrm
# ---------------------------------------------------------------------------------------------

UNIT_SECONDS = {
    **dict.fromkeys(["ns", "nsec", "nanosecond", "nanoseconds"], Fraction(1, 10**9)),
    **dict.fromkeys(["us", "usec", "microsecond", "microseconds"], Fraction(1, 10**6)),
    **dict.fromkeys(["ms", "msec", "millisecond", "milliseconds"], Fraction(1, 10**3)),
    **dict.fromkeys(["s", "sec", "second", "seconds"], Fraction(1)),
    **dict.fromkeys(["m", "min", "minute", "minutes"], Fraction(60)),
    **dict.fromkeys(["h", "hour", "hours"], Fraction(3600)),
    **dict.fromkeys(["d", "day", "days"], Fraction(DAY)),
    **dict.fromkeys(["w", "week", "weeks"], Fraction(7 * DAY)),
}


def ecrm_duration(text: str) -> Fraction:
    """Seconds. Spaces ignored, case ignored, terms add up, a sign carries to the
    terms after it (`1d-2h3h` is 19 hours)."""
    total, negative = Fraction(0), False
    for sign, number, unit in re.findall(
        r"([+-]*)([0-9.]+)([a-z]+)", text.replace(" ", "").lower()
    ):
        if sign:
            negative = sign[-1] == "-"
        value = Fraction(number) * UNIT_SECONDS[unit]
        total += -value if negative else value
    return total


def wildcard(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def ecrm_kind(image: Image) -> str:
    if image.media_type == INDEX:
        return "index"
    if image.artifact_media_type in (None, IMAGE_CONFIG):
        return "image"
    return "artifact"  # never deleted


def _kept_before_counting(
    image: Image, repository: str, patterns: list[str], expires: Fraction, in_use: set[str]
) -> bool:
    """ecrm's steps 1 to 3: in use by digest, a kept tag or a tag in use, not expired."""
    return (
        f"{REGISTRY}/{repository}@{image.digest}" in in_use
        or any(wildcard(p, t) for p in patterns for t in image.tags)
        or any(f"{REGISTRY}/{repository}:{t}" in in_use for t in image.tags)
        or image.age <= expires  # expired means pushed strictly before now - expires
    )


def ecrm_deletes(account: Account, *, honour_explicit_empty_patterns: bool) -> set[tuple[str, str]]:
    in_use = set(account.in_use)
    deleted: set[tuple[str, str]] = set()
    for repository, images in account.repositories.items():
        rule = next(
            (
                r
                for r in account.rules
                if ("name" in r and r["name"] == repository)
                or ("name_pattern" in r and wildcard(r["name_pattern"], repository))
            ),
            None,
        )
        if rule is None:
            continue  # never touched
        patterns = rule.get("keep_tag_patterns")
        if not patterns and not (honour_explicit_empty_patterns and patterns == []):
            patterns = ["latest"]
        keep_count = rule.get("keep_count", 0)
        expires = ecrm_duration(rule["expires"])

        kept_before_counting = partial(
            _kept_before_counting,
            repository=repository,
            patterns=patterns,
            expires=expires,
            in_use=in_use,
        )

        newest_first = sorted(images, key=lambda i: i.age)
        kept_indexes: set[str] = set()
        counter = 0
        for image in (i for i in newest_first if ecrm_kind(i) == "index"):
            if kept_before_counting(image):
                kept_indexes.add(image.digest)
            elif image.tags:
                counter += 1
                if counter <= keep_count:
                    kept_indexes.add(image.digest)
        children = {c for i in images if i.digest in kept_indexes for c in i.manifests}
        counter = 0
        for image in newest_first:
            kind = ecrm_kind(image)
            if kind == "index":
                if image.digest not in kept_indexes:
                    deleted.add((repository, image.digest))
                continue
            if kind == "artifact" or image.digest in children or kept_before_counting(image):
                continue
            if image.tags:
                counter += 1
                if counter <= keep_count:
                    continue
            deleted.add((repository, image.digest))
    return deleted


# ---------------------------------------------------------------------------------------------
# The product
# ---------------------------------------------------------------------------------------------


def sweeper_deletes(account: Account) -> set[tuple[str, str]]:
    config = load_config(account.config_text())
    builder = InUseBuilder(ACCOUNT, REGION)
    try:
        for uri in account.in_use:
            builder.add(uri, "in-use list", "in_use_lists")
    except SourceReadError:
        return set()  # the scan fails: the run deletes nothing
    in_use = builder.build()
    deleted: set[tuple[str, str]] = set()
    for repository, images in account.repositories.items():
        rule = config.rule_for_repository(repository)
        if rule is None:
            continue
        plan = plan_repository(
            repository, [i.record() for i in images], rule, in_use.usage_for(repository), NOW
        )
        deleted |= {(repository, d.digest) for d in plan.deleted()}
    return deleted


# ---------------------------------------------------------------------------------------------
# Random accounts
# ---------------------------------------------------------------------------------------------

MISSING = digest("never-pushed")


def one_in(draw: st.DrawFn, n: int) -> bool:
    return draw(st.integers(0, n - 1)) == 0


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    names = draw(st.lists(st.sampled_from(REPOSITORIES), min_size=1, max_size=3, unique=True))
    sizes = {name: draw(st.integers(0, 8)) for name in names}
    digests = {name: [digest(f"{name}#{i}") for i in range(n)] for name, n in sizes.items()}
    everywhere = [d for ds in digests.values() for d in ds] + [MISSING]

    repositories: dict[str, list[Image]] = {}
    for name in names:
        ages = draw(
            st.lists(
                st.one_of(st.integers(0, 90 * DAY), st.sampled_from(EDGES)),
                min_size=sizes[name],
                max_size=sizes[name],
                unique=True,  # no ties in push time: the order is the same for both
            )
        )
        images = []
        seen_tags: set[str] = set()
        # A subject is mostly an image of the same repository, sometimes of another, a
        # missing one or the image itself.
        subjects = st.one_of(
            st.sampled_from(digests[name] or [MISSING]), st.sampled_from(everywhere)
        )
        for i, (own, age) in enumerate(zip(digests[name], ages, strict=True)):
            image = Image(digest=own, age=age)
            referrer_tag = st.builds(
                lambda d, suffix: d.replace("sha256:", "sha256-") + suffix,
                st.one_of(subjects, st.just(own)),
                st.sampled_from(["", ".sig", ".att", ".sbom"]),
            )
            shape = draw(st.sampled_from(["none"] * 3 + ["plain"] * 2 + ["referrer", "mixed"]))
            tags = {
                "none": st.just([]),
                "plain": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
                "referrer": referrer_tag.map(lambda t: [t]),  # a cosign signature, ...
                "mixed": st.tuples(st.sampled_from(TAGS), referrer_tag).map(list),
            }[shape]
            image.tags = [t for t in dict.fromkeys(draw(tags)) if t not in seen_tags]
            seen_tags.update(image.tags)
            kind = draw(st.sampled_from(["image"] * 5 + ["index", "referrer", "artifact"]))
            later = digests[name][i + 1 :]
            if kind == "index" and later:
                image.media_type = INDEX
                image.manifests = draw(st.lists(st.sampled_from(later), max_size=3, unique=True))
            elif kind == "referrer":
                image.subject = draw(subjects)
                image.artifact_media_type = draw(st.sampled_from([COSIGN, IMAGE_CONFIG]))
            elif kind == "artifact":
                image.artifact_media_type = HELM
            elif draw(st.booleans()):
                image.artifact_media_type = IMAGE_CONFIG
            images.append(image)
        # Signatures, as signing tools push them: mostly just after their image,
        # sometimes long after (signed again) or before (clock skew).
        used_ages = set(ages)
        for signed in list(images):
            if one_in(draw, 3):
                continue
            age = signed.age + draw(st.sampled_from([-60, -60, -1, 1, -10 * DAY, 40 * DAY]))
            if age < 0 or age in used_ages:
                continue
            used_ages.add(age)
            signature = Image(digest=digest(f"{signed.digest}.sig"), age=age)
            if draw(st.booleans()):  # cosign's tag scheme
                tag = signed.digest.replace("sha256:", "sha256-") + ".sig"
                signature.tags = [] if tag in seen_tags else [tag]
                seen_tags.update(signature.tags)
            else:  # an OCI referrer
                signature.subject = signed.digest
                signature.artifact_media_type = draw(st.sampled_from([COSIGN, IMAGE_CONFIG]))
            images.append(signature)
        repositories[name] = images

    rule = st.fixed_dictionaries(
        {
            "expires": st.sampled_from(DURATIONS),
            "keep_count": st.sampled_from([0, 1, 1, 2, 3]),
        },
        optional={"keep_tag_patterns": st.lists(st.sampled_from(KEEP_PATTERNS), max_size=2)},
    )
    selector = st.one_of(
        st.sampled_from(REPOSITORIES).map(lambda n: {"name": n}),
        st.sampled_from(PATTERNS).map(lambda p: {"name_pattern": p}),
    )
    rules = draw(
        st.lists(st.tuples(selector, rule).map(lambda t: {**t[0], **t[1]}), min_size=1, max_size=3)
    )
    if one_in(draw, 4):  # keep_count left out: ecrm's default, 0
        for entry in rules:
            del entry["keep_count"]

    def reference(repository: str) -> st.SearchStrategy[str]:
        images = repositories.get(repository, [])
        tags = [t for i in images for t in i.tags] or ["latest"]
        own = [i.digest for i in images] or [MISSING]
        base = f"{REGISTRY}/{repository}"
        return st.one_of(
            # the forms ecrm matches, as exact strings
            st.sampled_from(tags).map(lambda t: f"{base}:{t}"),
            st.sampled_from(everywhere).map(lambda d: f"{base}@{d}"),
            # forms only ecr-sweeper understands
            st.just(base),
            st.tuples(st.sampled_from(tags), st.sampled_from(own)).map(
                lambda t: f"{base}:{t[0]}@{t[1]}"
            ),
            st.sampled_from(tags).map(lambda t: f"{REGISTRY.upper()}:443/{repository}:{t}"),
            # another registry
            st.sampled_from(tags).map(lambda t: f"210987654321{base[12:]}:{t}"),
        )

    in_use = draw(st.lists(st.sampled_from(REPOSITORIES).flatmap(reference), max_size=5))
    # Rarely, references no parser can read: they keep a whole repository, or, naming
    # no repository, fail the scan (nothing deleted).
    if one_in(draw, 10):
        repository = draw(st.sampled_from(REPOSITORIES))
        in_use.append(
            draw(
                st.sampled_from(
                    [f"{REGISTRY}/{repository}:{'x' * 301}", f"{REGISTRY}/{repository}:not a tag"]
                )
            )
        )
    if one_in(draw, 40):
        in_use.append(f"{REGISTRY}/Not A Repository:v1")
    return Account(repositories, rules, in_use)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account=accounts())
def test_every_image_ecr_sweeper_deletes_ecrm_would_delete_too(account: Account) -> None:
    note(account.config_text())
    ours = sweeper_deletes(account)
    ecrm = ecrm_deletes(account, honour_explicit_empty_patterns=True)
    assert ours <= ecrm, f"deleted where ecrm keeps: {sorted(ours - ecrm)}"


def test_the_model_and_the_product_agree_on_a_plain_account() -> None:
    """The property is not vacuous: on a plain account both delete the same images."""
    images = [
        Image(digest("a"), 1 * DAY, ["v3"]),
        Image(digest("b"), 40 * DAY, ["v2"]),
        Image(digest("c"), 50 * DAY, ["v1"]),
        Image(digest("d"), 60 * DAY),
        Image(digest("e"), 70 * DAY, ["latest"]),
        Image(digest("f"), 80 * DAY, ["i1"], media_type=INDEX, manifests=[digest("g")]),
        Image(digest("g"), 80 * DAY),
        Image(digest("h"), 90 * DAY, ["i0"], media_type=INDEX),
        Image(digest("i"), 30 * DAY),  # at the cutoff
    ]
    account = Account(
        {"app": images},
        [{"name": "app", "expires": "31d-12h12h", "keep_count": 1}],  # 30 days
        [f"{REGISTRY}/app:v1"],
    )
    expected = {("app", digest(x)) for x in ("d", "h")}
    assert ecrm_deletes(account, honour_explicit_empty_patterns=False) == expected
    assert sweeper_deletes(account) == expected
