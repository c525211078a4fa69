"""The SAM template: lints clean, least-privilege IAM, right handlers and defaults.

Runs offline: `sam validate --lint` needs no AWS account, and the SAM translator is run in
process with a stub managed-policy loader and a fixed region (no credentials are read).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"

FUNCTIONS = {
    "InUseScanFunction": "ecr_sweeper.handlers.in_use_scan.handler",
    "CollectorFunction": "ecr_sweeper.handlers.collect.handler",
    "EvaluatorFunction": "ecr_sweeper.handlers.evaluate.handler",
    "DeleterFunction": "ecr_sweeper.handlers.delete.handler",
    "SummaryFunction": "ecr_sweeper.handlers.summarize.handler",
}

RUN_DATA = {"s3:GetObject", "s3:PutObject"}

# What each role may do (inline policies; SAM's managed policies are checked separately).
EXPECTED_ACTIONS: dict[str, set[str]] = {
    "InUseScanFunction": {
        "ecr:DescribeRepositories",
        "ecr:ListTagsForResource",
        "ecs:ListClusters",
        "ecs:ListServices",
        "ecs:DescribeServices",
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "ecs:ListTaskDefinitionFamilies",
        "ecs:ListTaskDefinitions",
        "ecs:DescribeTaskDefinition",
        "lambda:ListFunctions",
        "lambda:ListVersionsByFunction",
        "lambda:ListAliases",
        "lambda:GetFunction",
        "s3:PutObject",
    },
    "CollectorFunction": {"ecr:DescribeImages", "ecr:BatchGetImage", *RUN_DATA},
    "EvaluatorFunction": {*RUN_DATA},
    "DeleterFunction": {"ecr:BatchDeleteImage", "ecr:DescribeImages", *RUN_DATA},
    "SummaryFunction": {*RUN_DATA, "s3:ListBucket"},
    "StateMachine": {
        "lambda:InvokeFunction",
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "states:StartExecution",
        "states:DescribeExecution",
        "states:StopExecution",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    },
}

# Actions allowed on Resource "*": AWS supports no resource-level permission for them.
RESOURCE_STAR_OK = {
    "ecs:ListClusters",
    "ecs:ListServices",
    "ecs:ListTasks",
    "ecs:ListTaskDefinitionFamilies",
    "ecs:ListTaskDefinitions",
    "ecs:DescribeTaskDefinition",
    "lambda:ListFunctions",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}

LAMBDA_BASIC = "AWSLambdaBasicExecutionRole"
XRAY_WRITE = "AWSXrayWriteOnlyAccess"


class _NoManagedPolicies:
    """Managed-policy loader stub: the template names no SAM policy templates."""

    def load(self) -> dict[str, str]:
        return {}


def _sam_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return _sam_template()


@pytest.fixture(scope="module")
def cfn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The template translated to plain CloudFormation by the SAM translator."""
    template = _sam_template()
    # The translator wants S3 URIs where `sam package` would put them; the state machine
    # definition is inlined so that the translation sees it.
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/functions.zip"
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in props:
            props["CodeUri"] = "s3://artifacts/functions.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://artifacts/layer.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            props["Definition"] = json.loads((ROOT / props.pop("DefinitionUri")).read_text())

    no_aws_files = tmp_path_factory.mktemp("aws") / "absent"
    with pytest.MonkeyPatch.context() as mp:
        # A fixed region for the translator's boto3 session; never the user's profile.
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION"):
            mp.delenv(var, raising=False)
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", str(no_aws_files))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(no_aws_files))
        return transform(
            template,
            {"AWS::AccountId": "123456789012", "AWS::StackName": "ecr-sweeper"},
            _NoManagedPolicies(),
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_id(cfn: dict[str, Any], owner: str) -> str:
    props = cfn["Resources"][owner]["Properties"]
    ref = props["RoleArn"] if "RoleArn" in props else props["Role"]
    return ref["Fn::GetAtt"][0]


def _statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in role["Properties"].get("Policies", []):
        yield from _as_list(policy["PolicyDocument"]["Statement"])


def _allowed_actions(role: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for statement in _statements(role):
        assert "NotAction" not in statement
        if statement["Effect"] == "Allow":
            actions.update(_as_list(statement["Action"]))
    return actions


def _roles(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == "AWS::IAM::Role"}


def _managed_policy_names(role: dict[str, Any]) -> set[str]:
    arns = role["Properties"].get("ManagedPolicyArns", [])
    names = {
        m for arn in arns for m in re.findall(r"policy/(?:service-role/)?(\w+)", json.dumps(arn))
    }
    assert len(names) == len(arns), arns
    return names


# ---------------------------------------------------------------- lint


def _sam_executable() -> str:
    beside_python = Path(sys.executable).parent / "sam"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("sam")
    assert found, "the SAM CLI (aws-sam-cli in requirements-dev.txt) is not installed"
    return found


def test_sam_validate_lint_is_clean() -> None:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [_sam_executable(), "validate", "--lint", "--template", str(TEMPLATE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "is a valid SAM Template" in output, output


# ---------------------------------------------------------------- IAM


@pytest.mark.parametrize("owner", sorted(EXPECTED_ACTIONS))
def test_role_allows_exactly_the_expected_actions(cfn: dict[str, Any], owner: str) -> None:
    role = cfn["Resources"][_role_id(cfn, owner)]
    assert _allowed_actions(role) == EXPECTED_ACTIONS[owner]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_function_roles_get_only_logs_and_xray_managed_policies(
    cfn: dict[str, Any], function: str
) -> None:
    role = cfn["Resources"][_role_id(cfn, function)]
    assert _managed_policy_names(role) == {LAMBDA_BASIC, XRAY_WRITE}


def test_state_machine_role_gets_only_xray_managed_policy(cfn: dict[str, Any]) -> None:
    role = cfn["Resources"][_role_id(cfn, "StateMachine")]
    assert _managed_policy_names(role) == {XRAY_WRITE}


def test_only_the_deleter_may_delete_images(cfn: dict[str, Any]) -> None:
    deleter_role = _role_id(cfn, "DeleterFunction")
    may_delete = {
        role_id
        for role_id, role in _roles(cfn).items()
        if "ecr:BatchDeleteImage" in _allowed_actions(role)
    }
    assert may_delete == {deleter_role}
    for role_id, role in _roles(cfn).items():
        ecr_writes = {
            a for a in _allowed_actions(role) if re.match(r"ecr:(Delete|Put|Set|Tag|Untag)", a)
        }
        assert not ecr_writes, (role_id, ecr_writes)


def test_no_role_allows_wildcard_actions(cfn: dict[str, Any]) -> None:
    roles = _roles(cfn)
    # Five functions, the state machine and the schedule's role.
    assert len(roles) == 7
    for role_id, role in roles.items():
        for action in _allowed_actions(role):
            assert action != "*" and not action.endswith(":*"), (role_id, action)


def test_resource_star_only_where_aws_requires_it(cfn: dict[str, Any]) -> None:
    for role_id, role in _roles(cfn).items():
        for statement in _statements(role):
            if "*" in _as_list(statement["Resource"]):
                extra = set(_as_list(statement["Action"])) - RESOURCE_STAR_OK
                assert not extra, (role_id, statement.get("Sid"), extra)


def test_s3_access_is_scoped_to_the_run_bucket_prefixes(cfn: dict[str, Any]) -> None:
    allowed_objects = {"${RunBucket.Arn}/runs/*", "${RunBucket.Arn}/map-results/*"}
    for role_id, role in _roles(cfn).items():
        for statement in _statements(role):
            if not any(a.startswith("s3:") for a in _as_list(statement["Action"])):
                continue
            for resource in _as_list(statement["Resource"]):
                if statement["Action"] == ["s3:ListBucket"]:
                    assert resource == {"Fn::GetAtt": ["RunBucket", "Arn"]}
                    assert statement["Condition"] == {"StringLike": {"s3:prefix": "runs/*"}}
                else:
                    assert resource.get("Fn::Sub") in allowed_objects, (role_id, resource)


def test_state_machine_role_names_its_own_state_machine(sam: dict[str, Any]) -> None:
    props = sam["Resources"]["StateMachine"]["Properties"]
    assert props["Name"] == {"Fn::Sub": "${AWS::StackName}-sweep"}
    resources = {
        statement["Sid"]: statement["Resource"]["Fn::Sub"]
        for statement in props["Policies"][0]["Statement"]
        if statement["Sid"].startswith("DistributedMap")
    }
    assert resources["DistributedMapStartChildren"].endswith(
        ":stateMachine:${AWS::StackName}-sweep"
    )
    assert resources["DistributedMapManageChildren"].endswith(
        ":execution:${AWS::StackName}-sweep/*"
    )


def test_topic_accepts_the_status_rule_and_its_key_accepts_eventbridge(
    sam: dict[str, Any],
) -> None:
    resources = sam["Resources"]
    # EventBridge cannot use the AWS managed alias/aws/sns key: the topic's key is our own.
    assert resources["NotificationTopic"]["Properties"]["KmsMasterKeyId"] == {
        "Ref": "NotificationKey"
    }
    key_statements = resources["NotificationKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(
        s["Principal"] == {"Service": "events.amazonaws.com"} and "kms:Decrypt" in s["Action"]
        for s in key_statements
    )
    (allow,) = [
        s
        for s in resources["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ExecutionStatusRule", "Arn"]}}
    }
    pattern = resources["ExecutionStatusRule"]["Properties"]["EventPattern"]
    assert pattern["detail"]["status"] == ["TIMED_OUT", "ABORTED"]
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": "StateMachine"}]


# ---------------------------------------------------------------- functions


@pytest.mark.parametrize(("function", "handler"), sorted(FUNCTIONS.items()))
def test_handler_resolves_to_a_module_in_the_code_package(
    sam: dict[str, Any], function: str, handler: str
) -> None:
    props = sam["Resources"][function]["Properties"]
    assert props["Handler"] == handler
    code_uri = props.get("CodeUri", sam["Globals"]["Function"]["CodeUri"])
    module, _, attribute = handler.rpartition(".")
    assert attribute == "handler"
    assert (ROOT / code_uri / (module.replace(".", "/") + ".py")).is_file()


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_a_log_group_with_retention(sam: dict[str, Any], function: str) -> None:
    (group,) = [
        r["Properties"]
        for r in sam["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup"
        and r["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    ]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_function_globals(sam: dict[str, Any]) -> None:
    globals_ = sam["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Tracing"] == "Active"
    assert globals_["Environment"]["Variables"]["RUN_BUCKET"] == {"Ref": "RunBucket"}
    assert globals_["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_only_the_in_use_scan_gets_the_config_layer(sam: dict[str, Any]) -> None:
    resources = sam["Resources"]
    layered = {name for name in FUNCTIONS if "Layers" in resources[name]["Properties"]}
    assert layered == {"InUseScanFunction"}
    assert resources["InUseScanFunction"]["Properties"]["Layers"] == [{"Ref": "ConfigLayer"}]
    layer = resources["ConfigLayer"]["Properties"]
    assert layer["ContentUri"] == "config/"
    assert layer["RetentionPolicy"] == "Delete"
    env = resources["InUseScanFunction"]["Properties"]["Environment"]["Variables"]
    assert env["CONFIG_FILE"] == {"Fn::Sub": "/opt/${ConfigFile}"}
    assert env["DRY_RUN_DEFAULT"] == {"Ref": "DryRun"}
    assert env["MAP_MAX_CONCURRENCY"] == {"Ref": "MapMaxConcurrency"}
    assert sam["Parameters"]["ConfigFile"]["Default"] == "ecrm.yaml"


# ---------------------------------------------------------------- defaults


def test_dry_run_is_the_default(sam: dict[str, Any]) -> None:
    dry_run = sam["Parameters"]["DryRun"]
    assert dry_run["Default"] == "true"
    assert dry_run["AllowedValues"] == ["true", "false"]


def test_schedule_defaults_to_monday_0800_tokyo(sam: dict[str, Any]) -> None:
    params = sam["Parameters"]
    expression = params["ScheduleExpression"]["Default"]
    match = re.fullmatch(r"cron\((.+)\)", expression)
    assert match, expression
    minute, hour, day_of_month, month, day_of_week, year = match.group(1).split()
    assert (minute, hour, day_of_week) == ("0", "8", "MON")
    assert (day_of_month, month, year) == ("?", "*", "*")
    assert params["ScheduleTimezone"]["Default"] == "Asia/Tokyo"
    assert params["ScheduleState"]["Default"] == "ENABLED"

    (event,) = sam["Resources"]["StateMachine"]["Properties"]["Events"].values()
    assert event["Type"] == "ScheduleV2"
    schedule = event["Properties"]
    assert schedule["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert schedule["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
    assert schedule["State"] == {"Ref": "ScheduleState"}
    assert schedule["DeadLetterConfig"] == {"Type": "SQS"}


def test_child_execution_type_is_a_valid_step_functions_type(sam: dict[str, Any]) -> None:
    param = sam["Parameters"]["ChildExecutionType"]
    assert param["Default"] == "STANDARD"
    assert set(param["AllowedValues"]) == {"STANDARD", "EXPRESS"}


def test_samconfig_environments() -> None:
    config = tomllib.loads(SAMCONFIG.read_text())
    assert config["version"] == 0.1
    stacks = {
        env: config[env]["global"]["parameters"]["stack_name"] for env in config if env != "version"
    }
    assert stacks == {
        "default": "ecr-sweeper",
        "dev": "ecr-sweeper-dev",
        "prod": "ecr-sweeper-prod",
    }
    for env in stacks:
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["resolve_s3"] is True
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert "region" not in deploy and "region" not in config[env]["global"]["parameters"]
        assert config[env]["build"]["parameters"] == {"cached": True, "parallel": True}
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
    assert "DryRun=true" in config["dev"]["deploy"]["parameters"]["parameter_overrides"]
    assert "DryRun=false" in config["prod"]["deploy"]["parameters"]["parameter_overrides"]
