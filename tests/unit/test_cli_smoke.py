"""`ecr-sweeper smoke`: a dry run of a deployed stack, followed to its end (see docs/cli.md).

Against the emulator, not a mock: the stack is found with CloudFormation DescribeStacks as
the emulator deployed it, and the real workflow runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ecr_sweeper.cli import main
from ecr_sweeper.core.failure_words import NEXT_STEPS
from ecr_sweeper.core.report import Report, render_summary_line, render_table
from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

ROOT = Path(__file__).resolve().parents[2]
BLOG = ROOT / "examples" / "blog-account.json"
CONFIG = ROOT / "config" / "ecrm.yaml"
STACK = "ecr-sweeper"  # the emulator deploys the template under this name
REGION = "ap-northeast-1"
CONSOLE = "https://ap-northeast-1.console.aws.amazon.com/states/home?region=ap-northeast-1#/v2"


def smoke(*arguments: str) -> Result:
    """stdout and stderr apart (click 8.1 needs mix_stderr=False; 8.2 removed it)."""
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        runner = CliRunner()
    command = ["smoke", "--poll-interval", "0.05", *arguments]
    return runner.invoke(main, command, catch_exceptions=False)


def blog_account(**extra: Any) -> Emulator:
    data = json.loads(BLOG.read_text())
    data.update(extra)
    return Emulator(inventory_from_dict(data), config_file=CONFIG)


@pytest.fixture
def healthy() -> Iterator[Emulator]:
    with blog_account() as emulator:
        yield emulator


def started(result: Result) -> tuple[str, str]:
    arn = result.stderr.split("started ", 1)[1].split()[0]
    return arn, arn.rsplit(":", 1)[-1]


def test_smoke_follows_a_dry_run_to_its_report_and_links(healthy: Emulator) -> None:
    result = smoke("--stack", STACK)
    assert result.exit_code == 0, result.stderr
    arn, name = started(result)
    assert name.startswith("smoke-")
    sfn = healthy.session.client("stepfunctions")
    assert json.loads(sfn.describe_execution(executionArn=arn)["input"]) == {"dry_run": True}

    progress = result.stderr.splitlines()
    assert progress[0] == f"started {arn} (dry run)"
    phases = [line.removeprefix("phase: ") for line in progress if line.startswith("phase: ")]
    assert phases == [
        "ScanInUse",
        "PlanRepositories",
        "CheckCaps",
        "SweepRepositories",
        "Summarize",
        "NotifyOnSuccess",
        "Done",
    ]
    # The last count of each Map Run comes right after its phase, whatever the polling.
    assert progress.index("repositories planned 2 of 2") == progress.index("phase: CheckCaps") - 1
    assert progress.index("repositories swept 2 of 2") == progress.index("phase: Summarize") - 1
    assert progress[-1] == f"execution {name}: SUCCEEDED"

    report = Report.model_validate_json(healthy.read_run_file(name, "report.json"))
    assert report.dry_run
    map_runs = {
        run["mapRunArn"].split("/")[1].split(":")[0]: run["mapRunArn"]
        for run in sfn.list_map_runs(executionArn=arn)["mapRuns"]
    }
    assert healthy.stack is not None
    assert result.stdout == (
        f"\n{render_table(report)}\n\n{render_summary_line(report)}\n\n"
        f"Execution: {CONSOLE}/executions/details/{arn}\n"
        f"Map Run (plan): {CONSOLE}/map-run/details/{map_runs['plan']}\n"
        f"Map Run (delete): {CONSOLE}/map-run/details/{map_runs['sweep']}\n"
        f"Full report: s3://{healthy.stack.bucket}/runs/{name}/report.md "
        f"(https://{REGION}.console.aws.amazon.com/s3/object/{healthy.stack.bucket}"
        f"?region={REGION}&prefix=runs/{name}/report.md)\n"
    )
    assert "DRY RUN: would delete 10 images (168 MB) in 2 repositories" in result.stdout


def test_smoke_deletes_nothing(healthy: Emulator) -> None:
    ecr = healthy.session.client("ecr")

    def images() -> dict[str, int]:
        return {
            name: len(ecr.describe_images(repositoryName=name, maxResults=1000)["imageDetails"])
            for name in ("example-app", "example-web")
        }

    before = images()
    assert smoke("--stack", STACK).exit_code == 0
    assert images() == before


def test_a_failed_run_exits_1_with_its_error_in_words() -> None:
    fault = {"operation": "ecs:ListClusters", "error": "AccessDeniedException"}
    with blog_account(faults=[fault]):
        result = smoke("--stack", STACK)
    assert result.exit_code == 1
    arn, name = started(result)
    lines = result.stderr.splitlines()
    assert "phase: ScanFailed" in lines
    assert f"execution {name}: FAILED" in lines
    # The scan's Lambda error: its type and message, not the JSON nor its stack trace.
    assert lines[-3:] == [
        "error: AwsRequestError",
        "cause: ecs:list_clusters: AccessDeniedException: injected by the emulator",
        "what to do: " + NEXT_STEPS["AwsRequestError"],
    ]
    assert "no report" in result.stderr
    output = result.stdout + result.stderr
    for trace in ("Traceback", "stackTrace", 'File "', "errorMessage"):
        assert trace not in output
    # No report, but the execution's page, to read more.
    assert result.stdout == f"\nExecution: {CONSOLE}/executions/details/{arn}\n"


def test_an_unknown_stack_is_a_clear_error(healthy: Emulator) -> None:
    result = smoke("--stack", "ecr-sweeper-typo")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: stack 'ecr-sweeper-typo' not found in ap-northeast-1: deploy it "
        "(sam deploy) or name yours with --stack\n"
    )
    assert result.stdout == ""
