"""schema/ecrm.schema.json: generated from the config models, committed, pointed at by
config/ecrm.yaml, and never stricter than `validate` (an editor must not flag a config
that ecr-sweeper accepts)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from test_config_fuzz import FUZZ, dump, near_valid, valid_config

from ecr_sweeper.core.config import load_config
from ecr_sweeper.core.config_schema import SCHEMA_PATH, ecrm_schema, ecrm_schema_text
from ecr_sweeper.core.config_yaml import parse_yaml
from ecr_sweeper.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "config" / "ecrm.yaml"
VALIDATOR = jsonschema.Draft202012Validator(ecrm_schema())
RULE = "repositories: [{name: a, expires: 1d}]"
ROLE = "arn:aws:iam::210987654321:role/scanner"


def test_the_committed_schema_is_the_generated_one() -> None:
    assert (ROOT / SCHEMA_PATH).read_text() == ecrm_schema_text(), (
        f"{SCHEMA_PATH} is out of date: run `make schema` and commit it"
    )


def test_the_tool_that_writes_it_finds_it_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "ecrm_schema.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "functions")},  # this checkout's package
    )
    assert result.returncode == 0, result.stderr


def test_it_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(ecrm_schema())


def test_the_bundled_config_points_editors_at_it() -> None:
    first = BUNDLED.read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    assert (BUNDLED.parent / match.group(1)).resolve() == (ROOT / SCHEMA_PATH).resolve()


def _configs_in_docs() -> list[tuple[str, str]]:
    """Every ```yaml block of the docs that is a whole config (it has repositories)."""
    found = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", page.read_text(), re.S)):
            if re.search(r"^repositories:", block, re.M):
                found.append((f"{page.name}[{i}]", block))
    return found


@pytest.mark.parametrize(
    "text",
    [BUNDLED.read_text(), *(text for _, text in _configs_in_docs())],
    ids=["config/ecrm.yaml", *(name for name, _ in _configs_in_docs())],
)
def test_configs_that_validate_accepts_pass_the_schema(text: str) -> None:
    try:
        load_config(text)
    except ConfigError:
        pytest.skip("not a valid config on its own (a fragment of a page)")
    errors = [e.message for e in VALIDATOR.iter_errors(parse_yaml(text, "doc")[0])]
    assert errors == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("repositories: [{name: a, expires: 30d, keep_tags: [x]}]", "keep_tags"),
        ("task_definitions: [{name: a, keep_aliase: true}]\n" + RULE, "keep_aliase"),
        ("repositories: [{name: a, name_pattern: 'a*', expires: 1d}]", "oneOf"),
        ("repositories: [{name: a}]", "expires"),
        ("repositories: []", "repositories"),
        ("clusters: [{name: a}]", "repositories"),
        ("repositories: [{name: a, expires: 1d, keep_count: -1}]", "-1"),
        ("sources: {batch: 'no'}\n" + RULE, "'no'"),
        (f"accounts: [{{role_arn: '{ROLE}', sources: {{inspector: true}}}}]\n" + RULE, "inspector"),
        ("external_commands: []\n" + RULE, "external_commands"),
    ],
    ids=[
        "unknown-key",
        "keep_aliase-outside-lambda",
        "name-and-pattern",
        "no-expires",
        "no-rules",
        "no-repositories",
        "negative-count",
        "switch-not-boolean",
        "inspector-in-a-place",
        "unsupported-section",
    ],
)
def test_the_schema_flags_what_validate_refuses(text: str, flagged: str) -> None:
    with pytest.raises(ConfigError):
        load_config(text)
    errors = list(VALIDATOR.iter_errors(parse_yaml(text, "t")[0]))
    assert errors, text
    # What an editor shows: each error, and under an anyOf the error of each branch.
    said = [e.message + json.dumps(list(e.schema_path)) for e in _with_context(errors)]
    assert any(flagged in line for line in said), said


def _with_context(errors: list[jsonschema.ValidationError]) -> list[jsonschema.ValidationError]:
    out = []
    for error in errors:
        out.append(error)
        out.extend(_with_context(list(error.context or ())))
    return out


def _schema_accepts(data: Any) -> bool:
    return VALIDATOR.is_valid(json.loads(json.dumps(data)))


@FUZZ
@given(valid_config)
def test_every_valid_config_passes_the_schema(data: dict[str, Any]) -> None:
    load_config(dump(data, allow_unicode=False))
    assert _schema_accepts(data)


@FUZZ
@given(near_valid)
def test_the_schema_never_flags_a_config_validate_accepts(data: dict[str, Any]) -> None:
    text = dump(data)
    try:
        load_config(text)
    except ConfigError:
        return
    parsed, _ = parse_yaml(text, "ecrm.yaml")
    assert VALIDATOR.is_valid(parsed), [e.message for e in VALIDATOR.iter_errors(parsed)]
