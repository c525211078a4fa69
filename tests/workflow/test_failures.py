"""Fail closed: any doubt ends the run FAILED, with nothing deleted and a notification."""

import pytest
from conftest import deleted, digest, image, inventory


def _data(**extra):
    return inventory(
        {"app": [image("a"), image("b")], "lib": [image("c")]},
        ecs={"clusters": [{"name": "prod"}]},
        **extra,
    )


@pytest.mark.parametrize(
    "operation",
    [
        "ecs:ListClusters",
        "ecs:ListServices",
        "ecs:ListTasks",
        "ecs:ListTaskDefinitionFamilies",
        "lambda:ListFunctions",
        "ecr:DescribeRepositories",
    ],
)
def test_an_unreadable_source_deletes_nothing_and_notifies(run_workflow, operation):
    result = run_workflow(
        _data(faults=[{"operation": operation, "error": "AccessDeniedException"}])
    )
    assert result["status"] == "FAILED"
    assert all(not r["deleted"] for r in result["repositories"].values())
    assert "ecr:BatchDeleteImage" not in result["api_calls"]
    assert "ecr:DescribeImages" not in result["api_calls"]  # no repository was touched
    assert len(result["notifications"]) == 1
    message = result["notifications"][0]["message"]
    assert "FAILED in state ScanInUse" in message
    assert "AccessDeniedException" in message
    assert "console.aws.amazon.com/states" in message


def test_throttling_is_retried_and_the_run_succeeds(run_workflow, mode):
    result = run_workflow(
        _data(
            faults=[{"operation": "ecs:ListServices", "error": "ThrottlingException", "times": 2}]
        ),
        from_build=mode,
    )
    assert result["status"] == "SUCCEEDED", result
    assert result["api_calls"]["ecs:ListServices"] == 3  # two throttled, then through
    assert deleted(result, "app") == {digest("a"), digest("b")}


def test_persistent_throttling_fails_closed(run_workflow):
    result = run_workflow(
        _data(faults=[{"operation": "ecs:ListTasks", "error": "ThrottlingException"}])
    )
    assert result["status"] == "FAILED"
    assert all(not r["deleted"] for r in result["repositories"].values())
    assert "TransientAwsError" in result["notifications"][0]["message"]


def test_a_bad_config_fails_first_and_names_the_problem(run_workflow):
    config = "repositories:\n  - name: app\n    expires: 30days\n    keep_tags: [x]\n"
    result = run_workflow(_data(), config=config)
    assert result["status"] == "FAILED"
    assert result["error"] == "ConfigError"
    # Nothing was read but the run's own input (as sent), let alone deleted.
    assert result["api_calls"] == {"sfn:DescribeExecution": 1}
    message = result["notifications"][0]["message"]
    assert "repositories[0]" in message and "keep_tags" in message


@pytest.mark.parametrize("execution_input", ['{"dry_run": "no"}', '{"dryrun": false}', "[1, 2]"])
def test_malformed_input_fails_before_reading_anything(run_workflow, execution_input):
    result = run_workflow(_data(), execution_input=execution_input)
    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidExecutionInput"
    assert result["api_calls"] == {}
    assert "InvalidExecutionInput" in result["notifications"][0]["message"]


def test_a_failing_repository_fails_the_run_and_names_it(run_workflow):
    result = run_workflow(
        _data(faults=[{"operation": "ecr:BatchDeleteImage", "error": "AccessDeniedException"}])
    )
    assert result["status"] == "FAILED"
    subjects = [n["subject"] for n in result["notifications"]]
    assert "ecr-sweeper: repository app FAILED in Delete: AwsRequestError" in subjects
    assert "ecr-sweeper: run FAILED in Summarize: RepositoriesFailed" in subjects
    repo_messages = [
        n["message"]
        for n in result["notifications"]
        if n["subject"].startswith("ecr-sweeper: repository")
    ]
    assert any("FAILED in state Delete" in m and "Repository: app" in m for m in repo_messages)
    # In words: the type, the message and what to do; the trace stays in the log.
    for message in repo_messages:
        assert "Traceback" not in message and "stackTrace" not in message
        assert "What to do: AWS refused a request" in message
        assert "Log of Delete (stack trace): https://" in message
    assert result["error"] == "RepositoriesFailed"
    assert deleted(result, "app") == set()
