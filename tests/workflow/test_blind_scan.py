"""The "nothing in use" guard judges the sources the scan really read: a section left out
is scanned in full, so it counts as configured, as `"*"` does."""

import pytest
from conftest import deleted, digest, image, inventory

REPOSITORIES = "repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]\n"
EVERY = '[{name_pattern: "*"}]'


def _data() -> dict:
    # A cluster the scan can see, running nothing: a scan that finds nothing in use.
    return inventory({"app": [image("a"), image("b")]}, ecs={"clusters": [{"name": "prod"}]})


@pytest.mark.parametrize(
    "sources",
    [
        "",
        "clusters:\ntask_definitions:\nlambda_functions:\n",
        f"clusters: {EVERY}\ntask_definitions: {EVERY}\nlambda_functions: {EVERY}\n",
        "clusters: []\ntask_definitions: []\n",  # lambda_functions left out: scanned in full
    ],
    ids=["sections-left-out", "sections-without-value", "catch-all-entries", "one-left-out"],
)
def test_a_scan_that_finds_nothing_in_use_fails_whatever_the_sections_look_like(
    run_workflow, sources
):
    result = run_workflow(_data(), config=sources + REPOSITORIES)
    assert result["status"] == "FAILED"
    assert result["error"] == "NothingInUse"
    assert deleted(result, "app") == set()
    assert "ecr:DescribeImages" not in result["api_calls"]  # no repository was touched
    (note,) = result["notifications"]
    assert "FAILED in state ScanInUse" in note["message"]
    assert "allow_nothing_in_use" in note["message"]


def test_every_source_turned_off_is_not_a_blind_scan(run_workflow):
    config = "clusters: []\ntask_definitions: []\nlambda_functions: []\n" + REPOSITORIES
    result = run_workflow(_data(), config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("a"), digest("b")}


def test_allow_nothing_in_use_lets_a_scan_of_every_source_through(run_workflow):
    config = "safety: {allow_nothing_in_use: true}\n" + REPOSITORIES
    result = run_workflow(_data(), config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("a"), digest("b")}
