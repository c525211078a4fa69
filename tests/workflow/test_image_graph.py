"""Image indexes on the emulator: what remains in ECR after a deleting run."""

from conftest import BASIC_CONFIG, deleted, digest, image, inventory, remaining, uri

INDEX = "application/vnd.oci.image.index.v1+json"
# These accounts run nothing: let a scan that finds nothing in use through.
NOTHING_RUNS = "safety: {allow_nothing_in_use: true}\n"


def _multi_arch(name: str, *, tags: list[str], age_days: float) -> list[dict]:
    children = [digest(f"{name}-amd64"), digest(f"{name}-arm64")]
    return [
        image(name, tags=tags, age_days=age_days, media_type=INDEX, manifests=children),
        image(f"{name}-amd64", age_days=3 * 365),
        image(f"{name}-arm64", age_days=3 * 365),
    ]


def test_a_multi_arch_image_kept_by_tag_keeps_its_old_untagged_children(run_workflow):
    config = (
        NOTHING_RUNS + "repositories: [{name: app, expires: 30d, keep_tag_patterns: [release-*]}]\n"
    )
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


def test_an_expired_index_sharing_children_with_a_kept_one(run_workflow):
    config = (
        NOTHING_RUNS + "repositories: [{name: app, expires: 30d, keep_tag_patterns: [release-*]}]\n"
    )
    shared, own, kept_only = digest("shared"), digest("own"), digest("kept-only")
    data = inventory(
        {
            "app": [
                image("kept", tags=["release-1"], media_type=INDEX, manifests=[shared, kept_only]),
                image("expired", tags=["old"], media_type=INDEX, manifests=[shared, own]),
                image("shared"),
                image("own"),
                image("kept-only"),
            ]
        }
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("kept"), shared, kept_only}
    assert deleted(result, "app") == {digest("expired"), own}
    order = [d for repo, d in result["deletion_order"] if repo == "app"]
    assert order.index(digest("expired")) < order.index(own)  # the index before its child


def _signature(label: str, subject: str, *, cosign: bool) -> dict:
    """A signature pushed three years ago: cosign tag style, or an OCI referrer."""
    hex_digest = digest(subject).split(":")[1]
    if cosign:
        return image(label, tags=[f"sha256-{hex_digest}.sig"], age_days=3 * 365)
    return image(
        label,
        age_days=3 * 365,
        artifact_media_type="application/vnd.dev.cosign.artifact.sig.v1+json",
        subject=digest(subject),
    )


def _signed(soci: str) -> list[dict]:
    return [
        image("live", tags=["v2"], age_days=1),
        _signature("live-sig", "live", cosign=True),
        _signature("live-att", "live", cosign=False),
        image("live-soci", age_days=400, artifact_media_type=soci, subject=digest("live")),
        image("dead", tags=["v1"], age_days=90),
        _signature("dead-sig", "dead", cosign=True),
        _signature("dead-att", "dead", cosign=False),
        image("dead-soci", age_days=1, artifact_media_type=soci, subject=digest("dead")),
        _signature("orphan", "never-pushed", cosign=False),
    ]


def test_signatures_and_soci_indexes_stay_with_their_image_and_then_go_as_ecrm_says(
    run_workflow,
):
    """Kept with their image whatever their age. Once it goes, each is judged on its
    own, as ecrm judges it: the cosign tag signature is an old image and goes; the OCI
    signature and the SOCI indexes are artifacts, which ecrm never deletes."""
    soci = "application/vnd.amazon.soci.index.v2+json"
    result = run_workflow(inventory({"app": _signed(soci)}))
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("dead"), digest("dead-sig")}
    kinds = {row["kind"] for line in result["report"]["repositories"] for row in line["rows"]}
    assert {"Image", "Referrer", "Soci index"} <= kinds

    # include_artifacts: artifacts are judged like images, by their own age
    config = BASIC_CONFIG.replace(
        "keep_tag_patterns: []", "keep_tag_patterns: []\n    include_artifacts: true"
    )
    result = run_workflow(inventory({"app": _signed(soci)}), config=config)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {
        digest(x) for x in ("live", "live-sig", "live-att", "live-soci", "dead-soci")
    }
    assert deleted(result, "app") == {digest(x) for x in ("dead", "dead-sig", "dead-att", "orphan")}


def test_archived_images_stay_unless_a_rule_says_so(run_workflow):
    images = [
        image(
            "cold", tags=["v1"], age_days=900, status="ARCHIVED", archived_at="2026-01-01T00:00:00Z"
        ),
        image("warm", tags=["v2"], age_days=900),
    ]
    result = run_workflow(inventory({"app": images}))
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("cold")}
    line = result["report"]["repositories"][0]
    assert line["archived"]["count"] == 1

    config = NOTHING_RUNS + (
        "repositories: [{name: app, expires: 30d, keep_tag_patterns: [], archived_expires: 180d}]\n"
    )
    result = run_workflow(inventory({"app": images}), config=config)
    assert deleted(result, "app") == {digest("cold"), digest("warm")}


def test_a_helm_chart_stays_unless_include_artifacts(run_workflow):
    def chart() -> list[dict]:
        return [
            image(
                "chart",
                tags=["1.0.0"],
                age_days=900,
                artifact_media_type="application/vnd.cncf.helm.config.v1+json",
            ),
            image("img", tags=["v1"], age_days=900),
        ]

    result = run_workflow(inventory({"app": chart()}))
    assert remaining(result, "app") == {digest("chart")}
    kinds = {row["kind"] for row in result["report"]["repositories"][0]["rows"]}
    assert kinds == {"Image", "Artifact"}

    config = NOTHING_RUNS + "repositories: [{name: app, expires: 30d, include_artifacts: true}]\n"
    result = run_workflow(inventory({"app": chart()}), config=config)
    assert deleted(result, "app") == {digest("chart"), digest("img")}
