"""keep_count counts image indexes apart from images, as ecrm does: the N newest
expired tagged indexes are kept in addition to the N newest expired tagged images."""

from conftest import deleted, digest, image, inventory, remaining

INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = (
    "safety: {allow_nothing_in_use: true}\n"  # the account runs nothing
    "repositories: [{name: app, expires: 30d, keep_count: 1, keep_tag_patterns: []}]\n"
)


def _multi_arch(name: str, tag: str, age_days: float) -> list[dict]:
    children = [f"{name}-amd64", f"{name}-arm64"]
    return [
        image(
            name,
            tags=[tag],
            age_days=age_days,
            media_type=INDEX,
            manifests=[digest(c) for c in children],
        ),
        *(image(c, age_days=age_days) for c in children),
    ]


def test_indexes_and_images_each_keep_their_newest_expired_tagged_one(run_workflow):
    data = inventory(
        {
            "app": [
                *_multi_arch("idx-new", "v2", age_days=100),
                *_multi_arch("idx-old", "v1", age_days=200),
                image("img-new", tags=["b2"], age_days=150),
                image("img-old", tags=["b1"], age_days=250),
            ]
        }
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {
        digest("idx-new"),
        digest("idx-new-amd64"),
        digest("idx-new-arm64"),
        digest("img-new"),
    }
    assert deleted(result, "app") == {
        digest("idx-old"),
        digest("idx-old-amd64"),
        digest("idx-old-arm64"),
        digest("img-old"),
    }
