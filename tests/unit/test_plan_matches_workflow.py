"""`ecr-sweeper plan` agrees with the workflow: on each account, plan's verdict (exit code
and error) and what it would delete equal those of a dry run of the deployed workflow on
the emulator. plan runs the same guards and reads the same sources (in-use lists in S3)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ecr_sweeper.cli import main
from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
NOW = "2026-11-27T00:00:00Z"
NOTHING_RUNS = "clusters: []\ntask_definitions: []\nlambda_functions: []\n"
REPOSITORY_RULE = "repositories: [{name_pattern: '*', expires: 30d, keep_tag_patterns: []}]\n"
LIST = "in_use_lists: [{uri: 's3://scans/k8s.json', max_age: 8d%s}]\n"


def digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def image(label: str, *, tags: tuple[str, ...] = (), day: int = 1) -> dict[str, Any]:
    """An image pushed in September 2026: expired under a 30-day rule by NOW."""
    return {
        "digest": digest(label),
        "tags": list(tags),
        "pushed_at": f"2026-09-{day:02d}T00:00:00Z",
        "size_bytes": 1000,
    }


def account(repositories: dict[str, list[dict]], **sections: Any) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT,
        "region": REGION,
        "now": NOW,
        "repositories": [{"name": n, "images": i} for n, i in repositories.items()],
        **sections,
    }


def listed(body: Any) -> dict[str, Any]:
    """An account whose cluster is seen only through an in-use list holding `body`."""
    return account(
        {"app": [image("eks", tags=("v1",)), image("pinned"), image("unused", tags=("v0",))]},
        objects=[
            {"bucket": "scans", "key": "k8s.json", "body": body, "last_modified": NOW},
        ],
    )


ACCOUNTS: dict[str, tuple[dict[str, Any], str]] = {
    "blog-account": (
        json.loads((ROOT / "examples" / "blog-account.json").read_text()),
        (ROOT / "config" / "ecrm.yaml").read_text(),
    ),
    "in-use-list": (
        listed([f"{REGISTRY}/app:v1", f"docker-pullable://{REGISTRY}/app@{digest('pinned')}"]),
        NOTHING_RUNS + LIST % "" + REPOSITORY_RULE,
    ),
    "in-use-list-bad-entry": (
        listed([f"{REGISTRY}/app@{digest('pinned').upper().replace('SHA256', 'sha256')}"]),
        NOTHING_RUNS + LIST % "" + REPOSITORY_RULE,
    ),
    "in-use-list-empty": (listed([]), NOTHING_RUNS + LIST % "" + REPOSITORY_RULE),
    "in-use-list-empty-allowed": (
        listed([]),
        NOTHING_RUNS
        + LIST % ", allow_empty: true"
        + "safety: {allow_nothing_in_use: true}\n"
        + REPOSITORY_RULE,
    ),
    "nothing-in-use-sections-left-out": (
        account({"app": [image("a"), image("b")]}, ecs={"clusters": [{"name": "prod"}]}),
        REPOSITORY_RULE,
    ),
    "nothing-in-use-allowed": (
        account({"app": [image("a"), image("b")]}, ecs={"clusters": [{"name": "prod"}]}),
        "safety: {allow_nothing_in_use: true}\n" + REPOSITORY_RULE,
    ),
    "held-and-running": (
        account(
            {
                "held": [image(f"h{i}", day=i + 1) for i in range(12)],
                "web": [image("running", tags=("live",)), image("old"), image("older")],
            },
            ecs={
                "clusters": [
                    {
                        "name": "prod",
                        "tasks": [
                            {
                                "task_definition": "web:1",
                                "desired_status": "RUNNING",
                                "containers": [
                                    {
                                        "image": f"{REGISTRY}/web:live",
                                        "image_digest": digest("running"),
                                    }
                                ],
                            }
                        ],
                    }
                ]
            },
        ),
        REPOSITORY_RULE,
    ),
}


# The workflow's error on each account that fails (the others succeed).
VERDICTS = {
    "in-use-list-bad-entry": "SourceReadError",
    "in-use-list-empty": "SourceReadError",
    "nothing-in-use-sections-left-out": "NothingInUse",
}


def _workflow(emulator: Emulator) -> dict[str, Any]:
    """The deployed workflow's dry run: its verdict, and per repository what it would delete."""
    result = emulator.run('{"dry_run": true}')
    name = result["execution_arn"].rsplit(":", 1)[-1]
    planned: dict[str, tuple[str, set[str]]] = {}
    if result["status"] == "SUCCEEDED":
        report = json.loads(emulator.read_run_file(name, "report.json"))
        repositories = [line["repository"] for line in report["repositories"]]
        outcomes = emulator.repository_results(result["execution_arn"], repositories)
        for repo, outcome in outcomes.items():
            assert outcome is not None, repo
            planned[repo] = (outcome["status"], {a["digest"] for a in outcome["planned"]})
    return {"status": result["status"], "error": result["error"], "planned": planned}


def _plan(config: Path) -> dict[str, Any]:
    """`ecr-sweeper plan --format json`: its verdict, and per repository what it would delete."""
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:  # click 8.2 keeps them apart
        runner = CliRunner()
    result = runner.invoke(
        main, ["plan", "--config", str(config), "--format", "json"], catch_exceptions=False
    )
    planned: dict[str, tuple[str, set[str]]] = {}
    if result.stdout:
        for repo in json.loads(result.stdout)["repositories"]:
            deleting = {i["digest"] for i in repo["images"] if i["action"] == "delete"}
            planned[repo["repository"]] = (
                repo["status"],
                deleting if repo["status"] == "ok" else set(),
            )
            assert repo["would_delete"] == len(planned[repo["repository"]][1])
    return {"exit_code": result.exit_code, "stderr": result.stderr, "planned": planned}


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_plan_gives_the_verdict_and_deletions_of_the_workflows_dry_run(
    name: str, tmp_path: Path
) -> None:
    data, config_text = ACCOUNTS[name]
    config = tmp_path / "ecrm.yaml"
    config.write_text(config_text)
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        workflow = _workflow(emulator)
        plan = _plan(config)
    if workflow["status"] == "SUCCEEDED":
        assert plan["exit_code"] == 0, plan["stderr"]
    else:
        assert plan["exit_code"] == 1
        assert f"a run would end FAILED in ScanInUse: {workflow['error']}: " in plan["stderr"]
    assert plan["planned"] == workflow["planned"]
    assert workflow["error"] == VERDICTS.get(name)  # each account tests what it means to
