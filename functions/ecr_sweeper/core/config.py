"""ecrm.yaml: read, check and model the config that says what to sweep.

The file format is the one of the Go CLI `ecrm` (https://github.com/fujiwara/ecrm)::

    clusters:          [{name | name_pattern}]
    task_definitions:  [{name | name_pattern, keep_count: 5}]
    lambda_functions:  [{name | name_pattern, keep_count: 5}]     # keep_aliase: obsolete
    repositories:      [{name | name_pattern, expires, keep_count: 0,
                         keep_tag_patterns: [latest]}]

Two layers:

* `load_config` checks the parsed YAML by hand so that the error names EVERY problem with
  its location (`repositories[2].expires: ...`), then builds the models.
* The pydantic models validate again (strict types), so a config snapshot written with
  `model_dump(mode="json")` and read back with `Config.model_validate` is checked too and
  round-trips to an equal `Config`.

Pure: no boto3, no I/O except reading the file in `load_config_file`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from ecr_sweeper.core.duration import MAX_DURATION, check_positive, minus_carries, parse_duration
from ecr_sweeper.core.messages import clip as _clip
from ecr_sweeper.core.messages import short_repr as _short_repr
from ecr_sweeper.errors import ConfigError

__all__ = [
    "DEFAULT_KEEP_TAG_PATTERNS",
    "DEFAULT_REPOSITORY_KEEP_COUNT",
    "DEFAULT_RESOURCE_KEEP_COUNT",
    "MAX_DURATION",
    "SOURCE_SWITCHES",
    "ClusterMatcher",
    "Config",
    "KeepCountMatcher",
    "PlaceSources",
    "RepositoryRule",
    "ScanAccount",
    "ScanRegion",
    "ScanTarget",
    "Sources",
    "load_config",
    "load_config_file",
    "parse_duration",
    "wildcard_match",
]

DEFAULT_RESOURCE_KEEP_COUNT = 5  # task_definitions / lambda_functions
DEFAULT_REPOSITORY_KEEP_COUNT = 0
DEFAULT_KEEP_TAG_PATTERNS = ("latest",)

# ---------------------------------------------------------------------------------------------
# Wildcards: `*` any run of characters (also empty), `?` exactly one character, anything else
# (including `/`, `[`, `\`) literal. Case-sensitive. Same as ecrm's wildcard package.
# ---------------------------------------------------------------------------------------------


def wildcard_match(pattern: str, text: str) -> bool:
    """True if `text` matches `pattern` as a whole. Linear-ish (no regex backtracking)."""
    p = t = 0
    star = -1  # position in pattern of the last `*` seen
    mark = 0  # position in text the last `*` is currently made to cover up to
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif star >= 0:
            # Let the last `*` swallow one more character and retry.
            mark += 1
            p, t = star + 1, mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------

_MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True)


class _NameMatcher(BaseModel):
    """Selects resources by `name` (literal) or `name_pattern` (`*`, `?`): exactly one."""

    model_config = _MODEL_CONFIG

    name: StrictStr | None = Field(default=None, min_length=1)
    name_pattern: StrictStr | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one_selector(self) -> _NameMatcher:
        if self.name is not None and self.name_pattern is not None:
            raise ValueError("set either name or name_pattern, not both")
        if self.name is None and self.name_pattern is None:
            raise ValueError("name or name_pattern is required")
        return self

    @property
    def label(self) -> str:
        """How the rule is shown in reports: `name=foo` or `name_pattern=prod*`."""
        if self.name is not None:
            return f"name={self.name}"
        return f"name_pattern={self.name_pattern}"

    def matches(self, name: str) -> bool:
        if self.name is not None:
            return name == self.name
        return self.name_pattern is not None and wildcard_match(self.name_pattern, name)


class ClusterMatcher(_NameMatcher):
    """An entry of `clusters`: an ECS cluster whose tasks and services are scanned."""

    def matches(self, name: str) -> bool:
        """Match a cluster name; a cluster ARN is reduced to its name first (as ecrm does)."""
        return super().matches(_cluster_name(name))


def _cluster_name(name_or_arn: str) -> str:
    # arn:aws:ecs:REGION:ACCOUNT:cluster/NAME
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":", 5)
        if len(parts) == 6 and parts[5].startswith("cluster/"):
            return parts[5].removeprefix("cluster/")
    return name_or_arn


class KeepCountMatcher(_NameMatcher):
    """An entry of `task_definitions` (by family) or `lambda_functions` (by function name):
    the images of the newest `keep_count` revisions / versions count as in use."""

    keep_count: StrictInt = Field(default=DEFAULT_RESOURCE_KEEP_COUNT, ge=0)
    # Obsolete ecrm option: accepted, ignored, reported in Config.warnings.
    keep_aliase: StrictBool | None = None


class RepositoryRule(_NameMatcher):
    """An entry of `repositories`: which images of the matching repositories may go."""

    expires: StrictStr
    keep_count: StrictInt = Field(default=DEFAULT_REPOSITORY_KEEP_COUNT, ge=0)
    keep_tag_patterns: list[StrictStr] = Field(
        default_factory=lambda: list(DEFAULT_KEEP_TAG_PATTERNS)
    )
    # Our extensions (not in ecrm):
    # Other artifacts (Helm charts, WASM modules, ...) are never deleted unless this is true.
    include_artifacts: StrictBool = False
    # ARCHIVED images are never deleted unless this is set: then those archived longer ago
    # than this go (the archive storage class bills a 90-day minimum either way).
    archived_expires: StrictStr | None = None
    # Keep images pulled within this window (lastRecordedPullTime): uses no scan sees.
    keep_pulled_within: StrictStr | None = None
    # What happens to the images the rule lets go: deleted, or moved to the archive.
    action: Literal["delete", "archive"] = "delete"

    @field_validator("keep_pulled_within", "archived_expires")
    @classmethod
    def _check_optional_duration(cls, value: str | None) -> str | None:
        if value is not None:
            _check_expires(value)
        return value

    @property
    def keep_pulled_within_after(self) -> timedelta | None:
        return None if self.keep_pulled_within is None else parse_duration(self.keep_pulled_within)

    @property
    def archived_expires_after(self) -> timedelta | None:
        return None if self.archived_expires is None else parse_duration(self.archived_expires)

    @field_validator("expires")
    @classmethod
    def _check_expires(cls, value: str) -> str:
        _check_expires(value)
        return value

    @field_validator("keep_tag_patterns")
    @classmethod
    def _check_patterns(cls, value: list[str]) -> list[str]:
        if any(p == "" for p in value):
            raise ValueError("keep_tag_patterns must not contain an empty pattern")
        return value

    @property
    def expires_after(self) -> timedelta:
        """Images pushed longer ago than this are expired (ecrm's `expires`)."""
        return parse_duration(self.expires)

    def keeps_tag(self, tag: str) -> bool:
        """True if `tag` matches one of `keep_tag_patterns` (such images are kept)."""
        return any(wildcard_match(p, tag) for p in self.keep_tag_patterns)


def _check_expires(value: str, consequence: str = "") -> timedelta:
    return check_positive(value, consequence)


def _expires_consequence(entry: dict[str, Any]) -> str:
    """What `expires` of zero or less would do, naming the repository rule."""
    selector = next(
        (
            f"{key}={entry[key]}"
            for key in ("name", "name_pattern")
            if isinstance(entry.get(key), str)
        ),
        "this rule",
    )
    return (
        f"with it every image of the repositories {_clip(selector, 80)} matches would be "
        "expired at once (ecrm would take it so and delete them): refused"
    )


class InUseList(BaseModel):
    """Our extension: an S3 object holding a JSON array of image URIs in use (the format
    `ecrm scan -o FILE` writes), for uses AWS cannot tell us about (EKS, EC2, elsewhere).
    A list that is missing, unreadable, malformed or older than max_age fails the run, and
    so does one that names no image of this registry, unless allow_empty is true."""

    model_config = _MODEL_CONFIG

    uri: StrictStr  # s3://bucket/key
    max_age: StrictStr
    # A writer that lost its cluster credentials writes []: an empty list fails the run
    # unless this says that the list may really be empty.
    allow_empty: StrictBool = False

    @field_validator("uri")
    @classmethod
    def _check_uri(cls, value: str) -> str:
        bucket, _, key = value.removeprefix("s3://").partition("/")
        if not value.startswith("s3://") or not bucket or not key:
            raise ValueError(f"must look like s3://bucket/key.json, got {_short_repr(value)}")
        return value

    @field_validator("max_age")
    @classmethod
    def _check_max_age(cls, value: str) -> str:
        _check_expires(value)
        return value

    @property
    def bucket(self) -> str:
        return self.uri.removeprefix("s3://").partition("/")[0]

    @property
    def key(self) -> str:
        return self.uri.removeprefix("s3://").partition("/")[2]

    @property
    def max_age_after(self) -> timedelta:
        return parse_duration(self.max_age)


class Sources(BaseModel):
    """Our extension: the sources of "in use" beyond ecrm's, each scanned unless turned off
    (a source not scanned is a use not seen). The top-level `sources` is the sweeper's own
    account and region's; the places of `accounts` have their own (PlaceSources)."""

    model_config = _MODEL_CONFIG

    # EventBridge rules and EventBridge Scheduler schedules that run ECS tasks.
    scheduled_tasks: StrictBool = True
    # AWS Batch job definitions (the newest batch_keep_count revisions of each name, and
    # every one a queued or running job uses).
    batch: StrictBool = True
    batch_keep_count: StrictInt = Field(default=DEFAULT_RESOURCE_KEEP_COUNT, ge=0)
    # App Runner services whose source is an ECR image. Where botocore's region data has
    # no App Runner, the scan reports it "not available here" without calling it.
    app_runner: StrictBool = True
    # CodeBuild projects and running builds, SageMaker models, jobs in progress and Studio
    # images, EMR Serverless applications, Bedrock AgentCore runtimes, Lightsail container
    # services. Each is reported "not available here" where botocore's region data has
    # no endpoint for it (AgentCore has no region data: it is read everywhere).
    codebuild: StrictBool = True
    sagemaker: StrictBool = True
    emr_serverless: StrictBool = True
    agentcore: StrictBool = True
    lightsail: StrictBool = True
    # Amazon Inspector (off by default: it must be enabled for ECR): images Inspector saw
    # in use within inspector_in_use_within are kept.
    inspector: StrictBool = False
    inspector_in_use_within: StrictStr = "14d"

    @field_validator("inspector_in_use_within")
    @classmethod
    def _check_window(cls, value: str) -> str:
        _check_expires(value)
        return value


# The sources a place can turn off, by their `sources` key.
SOURCE_SWITCHES = (
    "scheduled_tasks",
    "batch",
    "app_runner",
    "codebuild",
    "sagemaker",
    "emr_serverless",
    "agentcore",
    "lightsail",
)


class PlaceSources(BaseModel):
    """Our extension: `sources` written for a place of `accounts`, an account (all its
    regions) or one of its regions (over the account's). Not written (None): a switch is
    on, whatever the top-level `sources` says (a source turned off at home is not turned
    off elsewhere unless written there); batch_keep_count is the top level's, a rule that
    applies everywhere, like task_definitions' keep_count."""

    model_config = _MODEL_CONFIG

    scheduled_tasks: StrictBool | None = None
    batch: StrictBool | None = None
    batch_keep_count: StrictInt | None = Field(default=None, ge=0)
    app_runner: StrictBool | None = None
    codebuild: StrictBool | None = None
    sagemaker: StrictBool | None = None
    emr_serverless: StrictBool | None = None
    agentcore: StrictBool | None = None
    lightsail: StrictBool | None = None


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class ScanRegion(BaseModel):
    """Our extension: a region of an `accounts` entry written as a mapping, with its own
    `sources`, e.g. `{name: eu-west-1, sources: {app_runner: false}}`."""

    model_config = _MODEL_CONFIG

    name: StrictStr
    sources: PlaceSources = Field(default_factory=PlaceSources)


class ScanAccount(BaseModel):
    """Our extension: a role the scan assumes (in another account, or in this one for
    other regions), and the regions whose workloads it reads there."""

    model_config = _MODEL_CONFIG

    role_arn: StrictStr
    external_id: StrictStr | None = None
    # Empty: the sweeper's own region. Each a name, or a ScanRegion (a name and sources).
    regions: list[StrictStr | ScanRegion] = Field(default_factory=list)
    # For every region of this account (a region's own sources come over these).
    sources: PlaceSources = Field(default_factory=PlaceSources)

    @field_validator("role_arn")
    @classmethod
    def _check_role_arn(cls, value: str) -> str:
        if not _ROLE_ARN.match(value):
            raise ValueError(
                "must be an IAM role ARN like arn:aws:iam::210987654321:role/ecr-sweeper-scanner"
                f", got {_short_repr(value)}"
            )
        return value

    @field_validator("external_id")
    @classmethod
    def _check_external_id(cls, value: str | None) -> str | None:
        if value is not None and not _EXTERNAL_ID.match(value):
            raise ValueError(
                "must be 2 to 1224 characters of letters, digits and +=,.@:/- (what STS accepts)"
            )
        return value

    @field_validator("regions")
    @classmethod
    def _check_regions(cls, value: list[str | ScanRegion]) -> list[str | ScanRegion]:
        names = [_region_name(region) for region in value]
        for name in names:
            _check_region(name)
        if len(set(names)) != len(names):
            raise ValueError("lists a region twice")
        return value

    @property
    def account_id(self) -> str:
        match = _ROLE_ARN.match(self.role_arn)
        assert match is not None  # checked by the validator
        return match.group(1)


def _region_name(region: str | ScanRegion) -> str:
    return region if isinstance(region, str) else region.name


def _check_region(name: str) -> str:
    if not _REGION.match(name):
        raise ValueError(f"{_short_repr(name)} is not a region name like eu-west-1")
    return name


@dataclass(frozen=True)
class ScanTarget:
    """One place whose workloads the scan reads: an account and a region, the role to
    assume there (None: the sweeper's own role, in its own account and region), and the
    sources read there."""

    account_id: str
    region: str
    role_arn: str | None = None
    external_id: str | None = None
    sources: Sources = field(default_factory=Sources)

    @property
    def place(self) -> str:
        return f"{self.account_id}/{self.region}"


DEFAULT_MAX_DELETIONS = 10_000
DEFAULT_MAX_DELETE_RATIO = 0.95
DEFAULT_RATIO_MIN_IMAGES = 10


class Safety(BaseModel):
    """Our extension: caps on what one run may do (see docs/config.md)."""

    model_config = _MODEL_CONFIG

    # A run whose plan deletes more images than this, in all, deletes nothing and fails.
    max_deletions: StrictInt = Field(default=DEFAULT_MAX_DELETIONS, ge=0)
    # A repository whose plan deletes a larger share of its images is left untouched
    # (only for repositories with at least ratio_min_images images).
    max_delete_ratio: float = Field(default=DEFAULT_MAX_DELETE_RATIO, gt=0, le=1)
    ratio_min_images: StrictInt = Field(default=DEFAULT_RATIO_MIN_IMAGES, ge=0)
    # A scan that finds nothing in use while sources are configured fails the run,
    # unless this is true.
    allow_nothing_in_use: StrictBool = False


class Config(BaseModel):
    """A validated ecrm.yaml. A section that is absent is None (source not configured),
    which is not the same as an empty list."""

    model_config = _MODEL_CONFIG

    clusters: list[ClusterMatcher] | None = None
    task_definitions: list[KeepCountMatcher] | None = None
    lambda_functions: list[KeepCountMatcher] | None = None
    repositories: list[RepositoryRule] | None = None
    # Our extensions.
    safety: Safety = Field(default_factory=Safety)
    # Images with a tag matching one of these are never deleted, whatever the rules.
    protect_tag_patterns: list[StrictStr] = Field(default_factory=list)
    # Lists of images in use that other tools write to S3 (see InUseList).
    in_use_lists: list[InUseList] = Field(default_factory=list)
    sources: Sources = Field(default_factory=Sources)
    # Roles to assume, and regions to read, for images used in other accounts and regions.
    accounts: list[ScanAccount] = Field(default_factory=list)

    def scan_targets(self, account_id: str, region: str) -> list[ScanTarget]:
        """Every place the scan reads, with the sources read there: this account and
        region first, then each (role, region) of `accounts`. The in-use set is the union
        over all of them."""
        targets = [ScanTarget(account_id, region, sources=self.sources)]
        for entry in self.accounts:
            for target_region in entry.regions or [region]:
                targets.append(
                    ScanTarget(
                        entry.account_id,
                        _region_name(target_region),
                        entry.role_arn,
                        entry.external_id,
                        self._place_sources(entry, target_region),
                    )
                )
        return targets

    def _place_sources(self, account: ScanAccount, region: str | ScanRegion) -> Sources:
        """A place's sources: every switch on unless the account's or the region's own
        `sources` turns it off (the region's come over the account's); batch_keep_count
        from the top level unless written there."""
        settings: dict[str, Any] = {"batch_keep_count": self.sources.batch_keep_count}
        settings.update(account.sources.model_dump(exclude_none=True))
        if isinstance(region, ScanRegion):
            settings.update(region.sources.model_dump(exclude_none=True))
        return Sources(**settings)

    def sources_off(self, account_id: str, region: str) -> list[str]:
        """Every source the config turns off, and where, for every report: a source
        section written `[]` (every place), then each switch turned off in a place."""
        off = [
            f"{section} (config: [], every place)"
            for section in _SOURCE_SECTIONS
            if getattr(self, section) == []
        ]
        for target in self.scan_targets(account_id, region):
            off.extend(
                f"{switch}@{target.place} (config)"
                for switch in SOURCE_SWITCHES
                if not getattr(target.sources, switch)
            )
        return off

    def protects_tag(self, tag: str) -> bool:
        return any(wildcard_match(p, tag) for p in self.protect_tag_patterns)

    @property
    def sources_configured(self) -> list[str]:
        """The source sections that select something (present and not empty)."""
        configured = [s for s in _SOURCE_SECTIONS if getattr(self, s)]
        return configured + (["in_use_lists"] if self.in_use_lists else [])

    def with_missing_sources_scanned(self) -> Config:
        """Where ecrm skips a source whose section is absent, we scan all of it with the
        default keep counts: a source left out by mistake must not make images look
        unused. An explicit empty list still turns a source off."""
        every = {"name_pattern": "*"}
        return self.model_copy(
            update={
                "clusters": self.clusters
                if self.clusters is not None
                else [ClusterMatcher(**every)],
                "task_definitions": self.task_definitions
                if self.task_definitions is not None
                else [KeepCountMatcher(**every)],
                "lambda_functions": self.lambda_functions
                if self.lambda_functions is not None
                else [KeepCountMatcher(**every)],
            }
        )

    def rule_for_repository(self, name: str) -> RepositoryRule | None:
        """The first repository rule matching `name`, or None (the repository is not swept)."""
        return _first_match(self.repositories, name)

    def cluster_selected(self, name: str) -> bool:
        """True if the cluster (name or ARN) is matched by an entry of `clusters`."""
        return _first_match(self.clusters, name) is not None

    def task_definition_rule(self, family: str) -> KeepCountMatcher | None:
        return _first_match(self.task_definitions, family)

    def lambda_rule(self, function_name: str) -> KeepCountMatcher | None:
        return _first_match(self.lambda_functions, function_name)

    @property
    def warnings(self) -> list[str]:
        """Things that are valid but probably not what was meant (derived from the config,
        so a config read back from its JSON snapshot has the same warnings)."""
        out: list[str] = []
        for section, what in _SOURCE_SECTIONS.items():
            if getattr(self, section) is None:
                out.append(
                    f"{section}: section missing, every one of the {what} is scanned "
                    f"(write `{section}: []` to turn the source off)"
                )
        for section in _ALL_SECTIONS:
            for i, entry in enumerate(getattr(self, section) or ()):
                out.extend(_entry_warnings(section, i, entry))
        places = [
            self._place_sources(entry, region)
            for entry in self.accounts
            for region in entry.regions or [""]
        ]
        for switch in SOURCE_SWITCHES:
            if not getattr(self.sources, switch) and any(getattr(p, switch) for p in places):
                out.append(
                    f"sources.{switch}: false turns it off in the sweeper's own account and "
                    "region only; places of `accounts` still read it unless their own "
                    "`sources` turns it off (accounts[].sources or a region's sources)"
                )
        return out


def _first_match[T: _NameMatcher](rules: list[T] | None, name: str) -> T | None:
    for rule in rules or ():
        if rule.matches(name):
            return rule
    return None


def _entry_warnings(section: str, index: int, entry: _NameMatcher) -> Iterable[str]:
    where = f"{section}[{index}]"
    if entry.name is not None and any(c in entry.name for c in "*?"):
        yield (
            f"{where}.name: {entry.name!r} is compared literally; "
            "use name_pattern to match with * and ?"
        )
    if isinstance(entry, KeepCountMatcher):
        if entry.keep_aliase is not None:
            yield f"{where}.keep_aliase: obsolete and ignored (ecrm ignores it too); remove it"
        if entry.keep_count == 0:
            yield (
                f"{where}.keep_count: 0 keeps no older revisions/versions "
                f"(ecrm would treat 0 as the default {DEFAULT_RESOURCE_KEEP_COUNT})"
            )
    if isinstance(entry, RepositoryRule) and not entry.keep_tag_patterns:
        yield (
            f"{where}.keep_tag_patterns: empty, no tag is kept by pattern "
            "(ecrm would use the default [latest])"
        )
    if isinstance(entry, RepositoryRule):
        for key in ("expires", "archived_expires", "keep_pulled_within"):
            text = getattr(entry, key)
            if text is not None and minus_carries(text):
                yield (
                    f"{where}.{key}: {text!r} is {parse_duration(text)}: a minus sign applies "
                    "to every term after it, as in ecrm (write `+` before a term to add it)"
                )


# ---------------------------------------------------------------------------------------------
# The hand-written check of the parsed YAML (user-facing error messages)
# ---------------------------------------------------------------------------------------------

_SOURCE_SECTIONS = {
    "clusters": "ECS clusters",
    "task_definitions": "task definitions",
    "lambda_functions": "Lambda functions",
}
_ALL_SECTIONS = (*_SOURCE_SECTIONS, "repositories")

_SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "clusters": ("name", "name_pattern"),
    "task_definitions": ("name", "name_pattern", "keep_count"),
    "lambda_functions": ("name", "name_pattern", "keep_count", "keep_aliase"),
    "repositories": (
        "name",
        "name_pattern",
        "expires",
        "keep_count",
        "keep_tag_patterns",
        "include_artifacts",
        "archived_expires",
        "keep_pulled_within",
        "action",
    ),
}
_SAFETY_KEYS = ("max_deletions", "max_delete_ratio", "ratio_min_images", "allow_nothing_in_use")
_SOURCES_KEYS = (
    "scheduled_tasks",
    "batch",
    "batch_keep_count",
    "app_runner",
    "codebuild",
    "sagemaker",
    "emr_serverless",
    "agentcore",
    "lightsail",
    "inspector",
    "inspector_in_use_within",
)
_EXTENSION_KEYS = ("safety", "protect_tag_patterns", "in_use_lists", "sources", "accounts")
_ACCOUNT_KEYS = ("role_arn", "external_id", "regions", "sources")
_REGION_KEYS = ("name", "sources")
# What a place of `accounts` may set: the switches, and how Batch is read. Inspector is
# read at home only.
_PLACE_SOURCES_KEYS = (
    "scheduled_tasks",
    "batch",
    "batch_keep_count",
    "app_runner",
    "codebuild",
    "sagemaker",
    "emr_serverless",
    "agentcore",
    "lightsail",
)

_IN_USE_LIST_HINT = (
    "run the command where it can run (for example `ecrm scan -o FILE`) and give its "
    "JSON array of image URIs to S3, then name the object under in_use_lists "
    "(uri: s3://BUCKET/KEY, max_age: 8d)"
)
_UNSUPPORTED_SECTIONS = {
    "external_commands": (
        "not supported: ecr-sweeper runs inside AWS Lambda, where it cannot run your "
        f"commands; instead, {_IN_USE_LIST_HINT}"
    ),
    "exclude_files": (
        "not supported: ecr-sweeper runs inside AWS Lambda, where local files are not "
        "available; instead, put the image URIs as a JSON array in S3 and name the "
        "object under in_use_lists (uri: s3://BUCKET/KEY, max_age: 8d)"
    ),
}
TOP_LEVEL_KEYS = (*_ALL_SECTIONS, *_EXTENSION_KEYS, *_UNSUPPORTED_SECTIONS)


def _describe(value: Any) -> str:
    """A short description of a YAML value for messages (never a huge repr)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        text = str(value) if value.bit_length() < 200 else "(a very large number)"
        return f"integer {text}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {_short_repr(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__} ({_clip(str(value))})"


def _key_text(key: Any) -> str:
    """A key as a location: as written if plain, else quoted (so it is never blank)."""
    if not isinstance(key, str):
        return _describe(key)
    if key and key.isprintable() and key.strip() == key and ": " not in key:
        return _clip(key, 80)
    return _short_repr(key)


def _suggest(key: Any, choices: Iterable[str]) -> str | None:
    if not isinstance(key, str):
        return None
    found = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}" if where else what)

    def unknown_key(self, where: str, key: Any, allowed: Sequence[str]) -> None:
        """A key no model has: say which are allowed, and the likely one it misspells."""
        shown = _short_repr(key) if isinstance(key, str) else _describe(key)
        hint = _suggest(key, allowed)
        extra = f"; did you mean '{hint}'?" if hint else ""
        self.add(where, f"unknown key {shown} (allowed: {', '.join(allowed)}){extra}")

    def check_root(self, data: Any) -> dict[str, Any]:
        if data is None:
            self.add(
                "",
                "the file is empty; it needs at least a 'repositories' section "
                "(nothing to sweep otherwise)",
            )
            return {}
        if not isinstance(data, dict):
            self.add(
                "",
                "the top level must be a mapping of sections "
                f"({', '.join(_ALL_SECTIONS)}), got {_describe(data)}",
            )
            return {}
        clean: dict[str, Any] = {}
        for key, value in data.items():
            if key in _UNSUPPORTED_SECTIONS:
                self.add(key, _UNSUPPORTED_SECTIONS[key])
            elif key in _SECTION_KEYS:
                clean[key] = self.check_section(key, value)
            elif key == "safety":
                clean[key] = self.check_safety(value)
            elif key == "protect_tag_patterns":
                clean[key] = self.check_patterns(key, value)
            elif key == "in_use_lists":
                clean[key] = self.check_in_use_lists(value)
            elif key == "sources":
                clean[key] = self.check_sources(value)
            elif key == "accounts":
                clean[key] = self.check_accounts(value)
            else:
                hint = _suggest(key, TOP_LEVEL_KEYS)
                extra = (
                    f"did you mean '{hint}'?" if hint else f"allowed: {', '.join(TOP_LEVEL_KEYS)}"
                )
                self.add(_key_text(key), f"unknown key at top level ({extra})")
        if "repositories" not in data:
            self.add(
                "repositories",
                "section missing; it is required (the repository rules say what to sweep)",
            )
        elif data["repositories"] is None or data["repositories"] == []:
            self.add("repositories", "no rules; at least one repository rule is required")
        return clean

    def check_section(self, section: str, value: Any) -> list[dict[str, Any]] | None:
        if value is None:  # `clusters:` with nothing after it: not configured (as in ecrm)
            return None
        if not isinstance(value, list):
            hint = " (start each rule with '- ')" if isinstance(value, dict) else ""
            self.add(section, f"must be a list of rules{hint}, got {_describe(value)}")
            return None
        return [self.check_entry(section, f"{section}[{i}]", e) for i, e in enumerate(value)]

    def check_entry(self, section: str, where: str, entry: Any) -> dict[str, Any]:
        allowed = _SECTION_KEYS[section]
        if not isinstance(entry, dict):
            self.add(
                where,
                f"must be a mapping with name or name_pattern, got {_describe(entry)}",
            )
            return {}
        clean: dict[str, Any] = {}
        for key, value in entry.items():
            if key not in allowed:
                self.unknown_key(where, key, allowed)
            elif value is not None:  # `key:` with no value counts as not set (as in ecrm)
                clean[key] = value

        has_name, has_pattern = "name" in clean, "name_pattern" in clean
        if has_name and has_pattern:
            self.add(where, "set either name or name_pattern, not both")
        elif not has_name and not has_pattern:
            self.add(where, "name or name_pattern is required")
        for key in ("name", "name_pattern"):
            if key in clean:
                self.check_string(f"{where}.{key}", clean[key])
        if "keep_count" in clean:
            self.check_count(f"{where}.keep_count", clean["keep_count"])
        if "keep_aliase" in clean and not isinstance(clean["keep_aliase"], bool):
            self.add(
                f"{where}.keep_aliase",
                f"must be true or false, got {_describe(clean['keep_aliase'])}",
            )
        if section == "repositories":
            self.check_repository(where, clean)
        return clean

    def check_repository(self, where: str, clean: dict[str, Any]) -> None:
        if "expires" not in clean:
            self.add(f"{where}.expires", "required (for example expires: 30days)")
        else:
            expires = clean["expires"]
            if isinstance(expires, int | float) and not isinstance(expires, bool):
                expires = str(expires)  # `expires: 30`: report the missing unit
                clean["expires"] = expires
            self.check_duration(f"{where}.expires", expires, "30days", _expires_consequence(clean))
        if "include_artifacts" in clean and not isinstance(clean["include_artifacts"], bool):
            self.add(
                f"{where}.include_artifacts",
                f"must be true or false, got {_describe(clean['include_artifacts'])}",
            )
        if "keep_pulled_within" in clean:
            self.check_duration(
                f"{where}.keep_pulled_within", clean["keep_pulled_within"], "30days"
            )
        if "action" in clean and clean["action"] not in ("delete", "archive"):
            self.add(
                f"{where}.action",
                f"must be 'delete' or 'archive', got {_describe(clean['action'])}",
            )
        if "archived_expires" in clean:
            self.check_duration(f"{where}.archived_expires", clean["archived_expires"], "180days")
        if "keep_tag_patterns" in clean:
            patterns = clean["keep_tag_patterns"]
            if not isinstance(patterns, list):
                hint = " (write it as a list: [latest])" if isinstance(patterns, str) else ""
                self.add(
                    f"{where}.keep_tag_patterns",
                    f"must be a list of tag patterns{hint}, got {_describe(patterns)}",
                )
            else:
                for i, pattern in enumerate(patterns):
                    self.check_string(f"{where}.keep_tag_patterns[{i}]", pattern)

    def check_safety(self, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add("safety", f"must be a mapping of settings, got {_describe(value)}")
            return {}
        clean: dict[str, Any] = {}
        for key, setting in value.items():
            where = f"safety.{_key_text(key)}"
            if key not in _SAFETY_KEYS:
                hint = _suggest(key, _SAFETY_KEYS)
                extra = f"; did you mean '{hint}'?" if hint else ""
                self.add(
                    "safety",
                    f"unknown key {_describe(key)} (allowed: {', '.join(_SAFETY_KEYS)}){extra}",
                )
            elif setting is None:
                continue
            elif key in ("max_deletions", "ratio_min_images"):
                self.check_count(where, setting)
                clean[key] = setting
            elif key == "max_delete_ratio":
                if isinstance(setting, bool) or not isinstance(setting, int | float):
                    self.add(where, f"must be a number in (0, 1], got {_describe(setting)}")
                elif not 0 < setting <= 1:
                    self.add(where, f"must be in (0, 1], got {setting}")
                clean[key] = setting
            elif not isinstance(setting, bool):
                self.add(where, f"must be true or false, got {_describe(setting)}")
            else:
                clean[key] = setting
        return clean

    def check_sources(self, value: Any, where: str = "sources") -> dict[str, Any]:
        """The top-level `sources` (where="sources"), or a place's (accounts[i].sources,
        accounts[i].regions[j].sources), which takes the switches and batch_keep_count."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(where, f"must be a mapping of switches, got {_describe(value)}")
            return {}
        allowed = _SOURCES_KEYS if where == "sources" else _PLACE_SOURCES_KEYS
        clean: dict[str, Any] = {}
        for key, setting in value.items():
            at = f"{where}.{_key_text(key)}"
            if key not in allowed:
                if key in _SOURCES_KEYS:  # inspector*: only at the top level
                    self.add(
                        at,
                        "only in the top-level sources: Amazon Inspector is read with the "
                        "sweeper's own role, for its own registry",
                    )
                    continue
                self.unknown_key(where, key, allowed)
            elif setting is None:
                continue
            elif key == "batch_keep_count":
                self.check_count(at, setting)
                clean[key] = setting
            elif key == "inspector_in_use_within":
                self.check_duration(at, setting, "14d")
                clean[key] = setting
            elif not isinstance(setting, bool):
                self.add(at, f"must be true or false, got {_describe(setting)}")
            else:
                clean[key] = setting
        return clean

    def mappings(
        self, section: str, value: Any, fields: str
    ) -> Iterator[tuple[str, dict[Any, Any]]]:
        """(location, entry) for each mapping of the list `value`; the rest are reported."""
        if value is None:
            return
        if not isinstance(value, list):
            self.add(section, f"must be a list of {{{fields}}}, got {_describe(value)}")
            return
        for i, entry in enumerate(value):
            if isinstance(entry, dict):
                yield f"{section}[{i}]", entry
            else:
                self.add(
                    f"{section}[{i}]", f"must be a mapping with {fields}, got {_describe(entry)}"
                )

    def check_in_use_lists(self, value: Any) -> list[dict[str, Any]]:
        clean: list[dict[str, Any]] = []
        allowed = ("uri", "max_age", "allow_empty")
        for where, entry in self.mappings("in_use_lists", value, "uri, max_age"):
            for key in entry:
                if key not in allowed:
                    self.unknown_key(where, key, allowed)
            allow_empty = entry.get("allow_empty")
            if allow_empty is not None and not isinstance(allow_empty, bool):
                self.add(
                    f"{where}.allow_empty", f"must be true or false, got {_describe(allow_empty)}"
                )
            for key in ("uri", "max_age"):
                if key not in entry or entry[key] is None:
                    self.add(f"{where}.{key}", "required")
                elif not isinstance(entry[key], str):
                    self.add(f"{where}.{key}", f"must be a string, got {_describe(entry[key])}")
            uri, max_age = entry.get("uri"), entry.get("max_age")
            if isinstance(uri, str):
                self.check_value(f"{where}.uri", lambda u=uri: InUseList._check_uri(u))
            if isinstance(max_age, str):
                self.check_value(f"{where}.max_age", lambda m=max_age: _check_expires(m))
            clean.append({k: v for k, v in entry.items() if k in allowed and v is not None})
        return clean

    def check_accounts(self, value: Any) -> list[dict[str, Any]]:
        clean: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        for where, entry in self.mappings(
            "accounts", value, "role_arn, external_id, regions, sources"
        ):
            for key in entry:
                if key not in _ACCOUNT_KEYS:
                    self.unknown_key(where, key, _ACCOUNT_KEYS)
            role_arn = entry.get("role_arn")
            if role_arn is None:
                self.add(f"{where}.role_arn", "required (the role the scan assumes there)")
            elif not isinstance(role_arn, str):
                self.add(f"{where}.role_arn", f"must be a string, got {_describe(role_arn)}")
            else:
                self.check_value(
                    f"{where}.role_arn", lambda r=role_arn: ScanAccount._check_role_arn(r)
                )
                if role_arn in seen:
                    self.add(
                        f"{where}.role_arn",
                        f"the same role as {seen[role_arn]}; list its regions in one entry",
                    )
                seen.setdefault(role_arn, where)
            external_id = entry.get("external_id")
            if external_id is not None:
                if not isinstance(external_id, str):
                    quote = " (put it in quotes)" if isinstance(external_id, int | float) else ""
                    self.add(
                        f"{where}.external_id",
                        f"must be a string, got {_describe(external_id)}{quote}",
                    )
                else:
                    self.check_value(
                        f"{where}.external_id",
                        lambda x=external_id: ScanAccount._check_external_id(x),
                    )
            clean_entry = {k: v for k, v in entry.items() if k in _ACCOUNT_KEYS and v is not None}
            if entry.get("sources") is not None:
                clean_entry["sources"] = self.check_sources(entry["sources"], f"{where}.sources")
            regions = entry.get("regions")
            if regions is not None:
                if not isinstance(regions, list):
                    self.add(
                        f"{where}.regions",
                        "must be a list of region names (or {name, sources} mappings), "
                        f"got {_describe(regions)}",
                    )
                else:
                    clean_entry["regions"] = self.check_regions(f"{where}.regions", regions)
            clean.append(clean_entry)
        return clean

    def check_regions(self, where: str, regions: list[Any]) -> list[Any]:
        """Each a region name, or a mapping {name, sources}; none twice."""
        clean: list[Any] = []
        seen: dict[str, int] = {}
        for j, region in enumerate(regions):
            at = f"{where}[{j}]"
            if isinstance(region, str):
                name, at_name = region, at
            elif isinstance(region, dict):
                for key in region:
                    if key not in _REGION_KEYS:
                        self.unknown_key(at, key, _REGION_KEYS)
                name, at_name = region.get("name"), f"{at}.name"
                if name is None:
                    self.add(at_name, "required (the region, like eu-west-1)")
            else:
                self.add(
                    at,
                    "must be a region name or a mapping {name, sources}, "
                    f"got {_describe(region)}",
                )
                continue
            if name is not None and not isinstance(name, str):
                self.add(at_name, f"must be a region name, got {_describe(name)}")
            elif name is not None:
                self.check_value(at_name, lambda n=name: _check_region(n))
                if name in seen:
                    self.add(at, f"lists a region twice: {name} is also {where}[{seen[name]}]")
                seen.setdefault(name, j)
            if isinstance(region, dict):
                written = self.check_sources(region.get("sources"), f"{at}.sources")
                clean.append({"name": name, "sources": written})
            else:
                clean.append(region)
        return clean

    def check_patterns(self, where: str, patterns: Any) -> list[Any]:
        if patterns is None:
            return []
        if not isinstance(patterns, list):
            self.add(where, f"must be a list of tag patterns, got {_describe(patterns)}")
            return []
        for i, pattern in enumerate(patterns):
            self.check_string(f"{where}[{i}]", pattern)
        return patterns

    def check_string(self, where: str, value: Any) -> None:
        if isinstance(value, str):
            if value == "":
                self.add(where, "must not be empty")
            return
        quote = ""
        if isinstance(value, int | float) or hasattr(value, "isoformat"):
            quote = " (put it in quotes to make it a string)"
        self.add(where, f"must be a string, got {_describe(value)}{quote}")

    def check_count(self, where: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, f"must be an integer >= 0, got {_describe(value)}")
        elif value < 0:
            self.add(where, f"must be >= 0, got {_describe(value)}")

    def check_duration(self, where: str, value: Any, example: str, consequence: str = "") -> None:
        if isinstance(value, str):
            self.check_value(where, lambda: _check_expires(value, consequence))
        else:
            self.add(where, f"must be a duration like '{example}', got {_describe(value)}")

    def check_value(self, where: str, check: Callable[[], object]) -> None:
        try:
            check()
        except ValueError as e:
            self.add(where, str(e))


# ---------------------------------------------------------------------------------------------
# YAML
# ---------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one; ecrm's
    YAML library reports them) instead of losing a section."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key_node, _ in node.value:
                if (
                    isinstance(key_node, yaml.ScalarNode)
                    and key_node.tag != "tag:yaml.org,2002:merge"
                ):
                    ident = (key_node.tag, key_node.value)
                    if ident in seen:
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            f"found duplicate key {_short_repr(key_node.value)}",
                            key_node.start_mark,
                        )
                    seen.add(ident)
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
            # e.g. `!!int abc`, `!!bool maybe`, an integer of more than 4300 digits
            value = node.value if isinstance(node.value, str) else "..."
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"cannot read {_short_repr(value)} as {node.tag.rsplit(':', 1)[-1]} ({e})",
                node.start_mark,
            ) from None


# Dates and times are read as the text written (as ecrm's YAML reads them into strings):
# no field wants a date, and a tag such as 2024-01-01 is a string.
_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        what = e.problem or e.context or "syntax error"
        context = f" ({e.context})" if e.context and e.problem else ""
        raise ConfigError(f"{source}: invalid YAML at {where}: {what}{context}") from None
    except yaml.reader.ReaderError as e:
        ch = e.character
        code = ord(ch) if isinstance(ch, str) and len(ch) == 1 else ch
        what = f"character U+{code:04X}" if isinstance(code, int) else "a character"
        raise ConfigError(
            f"{source}: invalid YAML at character {e.position + 1}: {what} is not allowed "
            f"({e.reason})"
        ) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: invalid YAML: {_clip(str(e), 200)}") from None
    except RecursionError:
        raise ConfigError(f"{source}: invalid YAML: nested too deeply") from None
    except Exception as e:
        raise ConfigError(f"{source}: invalid YAML: {_clip(str(e), 200)}") from None


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def load_config(text: str, source: str = "ecrm.yaml") -> Config:
    """Parse and check the text of an ecrm.yaml. Raises ConfigError listing every problem,
    one per line, each as `SOURCE: LOCATION: what is wrong`."""
    data = _parse_yaml(text, source)
    checker = _Checker()
    clean = checker.check_root(data)
    if checker.problems:
        raise ConfigError("\n".join(f"{source}: {p}" for p in checker.problems))
    try:
        return Config.model_validate(clean)
    except ValidationError as e:  # the checker should have caught it; never show a raw dump
        lines = [f"{source}: {_loc(err['loc'])}: {err['msg']}" for err in e.errors()]
        raise ConfigError("\n".join(lines)) from None


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


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"
