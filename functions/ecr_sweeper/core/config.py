"""ecrm.yaml: read, check and model the config that says what to sweep.

The file format is the one of the Go CLI `ecrm` (https://github.com/fujiwara/ecrm)::

    clusters:          [{name | name_pattern}]
    task_definitions:  [{name | name_pattern, keep_count: 5}]
    lambda_functions:  [{name | name_pattern, keep_count: 5}]     # keep_aliase: obsolete
    repositories:      [{name | name_pattern, expires, keep_count: 0,
                         keep_tag_patterns: [latest]}]
    eks:               [{name | name_pattern}]   # our extension: Amazon EKS clusters

This module is the entry point; the work is in:

* config_yaml.py: the YAML, safely, with the line and column of a syntax error;
* config_check.py: the check that names EVERY problem with its location
  (`repositories[2].expires: ...`);
* config_model.py: the pydantic models, which validate again (strict types), so a config
  snapshot read back with `Config.model_validate` is checked too; and the warnings;
* wildcard.py and duration.py: ecrm's `*`/`?` patterns and durations.

Pure: no boto3, no I/O except reading the file in `load_config_file`.
"""

from __future__ import annotations

import os

from pydantic import ValidationError

from ecr_sweeper.core.config_check import TOP_LEVEL_KEYS, Checker
from ecr_sweeper.core.config_model import (
    DEFAULT_KEEP_TAG_PATTERNS,
    DEFAULT_REPOSITORY_KEEP_COUNT,
    DEFAULT_RESOURCE_KEEP_COUNT,
    NOTHING_RUNNING_WARNING,
    SOURCE_SWITCHES,
    ClusterMatcher,
    Config,
    EksClusterMatcher,
    InUseList,
    KeepCountMatcher,
    PlaceSources,
    RepositoryRule,
    Safety,
    ScanAccount,
    ScanRegion,
    ScanTarget,
    Sources,
)
from ecr_sweeper.core.config_yaml import parse_yaml
from ecr_sweeper.core.duration import MAX_DURATION, parse_duration
from ecr_sweeper.core.messages import location, problems_of
from ecr_sweeper.core.wildcard import wildcard_match
from ecr_sweeper.errors import ConfigError

__all__ = [
    "DEFAULT_KEEP_TAG_PATTERNS",
    "DEFAULT_REPOSITORY_KEEP_COUNT",
    "DEFAULT_RESOURCE_KEEP_COUNT",
    "MAX_DURATION",
    "NOTHING_RUNNING_WARNING",
    "SOURCE_SWITCHES",
    "TOP_LEVEL_KEYS",
    "ClusterMatcher",
    "Config",
    "EksClusterMatcher",
    "InUseList",
    "KeepCountMatcher",
    "PlaceSources",
    "RepositoryRule",
    "Safety",
    "ScanAccount",
    "ScanRegion",
    "ScanTarget",
    "Sources",
    "load_config",
    "load_config_file",
    "parse_duration",
    "wildcard_match",
]


def load_config(text: str, source: str = "ecrm.yaml") -> Config:
    """Parse and check the text of an ecrm.yaml. Raises ConfigError listing every problem,
    one per line, each as `SOURCE: LOCATION: what is wrong (line L, column C)`."""
    data, marks = parse_yaml(text, source)
    checker = Checker()
    clean = checker.check_root(data)
    if checker.problems:
        raise ConfigError(
            "\n".join(
                f"{source}: {p}{_written_at(marks.find(p.at, key=p.key))}" for p in checker.problems
            )
        )
    try:
        return Config.model_validate(clean)
    except ValidationError as e:  # the checker should have caught it; never show a raw dump
        raise ConfigError(
            "\n".join(
                f"{source}: {location(where) or '(top level)'}: {what}"
                f"{_written_at(marks.find(where))}"
                for where, what in problems_of(e)
            )
        ) from None


def _written_at(position: tuple[int, int] | None) -> str:
    return "" if position is None else f" (line {position[0]}, column {position[1]})"


def load_config_file(path: str | os.PathLike[str]) -> Config:
    """Read and check an ecrm.yaml file. Raises ConfigError (also for an unreadable file)."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ConfigError(f"{source}: cannot read config file: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{source}: not a UTF-8 text file (bad byte at offset {e.start})"
        ) from None
    return load_config(text, source=source)
