"""State payloads stay small whatever the inventory: S3 keys and counts only."""

from datetime import timedelta

from conftest import NOW, digest, inventory, stamp

LIMIT = 16 * 1024


def test_payloads_stay_under_16_kib_with_300_repositories_and_2500_images(run_workflow):
    repositories = {
        f"team-{i:03d}/service": [
            {
                "digest": digest(f"{i}-{j}"),
                "tags": [f"v{j}"],
                "pushed_at": stamp(NOW - timedelta(days=10 + 20 * j)),
                "size_bytes": 1000,
            }
            for j in range(3)
        ]
        for i in range(300)
    }
    repositories["deep"] = [
        {
            "digest": digest(f"deep-{j}"),
            "tags": [f"build-{j}"] if j % 2 else [],
            "pushed_at": stamp(NOW - timedelta(hours=j)),
            "size_bytes": 10_000,
        }
        for j in range(2500)
    ]
    result = run_workflow(inventory(repositories))
    assert result["status"] == "SUCCEEDED", (result["error"], result["cause"])
    assert result["output"]["repositories"] == 301
    assert result["max_state_payload_bytes"] <= LIMIT
    # 2,500 images page through DescribeImages 1,000 at a time.
    deep_deleted = len(result["repositories"]["deep"]["deleted"])
    # Pushed before the cutoff (30 days ago): the one pushed exactly at it stays (the
    # deleter's last look keeps what is not strictly older).
    assert deep_deleted == sum(1 for j in range(2500) if j > 30 * 24)
    # The floor: one DescribeImages page per 1,000 images, one BatchDeleteImage per 100
    # deletions, and the deleter's re-check: one DescribeImages per 100 candidates.
    assert result["api_calls"]["ecr:DescribeImages"] == (300 + 3) + (300 + 18)
    assert result["api_calls"]["ecr:BatchDeleteImage"] == 300 + 18
    # The protect tag: read by Collect, and again by the deleter before it deletes.
    assert result["api_calls"]["ecr:ListTagsForResource"] == 301 + 301
    # Each of the 300 small repositories loses its image older than 30 days; the one
    # pushed exactly 30 days ago is not before the cutoff, and stays.
    assert len(result["repositories"]["team-007/service"]["deleted"]) == 1
