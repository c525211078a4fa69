"""scanner-role.yaml, the role member accounts give the sweeper's in-use scan.

- read-only: exactly the scan's actions in a member account, each a List/Describe/Get;
- Resource "*" only where AWS offers no resource-level permission, else this account's
  resources in any region;
- trusted by the sweeper's scan role only (its account root, narrowed by
  aws:PrincipalArn), with the external id required only when one is set;
- in step with template.yaml: the same actions as InUseScanFunctionRole for the services
  a member account is scanned for;
- docs/accounts.md lists the same actions;
- StackSet-ready; cfn-lint and checkov clean.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse
from test_template import EXPECTED_ACTIONS as IN_ACCOUNT_ACTIONS
from test_template import RESOURCE_STAR_OK, ROOT, TEMPLATE, as_list, run_cfn_lint

SCANNER_ROLE = ROOT / "scanner-role.yaml"

# The services the in-use scan reads in a member account (not ECR: the sweeper's own).
SCANNED_SERVICES = {"ecs", "lambda", "events", "scheduler", "batch", "apprunner", "eks"}

# What the scan calls in a member account: its own role's actions for those services.
EXPECTED_ACTIONS = {
    action
    for action in IN_ACCOUNT_ACTIONS["InUseScanFunction"]
    if action.split(":")[0] in SCANNED_SERVICES
}

SWEEPER_ACCOUNT = "123456789012"
SWEEPER_ROLE = f"arn:aws:iam::{SWEEPER_ACCOUNT}:role/ecr-sweeper-InUseScanFunctionRole-AbC123"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    # The SAM translator's loader turns the short-form tags (!Ref, !Sub...) into long form.
    return yaml_parse(SCANNER_ROLE.read_text())


@pytest.fixture(scope="module")
def role(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]["ScannerRole"]["Properties"]


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = role["Policies"]
    return as_list(policy["PolicyDocument"]["Statement"])


def actions_of(role: dict[str, Any]) -> list[str]:
    actions: list[str] = []
    for statement in statements(role):
        assert statement["Effect"] == "Allow", statement
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, statement
        actions.extend(as_list(statement["Action"]))
    return actions


def resolve(value: Any, truth: dict[str, bool]) -> Any:
    """Fn::If resolved and AWS::NoValue dropped, as CloudFormation deploys it."""
    if isinstance(value, list):
        return [resolve(v, truth) for v in value if v != {"Ref": "AWS::NoValue"}]
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            return resolve(when_true if truth[name] else when_false, truth)
        items = {k: resolve(v, truth) for k, v in value.items()}
        return {k: v for k, v in items.items() if v != {"Ref": "AWS::NoValue"}}
    return value


# ---------------------------------------------------------------- permissions


def test_actions_are_exactly_the_scans_read_only_set(role: dict[str, Any]) -> None:
    actions = actions_of(role)
    assert len(actions) == len(set(actions)), "an action is listed twice"
    assert set(actions) == EXPECTED_ACTIONS


def test_no_action_is_a_write(role: dict[str, Any]) -> None:
    for action in actions_of(role):
        _, verb = action.split(":")
        assert re.fullmatch(r"(List|Describe|Get)[A-Z]\w*", verb), action


def test_no_wildcard_action(role: dict[str, Any]) -> None:
    for action in actions_of(role):
        service, verb = action.split(":")
        assert "*" not in action and "?" not in action, action
        assert service in SCANNED_SERVICES and verb, action


def test_resource_star_only_where_aws_requires_it(role: dict[str, Any]) -> None:
    for statement in statements(role):
        actions = set(as_list(statement["Action"]))
        resources = as_list(statement["Resource"])
        if "*" in resources:
            assert resources == ["*"], statement["Sid"]
            assert actions <= RESOURCE_STAR_OK, (statement["Sid"], actions - RESOURCE_STAR_OK)
        else:
            # Supports resource-level permissions: never on "*" elsewhere either.
            assert not actions & RESOURCE_STAR_OK, (statement["Sid"], actions & RESOURCE_STAR_OK)


def test_scoped_resources_are_this_accounts_in_any_region(role: dict[str, Any]) -> None:
    scoped = [r for s in statements(role) for r in as_list(s["Resource"]) if r != "*"]
    assert len(scoped) == 10
    for resource in scoped:
        arn = resource["Fn::Sub"]
        match = re.fullmatch(r"arn:\$\{AWS::Partition\}:(\w+):\*:\$\{AWS::AccountId\}:.+", arn)
        assert match and match[1] in SCANNED_SERVICES, arn


def test_resource_star_statements_are_commented() -> None:
    lines = SCANNER_ROLE.read_text().splitlines()
    stars = [n for n, line in enumerate(lines) if re.fullmatch(r'\s+Resource: "\*"', line)]
    assert len(stars) == 6
    for number in stars:
        start = number
        while not lines[start].lstrip().startswith("- Sid:"):
            start -= 1
        assert lines[start - 1].lstrip().startswith("#"), (number + 1, lines[start])


def _sweeper_scan_actions() -> set[str]:
    """Every action InUseScanFunctionRole may be given in template.yaml, conditional
    statements (both branches of a Fn::If) included."""
    role = yaml_parse(TEMPLATE.read_text())["Resources"]["InUseScanFunctionRole"]
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "Effect" in value and "Action" in value:
                assert value["Effect"] == "Allow", value
                found.update(as_list(value["Action"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(role["Properties"]["Policies"])
    assert found
    return found


def test_actions_match_the_sweepers_own_scan_role(role: dict[str, Any]) -> None:
    own = {a for a in _sweeper_scan_actions() if a.split(":")[0] in SCANNED_SERVICES}
    assert set(actions_of(role)) == own


def test_docs_permissions_table_lists_exactly_the_roles_actions(role: dict[str, Any]) -> None:
    text = (ROOT / "docs" / "accounts.md").read_text()
    section = text.split("## The role's permissions", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed = [a for row in rows for a in re.findall(r"`(\w+:\w+)`", row.split("|")[1])]
    assert sorted(listed) == sorted(actions_of(role))


# ---------------------------------------------------------------- trust


def test_trust_is_the_sweepers_scan_role_only(
    template: dict[str, Any], role: dict[str, Any]
) -> None:
    (statement,) = as_list(role["AssumeRolePolicyDocument"]["Statement"])
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRole"
    assert "NotPrincipal" not in statement and "NotAction" not in statement
    # The sweeper account's root: its id is the fifth field of the scan role's ARN.
    assert statement["Principal"] == {
        "AWS": {
            "Fn::Sub": [
                "arn:${AWS::Partition}:iam::${SweeperAccountId}:root",
                {
                    "SweeperAccountId": {
                        "Fn::Select": [4, {"Fn::Split": [":", {"Ref": "SweeperScanRoleArn"}]}]
                    }
                },
            ]
        }
    }
    assert SWEEPER_ROLE.split(":")[4] == SWEEPER_ACCOUNT
    assert statement["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": {"Ref": "SweeperScanRoleArn"}
    }
    assert template["Conditions"]["HasExternalId"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]
    }
    # The external id appears once, under the condition that it is set.
    assert json.dumps(template["Resources"]).count("sts:ExternalId") == 1
    assert set(statement["Condition"]) == {"ArnEquals", "StringEquals"}
    assert statement["Condition"]["StringEquals"] == {
        "Fn::If": [
            "HasExternalId",
            {"sts:ExternalId": {"Ref": "ExternalId"}},
            {"Ref": "AWS::NoValue"},
        ]
    }


@pytest.mark.parametrize("has_external_id", [False, True])
def test_deployed_trust_conditions(role: dict[str, Any], has_external_id: bool) -> None:
    truth = {"HasExternalId": has_external_id, "HasPermissionsBoundary": False}
    (statement,) = resolve(role["AssumeRolePolicyDocument"], truth)["Statement"]
    expected = {"ArnEquals": {"aws:PrincipalArn": {"Ref": "SweeperScanRoleArn"}}}
    if has_external_id:
        expected["StringEquals"] = {"sts:ExternalId": {"Ref": "ExternalId"}}
    assert statement["Condition"] == expected


def test_role_settings(template: dict[str, Any], role: dict[str, Any]) -> None:
    assert role["RoleName"] == {"Ref": "RoleName"}
    assert role["MaxSessionDuration"] == 3600
    assert role["PermissionsBoundary"] == {
        "Fn::If": [
            "HasPermissionsBoundary",
            {"Ref": "PermissionsBoundaryArn"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert "ManagedPolicyArns" not in role
    assert template["Outputs"]["ScannerRoleArn"]["Value"] == {"Fn::GetAtt": ["ScannerRole", "Arn"]}


# ---------------------------------------------------------------- StackSet-ready


def test_stack_set_ready(template: dict[str, Any]) -> None:
    assert "Transform" not in template  # plain CloudFormation
    assert {r["Type"] for r in template["Resources"].values()} == {"AWS::IAM::Role"}
    assert all("Export" not in o for o in template["Outputs"].values())
    defaults = json.dumps({k: p.get("Default") for k, p in template["Parameters"].items()})
    assert not re.search(r"\d{12}|[a-z]{2}(-gov)?-[a-z]+-\d", defaults), defaults
    assert "SweeperScanRoleArn" in template["Parameters"]
    assert "Default" not in template["Parameters"]["SweeperScanRoleArn"]
    assert "ONE region per account" in template["Description"]


def _pattern(template: dict[str, Any], parameter: str) -> str:
    return str(template["Parameters"][parameter]["AllowedPattern"])


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (SWEEPER_ROLE, True),
        ("arn:aws-cn:iam::123456789012:role/path/ecr-sweeper-scan", True),
        ("arn:aws:iam::123456789012:user/alice", False),
        ("arn:aws:iam::123456789012:root", False),
        ("arn:aws:iam::12345:role/x", False),
        ("", False),
    ],
)
def test_sweeper_scan_role_arn_pattern(template: dict[str, Any], value: str, ok: bool) -> None:
    assert bool(re.fullmatch(_pattern(template, "SweeperScanRoleArn"), value)) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("", True), ("my-external-id", True), ("a:b/c=d@e", True), ("x", False), ("a b", False)],
)
def test_external_id_pattern(template: dict[str, Any], value: str, ok: bool) -> None:
    assert template["Parameters"]["ExternalId"]["Default"] == ""
    assert bool(re.fullmatch(_pattern(template, "ExternalId"), value)) is ok


# ---------------------------------------------------------------- linters


def test_cfn_lint_is_clean() -> None:
    result = run_cfn_lint(SCANNER_ROLE)
    assert result.returncode == 0, result.stdout + result.stderr


def _checkov() -> str | None:
    # checkov lives in its own virtualenv (`make security-tools`), see the Makefile.
    beside = ROOT / ".venv-tools" / "bin" / "checkov"
    return str(beside) if beside.exists() else shutil.which("checkov")


def test_checkov_finds_nothing() -> None:
    executable = _checkov()
    if not executable:
        pytest.skip("checkov is not installed (make security-tools); make checkov runs it")
    result = subprocess.run(
        [
            executable,
            "--file",
            str(SCANNER_ROLE),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--compact",
            "--quiet",
            "--output",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = json.loads(result.stdout)["summary"]
    assert summary["failed"] == 0 and summary["parsing_errors"] == 0, output
    assert summary["skipped"] == 0 and summary["passed"] > 0, output
