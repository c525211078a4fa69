"""ecrm compatibility, case by case, written from ecrm's documented behaviour: the
rules a differential run against ecrm found broken (index counter, cutoff,
durations, tag lengths) and the rule matching (first match wins, `*` and `?`,
`/` ordinary), against the pure config and policy code."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from ecr_sweeper.core.config import Config, load_config, parse_duration
from ecr_sweeper.core.images import ImageRecord
from ecr_sweeper.core.in_use import InUseBuilder
from ecr_sweeper.core.policy import Action, RepositoryPlan, plan_repository
from ecr_sweeper.errors import ConfigError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ACCOUNT, REGION = "123456789012", "eu-west-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
INDEX = "application/vnd.oci.image.index.v1+json"


def dg(n: int) -> str:
    return f"sha256:{n:064x}"


def img(n: int, age: timedelta, *tags: str, **fields) -> ImageRecord:
    return ImageRecord(digest=dg(n), tags=tags, pushed_at=NOW - age, **fields)


def plan(rule_yaml: str, images: list[ImageRecord], in_use: tuple[str, ...] = ()) -> RepositoryPlan:
    config = load_config(f"repositories:\n  - {rule_yaml}\n")
    rule = config.rule_for_repository("app")
    assert rule is not None
    builder = InUseBuilder(ACCOUNT, REGION)
    for uri in in_use:
        builder.add(uri, "test", "in_use_lists")
    return plan_repository("app", images, rule, builder.build().usage_for("app"), NOW)


def deleted(result: RepositoryPlan) -> set[int]:
    return {int(d.digest[7:], 16) for d in result.decisions if d.action is Action.DELETE}


DAY = timedelta(days=1)

# ---------------------------------------------------------------------------------------------
# keep_count: images and image indexes each have their own counter
# ---------------------------------------------------------------------------------------------

KEEP_COUNT_CASES = [
    pytest.param(
        1,
        [
            img(1, 40 * DAY, "i2", media_type=INDEX),
            img(2, 50 * DAY, "b2"),
            img(3, 60 * DAY, "i1", media_type=INDEX),
            img(4, 70 * DAY, "b1"),
        ],
        {3, 4},
        id="one-of-each-kind",
    ),
    pytest.param(
        2,
        [
            img(1, 40 * DAY, "i3", media_type=INDEX),
            img(2, 41 * DAY, "i2", media_type=INDEX),
            img(3, 42 * DAY, "i1", media_type=INDEX),
            img(4, 43 * DAY, "b1"),
        ],
        {3},
        id="indexes-do-not-use-up-image-slots",
    ),
    pytest.param(
        1,
        [
            img(1, 40 * DAY, media_type=INDEX),  # untagged: never a slot
            img(2, 41 * DAY, "i1", media_type=INDEX),
            img(3, 42 * DAY),
            img(4, 43 * DAY, "b1"),
        ],
        {1, 3},
        id="untagged-never-count",
    ),
    pytest.param(
        1,
        [
            img(1, 40 * DAY, "i1", media_type=INDEX, manifests=(dg(2), dg(3))),
            img(2, 40 * DAY, "amd64"),  # a tagged child of a kept index takes no slot
            img(3, 40 * DAY),
            img(4, 50 * DAY, "b1"),
            img(5, 60 * DAY, "b0"),
        ],
        {5},
        id="children-of-kept-indexes",
    ),
    pytest.param(
        0,
        [img(1, 40 * DAY, "i1", media_type=INDEX), img(2, 41 * DAY, "b1")],
        {1, 2},
        id="zero",
    ),
]


@pytest.mark.parametrize(("keep_count", "images", "expected"), KEEP_COUNT_CASES)
def test_keep_count(keep_count: int, images: list[ImageRecord], expected: set[int]) -> None:
    rule = f"{{name: app, expires: 30d, keep_count: {keep_count}, keep_tag_patterns: []}}"
    assert deleted(plan(rule, images)) == expected


# ---------------------------------------------------------------------------------------------
# The cutoff: expired means pushed strictly before now - expires
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "age", "is_deleted"),
    [
        ("30d", 30 * DAY, False),
        ("30d", 30 * DAY + timedelta(microseconds=1), True),
        ("30d", 30 * DAY - timedelta(microseconds=1), False),
        ("1h", timedelta(hours=1), False),
        ("1h", timedelta(hours=1, seconds=1), True),
        ("1500ms", timedelta(milliseconds=1500), False),
        ("1500ms", timedelta(milliseconds=1501), True),
        # Python has microseconds: 1ns is rounded up, so the cutoff is never later than
        # ecrm's; an image pushed between the two is kept.
        ("1ns", timedelta(microseconds=1), False),
        ("1ns", timedelta(microseconds=2), True),
        ("1001ns", timedelta(microseconds=2), False),
    ],
)
def test_cutoff(expires: str, age: timedelta, is_deleted: bool) -> None:
    rule = f"{{name: app, expires: '{expires}', keep_tag_patterns: []}}"
    assert deleted(plan(rule, [img(1, age, "v1")])) == ({1} if is_deleted else set())


# ---------------------------------------------------------------------------------------------
# Durations: ecrm's units and sign rules
# ---------------------------------------------------------------------------------------------

UNIT_SPELLINGS = {  # nanoseconds per unit
    1: ["ns", "nsec", "nanosecond", "nanoseconds"],
    10**3: ["us", "usec", "microsecond", "microseconds"],
    10**6: ["ms", "msec", "millisecond", "milliseconds"],
    10**9: ["s", "sec", "second", "seconds"],
    60 * 10**9: ["m", "min", "minute", "minutes"],
    3600 * 10**9: ["h", "hour", "hours"],
    86400 * 10**9: ["d", "day", "days"],
    7 * 86400 * 10**9: ["w", "week", "weeks"],
}


@pytest.mark.parametrize(
    ("unit", "ns"), [(u, ns) for ns, units in UNIT_SPELLINGS.items() for u in units]
)
def test_every_unit_ecrm_accepts(unit: str, ns: int) -> None:
    # 3000 of anything is a whole number of microseconds
    expected = timedelta(microseconds=3000 * ns // 1000)
    assert parse_duration(f"3000{unit}") == expected
    assert parse_duration(f"3000 {unit.upper()}") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90days", 90 * DAY),
        ("30 days", 30 * DAY),
        ("1d12h", 1.5 * DAY),
        (" 1 d 1 2 h ", 1.5 * DAY),  # every space is ignored, even inside a number
        ("1d-2h3h", timedelta(hours=19)),  # the minus carries: 1d - 2h - 3h
        ("1d-2h+3h", timedelta(hours=25)),  # until a plus
        ("7day+4days-3days", 8 * DAY),
        ("0.5hour", timedelta(minutes=30)),
        ("4w2d", 30 * DAY),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["1d-24h", "0s", "-1d", "1h-30m-30m", "0.1ns"])
def test_an_expires_ecrm_would_take_as_zero_or_less_is_refused(text: str) -> None:
    """ecrm would expire every image at once; we refuse, naming the rule."""
    with pytest.raises(ConfigError, match="comes to zero or less") as info:
        load_config(f"repositories: [{{name: app, expires: '{text}'}}]")
    assert "repositories[0].expires" in str(info.value)
    assert "name=app" in str(info.value)


# ---------------------------------------------------------------------------------------------
# Tags are compared whatever their length (ECR allows 300 characters)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [1, 127, 128, 129, 200, 255, 300])
def test_a_tag_in_use_protects_its_image_whatever_its_length(length: int) -> None:
    tag = "v" * length
    images = [img(1, 400 * DAY, tag), img(2, 400 * DAY, "other")]
    rule = "{name: app, expires: 30d, keep_tag_patterns: []}"
    assert deleted(plan(rule, images, in_use=(f"{REGISTRY}/app:{tag}",))) == {2}


@pytest.mark.parametrize("length", [128, 129, 300])
def test_keep_tag_patterns_match_long_tags(length: int) -> None:
    tag = "release-" + "x" * (length - 8)
    rule = "{name: app, expires: 30d, keep_tag_patterns: ['release-*']}"
    assert deleted(plan(rule, [img(1, 400 * DAY, tag)])) == set()


# ---------------------------------------------------------------------------------------------
# Rule matching: first match wins; `name` literal, `name_pattern` with `*` and `?`
# ---------------------------------------------------------------------------------------------

RULES = """
repositories:
  - {name: "team/app*", expires: 1d}
  - {name_pattern: "team/*/api", expires: 2d}
  - {name_pattern: "team/*", expires: 3d}
  - {name_pattern: "svc-??", expires: 4d}
  - {name_pattern: "*-prod", expires: 5d}
  - {name_pattern: "*", expires: 6d}
"""


@pytest.mark.parametrize(
    ("repository", "expires"),
    [
        ("team/app*", "1d"),  # `name` is literal: `*` is just a character
        ("team/app", "3d"),
        ("team/x/api", "2d"),  # `*` crosses `/`
        ("team/x/y/api", "2d"),
        ("team/api", "3d"),
        ("svc-01", "4d"),
        ("svc-1", "6d"),  # `?` is exactly one character
        ("svc-123", "6d"),
        ("svc-/1", "4d"),  # `/` is an ordinary character for `?` too
        ("team/x-prod", "3d"),  # first match wins
        ("a-prod", "5d"),
        ("Team/app", "6d"),  # case-sensitive
        ("", "6d"),
    ],
)
def test_the_first_matching_rule_wins(repository: str, expires: str) -> None:
    config = load_config(textwrap.dedent(RULES))
    rule = config.rule_for_repository(repository)
    assert rule is not None and rule.expires == expires


def test_a_repository_no_rule_matches_is_never_touched() -> None:
    config: Config = load_config("repositories: [{name_pattern: 'prod-*', expires: 1d}]")
    assert config.rule_for_repository("dev-app") is None
    assert config.rule_for_repository("prod-") is not None
