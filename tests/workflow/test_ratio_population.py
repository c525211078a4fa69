"""safety.max_delete_ratio counts the images the rule could delete: an archived image (no
archived_expires) or an artifact (no include_artifacts) can never go, so it does not
dilute the ratio."""

import pytest
from conftest import deleted, digest, image, inventory

HELM = "application/vnd.cncf.helm.config.v1+json"
ARCHIVED = {"status": "ARCHIVED", "archived_at": "2026-01-01T00:00:00Z"}
RULE = "{name: app, expires: 30d, keep_tag_patterns: []EXTRA}"


# The accounts run nothing: let a scan that finds nothing in use through.
SAFETY = "safety: {allow_nothing_in_use: true"


def _expired(count: int) -> list[dict]:
    return [image(f"old{i}", tags=[f"v{i}"]) for i in range(count)]


@pytest.mark.parametrize(
    "never_goes",
    [image("cold", **ARCHIVED), image("chart", tags=["1.0.0"], artifact_media_type=HELM)],
    ids=["archived", "helm-chart"],
)
def test_an_image_that_can_never_go_does_not_release_the_hold(run_workflow, never_goes):
    # Defaults: max_delete_ratio 0.95, ratio_min_images 10. 19 of 19 is 100%.
    data = inventory({"app": [*_expired(19), never_goes]})
    config = SAFETY + "}\nrepositories: [" + RULE.replace("EXTRA", "") + "]\n"
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == set()
    assert result["results"]["app"]["status"] == "held"
    assert "19 of the 19 images" in result["results"]["app"]["held"]


@pytest.mark.parametrize(
    ("never_goes", "extra"),
    [
        (image("cold", **ARCHIVED), ", archived_expires: 90d"),
        (image("chart", tags=["1.0.0"], artifact_media_type=HELM), ", include_artifacts: true"),
    ],
    ids=["archived_expires", "include_artifacts"],
)
def test_an_image_the_rule_may_delete_counts(run_workflow, never_goes, extra):
    # It counts among the images the rule could delete: 20 of 22 (91%), not 20 of 21.
    young = [image(f"new{i}", age_days=1) for i in range(2)]
    data = inventory({"app": [*_expired(19), never_goes, *young]})
    config = SAFETY + "}\nrepositories: [" + RULE.replace("EXTRA", extra) + "]\n"
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest(f"old{i}") for i in range(19)} | {never_goes["digest"]}


def test_ratio_min_images_counts_the_same_images(run_workflow):
    # 9 images the rule could delete, with 5 archived ones: under ratio_min_images (10),
    # so the ratio is not checked, although the repository holds 14 images.
    data = inventory({"app": [*_expired(9), *(image(f"cold{i}", **ARCHIVED) for i in range(5))]})
    config = (
        SAFETY + ", max_delete_ratio: 0.5}\nrepositories: [" + RULE.replace("EXTRA", "") + "]\n"
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest(f"old{i}") for i in range(9)}
