"""docs/cli.md against what it describes: the permissions it lists for `plan` and `scan`
cover the reads of the scan and collector roles in template.yaml, and its offline
example runs on the emulator as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sweeper_emulator.template import load_template

ROOT = Path(__file__).resolve().parents[2]
CLI_MD = (ROOT / "docs" / "cli.md").read_text()
READ_VERBS = ("Describe", "List", "Get", "BatchGet")
# What only a workflow run needs: its logs and traces, its run data in S3 (plan keeps it
# in memory), Step Functions for the run lock and the execution's own input, and the
# network interfaces Lambda makes for a scan in a VPC.
WORKFLOW_ONLY = ("logs:", "xray:", "s3:", "kms:", "states:", "ec2:")


def section(title: str) -> str:
    """The text of `## title`, up to the next `## ` heading."""
    start = CLI_MD.index(f"\n## {title}\n")
    end = CLI_MD.find("\n## ", start + 1)
    return CLI_MD[start : end if end >= 0 else None]


def documented_permissions(title: str) -> set[str]:
    text = section(title)
    return set(re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", text[text.index("Permissions") :]))


def role_actions(role: str) -> set[str]:
    """Every action the role's inline policies allow (conditional policies included)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("Effect") == "Allow" and "Action" in value:
                action = value["Action"]
                found.update([action] if isinstance(action, str) else action)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    template = load_template(ROOT / "template.yaml")
    walk(template["Resources"][role]["Properties"]["Policies"])
    return found


def reads(actions: set[str]) -> set[str]:
    return {
        a
        for a in actions
        if a.split(":", 1)[1].startswith(READ_VERBS) and not a.startswith(WORKFLOW_ONLY)
    }


def test_plan_lists_every_read_of_the_scan_and_collector_roles() -> None:
    needed = reads(role_actions("InUseScanFunctionRole") | role_actions("CollectorFunctionRole"))
    needed |= {"sts:GetCallerIdentity", "sts:AssumeRole", "s3:GetObject"}
    documented = documented_permissions("plan")
    assert needed - documented == set(), "the scan reads these, docs/cli.md does not say so"
    # and nothing that no role of the stack has (a typo, or a call that went away)
    every = {a for r in ("InUseScanFunctionRole", "CollectorFunctionRole") for a in role_actions(r)}
    assert documented - every - {"sts:GetCallerIdentity"} == set()


def test_scan_refers_to_plans_permissions_with_ecr_narrowed() -> None:
    text = section("scan")
    assert "those of `plan`" in text
    assert documented_permissions("scan") == {"ecr:DescribeRepositories", "tag:GetResources"}


def test_no_page_says_the_scan_reads_only_ecs_and_lambda() -> None:
    assert "scanning ECS and Lambda" not in CLI_MD


def test_the_offline_example_runs_on_the_emulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = section("Offline, against the emulator")
    (example,) = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    monkeypatch.chdir(ROOT)
    exec(compile(example, "docs/cli.md", "exec"), {})
    out = capsys.readouterr().out
    assert "$ ecr-sweeper plan  (exit 0)" in out
    assert "$ ecr-sweeper run --poll-interval 0.1  (exit 0)" in out
    assert "$ ecr-sweeper report  (exit 0)" in out
    assert out.count("example-app  | Image  | 55 (924 MB)  | -5 (84 MB)   | 50 (840 MB)  | ok") == 3
