"""The `ecr-sweeper` commands against moto: plan, scan and generate on an emulated account,
run and report on the real workflow deployed by the emulator (see docs/cli.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result
from moto import mock_aws

from ecr_sweeper import local
from ecr_sweeper.cli import main
from ecr_sweeper.core.config import load_config_file
from ecr_sweeper.core.in_use import InUseSet
from ecr_sweeper.core.policy import RepositoryPlan
from ecr_sweeper.core.report import Report, render_summary_line, render_table
from ecr_sweeper.local import ReadOnlyViolation, name_to_pattern, open_account
from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict, load_inventory

ROOT = Path(__file__).resolve().parents[2]
BLOG = ROOT / "examples" / "blog-account.json"
CONFIG = ROOT / "config" / "ecrm.yaml"
ACCOUNT, REGION = "123456789012", "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
INDEX = "application/vnd.oci.image.index.v1+json"


def runner() -> CliRunner:
    """stdout and stderr apart (click 8.1 needs mix_stderr=False; 8.2 removed it)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def cli(*arguments: str) -> Result:
    return runner().invoke(main, list(arguments), catch_exceptions=False)


def d(n: int) -> str:
    return f"sha256:{n:064x}"


def day(n: int) -> str:
    return f"2026-{n:02d}-01T00:00:00Z"


# An account with an image graph (index and children, a signature, a Helm chart, an
# archived image) in two repositories of different sizes, so the table has several TYPE
# rows and its order (most bytes reclaimed first) is not the alphabetical one.
GRAPH_ACCOUNT: dict[str, Any] = {
    "account_id": ACCOUNT,
    "region": REGION,
    "now": "2026-11-27T00:00:00Z",
    "repositories": [
        {
            "name": "example-a",
            "images": [
                {"digest": d(1), "tags": ["v2", "latest"], "pushed_at": day(11), "size_bytes": 100},
                {"digest": d(2), "tags": ["v1"], "pushed_at": day(9), "size_bytes": 100},
                {"digest": d(3), "pushed_at": day(8), "size_bytes": 1000},
            ],
        },
        {
            "name": "example-web",
            "images": [
                {"digest": d(11), "tags": ["v2"], "pushed_at": day(11), "size_bytes": 16_800_000},
                {"digest": d(12), "tags": ["v1"], "pushed_at": day(9), "size_bytes": 16_800_000},
                {"digest": d(13), "pushed_at": day(8), "size_bytes": 16_800_000},
                {
                    "digest": d(14),
                    "tags": ["multi"],
                    "pushed_at": day(7),
                    "size_bytes": 9_000_000,
                    "media_type": INDEX,
                    "manifests": [d(15)],
                },
                {"digest": d(15), "pushed_at": day(7), "size_bytes": 9_000_000},
                {
                    "digest": d(16),
                    "pushed_at": day(7),
                    "size_bytes": 1000,
                    "artifact_media_type": "application/vnd.dev.cosign.artifact.sig.v1+json",
                    "subject": d(13),
                },
                {
                    "digest": d(17),
                    "tags": ["chart-0.1.0"],
                    "pushed_at": day(1),
                    "size_bytes": 4000,
                    "artifact_media_type": "application/vnd.cncf.helm.config.v1+json",
                },
                {
                    "digest": d(18),
                    "tags": ["old"],
                    "pushed_at": day(1),
                    "size_bytes": 16_800_000,
                    "status": "ARCHIVED",
                },
            ],
        },
        {"name": "other", "images": [{"digest": d(21), "pushed_at": day(1)}]},
    ],
    "ecs": {
        "clusters": [
            {
                "name": "example",
                "services": [
                    {"name": "web", "deployments": [{"task_definition": "example-web:2"}]}
                ],
                "tasks": [
                    {
                        "task_definition": "example-web:2",
                        "containers": [
                            {"image": f"{REGISTRY}/example-web:v2", "image_digest": d(11)}
                        ],
                    }
                ],
            }
        ],
        "task_definitions": [
            {"family": "example-web", "revision": 2, "images": [f"{REGISTRY}/example-web:v2"]},
            {"family": "example-web", "revision": 1, "images": [f"{REGISTRY}/example-web:v1"]},
        ],
    },
    "lambda": {
        "functions": [
            {
                "name": "example-api",
                "versions": [
                    {"version": "$LATEST", "image_uri": f"{REGISTRY}/example-a:latest"},
                    {
                        "version": "1",
                        "image_uri": f"{REGISTRY}/example-a:v1",
                        "resolved_image_uri": f"{REGISTRY}/example-a@{d(2)}",
                    },
                ],
                "aliases": [{"name": "live", "version": "1"}],
            }
        ]
    },
}
GRAPH_CONFIG = """
clusters: [{name: example}]
task_definitions: [{name_pattern: "example-*", keep_count: 1}]
lambda_functions: [{name_pattern: "example-*", keep_count: 1}]
repositories: [{name_pattern: "example-*", expires: 30days}]
"""


@pytest.fixture
def graph_config(tmp_path: Path) -> Path:
    path = tmp_path / "graph.yaml"
    path.write_text(GRAPH_CONFIG)
    return path


def workflow_dry_run(emulator: Emulator) -> tuple[str, Report]:
    """Run the deployed workflow (dry run) and return its execution name and report."""
    result = emulator.run('{"dry_run": true}')
    assert result["status"] == "SUCCEEDED", result
    name = result["execution_arn"].rsplit(":", 1)[-1]
    return name, Report.model_validate_json(emulator.read_run_file(name, "report.json"))


def table_output(report: Report) -> str:
    return f"{render_table(report)}\n\n{render_summary_line(report)}\n"


# ---------------------------------------------------------------------------------------------
# plan
# ---------------------------------------------------------------------------------------------


def test_plan_prints_the_table_the_workflow_reports_for_the_blog_account() -> None:
    with Emulator(load_inventory(BLOG), config_file=CONFIG) as emulator:
        _, report = workflow_dry_run(emulator)
        result = cli("plan", "--config", str(CONFIG))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == table_output(report)
    assert (
        "example-app  | Image  | 55 (924 MB)  | -5 (84 MB)   | 50 (840 MB)  | ok" in result.stdout
    )
    assert f"account {ACCOUNT}, region {REGION}" in result.stderr
    assert "reading repositories" in result.stderr  # the progress bar


def test_plan_decides_every_image_as_the_workflow_does(graph_config: Path) -> None:
    with Emulator(inventory_from_dict(GRAPH_ACCOUNT), config_file=graph_config) as emulator:
        run = emulator.run('{"dry_run": true}')
        assert run["status"] == "SUCCEEDED", run
        arn = run["execution_arn"]
        report = Report.model_validate_json(
            emulator.read_run_file(arn.rsplit(":", 1)[-1], "report.json")
        )
        # Small plans travel inline to their deleters, through the plan Map's results.
        workflow_plans = {
            output["repository"]: RepositoryPlan.model_validate_json(output["plan"])
            for output in emulator.map_outputs(arn)["plan"]
            if output.get("plan")
        }
        assert set(workflow_plans) == {"example-a", "example-web"}
        workflow_results = emulator.repository_results(arn, list(workflow_plans))
        table = cli("plan", "--config", str(graph_config))
        as_json = cli("plan", "--config", str(graph_config), "--format", "json")
    assert table.exit_code == 0, table.stderr
    assert table.stdout == table_output(report)
    assert [line.repository for line in report.repositories] == ["example-web", "example-a"]
    assert {row.kind for line in report.repositories for row in line.rows} >= {
        "Image",
        "Image index",
        "Referrer",
        "Artifact",
    }

    assert as_json.exit_code == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["dry_run"] is True
    assert (data["account_id"], data["region"]) == (ACCOUNT, REGION)
    assert data["now"] == "2026-11-27T00:00:00+00:00"
    assert [r["repository"] for r in data["repositories"]] == ["example-web", "example-a"]
    for repo in data["repositories"]:
        plan = workflow_plans[repo["repository"]]
        fields = set(repo["images"][0])
        assert repo["images"] == [
            decision.model_dump(mode="json", include=fields) for decision in plan.decisions
        ]
        assert repo["rule"] == plan.rule == "name_pattern=example-*"
        result = workflow_results[repo["repository"]]
        assert repo["rows"] == result["rows"]
        assert repo["would_delete"] == len([a for a in result["planned"] if not a["archive"]])
        assert repo["would_archive"] == len([a for a in result["planned"] if a["archive"]])
        assert repo["bytes_reclaimed"] == result["bytes_reclaimed"]
    web = {i["digest"]: i for i in data["repositories"][0]["images"]}
    assert (web[d(11)]["action"], web[d(11)]["reason"]) == ("keep", "in_use_digest")
    assert web[d(13)]["action"] == "delete"
    # its signature, an artifact ecrm never deletes, stays when the image goes
    assert (web[d(16)]["action"], web[d(16)]["reason"]) == ("keep", "artifact")
    assert web[d(17)]["reason"] == "artifact"
    assert web[d(13)]["detail"]  # the reason as a sentence


def test_plan_repository_option(graph_config: Path) -> None:
    with Emulator(inventory_from_dict(GRAPH_ACCOUNT), config_file=graph_config):
        only = cli("plan", "--config", str(graph_config), "--repository", "example-a")
        as_json = cli(
            "plan", "--config", str(graph_config), "--format", "json", "--repository", "example-a"
        )
        unmatched = cli("plan", "--config", str(graph_config), "--repository", "other")
        missing = cli("plan", "--config", str(graph_config), "--repository", "nope")
    assert only.exit_code == 0, only.stderr
    assert "example-a" in only.stdout and "example-web" not in only.stdout
    assert [r["repository"] for r in json.loads(as_json.stdout)["repositories"]] == ["example-a"]
    assert unmatched.exit_code == 1
    assert "'other' matches no repository rule" in unmatched.stderr
    assert missing.exit_code == 1
    assert "'nope' does not exist" in missing.stderr


def test_plan_exits_1_when_a_run_would_fail(
    graph_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = local.LocalRun.summarize

    def failing(self: local.LocalRun) -> tuple[Report, str | None]:
        report, _ = original(self)
        return report, "1 of 2 repositories failed: example-a"

    monkeypatch.setattr(local.LocalRun, "summarize", failing)
    with Emulator(inventory_from_dict(GRAPH_ACCOUNT), config_file=graph_config):
        result = cli("plan", "--config", str(graph_config))
    assert result.exit_code == 1
    assert "example-web" in result.stdout  # the table first
    assert "a run would end FAILED: 1 of 2 repositories failed: example-a" in result.stderr


def test_memory_s3_is_what_the_run_store_needs() -> None:
    from ecr_sweeper.errors import RunDataError
    from ecr_sweeper.run_store import RunStore

    s3 = local.MemoryS3()
    store = RunStore("b", "runs/x", s3)
    store.put_json("results/a/b.json", {"n": 1})
    store.put_text("report.md", "# r")
    assert store.get_json("results/a/b.json") == {"n": 1}
    assert store.exists("report.md") and not store.exists("nope")
    assert store.list_names("results/") == ["results/a/b.json"]
    with pytest.raises(RunDataError, match="does not exist"):
        store.get_text("nope")
    with pytest.raises(AttributeError, match="not available to a local run"):
        s3.delete_object(Bucket="b", Key="runs/x/report.md")


def test_plan_reads_only_and_needs_no_bucket(
    graph_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services: list[str] = []
    original = local.Account.client

    def recording(self: local.Account, service: str) -> Any:
        services.append(service)
        return original(self, service)

    monkeypatch.setattr(local.Account, "client", recording)
    with Emulator(inventory_from_dict(GRAPH_ACCOUNT), config_file=graph_config):
        result = cli("plan", "--config", str(graph_config))
        account = open_account(boto3.Session())
        ecr = account.client("ecr")
        before = len(ecr.describe_images(repositoryName="example-a")["imageDetails"])
        with pytest.raises(ReadOnlyViolation, match="ecr:BatchDeleteImage"):
            ecr.batch_delete_image(repositoryName="example-a", imageIds=[{"imageDigest": d(3)}])
        after = len(ecr.describe_images(repositoryName="example-a")["imageDetails"])
    assert result.exit_code == 0, result.stderr
    # the sources of "in use" only: no S3 (no in-use list here), no Step Functions
    assert set(services) == {
        "ecr",
        "ecs",
        "lambda",
        "events",
        "scheduler",
        "batch",
        "apprunner",
        "codebuild",
        "sagemaker",
        "emr-serverless",
        "bedrock-agentcore-control",
        "lightsail",
        "resourcegroupstaggingapi",  # the protect tag of every repository, in one call
    }
    assert before == after == 3


def test_plan_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("repositories: [{name: app}]\n")
    result = cli("plan", "--config", str(bad))
    assert result.exit_code == 1
    assert "repositories[0].expires: required" in result.stderr

    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        result = cli("plan", "--config", str(CONFIG))
    assert result.exit_code == 1
    assert "no AWS region" in result.stderr


def test_plan_region_option(fake_credentials: Callable[[str], None], tmp_path: Path) -> None:
    fake_credentials("us-east-1")
    # Plain moto runs nothing and has no App Runner: sources off, so no guard fails the plan.
    config = tmp_path / "ecrm.yaml"
    config.write_text(
        "clusters: []\ntask_definitions: []\nlambda_functions: []\n"
        "sources: {app_runner: false}\n"
        "repositories: [{name_pattern: example-*, expires: 30d}]\n"
    )
    with mock_aws():
        boto3.client("ecr", region_name="eu-west-1").create_repository(repositoryName="example-x")
        there = cli("--region", "eu-west-1", "plan", "--config", str(config))
        here = cli("plan", "--config", str(config))
    assert there.exit_code == 0, there.stderr
    assert "region eu-west-1" in there.stderr
    assert here.stdout.startswith("(no repositories matched the config)")


# ---------------------------------------------------------------------------------------------
# scan
# ---------------------------------------------------------------------------------------------


def test_scan_writes_the_workflows_in_use_set_as_ecrm_does(tmp_path: Path) -> None:
    out = tmp_path / "in-use.json"
    with Emulator(load_inventory(BLOG), config_file=CONFIG) as emulator:
        name, _ = workflow_dry_run(emulator)
        in_use = InUseSet.model_validate_json(emulator.read_run_file(name, "in-use.json"))
        result = cli("scan", "-o", str(out), "--config", str(CONFIG))
        to_stdout = cli("scan", "--config", str(CONFIG))
    assert result.exit_code == 0, result.stderr
    expected = sorted(
        [
            f"{REGISTRY}/{repo}@{digest}"
            for repo, u in in_use.repositories.items()
            for digest in u.digests
        ]
        + [f"{REGISTRY}/{repo}:{tag}" for repo, u in in_use.repositories.items() for tag in u.tags]
    )
    text = out.read_text()
    assert json.loads(text) == expected
    assert text == json.dumps(expected, indent=2) + "\n"  # ecrm's layout
    assert f"{REGISTRY}/example-web:v2.44" in expected
    assert any(uri.startswith(f"{REGISTRY}/example-app@sha256:") for uri in expected)
    assert f"{len(expected)} image URIs in use to {out}" in result.stderr
    assert to_stdout.stdout == text


def test_in_use_uris_and_registry() -> None:
    in_use = InUseSet.model_validate(
        {
            "account_id": ACCOUNT,
            "region": "cn-north-1",
            "repositories": {
                "a/b": {"digests": {d(1): ["x"]}, "tags": {"v1": ["x"], "latest": []}}
            },
        }
    )
    account = local.Account(session=None, account_id=ACCOUNT, region="cn-north-1")
    assert account.registry == f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn"
    assert local.in_use_uris(in_use, "r") == ["r/a/b:latest", "r/a/b:v1", f"r/a/b@{d(1)}"]


# ---------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("example-web", "example-*"),
        ("platform/base", "platform/*"),
        ("team_a-web", "team_*"),
        ("a/b-c", "a/*"),
        ("plain", "plain"),
        ("-x", "-*"),
    ],
)
def test_name_to_pattern(name: str, pattern: str) -> None:
    assert name_to_pattern(name) == pattern


def _add_zip_function(name: str) -> None:
    role = boto3.client("iam").create_role(
        RoleName="zip-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )


def test_generate_writes_a_valid_config_for_the_account(tmp_path: Path) -> None:
    out = tmp_path / "ecrm.yaml"
    with Emulator(load_inventory(BLOG), config_file=CONFIG):
        _add_zip_function("zip_only-function")  # not a container image: not listed
        boto3.client("ecs").create_cluster(clusterName="staging-blue")
        result = cli("generate", "-o", str(out))
        again = cli("generate", "-o", str(out))
        forced = cli("generate", "-o", str(out), "--force")
        to_stdout = cli("generate")
    assert result.exit_code == 0, result.stderr
    config = load_config_file(out)
    assert config.warnings == []
    assert [c.label for c in config.clusters or []] == ["name_pattern=staging-*", "name=example"]
    assert [(t.label, t.keep_count) for t in config.task_definitions or []] == [
        ("name_pattern=example-*", 5)
    ]
    assert [(f.label, f.keep_count) for f in config.lambda_functions or []] == [
        ("name_pattern=example-*", 5)
    ]
    assert [r.label for r in config.repositories or []] == [
        "name_pattern=example-*",
        "name_pattern=platform/*",
    ]
    for rule in config.repositories or []:
        assert (rule.expires, rule.keep_count, rule.keep_tag_patterns) == ("30d", 5, ["latest"])
    assert "&id" not in out.read_text()  # plain YAML, no anchors
    assert f"wrote {out}: 2 repository rules, 2 cluster rules" in result.stderr
    assert "note:" not in result.stderr  # every source had something to name

    validated = cli("validate", str(out))
    assert validated.exit_code == 0 and validated.stderr == ""

    assert again.exit_code == 1 and "pass --force" in again.stderr
    assert forced.exit_code == 0
    assert to_stdout.stdout == out.read_text()


def test_generate_never_turns_a_source_off(tmp_path: Path) -> None:
    """An account with no cluster, family or image function yet: each source section is a
    catch-all (scanned in full, so what runs later is seen), never `[]`, and it says so."""
    out = tmp_path / "ecrm.yaml"
    account = {"account_id": ACCOUNT, "region": REGION, "now": day(1)}
    account["repositories"] = [{"name": "app-web", "images": []}]
    with Emulator(inventory_from_dict(account)):
        _add_zip_function("zip-only")  # not a container image: still no image function
        result = cli("generate", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert not [line for line in text.splitlines() if "[]" in line and not line.startswith("#")]
    config = load_config_file(out)
    assert config.warnings == []
    assert [c.label for c in config.clusters or []] == ["name_pattern=*"]
    for section in (config.task_definitions, config.lambda_functions):
        assert [(rule.label, rule.keep_count) for rule in section or []] == [("name_pattern=*", 5)]
    assert text.count("a catch-all, so that one created later is scanned too") == 3
    assert "# No ECS cluster found: a catch-all" in text
    assert "# (`clusters: []` would turn this source off.)" in text
    for section, what in (
        ("clusters", "ECS cluster"),
        ("task_definitions", "active task definition family"),
        ("lambda_functions", "container image Lambda function"),
    ):
        assert f'note: no {what} found: {section} scans every one (name_pattern "*")' in (
            result.stderr
        )
    assert cli("validate", str(out)).stderr == ""


def test_generate_refuses_an_account_without_repositories(tmp_path: Path) -> None:
    with Emulator(inventory_from_dict({"account_id": ACCOUNT, "region": REGION, "now": day(1)})):
        result = cli("generate", "-o", str(tmp_path / "x.yaml"))
    assert result.exit_code == 1
    assert "no ECR repositories" in result.stderr
    assert not (tmp_path / "x.yaml").exists()


# ---------------------------------------------------------------------------------------------
# run, report: the workflow deployed on the emulator, found through its CloudFormation stack
# ---------------------------------------------------------------------------------------------


def make_stack(name: str, outputs: dict[str, str]) -> None:
    """Another stack than the emulator's: only its outputs matter to the CLI."""
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture
def deployed() -> Iterator[Emulator]:
    """The blog account with the stack deployed as `ecr-sweeper` (the emulator's stack name)."""
    with Emulator(load_inventory(BLOG), config_file=CONFIG) as emulator:
        yield emulator


def _report(emulator: Emulator, name: str, file: str = "report.json") -> str:
    return emulator.read_run_file(name, file)


def test_run_follows_the_execution_to_its_report(deployed: Emulator) -> None:
    result = cli("run", "--poll-interval", "0.05")
    assert result.exit_code == 0, result.stderr
    arn = result.stderr.split("started ", 1)[1].split()[0]
    name = arn.rsplit(":", 1)[-1]
    report = Report.model_validate_json(_report(deployed, name))
    assert report.dry_run  # the stack's default
    lines = result.stdout.splitlines()
    assert sorted(lines[:2]) == [
        "example-app: would delete 5 images (84 MB)",
        "example-web: would delete 5 images (84 MB)",
    ]
    assert result.stdout == "\n".join(lines[:2]) + "\n\n" + table_output(report)
    assert f"execution {name}: SUCCEEDED" in result.stderr

    deleting = cli("run", "--input", '{"dry_run": false}', "--poll-interval", "0.05")
    assert deleting.exit_code == 0, deleting.stderr
    assert "example-web: deleted 5 images (84 MB)" in deleting.stdout
    assert "DRY RUN" not in deleting.stdout
    assert "deleted 10 images (168 MB) in 2 repositories" in deleting.stdout


def test_run_exits_1_when_the_execution_fails(deployed: Emulator) -> None:
    result = cli("run", "--input", '{"dry_run": "yes"}', "--poll-interval", "0.05")
    assert result.exit_code == 1
    assert ": FAILED" in result.stderr
    assert "error: InvalidExecutionInput" in result.stderr
    assert result.stdout == ""  # it failed in the scan: no repository, no report
    name = result.stderr.split("started ", 1)[1].split()[0].rsplit(":", 1)[-1]
    no_report = cli("report", name)
    assert no_report.exit_code == 1
    assert f"execution {name} has no report" in no_report.stderr


def test_run_no_follow_then_report(deployed: Emulator) -> None:
    started = cli("run", "--no-follow", "--input", '{"dry_run": true}')
    assert started.exit_code == 0, started.stderr
    arn = started.stdout.strip()
    assert arn.startswith("arn:aws:states:") and ":execution:" in arn
    sfn = deployed.session.client("stepfunctions")
    deadline = time.monotonic() + 120
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    name = arn.rsplit(":", 1)[-1]
    report = Report.model_validate_json(_report(deployed, name))

    latest = cli("report")
    assert latest.exit_code == 0, latest.stderr
    assert latest.stdout == table_output(report)
    assert f"execution {name} (dry run)" in latest.stderr
    by_arn = cli("report", arn)
    assert by_arn.stdout == latest.stdout
    markdown = cli("report", name, "--format", "markdown")
    assert markdown.stdout == _report(deployed, name, "report.md") + "\n"
    assert markdown.stdout.startswith(f"# ecr-sweeper run {name}")
    as_json = cli("report", name, "--format", "json")
    assert Report.model_validate_json(as_json.stdout) == report


def test_report_defaults_to_the_latest_execution(deployed: Emulator) -> None:
    first = deployed.run('{"dry_run": true}')
    time.sleep(0.01)
    second = deployed.run('{"dry_run": false}')
    assert first["status"] == second["status"] == "SUCCEEDED"
    result = cli("report")
    assert result.exit_code == 0, result.stderr
    assert "deleted 10 images" in result.stdout and "DRY RUN" not in result.stdout
    older = cli("report", first["execution_arn"])
    assert "DRY RUN: would delete 10 images" in older.stdout


def test_stack_lookup_errors() -> None:
    with Emulator(inventory_from_dict({"account_id": ACCOUNT, "region": REGION, "now": day(1)})):
        missing = cli("report", "--stack", "nope")
        make_stack("not-ours", {"Something": "else"})
        foreign = cli("run", "--stack", "not-ours")
        from_env = runner().invoke(main, ["report"], env={"ECR_SWEEPER_STACK": "nope2"})
    assert missing.exit_code == 1
    assert f"stack 'nope' not found in {REGION}" in missing.stderr
    assert foreign.exit_code == 1
    assert "has no output StateMachineArn, RunBucketName" in foreign.stderr
    assert "stack 'nope2' not found" in from_env.stderr


def test_report_without_executions(deployed: Emulator) -> None:
    result = cli("report")
    assert result.exit_code == 1
    assert "no execution of" in result.stderr


def test_run_refuses_input_that_is_not_json() -> None:
    result = cli("run", "--input", "{dry_run: true}")
    assert result.exit_code == 2
    assert "not JSON" in result.stderr


def test_scan_reads_other_accounts_with_read_only_clients(tmp_path: Path) -> None:
    from ecr_sweeper.adapters.accounts import assume
    from ecr_sweeper.core.config import ScanTarget
    from ecr_sweeper.local import ReadOnlyViolation, read_only

    member, region = "210987654321", "eu-west-1"
    role = f"arn:aws:iam::{member}:role/ecr-sweeper-scanner"
    config = tmp_path / "ecrm.yaml"
    config.write_text(
        CONFIG.read_text() + f"accounts:\n  - {{role_arn: {role}, regions: [{region}]}}\n"
    )
    data = json.loads(BLOG.read_text())
    used_there = f"{REGISTRY}/example-app:used-in-{member}"
    data["accounts"] = [
        {
            "account_id": member,
            "region": region,
            "ecs": {
                "task_definitions": [
                    {"family": "example-api", "revision": 1, "images": [used_there]}
                ]
            },
        }
    ]
    with Emulator(inventory_from_dict(data), config_file=config):
        result = cli("scan", "--config", str(config))
        clients = assume(
            boto3.client("sts"), ScanTarget(member, region, role), "plan", wrap=read_only
        )
        with pytest.raises(ReadOnlyViolation, match="ecs:CreateCluster"):
            clients("ecs").create_cluster(clusterName="not-allowed")
    assert result.exit_code == 0, result.stderr
    assert used_there in json.loads(result.stdout)
