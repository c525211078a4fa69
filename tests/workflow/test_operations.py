"""What operators see: notifications, the report in S3, and the EMF metrics."""

import json
from pathlib import Path

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import load_inventory

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "blog-account.json"
CONFIG = ROOT / "config" / "ecrm.yaml"
ROW = "example-web | Image | 55 (924 MB) | -5 (84 MB) | 50 (840 MB) | ok"


def _squeeze(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def _run(execution_input: str | None, **parameters: str) -> tuple[dict, str, dict]:
    with Emulator(load_inventory(EXAMPLE), config_file=CONFIG, parameters=parameters) as e:
        result = e.run(execution_input)
        name = result["execution_arn"].rsplit(":", 1)[-1]
        return (
            result,
            e.read_run_file(name, "report.md"),
            json.loads(e.read_run_file(name, "report.json")),
        )


def test_success_notification_carries_the_table_totals_and_links():
    result, _, _ = _run('{"dry_run": false}', NotifyOnSuccess="true")
    assert result["status"] == "SUCCEEDED"
    (note,) = result["notifications"]
    assert note["subject"] == "ecr-sweeper DELETED: deleted 10 images (168 MB) in 2 repositories"
    lines = _squeeze(note["message"])
    assert ROW in lines
    assert "deleted 10 images (168 MB) in 2 repositories" in lines
    assert any(
        line.startswith("Execution: https://ap-northeast-1.console.aws.amazon.com/states/")
        and line.endswith(result["execution_arn"])
        for line in lines
    )
    assert any(line.startswith("Map Run (plan): https://") and ":mapRun:" in line for line in lines)
    assert any(line.startswith("Map Run (delete): https://") for line in lines)
    # The s3:// URI, and its S3 console page beside it.
    assert any(
        line.startswith("Full report: s3://")
        and "/report.md (https://ap-northeast-1.console.aws.amazon.com/s3/object/" in line
        for line in lines
    )
    assert "TOTAL | | 110 (1.8 GB) | -10 (168 MB) | 100 (1.7 GB) | 2 ok" in lines


def test_no_success_notification_unless_asked_and_dry_runs_say_so():
    quiet, _, _ = _run(None)
    assert quiet["notifications"] == []
    loud, _, _ = _run(None, NotifyOnSuccess="true")
    (note,) = loud["notifications"]
    assert note["subject"].startswith("ecr-sweeper DRY RUN: would delete 10 images")
    assert "dry run, nothing was deleted" in note["message"]


def test_the_notification_sums_repositories_past_the_tenth():
    from sweeper_emulator.inventory import inventory_from_dict

    data = json.loads(EXAMPLE.read_text())
    template = data["repositories"][0]
    for i in range(12):
        data["repositories"].append(
            {
                "name": f"example-extra-{i:02d}",
                "images": [{**template["images"][-1], "digest": "sha256:" + f"{i:02x}" * 32}],
            }
        )
    with Emulator(
        inventory_from_dict(data), config_file=CONFIG, parameters={"NotifyOnSuccess": "true"}
    ) as e:
        result = e.run(None)
    message = result["notifications"][0]["message"]
    lines = _squeeze(message)
    assert "... 4 more repositories | | 4 (67 MB) | -4 (67 MB) | 0 (0 B) | 4 ok" in lines
    # The TOTAL line is the sum of every row above it, the summed one included.
    start = lines.index("REPOSITORY | TYPE | TOTAL | EXPIRED | KEEP | STATUS")
    (total,) = [line for line in lines[start:] if line.startswith("TOTAL |")]
    rows = [
        [cell.strip() for cell in line.split("|")]
        for line in lines[start + 1 : lines.index(total)]
        if " | " in line and not line.startswith("-")
    ]
    assert len(rows) == 11  # ten repositories, then the rest summed
    counts = [[int(cell.split(" ")[0]) for cell in row[2:5]] for row in rows]
    sums = [sum(column) for column in zip(*counts, strict=True)]
    total_cells = [cell.strip() for cell in total.split("|")]
    assert [int(cell.split(" ")[0]) for cell in total_cells[2:5]] == sums
    assert total.endswith("| 14 ok")
    assert "example-extra" in message  # the first ten are rows of the table


def test_failure_notification_names_execution_state_error_cause_and_link():
    data = json.loads(EXAMPLE.read_text())
    data["faults"] = [{"operation": "lambda:ListFunctions", "error": "AccessDeniedException"}]
    from sweeper_emulator.inventory import inventory_from_dict

    with Emulator(inventory_from_dict(data), config_file=CONFIG) as e:
        result = e.run('{"dry_run": false}')
    (note,) = result["notifications"]
    assert note["subject"] == "ecr-sweeper: run FAILED in ScanInUse: AwsRequestError"
    name = result["execution_arn"].rsplit(":", 1)[-1]
    message = note["message"]
    assert f"ecr-sweeper run {name}: FAILED in state ScanInUse." in message
    assert "Error: AwsRequestError" in message
    assert "lambda:list_functions" in message or "lambda:ListFunctions" in message
    assert "What to do: AWS refused a request" in message
    assert f"#/v2/executions/details/{result['execution_arn']}" in message
    # The Lambda runtime's JSON and its stack trace stay in the log, which is linked.
    assert "stackTrace" not in message and "errorMessage" not in message
    assert "Log of ScanInUse (stack trace): https://ap-northeast-1.console.aws.amazon.com/" in (
        message
    )
    # The run's cause (describe-execution, the CLI's stderr) is in words too.
    assert result["cause"].startswith("AwsRequestError: ")
    assert "What to do:" in result["cause"] and "stackTrace" not in result["cause"]


def test_report_json_and_markdown():
    result, markdown, report = _run('{"dry_run": false}')
    assert report["dry_run"] is False and report["images_deleted"] == 10
    assert report["bytes_reclaimed"] == 168_000_000 and report["failed"] == []
    web = next(line for line in report["repositories"] if line["repository"] == "example-web")
    assert web["rows"][0]["expired"] == {"count": 5, "bytes": 84_000_000}
    lines = _squeeze(markdown)
    assert "| example-web | Image | 55 (924 MB) | -5 (84 MB) | 50 (840 MB) | ok |" in lines
    assert "## example-web" in lines and "Deleted:" in lines
    deleted = set(result["repositories"]["example-web"]["deleted"])
    listed = {line.split("`")[1] for line in lines if line.startswith("- `sha256:")}
    assert deleted <= listed
    assert any(line.startswith("Kept: ") and "in_use_digest" in line for line in lines)


def test_each_function_emits_its_emf_metrics_with_low_cardinality_dimensions():
    result, _, _ = _run('{"dry_run": false}')
    by_function: dict[str, dict[str, float]] = {}
    for document in result["metrics"]:
        assert document["namespace"] == "ecr-sweeper"
        assert set(document["dimensions"]) == {"service"}  # never a repository name
        for name, values in document["metrics"].items():
            total = sum(values) if isinstance(values, list) else values
            by_function.setdefault(document["function"], {}).setdefault(name, 0)
            by_function[document["function"]][name] += total
    assert by_function["InUseScanFunction"]["ImagesInUse"] == 14
    assert by_function["CollectorFunction"]["ImagesCollected"] == 110
    assert by_function["EvaluatorFunction"]["ImagesExpired"] == 10
    assert by_function["EvaluatorFunction"]["ImagesKept"] == 100
    assert by_function["CapsFunction"]["DeletionsPlanned"] == 10
    assert by_function["CapsFunction"]["RepositoriesHeld"] == 0
    assert by_function["DeleterFunction"]["ImagesDeleted"] == 10
    assert by_function["DeleterFunction"]["BytesReclaimed"] == 168_000_000
    assert by_function["SummaryFunction"]["RunsSucceeded"] == 1
    assert by_function["SummaryFunction"]["RepositoriesFailed"] == 0
