"""Tags shaped like referrer tags (`sha256-<hex>[.sig|.att|.sbom]`) on the emulator.

Such a tag makes an image a referrer only when the digest it names is an image of
the same repository and the image has no ordinary tag; otherwise the image is judged
like any other. A signature whose subject is in use anywhere is kept.
"""

from conftest import deleted, digest, image, inventory, remaining, uri

COSIGN_SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json"


def sig_tag(label: str, suffix: str = ".sig") -> str:
    return digest(label).replace("sha256:", "sha256-") + suffix


CONFIG = """
safety: {allow_nothing_in_use: true}
clusters: [{name: prod}]
task_definitions: []
lambda_functions: []
repositories:
  - {name_pattern: "*", expires: 30d, keep_count: 5}
"""


def test_images_that_only_look_like_referrers_are_judged_by_age_and_keep_count(run_workflow):
    data = inventory(
        {
            "app": [
                # a release image that also carries a signature-shaped tag
                image("release", tags=["v9.9.9", sig_tag("old-base")], age_days=1),
                image("old-base", age_days=400),  # expired and untagged: it goes
                # an image tagged with its own digest
                image("self", tags=[sig_tag("self", "")], age_days=1),
                # a signature-shaped tag naming no image of this repository
                image("dangling", tags=[sig_tag("never-pushed", ".att")], age_days=1),
            ]
        }
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("release"), digest("self"), digest("dangling")}
    assert deleted(result, "app") == {digest("old-base")}


def test_signatures_in_their_own_repository_are_kept_while_their_image_runs(run_workflow):
    """COSIGN_REPOSITORY: the signatures live apart from the images they sign."""
    config = CONFIG.replace("keep_count: 5", "keep_count: 0")
    data = inventory(
        {
            "app": [image("running", tags=["v1"], age_days=90)],
            "app-signatures": [
                image("running-sig", tags=[sig_tag("running")], age_days=1),
                image("running-old-sig", tags=[sig_tag("running", ".att")], age_days=90),
                image(
                    "running-oci-sig",
                    age_days=90,
                    artifact_media_type=COSIGN_SIGNATURE,
                    subject=digest("running"),
                ),
                # the signature of an image nothing runs any more: an expired image
                image("retired-sig", tags=[sig_tag("retired")], age_days=90),
            ],
        },
        ecs={
            "clusters": [
                {
                    "name": "prod",
                    "tasks": [
                        {
                            "task_definition": "web:1",
                            "desired_status": "RUNNING",
                            "containers": [
                                {"image": uri("app", ":v1"), "image_digest": digest("running")}
                            ],
                        }
                    ],
                }
            ]
        },
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("running")}
    assert remaining(result, "app-signatures") == {
        digest("running-sig"),
        digest("running-old-sig"),
        digest("running-oci-sig"),
    }
    assert deleted(result, "app-signatures") == {digest("retired-sig")}
