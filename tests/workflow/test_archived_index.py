"""An archived image index keeps its children: ECR does not return the manifest of an
archived image, so whatever could be a child of a kept archived index is kept too."""

import pytest
from conftest import deleted, digest, image, inventory, remaining

INDEX = "application/vnd.oci.image.index.v1+json"
LONG_AGO = {"status": "ARCHIVED", "archived_at": "2026-01-01T00:00:00Z"}


def _repository() -> list[dict]:
    """release-1.0: an archived multi-arch index (pushed 300 days ago) with one archived
    child and one ACTIVE child; an older image no index lists; a newer stray image."""
    return [
        image(
            "rel",
            tags=["release-1.0"],
            age_days=300,
            media_type=INDEX,
            manifests=[digest("rel-amd64"), digest("rel-arm64")],
            **LONG_AGO,
        ),
        image("rel-amd64", age_days=300, **LONG_AGO),
        image("rel-arm64", age_days=300),
        image("older", age_days=400),
        image("stray", age_days=200),
    ]


RULE = "{name: app, expires: 30d, keep_tag_patterns: KEEP ARCHIVED}"


@pytest.mark.parametrize(
    "archived_expires", ["", ", archived_expires: 90d"], ids=["no-archived-expires", "expires"]
)
@pytest.mark.parametrize(
    ("keep", "protect"),
    [("['release-*']", ""), ("[]", "protect_tag_patterns: ['release-*']\n")],
    ids=["keep_tag_patterns", "protect_tag_patterns"],
)
def test_a_kept_archived_index_keeps_every_image_that_could_be_its_child(
    run_workflow, keep, protect, archived_expires
):
    config = (
        "safety: {allow_nothing_in_use: true}\n"  # the account runs nothing
        + protect
        + "repositories: ["
        + RULE.replace("KEEP", keep).replace(" ARCHIVED", archived_expires)
        + "]\n"
    )
    result = run_workflow(inventory({"app": _repository()}), config=config)
    assert result["status"] == "SUCCEEDED", result
    # Pushed after the index: it cannot be one of its children, and goes.
    assert deleted(result, "app") == {digest("stray")}
    assert remaining(result, "app") == {
        digest(x) for x in ("rel", "rel-amd64", "rel-arm64", "older")
    }
    # Without archived_expires, the archived child is kept on its own account first.
    kept = result["results"]["app"]["kept_reasons"]
    assert kept["possible_child_of_kept_index"] == (3 if archived_expires else 2)


def test_an_archived_index_that_goes_takes_its_expired_children_parents_first(run_workflow):
    config = (
        "safety: {allow_nothing_in_use: true}\n"  # the account runs nothing
        "repositories: [{name: app, expires: 30d, keep_tag_patterns: [], archived_expires: 90d}]\n"
    )
    images = [i for i in _repository() if i["digest"] != digest("older")]
    result = run_workflow(inventory({"app": images}), config=config)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == set()
    order = [d for _, d in result["deletion_order"]]
    assert order.index(digest("rel")) < order.index(digest("rel-arm64"))
