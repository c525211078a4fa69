"""The checker's schema is its models: a field added to a model is allowed, and checked,
without touching the checker."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from ecr_sweeper.core.config_check import RULE_SECTIONS, SECTIONS, Checker, Section
from ecr_sweeper.core.messages import location


@pytest.mark.parametrize(
    "section",
    [*RULE_SECTIONS.values(), *SECTIONS.values()],
    ids=[*RULE_SECTIONS, *(m.__name__ for m in SECTIONS)],
)
def test_each_section_allows_exactly_its_models_fields(section: Section) -> None:
    assert set(section.keys) == set(section.model.model_fields) - set(section.refused)
    # Every hand-written check is of a field the model has (none left behind by a rename).
    assert set(section.checks) <= set(section.model.model_fields)
    assert set(section.required) <= set(section.model.model_fields)


class _NewSwitches(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    eks: StrictBool = True
    eks_keep_count: StrictInt = Field(default=5, ge=0)


@pytest.mark.parametrize(
    ("written", "problems"),
    [
        pytest.param({"eks": False, "eks_keep_count": 2}, [], id="valid"),
        pytest.param(
            {"eks": "no"}, [("sources.eks", "Input should be a valid boolean")], id="bad-type"
        ),
        pytest.param(
            {"eks_keep_count": -1},
            [("sources.eks_keep_count", "Input should be greater than or equal to 0")],
            id="bad-value",
        ),
        pytest.param(
            {"eks_typo": True},
            [("sources", "unknown key 'eks_typo' (allowed: eks, eks_keep_count)")],
            id="unknown",
        ),
    ],
)
def test_a_field_without_a_check_of_its_own_is_checked_by_its_type(
    written: dict[str, object], problems: list[tuple[str, str]]
) -> None:
    checker = Checker()
    clean = checker.check_mapping(("sources",), written, Section(_NewSwitches))
    found = [(location(p.path), p.what) for p in checker.problems]
    assert len(found) == len(problems), found
    for (where, what), (expected_where, expected_start) in zip(found, problems, strict=True):
        assert (where, what[: len(expected_start)]) == (expected_where, expected_start)
    if not problems:
        assert _NewSwitches.model_validate(clean) == _NewSwitches(**written)
