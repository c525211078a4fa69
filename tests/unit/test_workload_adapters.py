"""The CodeBuild, SageMaker, EMR Serverless, AgentCore and Lightsail adapters, on
scripted fakes: what each counts as in use, what it leaves out, and which errors fail
the scan."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_sweeper.adapters.agentcore import collect_agentcore_usage
from ecr_sweeper.adapters.codebuild import collect_codebuild_usage
from ecr_sweeper.adapters.emr_serverless import collect_emr_serverless_usage
from ecr_sweeper.adapters.lightsail import collect_lightsail_usage
from ecr_sweeper.adapters.sagemaker import collect_sagemaker_usage
from ecr_sweeper.core.in_use import InUseBuilder
from ecr_sweeper.errors import AwsRequestError

ACCOUNT, REGION = "123456789012", "eu-west-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def uri(tag: str) -> str:
    return f"{REGISTRY}/app:{tag}"


def error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Call")


class Fake:
    """A client whose answers are scripted per method: a dict (every call), a function
    of the call's arguments, or an exception. `get_paginator` pages through the same
    answers (one page). Every call is recorded."""

    def __init__(self, service: str, **answers: Any) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []
        mapping = {name: "".join(p.title() for p in name.split("_")) for name in answers}
        model = type("Model", (), {"signing_name": service})()
        self.meta = type("Meta", (), {"service_model": model, "method_to_api_mapping": mapping})()

    def _answer(self, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((name, kwargs))
        answer = self.answers[name]
        if isinstance(answer, Exception):
            raise answer
        return dict(answer(**kwargs) if callable(answer) else answer)

    def __getattr__(self, name: str) -> Any:
        if name in self.__dict__.get("answers", {}):
            return lambda **kwargs: self._answer(name, kwargs)
        raise AttributeError(name)

    def get_paginator(self, name: str) -> Any:
        fake = self

        class Paginator:
            def paginate(self, PaginationConfig: Any = None, **kwargs: Any) -> Any:
                yield fake._answer(name, kwargs)

        return Paginator()


def found(builder: InUseBuilder) -> dict[str, list[str]]:
    """tag -> its users."""
    tags = builder.build().model_dump()["repositories"].get("app", {}).get("tags", {})
    return {tag: sorted(users) for tag, users in tags.items()}


def test_codebuild_keeps_project_images_and_running_builds_only():
    codebuild = Fake(
        "codebuild",
        list_projects={"projects": ["ci", "gone"]},
        batch_get_projects={
            "projects": [{"name": "ci", "environment": {"image": uri("project")}}],
            "projectsNotFound": ["gone"],
        },
        list_builds={"ids": ["ci:1", "ci:2"]},
        batch_get_builds={
            "builds": [
                {"id": "ci:1", "buildComplete": False, "environment": {"image": uri("running")}},
                {"id": "ci:2", "buildComplete": True, "environment": {"image": uri("done")}},
            ]
        },
    )
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_codebuild_usage(codebuild, builder)
    assert found(builder) == {
        "project": ["codebuild:project/ci"],
        "running": ["codebuild:build/ci:1"],
    }


def test_codebuild_asks_for_at_most_100_projects_a_call():
    names = [f"p{i:03d}" for i in range(250)]
    codebuild = Fake(
        "codebuild",
        list_projects={"projects": names},
        batch_get_projects=lambda names: {"projects": []},
        list_builds={"ids": []},
        batch_get_builds={"builds": []},
    )
    collect_codebuild_usage(codebuild, InUseBuilder(ACCOUNT, REGION))
    sizes = [len(kw["names"]) for name, kw in codebuild.calls if name == "batch_get_projects"]
    assert sorted(sizes) == [50, 100, 100]


def _sagemaker(describe_model: Any) -> Fake:
    return Fake(
        "sagemaker",
        list_models={"Models": [{"ModelName": "pipe"}, {"ModelName": "gone"}]},
        describe_model=describe_model,
        list_training_jobs={"TrainingJobSummaries": [{"TrainingJobName": "t"}]},
        describe_training_job={"AlgorithmSpecification": {"TrainingImage": uri("train")}},
        list_processing_jobs={"ProcessingJobSummaries": [{"ProcessingJobName": "p"}]},
        describe_processing_job={"AppSpecification": {"ImageUri": uri("process")}},
        list_images={"Images": [{"ImageName": "studio"}]},
        list_image_versions={"ImageVersions": [{"Version": 3}]},
        describe_image_version={"BaseImage": uri("studio")},
    )


def test_sagemaker_skips_a_model_deleted_since_it_was_listed():
    def describe_model(ModelName: str) -> dict[str, Any]:
        if ModelName == "gone":
            raise error("ValidationException", 'Could not find model "gone".')
        return {"Containers": [{"Image": uri("first")}, {"Image": uri("second")}]}

    sagemaker = _sagemaker(describe_model)
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_sagemaker_usage(sagemaker, builder)
    assert found(builder) == {
        "first": ["sagemaker:model/pipe"],
        "second": ["sagemaker:model/pipe"],
        "train": ["sagemaker:training-job/t"],
        "process": ["sagemaker:processing-job/p"],
        "studio": ["sagemaker:image/studio:3"],
    }
    for listing in ("list_training_jobs", "list_processing_jobs"):
        listed = [kw for name, kw in sagemaker.calls if name == listing]
        assert listed == [{"StatusEquals": "InProgress"}]


def test_sagemaker_fails_on_any_other_validation_error():
    sagemaker = _sagemaker(error("ValidationException", "1 validation error detected"))
    with pytest.raises(AwsRequestError, match="sagemaker:DescribeModel"):
        collect_sagemaker_usage(sagemaker, InUseBuilder(ACCOUNT, REGION))


def test_emr_serverless_reads_every_live_state_and_keeps_the_resolved_digest():
    digest = "sha256:" + "a" * 64
    emr = Fake(
        "emr-serverless",
        list_applications={"applications": [{"id": "00a", "state": "STOPPED"}]},
        get_application={
            "application": {
                "name": "spark",
                "state": "STOPPED",
                "imageConfiguration": {"imageUri": uri("app"), "resolvedImageDigest": digest},
                "workerTypeSpecifications": {
                    "Executor": {"imageConfiguration": {"imageUri": uri("executor")}}
                },
            }
        },
    )
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_emr_serverless_usage(emr, builder)
    assert found(builder) == {
        "app": ["emr-serverless:application/spark"],
        "executor": ["emr-serverless:application/spark"],
    }
    assert builder.build().model_dump()["repositories"]["app"]["digests"] == {
        digest: ["emr-serverless:application/spark"]
    }
    (listing,) = [kw for name, kw in emr.calls if name == "list_applications"]
    assert "TERMINATED" not in listing["states"] and "STOPPED" in listing["states"]


def test_agentcore_keeps_the_current_version_and_every_version_an_endpoint_serves():
    images = {"1": uri("v1"), "2": uri("v2"), "3": uri("v3"), "4": uri("v4")}
    agentcore = Fake(
        "bedrock-agentcore",
        list_agent_runtimes={
            "agentRuntimes": [
                {"agentRuntimeId": "r-1", "agentRuntimeName": "helper", "agentRuntimeVersion": "4"}
            ]
        },
        list_agent_runtime_endpoints={
            "runtimeEndpoints": [{"name": "prod", "liveVersion": "1", "targetVersion": "2"}]
        },
        get_agent_runtime=lambda agentRuntimeId, agentRuntimeVersion: {
            "agentRuntimeArtifact": {
                "containerConfiguration": {"containerUri": images[agentRuntimeVersion]}
            }
        },
    )
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_agentcore_usage(agentcore, builder)
    # Version 3 is neither current nor served: its image is not in use.
    assert found(builder) == {
        "v1": ["agentcore:runtime/helper:1"],
        "v2": ["agentcore:runtime/helper:2"],
        "v4": ["agentcore:runtime/helper:4"],
    }


def test_agentcore_access_denied_names_the_iam_action():
    agentcore = Fake("bedrock-agentcore", list_agent_runtimes=error("AccessDeniedException"))
    with pytest.raises(AwsRequestError, match="bedrock-agentcore:ListAgentRuntimes"):
        collect_agentcore_usage(agentcore, InUseBuilder(ACCOUNT, REGION))


def test_lightsail_keeps_current_and_next_deployments_of_this_registry_only():
    lightsail = Fake(
        "lightsail",
        get_container_services={
            "containerServices": [
                {
                    "containerServiceName": "web",
                    "currentDeployment": {
                        "containers": {
                            "app": {"image": uri("current")},
                            "proxy": {"image": ":web.proxy.3"},
                        }
                    },
                    "nextDeployment": {"containers": {"app": {"image": uri("next")}}},
                }
            ]
        },
    )
    builder = InUseBuilder(ACCOUNT, REGION)
    collect_lightsail_usage(lightsail, builder)
    assert found(builder) == {
        "current": ["lightsail:container-service/web/app"],
        "next": ["lightsail:container-service/web/app"],
    }
    assert builder.build().model_dump()["ignored"] == {"unparsable": 1}
