"""The check of a parsed ecrm.yaml that a person reads: every problem at once, each with its
location (`repositories[2].expires: ...`), typos as errors with the likely key.

The schema is data: a `Section` per kind of mapping, whose allowed keys are its model's
fields (a field added to a model is allowed at once, and checked against its annotation)
and whose `checks` give a better message than pydantic's for the keys that have one.
Keys are checked in the order they are written, so the problems read down the file.

Pure: no I/O.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from ecr_sweeper.core.config_model import (
    ECRM_SECTIONS,
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
    Sources,
    check_region,
)
from ecr_sweeper.core.duration import check_positive
from ecr_sweeper.core.messages import (
    Path,
    clip,
    describe,
    key_text,
    location,
    problems_of,
    short_repr,
)

__all__ = ["TOP_LEVEL_KEYS", "Checker", "Problem"]


@dataclass(frozen=True)
class Problem:
    path: Path  # what the message names: `repositories[2].expires`
    what: str
    # Where in the file to point: the path of the value (or, key=True, of the key) that
    # is wrong, which may be deeper than `path` (an unknown key of a mapping).
    at: Path
    key: bool = False

    def __str__(self) -> str:
        where = location(self.path)
        return f"{where}: {self.what}" if where else self.what


# A key's check: reports the problems of `value` at `path` (`entry` is the mapping it is
# in, for messages that name the rule) and returns the value to build the model from.
FieldCheck = Callable[["Checker", Path, Any, Mapping[Any, Any]], Any]


@dataclass(frozen=True)
class Section:
    """How one kind of mapping is checked."""

    model: type[BaseModel]
    checks: Mapping[str, FieldCheck] = field(default_factory=dict)
    # Keys that must be written, with what to say when one is not.
    required: Mapping[str, str] = field(default_factory=dict)
    # Fields of the model that this place does not take: None makes the key unknown here,
    # a text is said instead.
    refused: Mapping[str, str | None] = field(default_factory=dict)
    # The keys to name in "must be a mapping with ..." (a list's entries), or what the
    # mapping holds, for "must be a mapping of ...".
    fields: str = ""
    holds: str = "settings"
    # A check of the whole mapping, before its keys (e.g. name or name_pattern).
    whole: Callable[[Checker, Path, Mapping[Any, Any]], None] | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k in self.model.model_fields if k not in self.refused)

    @property
    def shape(self) -> str:
        fields = self.fields or ", ".join(self.required)
        return f"a mapping with {fields}" if fields else f"a mapping of {self.holds}"


# ---------------------------------------------------------------------------------------------
# Checks of one value
# ---------------------------------------------------------------------------------------------


def check_string(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any] = {}) -> Any:
    if isinstance(value, str):
        if value == "":
            ck.add(path, "must not be empty")
        return value
    quote = ""
    if isinstance(value, int | float) or hasattr(value, "isoformat"):
        quote = " (put it in quotes to make it a string)"
    ck.add(path, f"must be a string, got {describe(value)}{quote}")
    return value


def check_count(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any] = {}) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        ck.add(path, f"must be an integer >= 0, got {describe(value)}")
    elif value < 0:
        ck.add(path, f"must be >= 0, got {describe(value)}")
    return value


def check_bool(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any] = {}) -> Any:
    if not isinstance(value, bool):
        ck.add(path, f"must be true or false, got {describe(value)}")
    return value


def duration(example: str) -> FieldCheck:
    def check(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any]) -> Any:
        ck.check_duration(path, value, example)
        return value

    return check


def check_expires(ck: Checker, path: Path, value: Any, entry: Mapping[Any, Any]) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # `expires: 30`: report the missing unit
    ck.check_duration(path, value, "30days", _expires_consequence(entry))
    return value


def _expires_consequence(entry: Mapping[Any, Any]) -> str:
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
        f"with it every image of the repositories {clip(selector, 80)} matches would be "
        "expired at once (ecrm would take it so and delete them): refused"
    )


def check_keep_tag_patterns(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any]) -> Any:
    if not isinstance(value, list):
        hint = " (write it as a list: [latest])" if isinstance(value, str) else ""
        ck.add(path, f"must be a list of tag patterns{hint}, got {describe(value)}")
        return value
    for i, pattern in enumerate(value):
        check_string(ck, (*path, i), pattern)
    return value


def check_action(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any]) -> Any:
    choices = get_args(RepositoryRule.model_fields["action"].annotation)
    if value not in choices:
        ck.add(
            path,
            f"must be {' or '.join(repr(c) for c in choices)}, got {describe(value)}",
        )
    return value


def check_ratio(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any]) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        ck.add(path, f"must be a number in (0, 1], got {describe(value)}")
    elif not 0 < value <= 1:
        ck.add(path, f"must be in (0, 1], got {value}")
    return value


def string_then(validate: Callable[[str], object]) -> FieldCheck:
    """A string, then the model's own validator of it (the message stays the model's)."""

    def check(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any]) -> Any:
        if not isinstance(value, str):
            ck.add(path, f"must be a string, got {describe(value)}")
        else:
            ck.check_value(path, lambda: validate(value))
        return value

    return check


def check_role_arn(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any]) -> Any:
    if not isinstance(value, str):
        ck.add(path, f"must be a string, got {describe(value)}")
        return value
    ck.check_value(path, lambda: ScanAccount._check_role_arn(value))
    where = location(path[:-1])
    if value in ck.roles_seen:
        ck.add(path, f"the same role as {ck.roles_seen[value]}; list its regions in one entry")
    ck.roles_seen.setdefault(value, where)
    return value


def check_external_id(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any]) -> Any:
    if not isinstance(value, str):
        quote = " (put it in quotes)" if isinstance(value, int | float) else ""
        ck.add(path, f"must be a string, got {describe(value)}{quote}")
    else:
        ck.check_value(path, lambda: ScanAccount._check_external_id(value))
    return value


def check_regions(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any]) -> Any:
    """Each a region name, or a mapping {name, sources}; none twice."""
    if not isinstance(value, list):
        ck.add(
            path,
            "must be a list of region names (or {name, sources} mappings), "
            f"got {describe(value)}",
        )
        return value
    clean: list[Any] = []
    seen: dict[str, int] = {}
    for j, region in enumerate(value):
        at: Path = (*path, j)
        if isinstance(region, str):
            name = check_region_name(ck, at, region, {})
            clean.append(region)
        elif isinstance(region, dict):
            clean.append(ck.check_mapping(at, region, SECTIONS[ScanRegion]))
            name = region.get("name")
        else:
            ck.add(
                at,
                f"must be a region name or a mapping {{name, sources}}, got {describe(region)}",
            )
            continue
        if isinstance(name, str):
            if name in seen:
                ck.add(at, f"lists a region twice: {name} is also {location((*path, seen[name]))}")
            seen.setdefault(name, j)
    return clean


def check_region_name(ck: Checker, path: Path, value: Any, _entry: Mapping[Any, Any]) -> Any:
    if not isinstance(value, str):
        ck.add(path, f"must be a region name, got {describe(value)}")
    else:
        ck.check_value(path, lambda: check_region(value))
    return value


def check_name_selector(ck: Checker, path: Path, entry: Mapping[Any, Any]) -> None:
    has_name, has_pattern = entry.get("name") is not None, entry.get("name_pattern") is not None
    if has_name and has_pattern:
        ck.add(path, "set either name or name_pattern, not both")
    elif not has_name and not has_pattern:
        ck.add(path, "name or name_pattern is required")


# ---------------------------------------------------------------------------------------------
# The sections
# ---------------------------------------------------------------------------------------------

_NAME_CHECKS: dict[str, FieldCheck] = {"name": check_string, "name_pattern": check_string}
_KEEP_COUNT_CHECKS: dict[str, FieldCheck] = {
    **_NAME_CHECKS,
    "keep_count": check_count,
    "keep_aliase": check_bool,
}
_SELECTED_BY = "name or name_pattern"

# The rules of ecrm's own sections, by section (task_definitions and lambda_functions share
# a model, but keep_aliase was only ever a Lambda option).
RULE_SECTIONS: dict[str, Section] = {
    "clusters": Section(
        ClusterMatcher, _NAME_CHECKS, fields=_SELECTED_BY, whole=check_name_selector
    ),
    "task_definitions": Section(
        KeepCountMatcher,
        _KEEP_COUNT_CHECKS,
        refused={"keep_aliase": None},
        fields=_SELECTED_BY,
        whole=check_name_selector,
    ),
    "lambda_functions": Section(
        KeepCountMatcher, _KEEP_COUNT_CHECKS, fields=_SELECTED_BY, whole=check_name_selector
    ),
    "repositories": Section(
        RepositoryRule,
        {
            **_NAME_CHECKS,
            "expires": check_expires,
            "keep_count": check_count,
            "keep_tag_patterns": check_keep_tag_patterns,
            "include_artifacts": check_bool,
            "archived_expires": duration("180days"),
            "keep_pulled_within": duration("30days"),
            "action": check_action,
        },
        required={"expires": "required (for example expires: 30days)"},
        fields=_SELECTED_BY,
        whole=check_name_selector,
    ),
}

_HOME_ONLY = (
    "only in the top-level sources: Amazon Inspector is read with the sweeper's own role, "
    "for its own registry"
)

# The switches of `sources` that every place of `accounts` may set too (the top level adds
# Inspector's, read at home only): one list, so a new source is allowed in both at once.
_PLACE_SOURCE_CHECKS = {
    "scheduled_tasks": check_bool,
    "batch": check_bool,
    "batch_keep_count": check_count,
    "app_runner": check_bool,
    "codebuild": check_bool,
    "sagemaker": check_bool,
    "emr_serverless": check_bool,
    "agentcore": check_bool,
    "lightsail": check_bool,
}

# The other sections, by model. A model not listed is checked by its fields' annotations.
SECTIONS: dict[type[BaseModel], Section] = {
    Safety: Section(
        Safety,
        {
            "max_deletions": check_count,
            "ratio_min_images": check_count,
            "max_delete_ratio": check_ratio,
            "allow_nothing_in_use": check_bool,
        },
    ),
    Sources: Section(
        Sources,
        {
            **_PLACE_SOURCE_CHECKS,
            "inspector": check_bool,
            "inspector_in_use_within": duration("14d"),
        },
        holds="switches",
    ),
    # A place of `accounts` sets the switches and how Batch is read; Inspector is read at
    # home only.
    PlaceSources: Section(
        PlaceSources,
        _PLACE_SOURCE_CHECKS,
        refused={"inspector": _HOME_ONLY, "inspector_in_use_within": _HOME_ONLY},
        holds="switches",
    ),
    InUseList: Section(
        InUseList,
        {
            "uri": string_then(InUseList._check_uri),
            "max_age": string_then(check_positive),
            "allow_empty": check_bool,
        },
        required={"uri": "required", "max_age": "required"},
    ),
    EksClusterMatcher: Section(
        EksClusterMatcher, _NAME_CHECKS, fields=_SELECTED_BY, whole=check_name_selector
    ),
    ScanAccount: Section(
        ScanAccount,
        {
            "role_arn": check_role_arn,
            "external_id": check_external_id,
            "regions": check_regions,
        },
        required={"role_arn": "required (the role the scan assumes there)"},
        fields="role_arn, external_id, regions, sources, eks",
    ),
    ScanRegion: Section(
        ScanRegion,
        {"name": check_region_name},
        required={"name": "required (the region, like eu-west-1)"},
    ),
}

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
TOP_LEVEL_KEYS = (*Config.model_fields, *_UNSUPPORTED_SECTIONS)


def _suggest(key: Any, choices: Iterable[str]) -> str | None:
    if not isinstance(key, str):
        return None
    found = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


@cache
def _field_adapter(field_info: FieldInfo) -> TypeAdapter[Any]:
    if not field_info.metadata:
        return TypeAdapter(field_info.annotation)
    return TypeAdapter(Annotated[field_info.annotation, *field_info.metadata])


def _models_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the model a field holds, whether as a list of them), ignoring `| None`."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _models_in(args[0])
        return None, False
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        model, _ = _models_in(item)
        return model, model is not None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


class Checker:
    """Collects every problem of one document; `check_root` returns what to build the
    Config from (meaningful only when there are no problems)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.roles_seen: dict[str, str] = {}

    def add(self, path: Path, what: str, *, key_at: Path | None = None) -> None:
        """A problem of the value at `path`, or (key_at) of the key written there."""
        if key_at is None:
            self.problems.append(Problem(tuple(path), what, tuple(path)))
        else:
            self.problems.append(Problem(tuple(path), what, tuple(key_at), key=True))

    def unknown_key(self, path: Path, key: Any, allowed: Sequence[str]) -> None:
        """A key no model has: say which are allowed, and the likely one it misspells."""
        shown = short_repr(key) if isinstance(key, str) else describe(key)
        hint = _suggest(key, allowed)
        extra = f"; did you mean '{hint}'?" if hint else ""
        self.add(
            path,
            f"unknown key {shown} (allowed: {', '.join(allowed)}){extra}",
            key_at=(*path, key_text(key)),
        )

    def check_value(self, path: Path, check: Callable[[], object]) -> None:
        try:
            check()
        except ValueError as e:
            self.add(path, str(e))

    def check_duration(self, path: Path, value: Any, example: str, consequence: str = "") -> None:
        if isinstance(value, str):
            self.check_value(path, lambda: check_positive(value, consequence))
        else:
            self.add(path, f"must be a duration like '{example}', got {describe(value)}")

    # -- the document ---------------------------------------------------------------------

    def check_root(self, data: Any) -> dict[str, Any]:
        if data is None:
            self.add(
                (),
                "the file is empty; it needs at least a 'repositories' section "
                "(nothing to sweep otherwise)",
            )
            return {}
        if not isinstance(data, dict):
            self.add(
                (),
                "the top level must be a mapping of sections "
                f"({', '.join(ECRM_SECTIONS)}), got {describe(data)}",
            )
            return {}
        clean: dict[str, Any] = {}
        for key, value in data.items():
            path: Path = (key_text(key),)
            if key in _UNSUPPORTED_SECTIONS:
                self.add(path, _UNSUPPORTED_SECTIONS[key], key_at=path)
            elif key in RULE_SECTIONS:
                clean[key] = self.check_rules(key, value)
            elif key == "protect_tag_patterns":
                clean[key] = self.check_patterns(path, value)
            elif isinstance(key, str) and key in Config.model_fields:
                clean[key] = self.check_field(path, Config.model_fields[key], value, data)
            else:
                hint = _suggest(key, TOP_LEVEL_KEYS)
                extra = (
                    f"did you mean '{hint}'?" if hint else f"allowed: {', '.join(TOP_LEVEL_KEYS)}"
                )
                self.add(path, f"unknown key at top level ({extra})", key_at=path)
        if "repositories" not in data:
            self.add(
                ("repositories",),
                "section missing; it is required (the repository rules say what to sweep)",
            )
        elif data["repositories"] is None or data["repositories"] == []:
            self.add(("repositories",), "no rules; at least one repository rule is required")
        return clean

    def check_rules(self, section: str, value: Any) -> list[dict[str, Any]] | None:
        """One of ecrm's sections: a list of rules; written empty (`clusters:`) it is not
        configured, as in ecrm."""
        if value is None:
            return None
        if not isinstance(value, list):
            hint = " (start each rule with '- ')" if isinstance(value, dict) else ""
            self.add((section,), f"must be a list of rules{hint}, got {describe(value)}")
            return None
        rules = RULE_SECTIONS[section]
        return [self.check_mapping((section, i), entry, rules) for i, entry in enumerate(value)]

    def check_patterns(self, path: Path, value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, f"must be a list of tag patterns, got {describe(value)}")
            return []
        for i, pattern in enumerate(value):
            check_string(self, (*path, i), pattern)
        return value

    # -- by the models ----------------------------------------------------------------------

    def check_field(
        self, path: Path, field_info: FieldInfo, value: Any, entry: Mapping[Any, Any]
    ) -> Any:
        """A key that has no check of its own: by what its field holds. A model is a
        mapping checked by its section, a list of models a list of them, anything else is
        validated by pydantic against the field's type."""
        model, as_list = _models_in(field_info.annotation)
        if model is not None and as_list:
            return [
                self.check_mapping(at, item, _section(model))
                for at, item in self.items(path, value, _section(model))
            ]
        if model is not None:
            if value is None:
                return {}
            return self.check_mapping(path, value, _section(model))
        try:
            return _field_adapter(field_info).validate_python(value)
        except ValidationError as error:
            for where, what in problems_of(error):
                self.add((*path, *where), what)
            return value

    def items(self, path: Path, value: Any, section: Section) -> Iterator[tuple[Path, Any]]:
        """(path, entry) for each mapping of the list `value`; the rest are reported."""
        if value is None:
            return
        if not isinstance(value, list):
            fields = section.fields or ", ".join(section.required)
            self.add(path, f"must be a list of {{{fields}}}, got {describe(value)}")
            return
        for i, entry in enumerate(value):
            if isinstance(entry, dict):
                yield (*path, i), entry
            else:
                self.add((*path, i), f"must be {section.shape}, got {describe(entry)}")

    def check_mapping(self, path: Path, value: Any, section: Section) -> dict[str, Any]:
        """Check one mapping by its section: keys in the order written, then the required
        ones. A key written with no value (`key:`) counts as not set, as in ecrm."""
        if not isinstance(value, dict):
            self.add(path, f"must be {section.shape}, got {describe(value)}")
            return {}
        if section.whole is not None:
            section.whole(self, path, value)
        allowed = section.keys
        fields = section.model.model_fields
        clean: dict[str, Any] = {}
        for key, setting in value.items():
            at: Path = (*path, key_text(key))
            if key not in allowed:
                refusal = section.refused.get(key) if isinstance(key, str) else None
                if refusal:
                    self.add(at, refusal, key_at=at)
                else:
                    self.unknown_key(path, key, allowed)
            elif setting is None:
                continue
            elif key in section.checks:
                clean[key] = section.checks[key](self, at, setting, value)
            else:
                clean[key] = self.check_field(at, fields[key], setting, value)
        for key, message in section.required.items():
            if value.get(key) is None:
                self.add((*path, key), message)
        return clean


def _section(model: type[BaseModel]) -> Section:
    return SECTIONS.get(model) or Section(model)
