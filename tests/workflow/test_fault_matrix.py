"""The fault matrix: throttling everywhere, crashes in every function, read errors.

Each run is the bundled example account (ECS and Lambda in use), deleting.
"""

import hashlib
import json
from pathlib import Path

import pytest

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "blog-account.json"
CONFIG = ROOT / "config" / "ecrm.yaml"


def _digest(repository: str, index: int) -> str:
    return "sha256:" + hashlib.sha256(f"{repository}/{index}".encode()).hexdigest()


EXPECTED = {
    repo: {_digest(repo, i) for i in (50, 51, 52, 53, 54)}
    for repo in ("example-web", "example-app")
}


def _run(faults: list[dict]) -> dict:
    data = json.loads(EXAMPLE.read_text())
    data["faults"] = faults
    with Emulator(inventory_from_dict(data), config_file=CONFIG) as emulator:
        return emulator.run('{"dry_run": false}')


def _deleted(result: dict) -> dict[str, set[str]]:
    return {r: set(result["repositories"][r]["deleted"]) for r in EXPECTED}


# Every AWS operation the functions call in this run (see api_calls of a clean run).
OPERATIONS = [
    "ecr:DescribeRepositories",
    "ecs:ListClusters",
    "ecs:ListServices",
    "ecs:DescribeServices",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "ecs:ListServiceDeployments",
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServiceRevisions",
    "ecs:ListTaskDefinitionFamilies",
    "ecs:ListTaskDefinitions",
    "ecs:DescribeTaskDefinition",
    "lambda:ListFunctions",
    "lambda:ListVersionsByFunction",
    "lambda:ListAliases",
    "lambda:GetFunction",
    "eventbridge:ListEventBuses",
    "eventbridge:ListRules",
    "scheduler:ListSchedules",
    "batch:DescribeJobDefinitions",
    "batch:DescribeJobQueues",
    "apprunner:ListServices",
    "codebuild:ListProjects",
    "codebuild:ListBuilds",
    "sagemaker:ListModels",
    "sagemaker:ListTrainingJobs",
    "sagemaker:ListProcessingJobs",
    "sagemaker:ListImages",
    "emr-serverless:ListApplications",
    "bedrock-agentcore-control:ListAgentRuntimes",
    "lightsail:GetContainerServices",
    "resource-groups-tagging-api:GetResources",
    "ecr:ListTagsForResource",
    "ecr:DescribeImages",
    "ecr:BatchDeleteImage",
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListObjectsV2",
    "s3:HeadObject",
]


def test_the_operation_list_covers_every_call_of_a_clean_run():
    clean = _run([])
    assert clean["status"] == "SUCCEEDED"
    called = {op for op in clean["api_calls"] if not op.startswith("sfn:")}
    assert called <= set(OPERATIONS) | {"stepfunctions:DescribeExecution", "s3:DeleteObject"}
    assert _deleted(clean) == EXPECTED


@pytest.mark.parametrize("operation", OPERATIONS)
def test_throttling_on_any_call_is_ridden_out(operation):
    error = "SlowDown" if operation.startswith("s3:") else "ThrottlingException"
    status = 503 if operation.startswith("s3:") else None
    fault = {
        "operation": operation,
        "error": error,
        "times": 2,
        **({"status": status} if status else {}),
    }
    result = _run([fault])
    assert result["status"] == "SUCCEEDED", (operation, result["error"], result["cause"])
    assert _deleted(result) == EXPECTED


@pytest.mark.parametrize(
    ("function", "operation"),
    [
        ("InUseScanFunction", "ecr:DescribeRepositories"),
        ("CollectorFunction", "ecr:DescribeImages"),
        # Its first read of run data (a small plan is not written: it travels inline).
        ("EvaluatorFunction", "s3:GetObject"),
        ("CapsFunction", "s3:PutObject"),  # the approved list
        ("DeleterFunction", "ecr:BatchDeleteImage"),
        ("SummaryFunction", "s3:PutObject"),
    ],
)
def test_a_crash_in_any_function_is_retried_to_the_right_end(function, operation):
    result = _run(
        [
            {
                "operation": operation,
                "function": function,
                "error": "Runtime.ExitError",
                "crash": True,
                "times": 1,
            }
        ]
    )
    assert result["status"] == "SUCCEEDED", (function, result["error"], result["cause"])
    assert _deleted(result) == EXPECTED
    assert result["output"]["images_deleted"] == 10  # counted once


def test_an_s3_read_error_fails_the_repositories_and_deletes_nothing():
    result = _run(
        [
            {
                "operation": "s3:GetObject",
                "function": "EvaluatorFunction",
                "error": "AccessDenied",
                "status": 403,
            }
        ]
    )
    assert result["status"] == "FAILED"
    assert _deleted(result) == {r: set() for r in EXPECTED}
    assert any("in state Evaluate" in n["message"] for n in result["notifications"])
