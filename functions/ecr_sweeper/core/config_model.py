"""The models of a checked ecrm.yaml, what the rest of the sweeper asks of it, and the
warnings for settings that are valid but probably not what was meant.

The pydantic models validate with strict types, so a config snapshot written with
`model_dump(mode="json")` and read back with `Config.model_validate` is checked too and
round-trips to an equal `Config`. The messages a person reads for a bad file come from
config_check.py, which takes each section's allowed keys from these models.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from ecr_sweeper.core.duration import check_positive, minus_carries, parse_duration
from ecr_sweeper.core.messages import short_repr as _short_repr
from ecr_sweeper.core.wildcard import wildcard_match

DEFAULT_RESOURCE_KEEP_COUNT = 5  # task_definitions / lambda_functions
DEFAULT_REPOSITORY_KEEP_COUNT = 0
DEFAULT_KEEP_TAG_PATTERNS = ("latest",)


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


class EksClusterMatcher(_NameMatcher):
    """Our extension, an entry of `eks`: an Amazon EKS cluster whose pods and workload
    templates the scan reads through the cluster's Kubernetes API (docs/eks.md)."""


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
            check_positive(value)
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
        check_positive(value)
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
        check_positive(value)
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
    # Amazon Inspector (off by default: it must be enabled for ECR): images Inspector saw
    # in use within inspector_in_use_within are kept.
    inspector: StrictBool = False
    inspector_in_use_within: StrictStr = "14d"

    @field_validator("inspector_in_use_within")
    @classmethod
    def _check_window(cls, value: str) -> str:
        check_positive(value)
        return value


# The sources a place can turn off, by their `sources` key.
SOURCE_SWITCHES = ("scheduled_tasks", "batch", "app_runner")


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


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class ScanRegion(BaseModel):
    """Our extension: a region of an `accounts` entry written as a mapping, with its own
    `sources`, e.g. `{name: eu-west-1, sources: {app_runner: false}}`."""

    model_config = _MODEL_CONFIG

    name: StrictStr
    sources: PlaceSources = Field(default_factory=PlaceSources)
    # The EKS clusters read in this region (over the account's `eks`); None: the account's.
    eks: list[EksClusterMatcher] | None = None


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
    # The EKS clusters read in this account's regions; None: the top-level `eks`.
    eks: list[EksClusterMatcher] | None = None

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
        names = [region_name(region) for region in value]
        for name in names:
            check_region(name)
        if len(set(names)) != len(names):
            raise ValueError("lists a region twice")
        return value

    @property
    def account_id(self) -> str:
        match = _ROLE_ARN.match(self.role_arn)
        assert match is not None  # checked by the validator
        return match.group(1)


def region_name(region: str | ScanRegion) -> str:
    return region if isinstance(region, str) else region.name


def check_region(name: str) -> str:
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
    # The EKS clusters read there (empty: none).
    eks: tuple[EksClusterMatcher, ...] = ()

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
    # Amazon EKS clusters to read (docs/eks.md). None: no EKS (access must be granted in
    # each cluster, so it cannot be on by default).
    eks: list[EksClusterMatcher] | None = None
    # Roles to assume, and regions to read, for images used in other accounts and regions.
    accounts: list[ScanAccount] = Field(default_factory=list)

    def scan_targets(self, account_id: str, region: str) -> list[ScanTarget]:
        """Every place the scan reads, with the sources read there: this account and
        region first, then each (role, region) of `accounts`. The in-use set is the union
        over all of them."""
        targets = [ScanTarget(account_id, region, sources=self.sources, eks=tuple(self.eks or ()))]
        for entry in self.accounts:
            for target_region in entry.regions or [region]:
                targets.append(
                    ScanTarget(
                        entry.account_id,
                        region_name(target_region),
                        entry.role_arn,
                        entry.external_id,
                        self._place_sources(entry, target_region),
                        self._place_eks(entry, target_region),
                    )
                )
        return targets

    def _place_eks(
        self, account: ScanAccount, region: str | ScanRegion
    ) -> tuple[EksClusterMatcher, ...]:
        """A place's EKS clusters: the region's `eks` if written, else the account's, else
        the top level's (as `clusters` applies everywhere)."""
        for written in (region.eks if isinstance(region, ScanRegion) else None, account.eks):
            if written is not None:
                return tuple(written)
        return tuple(self.eks or ())

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
            for section in SOURCE_SECTIONS
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
        configured = [s for s in SOURCE_SECTIONS if getattr(self, s)]
        eks = self.eks or any(
            entry.eks or any(isinstance(r, ScanRegion) and r.eks for r in entry.regions)
            for entry in self.accounts
        )
        return (
            configured + (["eks"] if eks else []) + (["in_use_lists"] if self.in_use_lists else [])
        )

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
        for section, what in SOURCE_SECTIONS.items():
            if getattr(self, section) is None:
                out.append(
                    f"{section}: section missing, every one of the {what} is scanned "
                    f"(write `{section}: []` to turn the source off)"
                )
        for section in (*ECRM_SECTIONS, "eks"):
            for i, entry in enumerate(getattr(self, section) or ()):
                out.extend(_entry_warnings(section, i, entry))
        if (
            self.clusters == []
            and (self.task_definitions != [] or self.lambda_functions != [])  # None: all
            and "eks" not in self.sources_configured
            and not self.in_use_lists
        ):
            out.append(NOTHING_RUNNING_WARNING)
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


# `make validate`'s warning for a config that reads only task definitions and Lambda.
NOTHING_RUNNING_WARNING = (
    "nothing that runs is read: with `clusters: []` and no eks or in_use_lists, only task "
    "definitions and Lambda functions are; images running in ECS tasks, Amazon EKS or "
    "elsewhere are not seen (add `eks` for EKS clusters, docs/eks.md)"
)


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


# The sections of ecrm's own format. A source section that is absent is scanned in full;
# written `[]` it turns the source off.
SOURCE_SECTIONS = {
    "clusters": "ECS clusters",
    "task_definitions": "task definitions",
    "lambda_functions": "Lambda functions",
}
ECRM_SECTIONS = (*SOURCE_SECTIONS, "repositories")
