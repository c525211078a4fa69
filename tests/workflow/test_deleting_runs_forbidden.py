"""A stack deployed with AllowDeletingRuns=false (the `dev` environment) never deletes.

`DryRun` is only a default: an execution could ask for `{"dry_run": false}`, and a
stack deployed with DryRun=false starts deleting runs on its schedule. On a stack that
forbids deleting runs, either is refused before anything is read: the run fails with
DeletingRunsForbidden, deletes nothing, and the failure is notified. A dry run still
reports.
"""

import pytest
from conftest import deleted, image, inventory

CONFIG = (
    "safety: {allow_nothing_in_use: true}\n"
    "repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]\n"
)
FORBIDDEN = {"AllowDeletingRuns": "false"}


def _account() -> dict:
    return inventory({"app": [image("old-1", tags=["v1"]), image("old-2", tags=["v2"])]})


@pytest.mark.parametrize(
    ("parameters", "execution_input"),
    [
        pytest.param(FORBIDDEN, '{"dry_run": false}', id="asked-for-by-the-input"),
        # The schedule sends {}: DryRun=false makes it a deleting run.
        pytest.param({**FORBIDDEN, "DryRun": "false"}, "{}", id="scheduled-with-DryRun-false"),
        pytest.param({**FORBIDDEN, "DryRun": "false"}, None, id="no-input-with-DryRun-false"),
    ],
)
def test_a_deleting_run_is_refused_and_deletes_nothing(run_workflow, parameters, execution_input):
    result = run_workflow(
        _account(), config=CONFIG, execution_input=execution_input, parameters=parameters
    )
    assert result["status"] == "FAILED", result["output"]
    assert result["error"] == "DeletingRunsForbidden"
    assert "AllowDeletingRuns" in result["cause"] and "nothing" in result["cause"]
    assert deleted(result, "app") == set()
    # Refused before the scan: not even a repository was listed.
    assert not [call for call in result["api_calls"] if call.startswith("ecr:")]
    (note,) = result["notifications"]
    assert "FAILED in state ScanInUse" in note["message"]
    assert "DeletingRunsForbidden" in note["message"]


@pytest.mark.parametrize("execution_input", [None, '{"dry_run": true}'])
def test_a_dry_run_on_such_a_stack_still_reports(run_workflow, execution_input):
    result = run_workflow(
        _account(), config=CONFIG, execution_input=execution_input, parameters=FORBIDDEN
    )
    assert result["status"] == "SUCCEEDED", (result["error"], result["cause"])
    assert result["output"]["dry_run"] is True
    assert result["output"]["images_deleted"] == 2  # would delete
    assert deleted(result, "app") == set()
