"""CodeBuild, SageMaker, EMR Serverless, Bedrock AgentCore and Lightsail as sources of
"in use": an image only one of them uses survives a deleting run while its unused
neighbour goes; a source that cannot be read fails the run with nothing deleted and a
notification; a member region whose service botocore's region data does not list is
read without it and reported "not available here" (AgentCore, with no region data, is
read everywhere).

Every case runs the handlers in-process but one: a source in the artifact mode takes
about a minute (each function its own process), so only AgentCore runs there too, to
keep CI time down. It stands for the five: all are answered by the same served-API code
(served/, wire.py) in both modes, and AgentCore's REST calls carry the most through the
artifact mode's server (the runtime id in the path, the version in the query)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import deleted, digest, image, inventory, remaining, uri

MEMBER = "210987654321"
ROLE = f"arn:aws:iam::{MEMBER}:role/ecr-sweeper-scanner"

CONFIG = """
clusters: []
task_definitions: []
lambda_functions: []
repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]
sources: {scheduled_tasks: false, batch: false, app_runner: false}
"""


def _codebuild(used: str) -> dict[str, Any]:
    # The project builds on a CodeBuild image; the running build overrides it.
    return {
        "projects": [{"name": "ci", "image": "aws/codebuild/standard:7.0"}],
        "builds": [
            {"project": "ci", "image": uri("app", f":{used}")},
            {"project": "ci", "image": uri("app", ":unused"), "status": "SUCCEEDED"},
        ],
    }


def _sagemaker(used: str) -> dict[str, Any]:
    return {
        "models": [{"name": "ranker", "images": [uri("app", f":{used}")]}],
        "training_jobs": [{"name": "old", "image": uri("app", ":unused"), "status": "Completed"}],
    }


def _emr_serverless(used: str) -> dict[str, Any]:
    return {
        "applications": [
            {"name": "spark", "worker_images": {"Driver": uri("app", f":{used}")}},
            {"name": "gone", "image": uri("app", ":unused"), "state": "TERMINATED"},
        ]
    }


def _agentcore(used: str) -> dict[str, Any]:
    # Version 2 is the newest; the endpoint still serves version 1.
    return {
        "runtimes": [
            {
                "name": "helper",
                "versions": [uri("app", f":{used}"), "public.ecr.aws/x/agent:2"],
                "endpoints": [{"name": "prod", "live_version": 1}],
            }
        ]
    }


def _lightsail(used: str) -> dict[str, Any]:
    return {
        "container_services": [
            {
                "name": "web",
                "current": {"proxy": ":web.proxy.3"},
                "next": {"app": uri("app", f":{used}")},
            }
        ]
    }


# inventory key, figure name, the source's first call (fault target), the IAM action
# the failure names, a member region without the service (None: botocore cannot tell).
SOURCES = [
    pytest.param(
        "codebuild", _codebuild, "codebuild:ListProjects", "codebuild:ListProjects",
        "ca-west-1", id="codebuild",
    ),
    pytest.param(
        "sagemaker", _sagemaker, "sagemaker:ListModels", "sagemaker:ListModels",
        "us-iso-west-1", id="sagemaker",
    ),
    pytest.param(
        "emr_serverless", _emr_serverless, "emr-serverless:ListApplications",
        "emr-serverless:ListApplications", "us-iso-west-1", id="emr_serverless",
    ),
    pytest.param(
        "agentcore", _agentcore, "bedrock-agentcore-control:ListAgentRuntimes",
        "bedrock-agentcore:ListAgentRuntimes", None, id="agentcore",
    ),
    pytest.param(
        "lightsail", _lightsail, "lightsail:GetContainerServices",
        "lightsail:GetContainerServices", "us-west-1", id="lightsail",
    ),
]  # fmt: skip


def _account(source: str, section: Any, **more: Any) -> dict[str, Any]:
    return inventory(
        {"app": [image(label, tags=[label]) for label in ("used", "unused")]},
        **{source: section("used")},
        **more,
    )


def _kept_only_by(
    run_workflow: Any, source: str, section: Any, call: str, from_build: Path | None
) -> None:
    result = run_workflow(_account(source, section), config=CONFIG, from_build=from_build)

    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("used")}
    assert deleted(result, "app") == {digest("unused")}
    assert result["report"]["sources"][source]["found"] >= 1
    assert result["api_calls"][call] == 1


@pytest.mark.parametrize(("source", "section", "call", "action", "without"), SOURCES)
def test_the_image_only_this_source_uses_is_kept(
    run_workflow, source, section, call, action, without
):
    _kept_only_by(run_workflow, source, section, call, from_build=None)


def test_the_image_only_agentcore_uses_is_kept_in_the_artifact_mode(run_workflow, artifact):
    _kept_only_by(
        run_workflow,
        "agentcore",
        _agentcore,
        "bedrock-agentcore-control:ListAgentRuntimes",
        from_build=artifact,
    )


@pytest.mark.parametrize(("source", "section", "call", "action", "without"), SOURCES)
def test_access_denied_fails_the_run_and_deletes_nothing(
    run_workflow, source, section, call, action, without
):
    data = _account(source, section, faults=[{"operation": call, "error": "AccessDeniedException"}])
    result = run_workflow(data, config=CONFIG)

    assert result["status"] == "FAILED", result
    assert result["error"] == "AwsRequestError", result["cause"]
    assert f"{action}: AccessDeniedException" in result["cause"]
    assert all(not r["deleted"] for r in result["repositories"].values())
    assert result["notifications"]


def _with_member(source: str, section: Any, region: str) -> tuple[dict[str, Any], str]:
    data = _account(source, section, accounts=[{"account_id": MEMBER, "region": region}])
    config = CONFIG + f"accounts:\n  - role_arn: {ROLE}\n    regions: [{region}]\n"
    return data, config


@pytest.mark.parametrize(
    ("source", "section", "call", "action", "without"),
    [p for p in SOURCES if p.values[4] is not None],
)
def test_a_member_region_without_the_service_reports_it_not_available(
    run_workflow, source, section, call, action, without
):
    data, config = _with_member(source, section, without)
    result = run_workflow(data, config=config)

    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("used")}  # the home source still counts
    assert result["api_calls"][call] == 1  # at home only: decided from the region data
    sources = result["report"]["sources"]
    assert sources[f"{source}@{MEMBER}/{without}"]["status"] == "not available here"
    assert f"{source}@{MEMBER}/{without}: not available here" in result["report_md"]


def test_agentcore_has_no_region_data_so_it_is_read_in_every_region(run_workflow):
    # botocore lists no region for bedrock-agentcore-control: it cannot tell where the
    # service is missing, so it is read in the member region too, never skipped.
    data, config = _with_member("agentcore", _agentcore, "ca-west-1")
    result = run_workflow(data, config=config)

    assert result["status"] == "SUCCEEDED", result
    assert result["api_calls"]["bedrock-agentcore-control:ListAgentRuntimes"] == 2
    figures = result["report"]["sources"][f"agentcore@{MEMBER}/ca-west-1"]
    assert figures.get("status") is None
