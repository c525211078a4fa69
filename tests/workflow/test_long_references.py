"""In-use references the parser once dropped: a tag longer than 128 characters (ECR
allows 300, an ECS image string 255) protects its image, and a reference that cannot
be read keeps everything it may name: the whole repository it names or, when even
the repository cannot be read, the whole run (it fails closed)."""

import pytest
from conftest import REGISTRY, deleted, digest, image, inventory, remaining, uri

LONG_TAG = "release-" + "x" * 192  # 200 characters
CONFIG = """
clusters: []
task_definitions: [{name_pattern: "*", keep_count: 1}]
lambda_functions: []
repositories: [{name_pattern: "*", expires: 30d, keep_tag_patterns: []}]
"""


def _data(used: list[str]) -> dict:
    """`used`: the images of a second task definition (the references under test). An
    in-use list is stricter: an entry it cannot parse fails the run (test_in_use_lists)."""
    return inventory(
        {
            "app": [image("long", tags=[LONG_TAG]), image("unused", tags=["v0"])],
            "pinned": [image("p1", tags=["v1"]), image("p2")],
            "lib": [image("l1", tags=["v1"])],
        },
        ecs={
            "task_definitions": [
                {"family": "web", "revision": 1, "images": [uri("app", ":" + LONG_TAG)]},
                {"family": "extra", "revision": 1, "images": used},
            ]
        },
    )


def test_a_tag_longer_than_128_characters_protects_its_image(run_workflow):
    assert len(uri("app", ":" + LONG_TAG)) <= 255  # an ECS image string can hold it
    result = run_workflow(_data([uri("lib", ":v1")]), config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("long")}
    assert deleted(result, "app") == {digest("unused")}


@pytest.mark.parametrize(
    "reference",
    [
        uri("pinned", ":" + "t" * 301),  # longer than ECR allows
        uri("pinned", ":v1 beta"),  # a character no tag has
        uri("pinned", "@sha256:NOT-A-DIGEST"),
    ],
    ids=["tag-too-long", "odd-tag", "bad-digest"],
)
def test_an_unreadable_reference_keeps_the_whole_repository_it_names(run_workflow, reference):
    result = run_workflow(_data([uri("lib", ":v1"), reference]), config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "pinned") == {digest("p1"), digest("p2")}
    assert deleted(result, "app") == {digest("unused")}  # other repositories are swept


@pytest.mark.parametrize(
    "reference",
    [f"{REGISTRY}/Not A Repository:v1", f"{REGISTRY}/", f"{REGISTRY}//app:v1"],
    ids=["spaces", "no-repository", "empty-component"],
)
def test_a_reference_to_this_registry_naming_no_readable_repository_fails_closed(
    run_workflow, reference
):
    result = run_workflow(_data([uri("lib", ":v1"), reference]), config=CONFIG)
    assert result["status"] == "FAILED"
    assert result["error"] == "SourceReadError"
    assert all(not r["deleted"] for r in result["repositories"].values())
    (note,) = result["notifications"]
    assert "FAILED in state ScanInUse" in note["message"]
    assert "cannot be read" in note["message"]
