"""Image indexes on the emulator: what remains in ECR after a deleting run."""

from conftest import deleted, digest, image, inventory, remaining, uri

INDEX = "application/vnd.oci.image.index.v1+json"


def _multi_arch(name: str, *, tags: list[str], age_days: float) -> list[dict]:
    children = [digest(f"{name}-amd64"), digest(f"{name}-arm64")]
    return [
        image(name, tags=tags, age_days=age_days, media_type=INDEX, manifests=children),
        image(f"{name}-amd64", age_days=3 * 365),
        image(f"{name}-arm64", age_days=3 * 365),
    ]


def test_a_multi_arch_image_kept_by_tag_keeps_its_old_untagged_children(run_workflow):
    config = "repositories: [{name: app, expires: 30d, keep_tag_patterns: [release-*]}]\n"
    data = inventory(
        {
            "app": [
                *_multi_arch("rel", tags=["release-1"], age_days=3 * 365),
                image("stray", age_days=400),
            ]
        }
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("rel"), digest("rel-amd64"), digest("rel-arm64")}
    assert deleted(result, "app") == {digest("stray")}


def test_a_task_running_a_child_keeps_the_expired_index_and_that_child(run_workflow):
    data = inventory(
        {
            "app": _multi_arch("old", tags=["v1"], age_days=200)
            + _multi_arch("gone", tags=["v0"], age_days=300)
        },
        ecs={
            "clusters": [
                {
                    "name": "prod",
                    "tasks": [
                        {
                            "task_definition": "t:1",
                            "desired_status": "RUNNING",
                            "containers": [
                                {"image": uri("app", ":v1"), "image_digest": digest("old-arm64")}
                            ],
                        },
                    ],
                }
            ]
        },
    )
    result = run_workflow(data)
    assert result["status"] == "SUCCEEDED", result
    assert {digest("old"), digest("old-arm64")} <= remaining(result, "app")
    # The other index, used by nothing, goes with its children, parents first.
    assert deleted(result, "app") == {digest("gone"), digest("gone-amd64"), digest("gone-arm64")}
