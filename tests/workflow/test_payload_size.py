"""State payloads stay small whatever the inventory: S3 keys and counts only."""

from datetime import timedelta

from conftest import NOW, digest, inventory, stamp, uri

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
    # 45 services, each pinning a digest no repository holds any more (the counts below
    # stay those of the repositories), with a deployment under way to a second revision.
    services = [
        {
            "name": f"svc-{s:02d}",
            "revisions": [
                {"id": str(n), "current": n == 1, "containers": [_pinned(f"{s}-{n}")]}
                for n in (1, 2)
            ],
            "service_deployments": [
                {
                    "id": "d",
                    "status": "IN_PROGRESS",
                    "source_revisions": ["1"],
                    "target_revision": "2",
                }
            ],
        }
        for s in range(45)
    ]
    result = run_workflow(
        inventory(repositories, ecs={"clusters": [{"name": "prod", "services": services}]})
    )
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
    # The protect tag: read once by the scan for the whole registry (the Tagging API),
    # and again by the deleter of each repository before it deletes.
    assert result["api_calls"]["resource-groups-tagging-api:GetResources"] == 1
    assert result["api_calls"]["ecr:ListTagsForResource"] == 301
    # The pinned digests: one listing per service, then 20 ARNs a describe (45
    # deployments, 90 revisions).
    assert result["api_calls"]["ecs:ListServiceDeployments"] == 45
    assert result["api_calls"]["ecs:DescribeServiceDeployments"] == 3
    assert result["api_calls"]["ecs:DescribeServiceRevisions"] == 5
    # Each of the 300 small repositories loses its image older than 30 days; the one
    # pushed exactly 30 days ago is not before the cutoff, and stays.
    assert len(result["repositories"]["team-007/service"]["deleted"]) == 1


def _pinned(label: str) -> dict[str, str]:
    return {"image": uri("team-000/service", ":moved"), "image_digest": digest(f"pinned-{label}")}


# Whatever the number of held repositories: 40 of them here, each with a 256-character
# name (the longest ECR allows), once made the summary's output and its notification
# grow by a name each (4,500 held repositories made a 280,840-byte message). The
# notification names ten of them, each with its status and the link to its steps, in
# the table and below it: the 16 KiB bound of design.md (test_summary_size.py).
HELD_BOUND = 16 * 1024


def test_the_largest_payload_does_not_grow_with_the_held_repositories(run_workflow):
    config = (
        "safety: {max_delete_ratio: 0.5, ratio_min_images: 1, allow_nothing_in_use: true}\n"
        "repositories: [{name_pattern: '*', expires: 30d, keep_tag_patterns: []}]\n"
    )
    names = [f"held-{i:03d}-" + "x" * 247 for i in range(40)]
    assert {len(name) for name in names} == {256}
    data = inventory(
        {
            name: [
                {
                    "digest": digest(name),
                    "tags": ["old"],
                    "pushed_at": stamp(NOW - timedelta(days=60)),
                    "size_bytes": 1000,
                }
            ]
            for name in names
        }
    )
    result = run_workflow(
        data, config=config, execution_input=None, parameters={"NotifyOnSuccess": "true"}
    )
    assert result["status"] == "SUCCEEDED", (result["error"], result["cause"])
    assert [r["status"] for r in result["results"].values()] == ["held"] * 40
    assert result["max_state_payload_bytes"] <= HELD_BOUND
    (note,) = result["notifications"]
    assert len(note["message"].encode()) <= HELD_BOUND
    assert "- and 30 more (see the full report)" in note["message"]
    assert "report.md" in note["message"]
