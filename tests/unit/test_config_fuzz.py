"""Property tests: load_config never fails with anything but ConfigError, its messages name a
location, and valid configs survive the JSON snapshot round trip."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_sweeper.core.config import Config, load_config, parse_duration, wildcard_match
from ecr_sweeper.errors import ConfigError

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SECTIONS = ["clusters", "task_definitions", "lambda_functions", "repositories"]
KEYS = [
    *SECTIONS,
    "external_commands",
    "name",
    "name_pattern",
    "expires",
    "keep_count",
    "keep_tag_patterns",
    "keep_aliase",
    "command",
    "env",
    "lambda_funcions",
    "",
]
ROOT_MESSAGES = ("the file is empty", "the top level must be a mapping")
POSITION = re.compile(r" \(line [1-9]\d*, column [1-9]\d*\)$")
LOCATION = re.compile(
    r"^(?:clusters|task_definitions|lambda_functions|repositories|external_commands|accounts)"
    r"(?:\[\d+\](?:\.[a-z_]+(?:\[\d+\])?)?)?: \S"
)


def load_or_error(text: str) -> Config | str:
    """load_config's result, or its ConfigError message; anything else fails the test."""
    try:
        return load_config(text)
    except ConfigError as e:
        message = str(e)
        assert message.strip(), "empty ConfigError message"
        assert "Traceback" not in message
        return message


def assert_lines_name_locations(message: str) -> None:
    for line in message.splitlines():
        assert line.startswith("ecrm.yaml: "), line
        rest = line.removeprefix("ecrm.yaml: ")
        if rest.startswith("invalid YAML") or rest.startswith("the file is empty"):
            continue
        # Every problem of a document that parsed says where it is written.
        assert POSITION.search(rest), f"no line and column in {line!r}"
        if rest.startswith(ROOT_MESSAGES):
            continue
        if ": unknown key at top level (" in rest:
            continue
        assert LOCATION.match(rest), f"no location in {line!r}"


# ---------------------------------------------------------------------------------------------
# (1) arbitrary text
# ---------------------------------------------------------------------------------------------


@FUZZ
@given(st.text())
def test_arbitrary_text_gives_config_or_config_error(text: str) -> None:
    load_or_error(text)


YAML_TOKENS = st.sampled_from(
    [*KEYS, ":", " ", "\n", "  ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ", "!!int ",
     "!!str ", "!!binary ", "!!python/none ", "'", '"', "#", "---\n", "...\n", "? ", "|\n",
     "30days", "1d12h", "-1", "0", "5", "1.5", "true", "null", "~", "2024-13-45", "\t", "%YAML"]
)  # fmt: skip


@FUZZ
@given(st.lists(YAML_TOKENS, max_size=40).map("".join))
def test_yaml_like_token_soup_gives_config_or_config_error(text: str) -> None:
    result = load_or_error(text)
    if isinstance(result, str):
        assert_lines_name_locations(result)


# ---------------------------------------------------------------------------------------------
# (2) YAML-ish nested structures
# ---------------------------------------------------------------------------------------------

junk_keys = st.text(max_size=12)
any_key = st.one_of(st.sampled_from(KEYS), junk_keys, st.integers(-3, 3), st.booleans())
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["30days", "1d12h", "1w 2d", "0d", "30", "30 dayz", "*", "prod*", "latest"]),
)
nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(any_key, children, max_size=5),
    ),
    max_leaves=25,
)


def dump(data: Any, allow_unicode: bool = True) -> str:
    return yaml.safe_dump(data, allow_unicode=allow_unicode, sort_keys=False)


@FUZZ
@given(nested)
def test_nested_structures_give_config_or_located_error(data: Any) -> None:
    result = load_or_error(dump(data))
    if isinstance(result, str):
        assert_lines_name_locations(result)


# Near-valid configs: the real shape, with each field drawn from good and bad values.
field_values = {
    "name": st.one_of(st.text(max_size=8), st.integers(), st.none(), st.lists(st.text())),
    "name_pattern": st.one_of(st.sampled_from(["*", "a?", "x/*", ""]), st.integers(), st.none()),
    "expires": st.one_of(
        st.sampled_from(["30days", "1d", "0d", "-1d", "30", "30 dayz", "", "1w 2d", "1ns"]),
        st.integers(),
        st.floats(allow_nan=False),
        st.lists(st.text(), max_size=2),
    ),
    "keep_count": st.one_of(st.integers(-5, 10), st.booleans(), st.text(max_size=3), st.floats()),
    "keep_tag_patterns": st.one_of(
        st.lists(st.one_of(st.text(max_size=5), st.integers(), st.none()), max_size=3),
        st.text(max_size=5),
        st.none(),
    ),
    "keep_aliase": st.one_of(st.booleans(), st.text(max_size=3)),
    "keep_tags": st.just(["latest"]),
}
entry = st.one_of(
    st.fixed_dictionaries({}, optional=field_values),
    scalars,
)
section_value = st.one_of(st.lists(entry, max_size=4), scalars, st.dictionaries(junk_keys, scalars))
near_valid = st.fixed_dictionaries(
    {},
    optional={
        **{section: section_value for section in SECTIONS},
        "external_commands": st.lists(st.dictionaries(st.sampled_from(["command"]), scalars)),
        "lambda_funcions": st.just([]),
    },
)


@FUZZ
@given(near_valid)
def test_near_valid_configs_give_config_or_located_error(data: dict[str, Any]) -> None:
    result = load_or_error(dump(data))
    if isinstance(result, str):
        assert_lines_name_locations(result)
        # Every problem is reported: one line per offending location at least for the
        # top-level sections that are not lists.
        for section, value in data.items():
            if section in SECTIONS and value is not None and not isinstance(value, list):
                assert f"ecrm.yaml: {section}: must be a list of rules" in result
    else:
        assert isinstance(result, Config)
        assert result.repositories
        assert Config.model_validate(json.loads(json.dumps(result.model_dump(mode="json")))) == (
            result
        )


# ---------------------------------------------------------------------------------------------
# (3) valid configs round-trip
# ---------------------------------------------------------------------------------------------

UNITS = {
    "us": timedelta(microseconds=1),
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "sec": timedelta(seconds=1),
    "second": timedelta(seconds=1),
    "seconds": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "minutes": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "hour": timedelta(hours=1),
    "hours": timedelta(hours=1),
    "d": timedelta(days=1),
    "day": timedelta(days=1),
    "days": timedelta(days=1),
    "w": timedelta(weeks=1),
    "week": timedelta(weeks=1),
    "weeks": timedelta(weeks=1),
}
terms = st.lists(
    st.tuples(st.integers(1, 1000), st.sampled_from(sorted(UNITS)), st.sampled_from(["", " "])),
    min_size=1,
    max_size=4,
)


def duration_text(parts: list[tuple[int, str, str]]) -> str:
    return " ".join(f"{n}{space}{unit}" for n, unit, space in parts)


@FUZZ
@given(terms)
def test_parse_duration_sums_terms(parts: list[tuple[int, str, str]]) -> None:
    expected = sum((n * UNITS[unit] for n, unit, _ in parts), timedelta(0))
    assert parse_duration(duration_text(parts)) == expected


names = st.text(min_size=1, max_size=20)
selector = st.one_of(
    st.fixed_dictionaries({"name": names}), st.fixed_dictionaries({"name_pattern": names})
)
keep_count_rule = st.tuples(
    selector,
    st.fixed_dictionaries(
        {}, optional={"keep_count": st.integers(0, 100), "keep_aliase": st.booleans()}
    ),
).map(lambda t: {**t[0], **t[1]})
repository_rule = st.tuples(
    selector,
    st.fixed_dictionaries(
        {"expires": terms.map(duration_text)},
        optional={
            "keep_count": st.integers(0, 100),
            "keep_tag_patterns": st.lists(names, max_size=4),
        },
    ),
).map(lambda t: {**t[0], **t[1]})
task_definition_rule = keep_count_rule.map(
    lambda d: {k: v for k, v in d.items() if k != "keep_aliase"}
)
valid_config = st.fixed_dictionaries(
    {"repositories": st.lists(repository_rule, min_size=1, max_size=4)},
    optional={
        "clusters": st.lists(selector, max_size=3),
        "task_definitions": st.lists(task_definition_rule, max_size=3),
        "lambda_functions": st.lists(keep_count_rule, max_size=3),
    },
)


@FUZZ
@given(valid_config)
def test_valid_configs_load_and_round_trip(data: dict[str, Any]) -> None:
    # ASCII-only YAML: PyYAML's emitter with allow_unicode turns a NEL (U+0085) into a space.
    config = load_config(dump(data, allow_unicode=False))
    for section in ("clusters", "task_definitions", "lambda_functions"):
        assert (getattr(config, section) is None) is (section not in data)
    assert len(config.repositories or []) == len(data["repositories"])
    for rule, raw in zip(config.repositories or [], data["repositories"], strict=True):
        assert rule.expires == raw["expires"]
        assert rule.expires_after > timedelta(0)
        assert rule.keep_tag_patterns == raw.get("keep_tag_patterns", ["latest"])
        if "name" in raw:
            # A literal name selects the first rule that matches it (maybe an earlier one).
            assert config.rule_for_repository(raw["name"]) is not None

    snapshot = json.dumps(config.model_dump(mode="json"))
    again = Config.model_validate(json.loads(snapshot))
    assert again == config
    assert again.warnings == config.warnings


# ---------------------------------------------------------------------------------------------
# Wildcards agree with a straightforward regex translation
# ---------------------------------------------------------------------------------------------


def reference_match(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


@FUZZ
@given(st.text(alphabet="ab*?/.[]\\", max_size=8), st.text(alphabet="ab*?/.[]\\", max_size=10))
def test_wildcard_match_agrees_with_reference(pattern: str, text: str) -> None:
    assert wildcard_match(pattern, text) is reference_match(pattern, text)
