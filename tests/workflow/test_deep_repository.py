"""A repository of 10,000 images is planned and deleted exactly as the rules say."""

from datetime import timedelta
from math import ceil

from conftest import NOW, digest, inventory, remaining, stamp, uri

COUNT = 10_000
RECENT = 2_880  # images pushed in the last 30 days (one every 15 minutes)
INDEXES = {10: (11, 12), 9_000: (9_001, 9_002)}  # index -> children (recent, expired)
CHILDREN = {c for children in INDEXES.values() for c in children}

CONFIG = """
clusters: []
task_definitions: [{name: web, keep_count: 1}]
lambda_functions: [{name: api, keep_count: 2}]  # $LATEST and version 2
repositories:
  - name: deep
    expires: 30days
    keep_count: 3
    keep_tag_patterns: [latest]
"""


def label(position: int) -> str:
    return f"deep-{position}"


def deep_image(position: int) -> dict:
    """Position 0 is the newest. Even positions are tagged, odd ones untagged."""
    tagged = position % 2 == 0 and position not in INDEXES and position not in CHILDREN
    spec = {
        "digest": digest(label(position)),
        "tags": [f"build-{COUNT - position}"] if tagged else [],
        "pushed_at": stamp(NOW - timedelta(minutes=15 * position + 5)),
        "size_bytes": 10_000_000,
    }
    if position == 0:
        spec["tags"] = ["latest", *spec["tags"]]
    if position in INDEXES:
        spec["media_type"] = "application/vnd.oci.image.index.v1+json"
        spec["manifests"] = [digest(label(c)) for c in INDEXES[position]]
    return spec


def test_ten_thousand_images_keep_exactly_what_the_rules_keep(run_workflow):
    images = [deep_image(p) for p in range(COUNT)]
    for parent, children in INDEXES.items():  # children share their index's push time
        for child in children:
            images[child]["pushed_at"] = images[parent]["pushed_at"]
    data = inventory(
        {"deep": images},
        ecs={
            "task_definitions": [
                # Only revision 2 is in use (keep_count 1): by tag, and by digest.
                {
                    "family": "web",
                    "revision": 2,
                    "images": [
                        uri("deep", f":build-{COUNT - 5_000}"),
                        uri("deep", f"@{digest(label(7_001))}"),
                    ],
                },
                {"family": "web", "revision": 1, "images": [uri("deep", ":build-1000")]},
            ]
        },
        **{
            "lambda": {
                "functions": [
                    {
                        "name": "api",
                        "versions": [
                            {"version": "1", "image_uri": uri("deep", ":build-2000")},
                            {
                                "version": "2",
                                "image_uri": uri("deep", ":gone"),
                                "resolved_image_uri": uri("deep", f"@{digest(label(9_999))}"),
                            },
                        ],
                    }
                ]
            }
        },
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", (result["error"], result["cause"])

    in_use = {5_000, 7_001, 9_999}
    # The three newest tagged images past the cutoff that nothing else keeps.
    slots = [p for p in range(RECENT, COUNT) if p % 2 == 0 and p not in in_use][:3]
    kept = set(range(RECENT)) | in_use | set(slots)
    assert slots == [2_880, 2_882, 2_884]
    assert 9_000 not in kept and 11 in kept  # the expired index goes, the recent one stays
    assert remaining(result, "deep") == {digest(label(p)) for p in kept}
    deleted = COUNT - len(kept)
    assert result["output"]["images_total"] == COUNT
    assert result["output"]["images_deleted"] == deleted
    # One DescribeImages page per 1,000 images, BatchDeleteImage 100 at a time.
    assert result["api_calls"]["ecr:BatchDeleteImage"] == ceil(deleted / 100)
    assert result["api_calls"]["ecr:BatchGetImage"] == 1
    assert result["api_calls"]["ecr:DescribeImages"] >= COUNT // 1000
