"""The execution input is read as the user sent it: only `{}`, no input, or
`{"dry_run": true|false}` start a run; anything else deletes nothing and says why."""

import pytest
from conftest import deleted, digest, image, inventory

DELETING_STACK = {"DryRun": "false"}


def _data() -> dict:
    return inventory({"app": [image("a"), image("b")]})


@pytest.mark.parametrize(
    ("execution_input", "problem"),
    [
        ('{"dry_run": null}', "dry_run: must be true or false, not null"),
        ("null", "must be a JSON object"),
        ('{"dry_run": true, "dry_run": false}', "repeats the key 'dry_run'"),
        ('{"dry_run": false, "dry_run": false}', "repeats the key 'dry_run'"),
    ],
    ids=["dry-run-null", "bare-null", "repeated-key", "repeated-key-same-value"],
)
def test_an_input_that_is_not_a_clear_boolean_deletes_nothing_on_a_deleting_stack(
    run_workflow, execution_input, problem
):
    result = run_workflow(_data(), execution_input=execution_input, parameters=DELETING_STACK)
    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidExecutionInput"
    assert problem in result["cause"]
    assert deleted(result, "app") == set()
    assert "ecr:DescribeImages" not in result["api_calls"]  # no repository was touched
    (note,) = result["notifications"]
    assert "InvalidExecutionInput" in note["message"] and problem in note["message"]


@pytest.mark.parametrize("execution_input", [None, "{}", " { } "], ids=["none", "empty", "spaces"])
def test_no_input_or_an_empty_object_uses_the_stack_default(run_workflow, execution_input):
    dry = run_workflow(_data(), execution_input=execution_input)  # DryRun: "true"
    assert dry["status"] == "SUCCEEDED", dry
    assert deleted(dry, "app") == set()
    deleting = run_workflow(_data(), execution_input=execution_input, parameters=DELETING_STACK)
    assert deleting["status"] == "SUCCEEDED", deleting
    assert deleted(deleting, "app") == {digest("a"), digest("b")}
