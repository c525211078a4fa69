"""Each source of "in use" protects its images through the real workflow."""

from conftest import deleted, digest, image, inventory, remaining, uri


def _repo(*labels: str, tags: dict[str, list[str]] | None = None) -> list[dict]:
    tags = tags or {}
    return [image(label, tags=tags.get(label)) for label in labels]


def test_unused_expired_images_go_and_used_ones_stay(run_workflow):
    data = inventory(
        {"app": _repo("a1", "a2", "a3", "a4", tags={"a1": ["v1"], "a2": ["v2"]})},
        ecs={
            "clusters": [
                {
                    "name": "prod",
                    "services": [
                        {
                            "name": "web",
                            "deployments": [
                                {"status": "PRIMARY", "task_definition": "web:2"},
                                {"status": "INACTIVE", "task_definition": "web:1"},
                            ],
                        }
                    ],
                }
            ],
            "task_definitions": [
                {"family": "web", "revision": 2, "images": [uri("app", ":v2")]},
                {"family": "web", "revision": 1, "images": [uri("app", f"@{digest('a1')}")]},
            ],
        },
    )
    result = run_workflow(data)
    assert result["status"] == "SUCCEEDED", result
    # web:2 (tag v2) and web:1 (an INACTIVE deployment, by digest) are both in use.
    assert remaining(result, "app") == {digest("a1"), digest("a2")}
    assert deleted(result, "app") == {digest("a3"), digest("a4")}


def test_running_and_stopped_task_digests_are_in_use(run_workflow):
    data = inventory(
        {"app": _repo("run", "stop", "old", tags={"run": ["moved"]})},
        ecs={
            "clusters": [
                {
                    "name": "prod",
                    "tasks": [
                        # started by a tag that now points elsewhere: the digest protects it
                        {
                            "task_definition": "t:1",
                            "desired_status": "RUNNING",
                            "containers": [
                                {"image": uri("app", ":gone"), "image_digest": digest("run")}
                            ],
                        },
                        {
                            "task_definition": "t:1",
                            "desired_status": "STOPPED",
                            "containers": [
                                {"image": uri("app", ":gone"), "image_digest": digest("stop")}
                            ],
                        },
                    ],
                }
            ]
        },
    )
    result = run_workflow(data)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("old")}


def test_task_definition_families_keep_their_newest_revisions(run_workflow):
    config = """
clusters: []
task_definitions: [{name: api, keep_count: 2}]
lambda_functions: []
repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]
"""
    data = inventory(
        {"app": _repo("r1", "r2", "r3", "other", tags={"r1": ["r1"], "r2": ["r2"], "r3": ["r3"]})},
        ecs={
            "task_definitions": [
                {"family": "api", "revision": n, "images": [uri("app", f":r{n}")]}
                for n in (1, 2, 3)
            ]
            + [{"family": "api-worker", "revision": 1, "images": [uri("app", ":other")]}]
        },
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    # api:3 and api:2 are the newest two; api-worker is another family (prefix, not match).
    assert remaining(result, "app") == {digest("r2"), digest("r3")}


def test_lambda_aliases_weights_and_resolved_digests(run_workflow):
    config = """
clusters: []
task_definitions: []
lambda_functions: [{name: fn, keep_count: 1}]
repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]
"""
    labels = ["latest", "v1", "v2", "v3", "v4", "resolved", "unused"]
    data = inventory(
        {"app": _repo(*labels, tags={x: [x] for x in labels if x not in ("resolved", "unused")})},
        **{
            "lambda": {
                "functions": [
                    {
                        "name": "fn",
                        "versions": [
                            # $LATEST is the newest non-aliased version: keep_count 1 keeps it only
                            {"version": "$LATEST", "image_uri": uri("app")},  # implicit :latest
                            {"version": "1", "image_uri": uri("app", ":v1")},
                            {"version": "2", "image_uri": uri("app", ":v2")},
                            {
                                "version": "3",
                                "image_uri": uri("app", ":v3"),
                                "resolved_image_uri": uri("app", f"@{digest('resolved')}"),
                            },
                            {"version": "4", "image_uri": uri("app", ":v4")},
                        ],
                        "aliases": [
                            {"name": "live", "version": "3", "additional_versions": {"4": 0.2}}
                        ],
                    }
                ]
            }
        },
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest(x) for x in ("latest", "v3", "v4", "resolved")}
    assert deleted(result, "app") == {digest(x) for x in ("v1", "v2", "unused")}


def test_tag_and_digest_reference_keeps_both(run_workflow):
    data = inventory(
        {"app": _repo("tagged", "pinned", "loose", tags={"tagged": ["stable"]})},
        ecs={
            "task_definitions": [
                {
                    "family": "web",
                    "revision": 1,
                    "images": [uri("app", f":stable@{digest('pinned')}")],
                }
            ]
        },
    )
    result = run_workflow(data)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("loose")}


def test_references_to_other_regions_do_not_protect_this_one(run_workflow):
    other = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
    data = inventory(
        {"app": _repo("x", tags={"x": ["v1"]})},
        ecs={"task_definitions": [{"family": "web", "revision": 1, "images": [f"{other}:v1"]}]},
    )
    result = run_workflow(data)
    assert deleted(result, "app") == {digest("x")}


def test_an_execution_with_no_input_deletes_nothing(run_workflow):
    data = inventory({"app": _repo("a", "b")})
    result = run_workflow(data, execution_input=None)
    assert result["status"] == "SUCCEEDED"
    assert result["output"]["dry_run"] is True
    assert deleted(result, "app") == set()
    assert result["output"]["images_deleted"] == 2  # reported as "would delete"
    assert "ecr:BatchDeleteImage" not in result["api_calls"]


def test_the_dry_run_parameter_false_deletes_when_input_is_empty(run_workflow):
    data = inventory({"app": _repo("a")})
    result = run_workflow(data, execution_input="{}", parameters={"DryRun": "false"})
    assert deleted(result, "app") == {digest("a")}
