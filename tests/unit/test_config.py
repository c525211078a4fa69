"""ecrm.yaml: accepted forms, error messages, JSON round trip, and the `validate` command."""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path

import pydantic
import pytest
from click.testing import CliRunner

from ecr_sweeper.cli import main
from ecr_sweeper.core.config import (
    NOTHING_RUNNING_WARNING,
    ClusterMatcher,
    Config,
    KeepCountMatcher,
    RepositoryRule,
    load_config,
    load_config_file,
    parse_duration,
    wildcard_match,
)
from ecr_sweeper.errors import ConfigError

BUNDLED = Path(__file__).resolve().parents[2] / "config" / "ecrm.yaml"


def runner() -> CliRunner:
    """stdout and stderr apart (click 8.1 needs mix_stderr=False; 8.2 removed it)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


MINIMAL = "repositories:\n  - name: app\n    expires: 30days\n"


def cfg(text: str) -> Config:
    return load_config(textwrap.dedent(text))


def error_of(text: str, source: str = "ecrm.yaml") -> str:
    with pytest.raises(ConfigError) as info:
        load_config(textwrap.dedent(text), source=source)
    message = str(info.value)
    assert message
    assert "Traceback" not in message
    assert "validation error" not in message  # never a raw pydantic dump
    return message


def repo_error(entry: str) -> str:
    """The error for a config with one repositories entry (given as YAML flow mapping)."""
    return error_of(f"repositories:\n  - {entry}\n")


# ---------------------------------------------------------------------------------------------
# parse_duration
# ---------------------------------------------------------------------------------------------

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90days", 90 * DAY),
        ("30 days", 30 * DAY),
        ("1day", DAY),
        ("1d", DAY),
        ("2w", 14 * DAY),
        ("1week", 7 * DAY),
        ("3 weeks", 21 * DAY),
        ("1d12h", 1.5 * DAY),
        ("1w 2d", 9 * DAY),
        ("1 w 2 d", 9 * DAY),
        ("  7 days  ", 7 * DAY),
        ("12h", timedelta(hours=12)),
        ("1hour", timedelta(hours=1)),
        ("2 hours", timedelta(hours=2)),
        ("45m", timedelta(minutes=45)),
        ("1min", timedelta(minutes=1)),
        ("1 minute", timedelta(minutes=1)),
        ("5minutes", timedelta(minutes=5)),
        ("30s", timedelta(seconds=30)),
        ("1sec", timedelta(seconds=1)),
        ("1second", timedelta(seconds=1)),
        ("10 seconds", timedelta(seconds=10)),
        ("1500ms", timedelta(milliseconds=1500)),
        ("250us", timedelta(microseconds=250)),
        ("1000ns", timedelta(microseconds=1)),
        ("1.5h", timedelta(minutes=90)),
        ("0.5d", timedelta(hours=12)),
        ("1h30m15s", timedelta(hours=1, minutes=30, seconds=15)),
        ("7day+4days-3days", 8 * DAY),  # k1LoW/duration sums signed terms
        ("1d-12h", timedelta(hours=12)),
        ("1d-2h3h", timedelta(hours=19)),  # a minus sign carries to the terms after it
        ("1d-2h+3h", timedelta(hours=25)),  # ... until a plus sign
        ("1d--2h", timedelta(hours=22)),  # the last sign written wins
        ("1d+-2h", timedelta(hours=22)),
        ("- 3 hour", -timedelta(hours=3)),
        ("30DAYS", 30 * DAY),  # units are case-insensitive, as in k1LoW/duration
        ("-1d", -DAY),  # valid duration; invalid as `expires` (checked there)
        ("1nsec", timedelta(microseconds=1)),  # rounded up to whole microseconds
        ("1999ns", timedelta(microseconds=2)),
        ("2 nanoseconds", timedelta(microseconds=1)),
        ("1 nanosecond", timedelta(microseconds=1)),
        ("5usec", timedelta(microseconds=5)),
        ("1 microsecond", timedelta(microseconds=1)),
        ("3 microseconds", timedelta(microseconds=3)),
        ("1500msec", timedelta(milliseconds=1500)),
        ("1 millisecond", timedelta(milliseconds=1)),
        ("2 milliseconds", timedelta(milliseconds=2)),
        ("1.h", timedelta(hours=1)),
        (".5h", timedelta(minutes=30)),
    ],
)
def test_parse_duration_accepts_ecrm_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("30", "missing unit after '30'"),
        ("", "empty"),
        ("   ", "empty"),
        ("dayz", "missing number before unit 'dayz'"),
        ("30 dayz", "unknown unit 'dayz'"),
        ("2 years", "unknown unit 'years'"),
        ("1e5d", "unknown unit 'e'"),
        ("1.2.3d", "invalid number '1.2.3'"),
        ("30days!", "unexpected character '!'"),
        ("3d -", "ends without a number and unit"),
        ("1-2h", "missing unit after '1'"),  # ecrm would read -12h
        ("1h 30", "missing unit after '30'"),
        ("99999999999w", "too long"),
    ],
)
def test_parse_duration_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert f"invalid duration {text!r}" in str(info.value)
    assert problem in str(info.value)


def test_parse_duration_rejects_non_string() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parse_duration(30)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Wildcards
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("*", "anything/at/all", True),
        ("prod*", "prod", True),
        ("prod*", "prod-api", True),
        ("prod*", "xprod", False),
        ("prod/*", "prod/api/v2", True),  # `/` is an ordinary character
        ("*/api", "a/b/api", True),
        ("app-?", "app-1", True),
        ("app-?", "app-12", False),
        ("app-?", "app-", False),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "aXXbYY", False),
        ("[ab]", "a", False),  # no bracket classes: literal
        ("[ab]", "[ab]", True),
        ("a.c", "abc", False),  # `.` is literal
        ("a\\*", "a\\anything", True),  # no escaping: `\` is literal, `*` still a wildcard
        ("Prod*", "prod", False),  # case-sensitive
        ("", "", True),
        ("", "a", False),
        ("**", "x", True),
        ("*a*a*a*a*b", "a" * 200, False),  # no catastrophic backtracking
    ],
)
def test_wildcard_match(pattern: str, text: str, expected: bool) -> None:
    assert wildcard_match(pattern, text) is expected


# ---------------------------------------------------------------------------------------------
# Accepted configs
# ---------------------------------------------------------------------------------------------


def test_bundled_example_config_is_valid() -> None:
    config = load_config_file(BUNDLED)
    assert config.clusters == [ClusterMatcher(name="example")]
    assert config.task_definitions == [KeepCountMatcher(name_pattern="example-*", keep_count=3)]
    assert config.lambda_functions == [KeepCountMatcher(name_pattern="example-*", keep_count=3)]
    assert config.repositories == [
        RepositoryRule(
            name_pattern="example-*", expires="30days", keep_count=3, keep_tag_patterns=["latest"]
        )
    ]
    assert config.warnings == []


def test_ecrm_readme_example_minus_external_commands() -> None:
    config = cfg(
        """
        clusters:
          - name: my-cluster
          - name_pattern: "prod*"
          - name_pattern: "dev*"
        task_definitions:
          - name_pattern: "*"
            keep_count: 3
        lambda_functions:
          - name_pattern: "*"
            keep_count: 3
        repositories:
          - name_pattern: "prod/*"
            expires: 90days
            keep_tag_patterns:
              - latest
          - name_pattern: "dev/*"
            expires: 30days
        """
    )
    assert [c.label for c in config.clusters or []] == [
        "name=my-cluster",
        "name_pattern=prod*",
        "name_pattern=dev*",
    ]
    prod = config.rule_for_repository("prod/app")
    assert prod is not None
    assert prod.expires_after == timedelta(days=90)
    dev = config.rule_for_repository("dev/app")
    assert dev is not None
    assert dev.expires_after == timedelta(days=30)
    assert config.rule_for_repository("other") is None


def test_defaults() -> None:
    config = cfg(
        """
        task_definitions: [{name: td}]
        lambda_functions: [{name: fn}]
        clusters: [{name: c}]
        repositories: [{name: app, expires: 1d}]
        """
    )
    rule = (config.repositories or [])[0]
    assert rule.keep_count == 0
    assert rule.keep_tag_patterns == ["latest"]
    assert rule.keeps_tag("latest")
    assert not rule.keeps_tag("v1")
    assert (config.task_definitions or [])[0].keep_count == 5
    assert (config.lambda_functions or [])[0].keep_count == 5
    assert config.warnings == []


def test_null_values_count_as_unset_like_ecrm() -> None:
    config = cfg(
        """
        lambda_functions:
        repositories:
          - name: app
            name_pattern:
            expires: 1d
            keep_count:
            keep_tag_patterns:
        """
    )
    assert config.lambda_functions is None
    rule = (config.repositories or [])[0]
    assert rule.name == "app"
    assert rule.name_pattern is None
    assert rule.keep_count == 0
    assert rule.keep_tag_patterns == ["latest"]


def test_first_match_wins_in_every_section() -> None:
    config = cfg(
        """
        clusters:
          - name_pattern: "prod-*"
        task_definitions:
          - name: special
            keep_count: 10
          - name_pattern: "*"
            keep_count: 2
        lambda_functions:
          - name_pattern: "api-*"
            keep_count: 1
          - name_pattern: "api-v2"
            keep_count: 9
        repositories:
          - name: team/app
            expires: 7d
          - name_pattern: "team/*"
            expires: 30d
          - name_pattern: "*"
            expires: 90d
        """
    )
    assert (config.rule_for_repository("team/app") or pytest.fail()).expires == "7d"
    assert (config.rule_for_repository("team/other") or pytest.fail()).expires == "30d"
    assert (config.rule_for_repository("misc") or pytest.fail()).expires == "90d"
    assert (config.task_definition_rule("special") or pytest.fail()).keep_count == 10
    assert (config.task_definition_rule("anything") or pytest.fail()).keep_count == 2
    assert (config.lambda_rule("api-v2") or pytest.fail()).keep_count == 1
    assert config.lambda_rule("worker") is None
    assert config.cluster_selected("prod-eu")
    assert not config.cluster_selected("dev-eu")


def test_cluster_arn_is_matched_by_its_name() -> None:
    config = cfg("clusters: [{name: example}]\n" + MINIMAL)
    assert config.cluster_selected("arn:aws:ecs:us-east-1:123456789012:cluster/example")
    assert not config.cluster_selected("arn:aws:ecs:us-east-1:123456789012:cluster/other")


def test_patterns_with_slash_and_question_mark() -> None:
    config = cfg(
        """
        repositories:
          - name_pattern: "org/team-?/*"
            expires: 1w
            keep_tag_patterns: ["release-*", "v?.?", "stable"]
        """
    )
    rule = config.rule_for_repository("org/team-a/svc/api")
    assert rule is not None
    assert config.rule_for_repository("org/team-ab/svc") is None
    assert rule.keeps_tag("release-2024.1")
    assert rule.keeps_tag("v1.2")
    assert not rule.keeps_tag("v1.22")
    assert rule.keeps_tag("stable")
    assert not rule.keeps_tag("stable2")


def test_dates_and_numbers_in_quotes_are_strings() -> None:
    config = cfg(
        """
        repositories:
          - name: "2024"
            expires: 1d
            keep_tag_patterns: ["1.0", 2024-01-01]
        """
    )
    rule = (config.repositories or [])[0]
    assert rule.name == "2024"
    # A YAML date is read as its text (ECR tags may look like dates).
    assert rule.keep_tag_patterns == ["1.0", "2024-01-01"]


def test_missing_section_is_none_and_empty_list_is_kept() -> None:
    config = cfg("clusters: []\n" + MINIMAL)
    assert config.clusters == []
    assert config.task_definitions is None
    assert config.lambda_functions is None
    assert not config.cluster_selected("anything")
    assert config.task_definition_rule("anything") is None
    assert config.lambda_rule("anything") is None
    assert config.warnings == [
        "task_definitions: section missing, every one of the task definitions is scanned "
        "(write `task_definitions: []` to turn the source off)",
        "lambda_functions: section missing, every one of the Lambda functions is scanned "
        "(write `lambda_functions: []` to turn the source off)",
        NOTHING_RUNNING_WARNING,
    ]
    scanned = config.with_missing_sources_scanned()
    assert scanned.clusters == []  # explicitly off stays off
    assert scanned.task_definition_rule("anything").keep_count == 5
    assert scanned.lambda_rule("anything").keep_count == 5


def test_all_source_sections_missing_warns_each() -> None:
    warnings = cfg(MINIMAL).warnings
    assert (
        "clusters: section missing, every one of the ECS clusters is scanned "
        "(write `clusters: []` to turn the source off)"
    ) in warnings
    assert len(warnings) == 3


def test_keep_aliase_is_accepted_with_a_warning() -> None:
    config = cfg(
        "clusters: []\ntask_definitions: []\n"
        "lambda_functions:\n  - name: fn\n    keep_aliase: true\n" + MINIMAL
    )
    assert (config.lambda_functions or [])[0].keep_aliase is True
    assert config.warnings == [
        "lambda_functions[0].keep_aliase: obsolete and ignored (ecrm ignores it too); remove it",
        NOTHING_RUNNING_WARNING,
    ]


def test_other_warnings() -> None:
    config = cfg(
        """
        clusters: []
        task_definitions: [{name: "*", keep_count: 0}]
        lambda_functions: []
        repositories: [{name_pattern: "*", expires: 1d, keep_tag_patterns: []}]
        """
    )
    warnings = config.warnings
    assert any(
        w.startswith("task_definitions[0].name: '*' is compared literally") for w in warnings
    )
    assert any(w.startswith("task_definitions[0].keep_count: 0 keeps no older") for w in warnings)
    assert any(w.startswith("repositories[0].keep_tag_patterns: empty") for w in warnings)
    rule = (config.repositories or [])[0]
    assert rule.keep_tag_patterns == []
    assert not rule.keeps_tag("latest")


# ---------------------------------------------------------------------------------------------
# Round trip through the JSON snapshot
# ---------------------------------------------------------------------------------------------


def test_round_trip_through_json() -> None:
    config = cfg(
        """
        clusters: [{name: a}, {name_pattern: "b*"}]
        task_definitions: []
        lambda_functions: [{name_pattern: "fn-*", keep_count: 2, keep_aliase: false}]
        repositories:
          - name_pattern: "x/*"
            expires: 1w 2d
            keep_count: 4
            keep_tag_patterns: [latest, "v*"]
          - name: y
            expires: 1.5h
        """
    )
    snapshot = json.dumps(config.model_dump(mode="json"))
    again = Config.model_validate(json.loads(snapshot))
    assert again == config
    assert again.warnings == config.warnings
    assert (again.repositories or [])[0].expires == "1w 2d"
    assert (again.repositories or [])[0].expires_after == timedelta(days=9)


def test_round_trip_of_bundled_config() -> None:
    config = load_config_file(BUNDLED)
    assert Config.model_validate(config.model_dump(mode="json")) == config


@pytest.mark.parametrize(
    "data",
    [
        {"repositories": [{"name": "a", "name_pattern": "b", "expires": "1d"}]},
        {"repositories": [{"expires": "1d"}]},
        {"repositories": [{"name": "a", "expires": "0s"}]},
        {"repositories": [{"name": "a", "expires": "30"}]},
        {"repositories": [{"name": "a", "expires": "1d", "keep_count": -1}]},
        {"repositories": [{"name": "a", "expires": "1d", "keep_count": True}]},
        {"repositories": [{"name": "", "expires": "1d"}]},
        {"repositories": [{"name": "a", "expires": "1d", "keep_tag_patterns": [""]}]},
        {"repositories": [{"name": "a", "expires": "1d", "extra": 1}]},
        {"clusters": [{"name": 5}]},
        {"external_commands": []},
    ],
)
def test_model_validate_rejects_invalid_snapshots(data: dict) -> None:
    with pytest.raises(pydantic.ValidationError):
        Config.model_validate(data)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_unknown_key_in_entry_lists_allowed_keys() -> None:
    message = repo_error("{name: a, expires: 1d, keep_tags: [latest]}")
    assert (
        "ecrm.yaml: repositories[0]: unknown key 'keep_tags' "
        "(allowed: name, name_pattern, expires, keep_count, keep_tag_patterns, "
        "include_artifacts, archived_expires, keep_pulled_within, action)"
    ) in message
    assert "did you mean 'keep_tag_patterns'?" in message


def test_unknown_top_level_key_suggests_the_close_one() -> None:
    message = error_of("lambda_funcions: []\n" + MINIMAL)
    assert (
        "ecrm.yaml: lambda_funcions: unknown key at top level (did you mean 'lambda_functions'?)"
        in message
    )


def test_unknown_top_level_key_without_suggestion_lists_allowed() -> None:
    message = error_of("zzz: 1\n" + MINIMAL)
    assert "ecrm.yaml: zzz: unknown key at top level (allowed: clusters," in message


def test_name_and_name_pattern_are_exclusive() -> None:
    message = error_of(
        """
        repositories:
          - name: ok
            expires: 1d
          - name: a
            name_pattern: "a*"
            expires: 1d
        """
    )
    assert message == (
        "ecrm.yaml: repositories[1]: set either name or name_pattern, not both (line 5, column 5)"
    )


@pytest.mark.parametrize("section", ["clusters", "task_definitions", "lambda_functions"])
def test_name_or_pattern_required_in_each_section(section: str) -> None:
    message = error_of(f"{section}:\n  - {{}}\n" + MINIMAL)
    assert f"ecrm.yaml: {section}[0]: name or name_pattern is required" in message


def test_bad_duration_names_path_and_unit() -> None:
    message = repo_error("{name: a, expires: 30 dayz}")
    assert (
        "ecrm.yaml: repositories[0].expires: invalid duration '30 dayz': unknown unit 'dayz'"
        in (message)
    )


def test_bare_number_duration() -> None:
    message = repo_error("{name: a, expires: 30}")
    assert "repositories[0].expires: invalid duration '30': missing unit after '30'" in message


@pytest.mark.parametrize("expires", ["0d", "0s", "-1d", "1d-2d", "1d-2h22h", "0.1ns"])
def test_expires_of_zero_or_less_is_refused_naming_the_rule(expires: str) -> None:
    """ecrm would accept these and expire every image at once."""
    message = repo_error(f"{{name_pattern: 'app-*', expires: '{expires}'}}")
    assert f"repositories[0].expires: invalid duration '{expires}': comes to zero or less" in (
        message
    )
    assert "every image of the repositories name_pattern=app-* matches" in message


def test_the_smallest_positive_expires_is_accepted() -> None:
    assert cfg("repositories: [{name: a, expires: 1ns}]").repositories[0].expires_after == (
        timedelta(microseconds=1)  # rounded up: the cutoff is never later than ecrm's
    )


def test_other_durations_of_zero_or_less_are_refused() -> None:
    message = repo_error("{name: a, expires: 1d, keep_pulled_within: 1h-1h}")
    assert (
        "repositories[0].keep_pulled_within: invalid duration '1h-1h': comes to zero or less "
        "(0s); it must be more than zero"
    ) in message


def test_a_minus_sign_carrying_to_later_terms_is_warned_about() -> None:
    config = cfg("repositories: [{name: a, expires: 1d-2h3h}, {name: b, expires: 1d-2h-3h}]")
    assert [r.expires_after for r in config.repositories] == [timedelta(hours=19)] * 2
    warnings = [w for w in config.warnings if "minus sign" in w]
    assert warnings == [
        "repositories[0].expires: '1d-2h3h' is 19:00:00: a minus sign applies to every term "
        "after it, as in ecrm (write `+` before a term to add it)"
    ]


def test_expires_required() -> None:
    message = repo_error("{name: a}")
    assert "ecrm.yaml: repositories[0].expires: required" in message


def test_expires_wrong_type() -> None:
    message = repo_error("{name: a, expires: [1d]}")
    assert "repositories[0].expires: must be a duration like '30days', got a list" in message


def test_negative_keep_count() -> None:
    message = repo_error("{name: a, expires: 1d, keep_count: -1}")
    assert "ecrm.yaml: repositories[0].keep_count: must be >= 0" in message


@pytest.mark.parametrize("value", ["'5'", "5.0", "true", "[5]"])
def test_keep_count_must_be_an_integer(value: str) -> None:
    message = error_of(f"task_definitions: [{{name: a, keep_count: {value}}}]\n" + MINIMAL)
    assert "ecrm.yaml: task_definitions[0].keep_count: must be an integer >= 0, got" in message


def test_keep_aliase_must_be_boolean_and_only_for_lambda() -> None:
    message = error_of(
        """
        task_definitions: [{name: a, keep_aliase: true}]
        lambda_functions: [{name: a, keep_aliase: sometimes}]
        repositories: [{name: a, expires: 1d}]
        """
    )
    assert "task_definitions[0]: unknown key 'keep_aliase'" in message
    assert "lambda_functions[0].keep_aliase: must be true or false, got string 'sometimes'" in (
        message
    )


def test_names_must_be_non_empty_strings() -> None:
    message = error_of(
        """
        clusters: [{name: ""}, {name_pattern: 12}]
        repositories: [{name: 2024-01-01T00:00:00, expires: 1d}, {name: true, expires: 1d}]
        """
    )
    assert "clusters[0].name: must not be empty" in message
    assert "clusters[1].name_pattern: must be a string, got integer 12 (put it in quotes" in message
    assert "repositories[1].name: must be a string, got boolean true" in message
    assert "repositories[0]" not in message  # a timestamp is read as its text


def test_keep_tag_patterns_errors() -> None:
    message = error_of(
        """
        repositories:
          - {name: a, expires: 1d, keep_tag_patterns: latest}
          - {name: b, expires: 1d, keep_tag_patterns: [latest, 1.0, "", null]}
        """
    )
    assert (
        "repositories[0].keep_tag_patterns: must be a list of tag patterns "
        "(write it as a list: [latest]), got string 'latest'"
    ) in message
    assert "repositories[1].keep_tag_patterns[1]: must be a string, got number 1.0" in message
    assert "repositories[1].keep_tag_patterns[2]: must not be empty" in message
    assert "repositories[1].keep_tag_patterns[3]: must be a string, got null" in message


def test_external_commands_rejected_with_the_alternative() -> None:
    message = error_of(
        textwrap.dedent(
            """
        external_commands:
          - command: ["path/to/command", "arg1"]
            timeout: 30s
            env: {AWS_REGION: us-west-2}
            dir: /tmp
        """
        )
        + MINIMAL
    )
    assert message.startswith("ecrm.yaml: external_commands: not supported:")
    assert "AWS Lambda" in message
    assert (
        "run the command where it can run (for example `ecrm scan -o FILE`) and give its "
        "JSON array of image URIs to S3, then name the object under in_use_lists"
    ) in message


def test_in_use_list_allow_empty() -> None:
    lists = "in_use_lists:\n  - {uri: 's3://b/k.json', max_age: 1d%s}\n"
    assert cfg(lists % "" + MINIMAL).in_use_lists[0].allow_empty is False
    assert cfg(lists % ", allow_empty: true" + MINIMAL).in_use_lists[0].allow_empty is True
    assert cfg(lists % ", allow_empty:" + MINIMAL).in_use_lists[0].allow_empty is False
    message = error_of(lists % ", allow_empty: 'yes'" + MINIMAL)
    assert "in_use_lists[0].allow_empty: must be true or false, got string 'yes'" in message
    message = error_of(lists % ", allow_emtpy: true" + MINIMAL)
    assert "in_use_lists[0]: unknown key 'allow_emtpy' (allowed: uri, max_age, allow_empty)" in (
        message
    )
    assert "did you mean 'allow_empty'?" in message
    config = cfg(lists % ", allow_empty: true" + MINIMAL)
    assert Config.model_validate(config.model_dump(mode="json")) == config


def test_every_problem_is_listed() -> None:
    message = error_of(
        """
        lambda_funcions: []
        external_commands: []
        clusters: {name: x}
        repositories:
          - {name: a, keep_tags: [x], expires: 30 dayz}
          - {name: a, name_pattern: "b*", expires: 1d, keep_count: -1}
          - 5
        """
    )
    lines = message.splitlines()
    assert all(line.startswith("ecrm.yaml: ") for line in lines)
    expected_locations = [
        "lambda_funcions:",
        "external_commands:",
        "clusters:",
        "repositories[0]: unknown key 'keep_tags'",
        "repositories[0].expires:",
        "repositories[1]: set either name or name_pattern",
        "repositories[1].keep_count:",
        "repositories[2]: must be a mapping",
    ]
    assert len(lines) == len(expected_locations)
    for line, location in zip(lines, expected_locations, strict=True):
        assert line.startswith(f"ecrm.yaml: {location}"), (line, location)


def test_source_name_is_used() -> None:
    message = error_of("repositories: x\n", source="s3://bucket/ecrm.yaml")
    assert message.startswith("s3://bucket/ecrm.yaml: repositories: must be a list of rules")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "ecrm.yaml: the file is empty"),
        ("# only a comment\n", "ecrm.yaml: the file is empty"),
        ("{}", "ecrm.yaml: repositories: section missing; it is required"),
        ("clusters: []", "ecrm.yaml: repositories: section missing; it is required"),
        ("repositories:", "ecrm.yaml: repositories: no rules"),
        ("repositories: []", "ecrm.yaml: repositories: no rules"),
        ("- a\n- b\n", "ecrm.yaml: the top level must be a mapping of sections"),
        ("just text", "the top level must be a mapping of sections (clusters,"),
        ("42", "got integer 42"),
        ("repositories: x", "ecrm.yaml: repositories: must be a list of rules, got string 'x'"),
        (
            "repositories: {name: a, expires: 1d}",
            "repositories: must be a list of rules (start each rule with '- '), got a mapping",
        ),
        ("repositories: [a]", "repositories[0]: must be a mapping with name or name_pattern"),
        ("clusters: 3\n" + MINIMAL, "ecrm.yaml: clusters: must be a list of rules, got integer 3"),
        ("1: x\n" + MINIMAL, "integer 1: unknown key at top level"),
    ],
)
def test_structural_errors(text: str, expected: str) -> None:
    assert expected in error_of(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("repositories: [\n", "ecrm.yaml: invalid YAML at line 2, column 1:"),
        ("a: b: c\n", "ecrm.yaml: invalid YAML at line 1, column 5:"),
        ("repositories:\n  - name: a\n   expires: 1d\n", "invalid YAML at line 3"),
        ("key: 'unterminated\n", "invalid YAML at line 2"),
        ("a: 1\n---\nb: 2\n", "invalid YAML at line 2"),
        ("\x00", "invalid YAML at character 1: character U+0000 is not allowed"),
        ("a: !!int abc", "invalid YAML at line 1, column 4: cannot read 'abc' as int"),
        ("a: !!python/object:os.system x", "invalid YAML at line 1, column 4"),
        ("[" * 3000, "invalid YAML"),
    ],
)
def test_yaml_errors_have_a_location(text: str, expected: str) -> None:
    assert expected in error_of(text)


def test_duplicate_keys_are_errors() -> None:
    message = error_of(MINIMAL + "repositories: []\n")
    assert "invalid YAML at line 4, column 1: found duplicate key 'repositories'" in message
    message = error_of("repositories:\n  - {name: a, expires: 1d, expires: 2d}\n")
    assert "found duplicate key 'expires'" in message


def test_merge_keys_are_not_duplicates() -> None:
    config = cfg(
        """
        repositories:
          - &base {name: a, expires: 30d, keep_count: 2}
          - <<: *base
            name: b
            expires: 7d
        """
    )
    assert [(r.name, r.expires, r.keep_count) for r in config.repositories or []] == [
        ("a", "30d", 2),
        ("b", "7d", 2),
    ]


def test_huge_values_give_short_messages() -> None:
    message = repo_error("{name: a, expires: '" + "x" * 10_000 + "'}")
    assert len(message) < 500
    message = error_of("k" * 10_000 + ": 1\n" + MINIMAL)
    assert len(message) < 500


def test_load_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config_file(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config_file(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"repositories: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not a UTF-8 text file"):
        load_config_file(binary)
    bad = tmp_path / "bad.yaml"
    bad.write_text("repositories: x\n")
    with pytest.raises(ConfigError) as info:
        load_config_file(bad)
    assert str(info.value).startswith(f"{bad}: repositories: must be a list")


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def test_cli_validate_good_file() -> None:
    result = runner().invoke(main, ["validate", str(BUNDLED)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"OK: {BUNDLED}: 1 repository rule, 1 cluster rule, 1 task definition rule, "
        "1 Lambda function rule\n"
    )
    assert result.stderr == ""


def test_cli_validate_default_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BUNDLED.parents[1])
    result = runner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: config/ecrm.yaml: ")


def test_cli_validate_prints_warnings_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "ecrm.yaml"
    path.write_text("lambda_functions: [{name: f, keep_aliase: true}]\n" + MINIMAL)
    result = runner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0
    assert result.stdout == (
        f"OK: {path}: 1 repository rule, clusters not configured, "
        "task_definitions not configured, 1 Lambda function rule\n"
    )
    assert f"warning: {path}: clusters: section missing" in result.stderr
    assert f"warning: {path}: lambda_functions[0].keep_aliase: obsolete" in result.stderr


def test_cli_validate_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "ecrm.yaml"
    path.write_text("repositories:\n  - name: a\n    expires: 30 dayz\n    keep_tags: []\n")
    result = runner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{path}: repositories[0]: unknown key 'keep_tags'" in result.stderr
    assert f"{path}: repositories[0].expires: invalid duration '30 dayz'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_validate_missing_file(tmp_path: Path) -> None:
    result = runner().invoke(main, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "cannot read config file" in result.stderr


def test_extensions_include_artifacts_and_archived_expires() -> None:
    rule = load_config(
        "repositories: [{name: a, expires: 30d, include_artifacts: true, archived_expires: 90d}]"
    ).repositories[0]
    assert rule.include_artifacts is True
    assert rule.archived_expires_after == timedelta(days=90)
    default = load_config("repositories: [{name: a, expires: 30d}]").repositories[0]
    assert default.include_artifacts is False and default.archived_expires_after is None
    message = repo_error("{name: a, expires: 1d, include_artifacts: 1, archived_expires: 3x}")
    assert "repositories[0].include_artifacts: must be true or false" in message
    assert "repositories[0].archived_expires: invalid duration '3x'" in message


# ---------------------------------------------------------------------------------------------
# accounts: other accounts and regions (our extension)
# ---------------------------------------------------------------------------------------------

MEMBER_ROLE = "arn:aws:iam::210987654321:role/ecr-sweeper-scanner"


def test_accounts_give_one_scan_target_per_role_and_region_after_this_one() -> None:
    config = cfg(
        MINIMAL
        + f"""
accounts:
  - role_arn: {MEMBER_ROLE}
    external_id: sweeper-7f3a
    regions: [eu-west-1, us-east-1]
  - role_arn: arn:aws-cn:iam::123456789012:role/scanner
"""
    )
    targets = config.scan_targets("123456789012", "ap-northeast-1")
    assert [(t.account_id, t.region, t.role_arn, t.external_id) for t in targets] == [
        ("123456789012", "ap-northeast-1", None, None),
        ("210987654321", "eu-west-1", MEMBER_ROLE, "sweeper-7f3a"),
        ("210987654321", "us-east-1", MEMBER_ROLE, "sweeper-7f3a"),
        # no regions: the sweeper's own region
        ("123456789012", "ap-northeast-1", "arn:aws-cn:iam::123456789012:role/scanner", None),
    ]
    assert targets[1].place == "210987654321/eu-west-1"
    # The run's config snapshot round-trips.
    assert Config.model_validate(config.model_dump(mode="json")) == config


def test_without_accounts_the_scan_reads_this_account_and_region_only() -> None:
    targets = cfg(MINIMAL).scan_targets("123456789012", "eu-west-1")
    assert [(t.account_id, t.region, t.role_arn) for t in targets] == [
        ("123456789012", "eu-west-1", None)
    ]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{}", "accounts[0].role_arn: required"),
        ("{role_arn: arn:aws:iam::2109:role/x}", "accounts[0].role_arn: must be an IAM role ARN"),
        ("{role_arn: 5}", "accounts[0].role_arn: must be a string"),
        (f"{{role_arn: {MEMBER_ROLE}, externalid: x}}", "did you mean 'external_id'?"),
        (f"{{role_arn: {MEMBER_ROLE}, external_id: 12345}}", "put it in quotes"),
        (f"{{role_arn: {MEMBER_ROLE}, external_id: 'a b'}}", "accounts[0].external_id: must be"),
        (f"{{role_arn: {MEMBER_ROLE}, regions: eu-west-1}}", "must be a list of region names"),
        (f"{{role_arn: {MEMBER_ROLE}, regions: [Tokyo]}}", "'Tokyo' is not a region name"),
        (f"{{role_arn: {MEMBER_ROLE}, regions: [eu-west-1, eu-west-1]}}", "lists a region twice"),
        ("just-a-role", "accounts[0]: must be a mapping with role_arn"),
    ],
)
def test_accounts_errors_name_what_is_wrong(entry: str, problem: str) -> None:
    assert problem in error_of(MINIMAL + f"accounts:\n  - {entry}\n")


def test_the_same_role_twice_is_refused() -> None:
    message = error_of(
        MINIMAL + f"accounts:\n  - {{role_arn: {MEMBER_ROLE}}}\n  - {{role_arn: {MEMBER_ROLE}}}\n"
    )
    assert "accounts[1].role_arn: the same role as accounts[0]" in message


def test_accounts_must_be_a_list() -> None:
    assert "accounts: must be a list" in error_of(
        MINIMAL + f"accounts: {{role_arn: {MEMBER_ROLE}}}\n"
    )
