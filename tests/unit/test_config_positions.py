"""Every problem `validate` reports says where it is written: line and column, as editors
count (from 1), of the value that is wrong, of the unknown key, or of the mapping that
lacks a required key."""

from __future__ import annotations

import re
import textwrap

import pytest

from ecr_sweeper.core.config import load_config
from ecr_sweeper.errors import ConfigError

BASE = """\
repositories:
  - name_pattern: "app-*"
    expires: 30days
"""


def problems(text: str) -> list[tuple[str, int, int]]:
    """(the message up to the position, line, column) for each line of the error."""
    with pytest.raises(ConfigError) as info:
        load_config(textwrap.dedent(text))
    found = []
    for line in str(info.value).splitlines():
        match = re.fullmatch(r"(.*) \(line (\d+), column (\d+)\)", line)
        assert match, f"no position in {line!r}"
        found.append((match.group(1), int(match.group(2)), int(match.group(3))))
    return found


@pytest.mark.parametrize(
    ("text", "starts", "line", "column"),
    [
        pytest.param(
            BASE + "    keep_tags: [x]\n",
            "ecrm.yaml: repositories[0]: unknown key 'keep_tags'",
            4,
            5,
            id="unknown-key-points-at-the-key",
        ),
        pytest.param(
            BASE + "    keep_count: -1\n",
            "ecrm.yaml: repositories[0].keep_count: must be >= 0",
            4,
            17,
            id="bad-value-points-at-the-value",
        ),
        pytest.param(
            BASE + "    keep_tag_patterns: [latest, 42]\n",
            "ecrm.yaml: repositories[0].keep_tag_patterns[1]: must be a string",
            4,
            33,
            id="bad-item-of-a-flow-list",
        ),
        pytest.param(
            BASE + "accounts:\n  - role_arn: arn:aws:iam::210987654321:role/scanner\n"
            "    regions:\n      - eu-west-1\n      - {name: eu-west-2, sources: {batch: 1}}\n",
            "ecrm.yaml: accounts[0].regions[1].sources.batch: must be true or false",
            8,
            44,
            id="bad-type-in-a-nested-entry",
        ),
        pytest.param(
            BASE + "  - name: other\n    keep_count: 2\n",
            "ecrm.yaml: repositories[1].expires: required",
            4,
            5,
            id="missing-key-points-at-its-mapping",
        ),
        pytest.param(
            BASE + "safety:\n  max_delete_ratio: 1.5\n",
            "ecrm.yaml: safety.max_delete_ratio: must be in (0, 1]",
            5,
            21,
            id="block-mapping-value",
        ),
        pytest.param(
            "external_commands: []\n" + BASE,
            "ecrm.yaml: external_commands: not supported",
            1,
            1,
            id="unsupported-section",
        ),
    ],
)
def test_each_problem_names_its_line_and_column(
    text: str, starts: str, line: int, column: int
) -> None:
    (problem,) = problems(text)
    assert problem[0].startswith(starts), problem
    assert problem[1:] == (line, column)


def test_every_problem_of_a_file_is_located_in_file_order() -> None:
    found = problems(
        """\
        clusters: {name: x}
        repositories:
          - {name: a, keep_tags: [x], expires: 30 dayz}
          - name: b
            expires: 1d
            keep_count: -1
        """
    )
    assert [(line, column) for _, line, column in found] == [(1, 11), (3, 15), (3, 40), (6, 17)]


def test_a_value_reached_through_an_alias_points_at_what_was_written() -> None:
    found = problems(
        """\
        defaults: &defaults
          expires: 30 dayz
        repositories:
          - name: a
            <<: *defaults
        """
    )
    # `defaults` is not a section; the bad duration is where the anchor wrote it.
    assert [(text.split(":")[1].strip(), line, column) for text, line, column in found] == [
        ("defaults", 1, 1),
        ("repositories[0].expires", 2, 12),
    ]
