"""The SAM template: lints clean, least-privilege IAM, hardened resources, right defaults.

Runs offline: `sam validate --lint` needs no AWS account, and the SAM translator is run in
process with a stub managed-policy loader and a fixed region (no credentials are read).

The IAM tests look at the *translated* template (plain CloudFormation, with the roles SAM
generates), deployed twice: with every optional parameter at its default, and with every
optional parameter set (`ALL_OPTIONS`). Conditions are evaluated here and `Fn::If` resolved,
as CloudFormation would. docs/security.md's permissions table is checked against the same
roles in tests/unit/test_security.py.
"""

from __future__ import annotations

import copy
import functools
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

ACCOUNT = "123456789012"
REGION = "us-east-1"

FUNCTIONS = {
    "InUseScanFunction": "ecr_sweeper.handlers.in_use_scan.handler",
    "CollectorFunction": "ecr_sweeper.handlers.collect.handler",
    "EvaluatorFunction": "ecr_sweeper.handlers.evaluate.handler",
    "DeleterFunction": "ecr_sweeper.handlers.delete.handler",
    "SummaryFunction": "ecr_sweeper.handlers.summarize.handler",
    "CapsFunction": "ecr_sweeper.handlers.check_caps.handler",
    "FailureFunction": "ecr_sweeper.handlers.describe_failure.handler",
}

# Every optional parameter set: the conditional statements and properties all appear.
ALL_OPTIONS = {
    "NotificationEmail": "ops@example.com",
    "LogExecutionData": "true",
    "RepositoryArnPattern": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team-a/*",
    "InUseListObjectArnPattern": "arn:aws:s3:::k8s-scans/in-use/*",
    "ScannerRoleArnPattern": "arn:aws:iam::*:role/ecr-sweeper-scanner",
    "ScanSubnetIds": "subnet-0a1b,subnet-0c2d",
    "ScanSecurityGroupIds": "sg-0e3f",
    "PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/boundary",
    "RunDataBreakGlassArn": f"arn:aws:iam::{ACCOUNT}:role/Administrators",
    "RunBucketKmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/run-bucket",
    "NotificationKmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/topic",
    "LogsKmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/logs",
}
# A stack that only reports (the dev environment): its deleter may not delete.
REPORTS_ONLY = {"AllowDeletingRuns": "false"}
SCENARIOS = {"defaults": {}, "all-options": ALL_OPTIONS, "reports-only": REPORTS_ONLY}

LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
RUN_DATA = {"s3:GetObject", "s3:PutObject"}
RUN_BUCKET_KEY = {"kms:GenerateDataKey", "kms:Decrypt"}
# The network interfaces Lambda makes for a function in a VPC (ScanSubnetIds): what the
# managed policy AWSLambdaVPCAccessExecutionRole grants, without its logs:* on "*".
VPC_ACCESS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}

# The run lock across stacks (run_lock.py): is the holder of this stack's lock still
# running, and does another ecr-sweeper stack of this account and region delete? Read-only.
RUN_LOCK_ACROSS_STACKS = {
    "states:DescribeExecution",
    "states:ListExecutions",
    "states:ListTagsForResource",
    "states:ListStateMachines",
}
# The deleter's ECR writes: none on a stack that only reports (AllowDeletingRuns=false).
ECR_WRITES = {"ecr:BatchDeleteImage", "ecr:UpdateImageStorageClass"}

# What each role may do, by the resource that owns the role. The permissions test fails
# when a role gains or loses an action; docs/security.md lists the same.
EXPECTED_ACTIONS: dict[str, set[str]] = {
    "InUseScanFunction": {
        *LOGS,
        *XRAY,
        "ecr:DescribeRepositories",
        "tag:GetResources",  # the protect tag of every repository, in one paged call
        "ecs:ListClusters",
        "ecs:ListServices",
        "ecs:DescribeServices",
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "ecs:ListTaskDefinitionFamilies",
        "ecs:ListTaskDefinitions",
        "ecs:DescribeTaskDefinition",
        # the digests ECS pinned for services (service_revisions.py)
        "ecs:ListServiceDeployments",
        "ecs:DescribeServiceDeployments",
        "ecs:DescribeServiceRevisions",
        "lambda:ListFunctions",
        "lambda:ListVersionsByFunction",
        "lambda:ListAliases",
        "lambda:GetFunction",
        # scheduled ECS tasks, AWS Batch and App Runner (config `sources`)
        "events:ListEventBuses",
        "events:ListRules",
        "events:ListTargetsByRule",
        "scheduler:ListSchedules",
        "scheduler:GetSchedule",
        "batch:DescribeJobDefinitions",
        "batch:DescribeJobQueues",
        "batch:ListJobs",
        "batch:DescribeJobs",
        "apprunner:ListServices",
        "apprunner:DescribeService",
        # CodeBuild, SageMaker, EMR Serverless, Bedrock AgentCore, Lightsail (`sources`)
        "codebuild:ListProjects",
        "codebuild:ListBuilds",
        "sagemaker:ListModels",
        "sagemaker:ListTrainingJobs",
        "sagemaker:ListProcessingJobs",
        "sagemaker:ListImages",
        "emr-serverless:ListApplications",
        "bedrock-agentcore:ListAgentRuntimes",
        "lightsail:GetContainerServices",
        "codebuild:BatchGetProjects",
        "codebuild:BatchGetBuilds",
        "sagemaker:DescribeModel",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:ListImageVersions",
        "sagemaker:DescribeImageVersion",
        "emr-serverless:GetApplication",
        "bedrock-agentcore:ListAgentRuntimeEndpoints",
        "bedrock-agentcore:GetAgentRuntime",
        "inspector2:ListCoverage",
        # Amazon EKS (config `eks`): the clusters' endpoints and CAs
        "eks:ListClusters",
        "eks:DescribeCluster",
        # run data (writes), the task definition cache and the run lock (reads and writes)
        *RUN_DATA,
        "s3:ListBucket",  # only the lock's key: a missing lock must read as "no lock"
        *RUN_LOCK_ACROSS_STACKS,
    },
    "CollectorFunction": {
        *LOGS,
        *XRAY,
        "ecr:DescribeImages",
        "ecr:BatchGetImage",
        "s3:PutObject",
    },
    "EvaluatorFunction": {*LOGS, *XRAY, *RUN_DATA},
    "DeleterFunction": {
        *LOGS,
        *XRAY,
        "ecr:DescribeImages",
        "ecr:ListTagsForResource",  # the last look: the repository's protect tag
        *ECR_WRITES,
        *RUN_DATA,  # run data, and reads the run lock
        "s3:ListBucket",
    },
    # s3:DeleteObject: the run lock, the one object any role may delete.
    "SummaryFunction": {
        *LOGS,
        *XRAY,
        *RUN_DATA,
        "s3:ListBucket",
        "s3:DeleteObject",
        "ecr:DescribeImages",
    },
    # Writes the approved list; looks again for a deleting run of another stack.
    "CapsFunction": {*LOGS, *XRAY, *RUN_DATA, *RUN_LOCK_ACROSS_STACKS},
    "FailureFunction": {*LOGS, *XRAY},  # calls no AWS API
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
    "StateMachineWeekly": {"states:StartExecution", "sqs:SendMessage"},
}

# Added to a role only when RunBucketKmsKeyArn is set (S3 calls KMS on the role's behalf).
RUN_BUCKET_KEY_ACTIONS: dict[str, set[str]] = {
    "InUseScanFunction": RUN_BUCKET_KEY,
    "CollectorFunction": {"kms:GenerateDataKey"},  # writes only
    "EvaluatorFunction": RUN_BUCKET_KEY,
    "DeleterFunction": RUN_BUCKET_KEY,
    "SummaryFunction": RUN_BUCKET_KEY,
    "CapsFunction": RUN_BUCKET_KEY,
    "FailureFunction": set(),
    "StateMachine": RUN_BUCKET_KEY,
    "StateMachineWeekly": set(),
}

# Managed policies per role: SAM attaches AWSXrayWriteOnlyAccess for the state machine's
# tracing. The function roles are defined in the template, without AWSLambdaBasicExecutionRole.
XRAY_WRITE = "AWSXrayWriteOnlyAccess"
EXPECTED_MANAGED_POLICIES: dict[str, set[str]] = {
    **{function: set() for function in FUNCTIONS},
    "StateMachine": {XRAY_WRITE},
    "StateMachineWeekly": set(),
}

# Actions allowed on Resource "*": AWS supports no resource-level permission for them.
# The writes among them (log delivery, X-Ray) are the only writes on "*".
RESOURCE_STAR_OK = {
    "states:ListStateMachines",
    "tag:GetResources",
    "events:ListEventBuses",
    "events:ListRules",
    "scheduler:ListSchedules",
    "batch:DescribeJobDefinitions",
    "batch:DescribeJobQueues",
    "batch:ListJobs",
    "batch:DescribeJobs",
    "apprunner:ListServices",
    "codebuild:ListProjects",
    "codebuild:ListBuilds",
    "sagemaker:ListModels",
    "sagemaker:ListTrainingJobs",
    "sagemaker:ListProcessingJobs",
    "sagemaker:ListImages",
    "emr-serverless:ListApplications",
    "bedrock-agentcore:ListAgentRuntimes",
    "lightsail:GetContainerServices",
    "inspector2:ListCoverage",
    "eks:ListClusters",
    *VPC_ACCESS,
    "ecs:ListClusters",
    "ecs:ListServices",
    "ecs:ListTasks",
    "ecs:ListTaskDefinitionFamilies",
    "ecs:ListTaskDefinitions",
    "ecs:DescribeTaskDefinition",
    "lambda:ListFunctions",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}

# The run lock (functions/ecr_sweeper/run_lock.py): one object.
RUN_LOCK = "${RunBucket.Arn}/locks/sweep.json"

# The run files each function may write (run_store.py), under runs/<execution>/: its own,
# and no other's. Readers check a file against the hash its writer returned, but a role
# that could write another step's files would not need to forge much.
RUN_FILES_WRITTEN = {
    "InUseScanFunction": {"config.json", "in-use.json", "repositories.json"},
    "CollectorFunction": {"images/*"},
    "EvaluatorFunction": {"plans/*"},
    "CapsFunction": {"approved.json"},
    "DeleterFunction": {"progress/*", "results/*"},
    "SummaryFunction": {"report.json", "report.md"},
    "FailureFunction": set(),
}

BOUNDARY = {
    "Fn::If": [
        "HasPermissionsBoundary",
        {"Ref": "PermissionsBoundaryArn"},
        {"Ref": "AWS::NoValue"},
    ]
}
REPOSITORIES = {
    "Fn::If": [
        "HasRepositoryArnPattern",
        {"Ref": "RepositoryArnPattern"},
        {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"},
    ]
}


class _NoManagedPolicies:
    """Managed-policy loader stub: the template names no SAM policy templates."""

    def load(self) -> dict[str, str]:
        return {}


def _sam_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


@functools.cache
def translated() -> dict[str, Any]:
    """The template translated to plain CloudFormation by the SAM translator (unresolved)."""
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

    absent = str(ROOT / ".no-such-aws-config")
    # A fixed region for the translator's boto3 session; never the user's profile.
    overrides = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": absent,
        "AWS_SHARED_CREDENTIALS_FILE": absent,
    }
    removed = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION")
    saved = {k: os.environ.get(k) for k in (*overrides, *removed)}
    try:
        for k in removed:
            os.environ.pop(k, None)
        os.environ.update(overrides)
        return transform(
            template,
            {"AWS::AccountId": ACCOUNT, "AWS::StackName": "ecr-sweeper"},
            _NoManagedPolicies(),
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_NO_VALUE = object()


def _parameter_values(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    values = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    unknown = set(overrides) - set(values)
    assert not unknown, unknown
    return {**values, **overrides}


def evaluate_conditions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, bool]:
    """The template's Conditions (Fn::Equals, Fn::Not, Ref) under the given parameters."""

    def value(expr: Any) -> str:
        if isinstance(expr, dict) and set(expr) == {"Ref"}:
            return parameters[expr["Ref"]]
        if isinstance(expr, dict) and set(expr) == {"Fn::Join"}:  # of a list parameter
            separator, items = expr["Fn::Join"]
            return separator.join(value(items).split(","))
        assert isinstance(expr, str), expr
        return expr

    def condition(expr: Any) -> bool:
        ((op, arg),) = expr.items()
        if op == "Fn::Equals":
            return value(arg[0]) == value(arg[1])
        if op == "Fn::Not":
            return not condition(arg[0])
        if op == "Condition":
            return condition(template["Conditions"][arg])
        raise AssertionError(f"unsupported condition {expr}")

    return {name: condition(expr) for name, expr in template["Conditions"].items()}


def resolve_ifs(value: Any, truth: dict[str, bool], values: dict[str, str]) -> Any:
    """Fn::If resolved and AWS::NoValue removed, as CloudFormation does on deployment;
    references to the optional parameters (ALL_OPTIONS) replaced by their values."""
    if isinstance(value, list):
        items = [resolve_ifs(v, truth, values) for v in value]
        return [i for i in items if i is not _NO_VALUE]
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            return resolve_ifs(when_true if truth[name] else when_false, truth, values)
        if value == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        if set(value) == {"Ref"} and value["Ref"] in ALL_OPTIONS:
            return values[value["Ref"]]
        items = {k: resolve_ifs(v, truth, values) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _NO_VALUE}
    return value


@functools.cache
def deployed(scenario: str) -> dict[str, Any]:
    """The translated template as CloudFormation would deploy it in a scenario."""
    template = copy.deepcopy(translated())
    values = _parameter_values(template, SCENARIOS[scenario])
    truth = evaluate_conditions(template, values)
    resources = {
        name: resource
        for name, resource in template["Resources"].items()
        if truth.get(resource.get("Condition", ""), True)
    }
    return resolve_ifs({**template, "Resources": resources}, truth, values)


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return _sam_template()


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    """The translated template, optional parameters at their defaults."""
    return deployed("defaults")


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def scenario(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_id(cfn: dict[str, Any], owner: str) -> str:
    """The logical id of the role used by a function, the state machine or the schedule."""
    props = cfn["Resources"][owner]["Properties"]
    if "Target" in props:  # AWS::Scheduler::Schedule
        ref = props["Target"]["RoleArn"]
    else:
        ref = props["RoleArn"] if "RoleArn" in props else props["Role"]
    return str(ref["Fn::GetAtt"][0])


def statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The role's inline statements (on an unresolved template: the unconditional ones)."""
    for policy in role["Properties"].get("Policies", []):
        if "PolicyDocument" in policy:
            yield from as_list(policy["PolicyDocument"]["Statement"])


def allowed_actions(role: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for statement in statements(role):
        assert "NotAction" not in statement and "NotResource" not in statement
        if statement["Effect"] == "Allow":
            actions.update(as_list(statement["Action"]))
    return actions


def roles(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == "AWS::IAM::Role"}


def managed_policy_names(role: dict[str, Any]) -> set[str]:
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


def expected_actions(owner: str, scenario: str) -> set[str]:
    extra = (
        RUN_BUCKET_KEY_ACTIONS[owner] if SCENARIOS[scenario].get("RunBucketKmsKeyArn") else set()
    )
    if owner == "InUseScanFunction" and SCENARIOS[scenario].get("ScannerRoleArnPattern"):
        extra = extra | {"sts:AssumeRole"}  # config `accounts`: the named roles only
    if owner == "InUseScanFunction" and SCENARIOS[scenario].get("ScanSubnetIds"):
        extra = extra | VPC_ACCESS  # in a VPC, for private EKS endpoints
    if owner == "DeleterFunction" and SCENARIOS[scenario].get("AllowDeletingRuns") == "false":
        return (EXPECTED_ACTIONS[owner] - ECR_WRITES) | extra
    return EXPECTED_ACTIONS[owner] | extra


@pytest.mark.parametrize("owner", sorted(EXPECTED_ACTIONS))
def test_role_allows_exactly_the_expected_actions(scenario: str, owner: str) -> None:
    cfn = deployed(scenario)
    role = cfn["Resources"][role_id(cfn, owner)]
    assert allowed_actions(role) == expected_actions(owner, scenario)


@pytest.mark.parametrize("owner", sorted(EXPECTED_MANAGED_POLICIES))
def test_roles_get_only_the_expected_managed_policies(cfn: dict[str, Any], owner: str) -> None:
    role = cfn["Resources"][role_id(cfn, owner)]
    assert managed_policy_names(role) == EXPECTED_MANAGED_POLICIES[owner]


def test_every_role_has_an_owner_with_expected_actions(scenario: str) -> None:
    cfn = deployed(scenario)
    # Six functions, the state machine and the schedule: one role each, none shared.
    owned = [role_id(cfn, owner) for owner in EXPECTED_ACTIONS]
    assert len(set(owned)) == len(owned) == 9
    assert set(roles(cfn)) == set(owned)


def test_only_the_deleter_may_delete_images(scenario: str) -> None:
    cfn = deployed(scenario)
    deleter_role = role_id(cfn, "DeleterFunction")
    # On a stack that only reports, not even the deleter may.
    deletes = SCENARIOS[scenario].get("AllowDeletingRuns", "true") == "true"
    may_delete = {
        name for name, role in roles(cfn).items() if "ecr:BatchDeleteImage" in allowed_actions(role)
    }
    assert may_delete == ({deleter_role} if deletes else set())
    # No other ECR write anywhere; the deleter's only other one archives images.
    for name, role in roles(cfn).items():
        ecr_writes = {
            a
            for a in allowed_actions(role)
            if a.startswith("ecr:") and not re.match(r"ecr:(Describe|List|Get|BatchGet)", a)
        }
        expected = ECR_WRITES if name == deleter_role and deletes else set()
        assert ecr_writes == expected, (name, ecr_writes)


def test_the_deleters_ecr_writes_depend_on_allow_deleting_runs() -> None:
    template = translated()
    assert template["Parameters"]["AllowDeletingRuns"]["Default"] == "true"
    assert template["Conditions"]["DeletingRunsAllowed"] == {
        "Fn::Equals": [{"Ref": "AllowDeletingRuns"}, "true"]
    }
    role = template["Resources"][role_id(template, "DeleterFunction")]
    conditional = [p["Fn::If"] for p in role["Properties"]["Policies"] if "Fn::If" in p]
    (writes,) = [
        when_true for condition, when_true, _ in conditional if condition == "DeletingRunsAllowed"
    ]
    (statement,) = as_list(writes["PolicyDocument"]["Statement"])
    assert set(statement["Action"]) == ECR_WRITES
    assert statement["Resource"] == REPOSITORIES


def test_no_role_allows_wildcard_actions(scenario: str) -> None:
    for name, role in roles(deployed(scenario)).items():
        for action in allowed_actions(role):
            assert "*" not in action, (name, action)


def test_resource_star_only_where_aws_requires_it(scenario: str) -> None:
    for name, role in roles(deployed(scenario)).items():
        for statement in statements(role):
            if "*" in as_list(statement["Resource"]):
                extra = set(as_list(statement["Action"])) - RESOURCE_STAR_OK
                assert not extra, (name, statement.get("Sid"), extra)


def test_resource_star_statements_are_commented_in_the_template() -> None:
    """Every statement on Resource "*" (role or key policy) says why, just above it."""
    lines = TEMPLATE.read_text().splitlines()
    stars = [n for n, line in enumerate(lines) if re.fullmatch(r'\s+Resource: "\*"', line)]
    assert len(stars) >= 10
    for number in stars:
        start = number
        while not lines[start].lstrip().startswith("- Sid:"):
            start -= 1
        assert lines[start - 1].lstrip().startswith("#"), (number + 1, lines[start])


def test_every_role_carries_the_optional_permissions_boundary() -> None:
    # On the unresolved translation: a Condition/If that drops it when the parameter is empty.
    template = translated()
    assert template["Conditions"]["HasPermissionsBoundary"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "PermissionsBoundaryArn"}, ""]}]
    }
    all_roles = roles(template)
    assert len(all_roles) == 9
    for name, role in all_roles.items():
        assert role["Properties"].get("PermissionsBoundary") == BOUNDARY, name
    boundary = ALL_OPTIONS["PermissionsBoundaryArn"]
    for name, role in roles(deployed("all-options")).items():
        assert role["Properties"]["PermissionsBoundary"] == boundary, name
    for name, role in roles(deployed("defaults")).items():
        assert "PermissionsBoundary" not in role["Properties"], name


def test_function_roles_write_only_their_own_log_group(cfn: dict[str, Any]) -> None:
    for function in FUNCTIONS:
        props = cfn["Resources"][function]["Properties"]
        log_group = f"{function}LogGroup"
        assert props["LoggingConfig"] == {"LogGroup": {"Ref": log_group}}
        role = cfn["Resources"][role_id(cfn, function)]
        (logs,) = [s for s in statements(role) if set(as_list(s["Action"])) & LOGS]
        assert set(logs["Action"]) == LOGS
        assert logs["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}


def test_repositories_are_scoped_by_the_optional_pattern() -> None:
    template = translated()
    for function, sid in (
        ("CollectorFunction", "EcrReadImages"),
        ("DeleterFunction", "EcrLastLook"),
    ):
        role = template["Resources"][role_id(template, function)]
        (statement,) = [s for s in statements(role) if s.get("Sid") == sid]
        assert statement["Resource"] == REPOSITORIES
    pattern = ALL_OPTIONS["RepositoryArnPattern"]
    cfn = deployed("all-options")
    for function, count in (("CollectorFunction", 1), ("DeleterFunction", 2)):
        role = cfn["Resources"][role_id(cfn, function)]
        ecr = [s for s in statements(role) if s["Action"][0].startswith("ecr:")]
        assert [s["Resource"] for s in ecr] == [pattern] * count


def test_s3_access_is_scoped_to_the_run_bucket_prefixes(scenario: str) -> None:
    # Each object resource of the run bucket, and the most any statement may do on it.
    allowed_objects = {
        "${RunBucket.Arn}/runs/*": {"s3:GetObject"},
        **{
            f"${{RunBucket.Arn}}/runs/*/{name}": {"s3:PutObject"}
            for names in RUN_FILES_WRITTEN.values()
            for name in names
        },
        "${RunBucket.Arn}/map-results/*": {
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload",
        },
        "${RunBucket.Arn}/cache/task-definitions/images.json": {"s3:GetObject", "s3:PutObject"},
        # The last run's report, for the next one's "since the run before" (run_store.py).
        "${RunBucket.Arn}/reports/latest.json": {"s3:GetObject", "s3:PutObject"},
        RUN_LOCK: {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
    }
    for name, role in roles(deployed(scenario)).items():
        for statement in statements(role):
            actions = set(as_list(statement["Action"]))
            if not any(a.startswith("s3:") for a in actions):
                continue
            assert all(a.startswith("s3:") for a in actions), (name, statement)
            for resource in as_list(statement["Resource"]):
                if resource in (
                    {"Ref": "InUseListObjectArnPattern"},
                    ALL_OPTIONS["InUseListObjectArnPattern"],
                ):
                    # the in-use lists: objects the stack's operator names, read-only
                    assert actions == {"s3:GetObject"}, (name, statement)
                    assert name == "InUseScanFunctionRole", name
                    continue
                if actions == {"s3:ListBucket"}:
                    assert resource == {"Fn::GetAtt": ["RunBucket", "Arn"]}
                    prefixes = as_list(statement["Condition"]["StringLike"]["s3:prefix"])
                    assert set(statement["Condition"]) == {"StringLike"}, (name, statement)
                    assert set(prefixes) <= {"runs/*", "locks/sweep.json"}, (name, statement)
                else:
                    assert "s3:ListBucket" not in actions, (name, statement)
                    assert resource.get("Fn::Sub") in allowed_objects, (name, resource)
                    assert actions <= allowed_objects[resource["Fn::Sub"]], (name, statement)


def test_each_role_writes_only_its_own_run_files(scenario: str) -> None:
    cfn = deployed(scenario)
    for owner in FUNCTIONS:
        role = cfn["Resources"][role_id(cfn, owner)]
        written = {
            resource["Fn::Sub"].removeprefix("${RunBucket.Arn}/runs/*/")
            for statement in statements(role)
            if "s3:PutObject" in as_list(statement["Action"])
            for resource in as_list(statement["Resource"])
            if resource["Fn::Sub"].startswith("${RunBucket.Arn}/runs/")
        }
        assert written == RUN_FILES_WRITTEN[owner], owner


def test_the_run_files_are_those_the_code_names() -> None:
    from ecr_sweeper import run_store

    names = {run_store.CONFIG_SNAPSHOT, run_store.IN_USE, run_store.REPOSITORIES}
    names |= {run_store.APPROVED}
    folders = ("images", "plans", "progress", "results")
    names |= {run_store.repository_file(f, "*").removesuffix(".json") for f in folders}
    assert names <= set().union(*RUN_FILES_WRITTEN.values())


def test_run_bucket_policy_denies_writes_by_anyone_but_the_stacks_roles(scenario: str) -> None:
    cfn = deployed(scenario)
    policy = cfn["Resources"]["RunBucketPolicy"]["Properties"]["PolicyDocument"]
    (deny,) = [s for s in policy["Statement"] if s["Sid"] == "DenyWritesByOthers"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert set(deny["Action"]) == {"s3:PutObject", "s3:DeleteObject"}
    assert deny["Resource"] == {"Fn::Sub": "${RunBucket.Arn}/*"}
    (condition,) = deny["Condition"].values()
    assert list(deny["Condition"]) == ["ArnNotLike"]
    exempt = condition["aws:PrincipalArn"]
    # FailureFunction reads and writes no run data: it is not exempt.
    owners = [*(f for f in FUNCTIONS if RUN_FILES_WRITTEN[f]), "StateMachine"]
    expected = [{"Fn::GetAtt": [role_id(cfn, owner), "Arn"]} for owner in owners]
    break_glass = SCENARIOS[scenario].get("RunDataBreakGlassArn")
    assert sorted(map(json.dumps, exempt)) == sorted(
        map(json.dumps, expected + ([break_glass] if break_glass else []))
    )
    # Every role that may write to the bucket is exempt; no other role is.
    writers = {
        name
        for name, role in roles(cfn).items()
        for statement in statements(role)
        if {"s3:PutObject", "s3:DeleteObject"} & set(as_list(statement["Action"]))
    }
    assert writers == {role_id(cfn, owner) for owner in owners}


def _s3_actions_on(role: dict[str, Any], resource: str) -> set[str]:
    return {
        action
        for statement in statements(role)
        if {"Fn::Sub": resource} in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }


def test_run_lock_is_taken_checked_and_released_by_its_three_steps(scenario: str) -> None:
    """The in-use scan takes the lock, the deleter only reads it, the summary releases it;
    no other role touches it, and nobody deletes anything else in the bucket."""
    cfn = deployed(scenario)
    owners = {role_id(cfn, owner): owner for owner in EXPECTED_ACTIONS}
    on_lock = {
        owners[name]: _s3_actions_on(role, RUN_LOCK)
        for name, role in roles(cfn).items()
        if _s3_actions_on(role, RUN_LOCK)
    }
    assert on_lock == {
        "InUseScanFunction": {"s3:GetObject", "s3:PutObject"},
        "DeleterFunction": {"s3:GetObject"},
        "SummaryFunction": {"s3:GetObject", "s3:DeleteObject"},
    }
    for name, role in roles(cfn).items():
        for statement in statements(role):
            if "s3:DeleteObject" in as_list(statement["Action"]):
                assert owners[name] == "SummaryFunction", name
                assert statement["Resource"] == {"Fn::Sub": RUN_LOCK}, statement


def test_functions_only_read_the_sweep_state_machines(scenario: str) -> None:
    """The in-use scan and CheckCaps ask whether the lock's holder still runs, and
    whether a deleting run of another ecr-sweeper stack started first: reads of the
    state machines named <stack>-sweep and their executions, and the list of state
    machines (names and ARNs), nothing else of Step Functions. No other function."""
    states = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
    expected = {
        ("states:DescribeExecution",): {"Fn::Sub": f"{states}:execution:*-sweep:*"},
        ("states:ListExecutions", "states:ListTagsForResource"): {
            "Fn::Sub": f"{states}:stateMachine:*-sweep"
        },
        ("states:ListStateMachines",): "*",
    }
    cfn = deployed(scenario)
    for function in FUNCTIONS:
        role = cfn["Resources"][role_id(cfn, function)]
        found = {
            tuple(sorted(as_list(statement["Action"]))): statement["Resource"]
            for statement in statements(role)
            if any(a.startswith("states:") for a in as_list(statement["Action"]))
        }
        if function in ("InUseScanFunction", "CapsFunction"):
            assert found == expected, function
        else:
            assert found == {}, function


def test_the_state_machine_carries_the_tags_other_stacks_look_for(sam: dict[str, Any]) -> None:
    from ecr_sweeper import run_lock

    props = sam["Resources"]["StateMachine"]["Properties"]
    assert props["Name"] == {"Fn::Sub": f"${{AWS::StackName}}{run_lock.STATE_MACHINE_SUFFIX}"}
    assert props["Tags"] == {
        run_lock.STACK_TAG: {"Ref": "AWS::StackName"},
        run_lock.DRY_RUN_TAG: {"Ref": "DryRun"},
        run_lock.DELETING_RUNS_TAG: {"Ref": "AllowDeletingRuns"},
    }


def test_kms_use_is_scoped_to_one_key_through_one_service(scenario: str) -> None:
    cfn = deployed(scenario)
    for name, role in roles(cfn).items():
        for statement in statements(role):
            if not any(a.startswith("kms:") for a in as_list(statement["Action"])):
                continue
            assert set(statement["Action"]) <= RUN_BUCKET_KEY, (name, statement)
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"]
            if statement["Sid"] == "RunBucketKey":
                assert via == "s3.${AWS::Region}.amazonaws.com"
                assert statement["Resource"] == ALL_OPTIONS["RunBucketKmsKeyArn"]
            else:
                assert statement["Sid"] == "NotifyEncryptedTopic"
                assert via == "sns.${AWS::Region}.amazonaws.com"
                own_key = {"Fn::GetAtt": ["NotificationKey", "Arn"]}
                user_key = SCENARIOS[scenario].get("NotificationKmsKeyArn")
                assert statement["Resource"] == (user_key or own_key)


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


def test_schedule_role_starts_only_this_state_machine(cfn: dict[str, Any]) -> None:
    role = cfn["Resources"][role_id(cfn, "StateMachineWeekly")]
    resources = {
        s["Action"]: s["Resource"] for s in statements(role) if isinstance(s["Action"], str)
    }
    assert resources == {
        "states:StartExecution": {"Ref": "StateMachine"},
        "sqs:SendMessage": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
    }


# ---------------------------------------------------------------- hardened resources


def test_run_bucket_is_encrypted_private_unversioned_and_expires(scenario: str) -> None:
    bucket = deployed(scenario)["Resources"]["RunBucket"]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    key = SCENARIOS[scenario].get("RunBucketKmsKeyArn")
    expected = (
        {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key} if key else {"SSEAlgorithm": "AES256"}
    )
    assert rule == {"ServerSideEncryptionByDefault": expected, "BucketKeyEnabled": True}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "VersioningConfiguration" not in bucket
    expiring = {
        r["Prefix"]: r["ExpirationInDays"]
        for r in bucket["LifecycleConfiguration"]["Rules"]
        if "ExpirationInDays" in r
    }
    assert expiring == {
        "runs/": {"Ref": "RunRetentionDays"},
        "map-results/": {"Ref": "RunRetentionDays"},
    }


def test_run_bucket_policy_denies_plain_http_and_other_encryption(scenario: str) -> None:
    policy = deployed(scenario)["Resources"]["RunBucketPolicy"]["Properties"]["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert {s["Effect"] for s in by_sid.values()} == {"Deny"}
    assert by_sid["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert by_sid["DenyInsecureTransport"]["Action"] == "s3:*"
    key = SCENARIOS[scenario].get("RunBucketKmsKeyArn")
    assert by_sid["DenyOtherEncryption"]["Condition"] == {
        "StringNotEqualsIfExists": {
            "s3:x-amz-server-side-encryption": "aws:kms" if key else "AES256"
        }
    }
    assert by_sid["DenyCustomerProvidedKeys"]["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}
    }
    if key:
        assert by_sid["DenyOtherKmsKeys"]["Condition"] == {
            "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key}
        }
    else:
        assert "DenyOtherKmsKeys" not in by_sid


def test_log_groups_have_retention_and_the_optional_key(scenario: str) -> None:
    cfn = deployed(scenario)
    groups = {k: v for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Logs::LogGroup"}
    assert set(groups) == {f"{f}LogGroup" for f in FUNCTIONS} | {"StateMachineLogGroup"}
    key = SCENARIOS[scenario].get("LogsKmsKeyArn")
    for name, group in groups.items():
        props = group["Properties"]
        assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        assert props.get("KmsKeyId") == key, name
        assert group["DeletionPolicy"] == "Delete", name


def test_state_machine_logs_leave_execution_data_out_by_default(scenario: str) -> None:
    logging = deployed(scenario)["Resources"]["StateMachine"]["Properties"]["LoggingConfiguration"]
    assert logging["Level"] == "ERROR"
    assert logging["IncludeExecutionData"] is (
        SCENARIOS[scenario].get("LogExecutionData") == "true"
    )
    assert _sam_template()["Parameters"]["LogExecutionData"]["Default"] == "false"


def test_topic_is_encrypted_with_a_key_eventbridge_and_alarms_can_use(scenario: str) -> None:
    resources = deployed(scenario)["Resources"]
    user_key = SCENARIOS[scenario].get("NotificationKmsKeyArn")
    topic_key = resources["NotificationTopic"]["Properties"]["KmsMasterKeyId"]
    if user_key:
        assert topic_key == user_key
        assert "NotificationKey" not in resources and "NotificationKeyAlias" not in resources
        return
    # EventBridge cannot use the AWS managed alias/aws/sns key: the topic's key is our own.
    assert topic_key == {"Ref": "NotificationKey"}
    key = resources["NotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    services = {
        s["Principal"]["Service"]: set(s["Action"])
        for s in key["KeyPolicy"]["Statement"]
        if "Service" in s["Principal"]
    }
    assert services == {
        "events.amazonaws.com": {"kms:GenerateDataKey*", "kms:Decrypt"},
        "cloudwatch.amazonaws.com": {"kms:GenerateDataKey*", "kms:Decrypt"},
    }


def test_only_the_state_machine_eventbridge_and_alarms_may_publish(cfn: dict[str, Any]) -> None:
    resources = cfn["Resources"]
    policy = resources["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    allows = {sid: s for sid, s in by_sid.items() if s["Effect"] == "Allow"}
    assert {sid: s["Principal"] for sid, s in allows.items()} == {
        "ExecutionStatusRulePublishes": {"Service": "events.amazonaws.com"},
        "CloudWatchAlarmsPublish": {"Service": "cloudwatch.amazonaws.com"},
    }
    assert all(s["Action"] == "sns:Publish" for s in policy["Statement"])
    assert allows["ExecutionStatusRulePublishes"]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ExecutionStatusRule", "Arn"]}}
    }
    assert allows["CloudWatchAlarmsPublish"]["Condition"] == {
        "ArnLike": {
            "aws:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}"
                ":alarm:*"
            }
        },
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    }
    assert by_sid["OnlyTheStateMachineRolePublishes"]["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": ["StateMachineRole", "Arn"]}},
        "Bool": {"aws:PrincipalIsAWSService": "false"},
    }
    assert by_sid["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    pattern = resources["ExecutionStatusRule"]["Properties"]["EventPattern"]
    assert pattern["detail"]["status"] == ["TIMED_OUT", "ABORTED"]
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": "StateMachine"}]
    assert resources["DeadLetterQueueAlarm"]["Properties"]["AlarmActions"] == [
        {"Ref": "NotificationTopic"}
    ]


def test_undelivered_starts_and_notifications_go_to_an_encrypted_queue(cfn: dict[str, Any]) -> None:
    resources = cfn["Resources"]
    queue = {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert resources["DeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    (target,) = resources["ExecutionStatusRule"]["Properties"]["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": queue}
    schedule = resources["StateMachineWeekly"]["Properties"]["Target"]
    assert schedule["DeadLetterConfig"] == {"Arn": queue}
    queues = [k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"]
    assert queues == ["DeadLetterQueue"]  # SAM generated none of its own
    policy = resources["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ExecutionStatusRule", "Arn"]}}
    }


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
def test_every_function_logs_to_its_own_group_with_retention(
    sam: dict[str, Any], function: str
) -> None:
    props = sam["Resources"][function]["Properties"]
    assert props["Role"] == {"Fn::GetAtt": [f"{function}Role", "Arn"]}
    group = sam["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{function}"}
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_function_globals(sam: dict[str, Any]) -> None:
    globals_ = sam["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    # arm64 unless the deployer says otherwise (the tests build for their machine).
    assert globals_["Architectures"] == [{"Ref": "Architecture"}]
    architecture = sam["Parameters"]["Architecture"]
    assert architecture["Default"] == "arm64"
    assert architecture["AllowedValues"] == ["arm64", "x86_64"]
    layer = sam["Resources"]["ConfigLayer"]["Properties"]
    assert layer["CompatibleArchitectures"] == [{"Ref": "Architecture"}]
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
    allow = sam["Parameters"]["AllowDeletingRuns"]
    assert allow["Default"] == "true"
    assert allow["AllowedValues"] == ["true", "false"]
    env = sam["Resources"]["InUseScanFunction"]["Properties"]["Environment"]["Variables"]
    assert env["ALLOW_DELETING_RUNS"] == {"Ref": "AllowDeletingRuns"}


def test_security_parameters_are_optional(sam: dict[str, Any]) -> None:
    params = sam["Parameters"]
    for name, value in ALL_OPTIONS.items():
        if name in ("NotificationEmail", "LogExecutionData"):
            continue
        assert params[name]["Default"] == "", name
        assert re.fullmatch(params[name]["AllowedPattern"], ""), name
        assert re.fullmatch(params[name]["AllowedPattern"], value), name


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
    assert schedule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}


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
    dev = config["dev"]["deploy"]["parameters"]["parameter_overrides"].split()
    prod = config["prod"]["deploy"]["parameters"]["parameter_overrides"].split()
    # dev reports and never deletes: not even a run that asks to.
    assert {"DryRun=true", "AllowDeletingRuns=false"} <= set(dev)
    assert "DryRun=false" in prod
    assert not [p for p in prod if p.startswith("AllowDeletingRuns=")]


def test_the_scan_may_assume_only_the_roles_the_stack_names() -> None:
    for scenario, pattern in (("defaults", None), ("all-options", "ScannerRoleArnPattern")):
        cfn = deployed(scenario)
        found = [
            (name, statement)
            for name, role in roles(cfn).items()
            for statement in statements(role)
            if "sts:AssumeRole" in as_list(statement["Action"])
        ]
        if pattern is None:
            assert found == []
            continue
        assert [name for name, _ in found] == ["InUseScanFunctionRole"]
        statement = found[0][1]
        assert as_list(statement["Action"]) == ["sts:AssumeRole"]
        assert as_list(statement["Resource"]) in (
            [{"Ref": pattern}],
            [ALL_OPTIONS[pattern]],
        )


def test_the_scan_role_is_an_output_for_scanner_roles_to_trust(sam: dict[str, Any]) -> None:
    assert sam["Outputs"]["InUseScanRoleArn"]["Value"] == {
        "Fn::GetAtt": ["InUseScanFunctionRole", "Arn"]
    }


def run_cfn_lint(template: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """cfn-lint (requirements-dev.txt) on `template`, from the test's own virtualenv."""
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    executable = str(cfn_lint) if cfn_lint.exists() else shutil.which("cfn-lint")
    assert executable, "cfn-lint (requirements-dev.txt) is not installed"
    return subprocess.run(
        [executable, *options, "--", str(template)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
