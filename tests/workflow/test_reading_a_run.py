"""What an operator reads of a run with a held, a failed and a quiet repository: STATUS and
TOTAL in every table, each repository linked to its steps, failures in words, and what
changed since the run before."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BASIC_CONFIG, image, inventory

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

ROOT = Path(__file__).resolve().parents[2]
CONFIG = BASIC_CONFIG.replace(
    "safety: {allow_nothing_in_use: true}",
    "safety: {allow_nothing_in_use: true, max_delete_ratio: 0.5}",
)
CONSOLE = "https://ap-northeast-1.console.aws.amazon.com/states/home?region=ap-northeast-1"


def _data(*, broken: bool) -> dict:
    return inventory(
        {
            # Every image expired: 10 of 10 is more than max_delete_ratio (0.5): held.
            "held": [image(f"h{i}") for i in range(10)],
            # 2 of 12 expired: deleted, unless ECR refuses (then FAILED).
            "broken": [image("b0"), image("b1")] + [image(f"n{i}", age_days=1) for i in range(10)],
            # Nothing expired: ok, nothing to do.
            "quiet": [image("q0", age_days=1)],
        },
        faults=[{"operation": "ecr:BatchDeleteImage", "error": "AccessDeniedException"}]
        if broken
        else [],
    )


def _squeeze(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """A dry run (success notification on), then a deleting run in which ECR refuses
    the deletions, on one emulated account: the second report compares with the first."""
    config = tmp_path_factory.mktemp("config") / "ecrm.yaml"
    config.write_text(CONFIG)
    out = []
    with Emulator(
        inventory_from_dict(_data(broken=True)),
        config_file=config,
        parameters={"NotifyOnSuccess": "true"},
    ) as emulator:
        for execution_input in ('{"dry_run": true}', '{"dry_run": false}'):
            result = emulator.run(execution_input)
            name = result["execution_arn"].rsplit(":", 1)[-1]
            result["report"] = json.loads(emulator.read_run_file(name, "report.json"))
            result["report_md"] = emulator.read_run_file(name, "report.md")
            out.append(result)
    return out[0], out[1]


def _table(lines: list[str], header: str) -> tuple[list[list[str]], list[str]]:
    start = lines.index(header)
    (total,) = [line for line in lines[start:] if line.startswith(("TOTAL |", "| TOTAL |"))]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in lines[start + 2 : lines.index(total)]
        if "|" in line and not set(line) <= set("-+| ")
    ]
    return rows, [cell.strip() for cell in total.strip("|").split("|")]


def test_the_table_marks_held_and_failed_repositories_and_totals_its_rows(runs):
    _, deleting = runs
    assert deleting["status"] == "FAILED"
    rows, total = _table(
        _squeeze(deleting["report_md"]), "| REPOSITORY | TYPE | TOTAL | EXPIRED | KEEP | STATUS |"
    )
    status = {row[0]: row[-1] for row in rows}
    assert status == {"held": "HELD (max_delete_ratio)", "broken": "FAILED", "quiet": "ok"}
    counts = [[int(cell.split(" ")[0]) for cell in row[2:5]] for row in rows]
    assert [int(cell.split(" ")[0]) for cell in total[2:5]] == [
        sum(column) for column in zip(*counts, strict=True)
    ]
    assert total[-1] == "1 ok, 1 HELD, 1 FAILED"
    # Nothing left ECR, and the summary line says FAILED only where something failed.
    summary = next(line for line in _squeeze(deleting["report_md"]) if "deleted 0 images" in line)
    assert "1 repository HELD: held (max_delete_ratio)" in summary
    assert "1 repository FAILED: broken" in summary


def test_each_repository_links_to_its_child_executions(runs):
    _, deleting = runs
    lines = {line["repository"]: line for line in deleting["report"]["repositories"]}
    for name, line in lines.items():
        assert ":execution:" in line["plan_execution"], name
        assert line["plan_execution"].split(":execution:")[1].split("/")[1].startswith("plan:")
    # The held and the quiet repositories were swept (nothing to delete); so was broken.
    assert ":execution:" in lines["broken"]["sweep_execution"]
    markdown = deleting["report_md"]
    for name in lines:
        arn = lines[name]["plan_execution"]
        assert f"({CONSOLE}#/v2/executions/details/{arn})" in markdown, name
    assert f"- execution: {CONSOLE}#/v2/executions/details/{deleting['execution_arn']}" in (
        markdown
    )


def test_a_failed_repository_is_told_in_words_with_its_trace_folded_in_the_report(runs):
    _, deleting = runs
    markdown = deleting["report_md"]
    section = markdown.split("## broken", 1)[1].split("\n## ", 1)[0]
    assert "FAILED: DeleteFailed" in section or "FAILED: AwsRequestError" in section
    assert "What to do:" in section
    assert "errorMessage" not in markdown and "stackTrace" not in markdown
    # The run's failure notification and cause: in words, with the repository's steps.
    (run_note,) = [
        n for n in deleting["notifications"] if "run FAILED in Summarize" in n["subject"]
    ]
    assert "What to do: open each failed repository's steps" in run_note["message"]
    assert "broken (" in run_note["message"] and "sweep steps: https://" in run_note["message"]
    assert deleting["cause"].startswith("RepositoriesFailed: 1 of 3 repositories failed")


def test_the_notification_names_held_repositories_with_their_steps(runs):
    dry, _ = runs
    assert dry["status"] == "SUCCEEDED"
    (note,) = dry["notifications"]
    assert note["subject"].endswith(", 1 HELD")
    lines = _squeeze(note["message"])
    (held,) = [line for line in lines if line.startswith("- held: HELD (max_delete_ratio), ")]
    assert f"plan steps {CONSOLE}#/v2/executions/details/" in held
    assert "would delete 2 images (2.0 kB) in 3 repositories; 1 repository HELD" in lines
    # A dry run says once that nothing was deleted; the summary line does not repeat it.
    assert sum("nothing was deleted" in line for line in lines) == 1
    assert not any("FAILED" in line for line in lines)


def test_the_second_report_says_what_changed_since_the_first(runs):
    dry, deleting = runs
    report = deleting["report"]
    assert report["previous_execution"] == dry["report"]["execution_name"]
    assert "newly FAILED: broken" in report["changes"]
    assert "the run before was a dry run" in report["changes"]
    assert not any(change.startswith("newly HELD") for change in report["changes"])
    assert dry["report"]["previous_execution"] == ""  # the first run of the stack
    assert f"- since the run before ({dry['report']['execution_name']}):" in (deleting["report_md"])


def test_the_emulator_prints_progress_status_and_totals(tmp_path):
    account, config = tmp_path / "account.json", tmp_path / "ecrm.yaml"
    account.write_text(json.dumps(_data(broken=False)))
    config.write_text(CONFIG)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeper_emulator",
            "run",
            "--inventory",
            str(account),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    progress = [line for line in completed.stderr.splitlines() if not line.startswith("{")]
    assert progress[0] == "phase: ScanInUse"
    assert "repositories planned 3 of 3" in progress
    assert progress.index("repositories planned 3 of 3") < progress.index("phase: CheckCaps")
    out = _squeeze(completed.stdout)
    assert any(re.fullmatch(r"held \| Image \| .* \| HELD \(max_delete_ratio\)", o) for o in out)
    assert any(
        line.startswith("TOTAL | | 23 (") and line.endswith("| 2 ok, 1 HELD") for line in out
    )
    assert "FAILED" not in completed.stdout
