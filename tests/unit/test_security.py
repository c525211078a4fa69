"""Security checks that keep the template, its documentation and the locks in step.

- docs/security.md's permissions table and the translated template's role policies say
  the same, both ways;
- each function's role covers every AWS call the function makes on the emulator (moto
  enforces no IAM, so nothing else would notice a missing permission);
- every checkov skip and cfn-lint ignore in the template carries its reason;
- cfn-lint with the serverless rules is clean;
- no secret in the functions' environment or in what they log;
- the dependency locks pin everything, consistently.

checkov and pip-audit themselves run from `make checkov` and `make audit` (in `make test`).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from test_template import (
    ALL_OPTIONS,
    FUNCTIONS,
    ROOT,
    TEMPLATE,
    as_list,
    deployed,
    role_id,
    roles,
    run_cfn_lint,
    translated,
)

SECURITY_DOC = ROOT / "docs" / "security.md"

# ---------------------------------------------------------------- permissions table

# One row of the table, or one statement of a role: (role logical id, actions, whether on
# Resource "*", the optional parameter the statement depends on, or "").
Row = tuple[str, frozenset[str], bool, str]


def _condition_parameter(template: dict[str, Any], condition: str) -> str:
    refs = re.findall(r'"Ref": "(\w+)"', json.dumps(template["Conditions"][condition]))
    (parameter,) = set(refs)
    return parameter


def _policy_entries(role: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """(policy, condition name or "") for each inline policy, conditional ones included."""
    for policy in role["Properties"].get("Policies", []):
        if "Fn::If" in policy:
            condition, when_true, when_false = policy["Fn::If"]
            assert when_false == {"Ref": "AWS::NoValue"}, policy
            yield when_true, condition
        else:
            yield policy, ""


def template_rows() -> Counter[Row]:
    template = translated()
    rows: Counter[Row] = Counter()
    for name, role in roles(template).items():
        for policy, condition in _policy_entries(role):
            parameter = _condition_parameter(template, condition) if condition else ""
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                assert statement["Effect"] == "Allow", (name, statement)
                star = statement["Resource"] == "*"
                actions = frozenset(as_list(statement["Action"]))
                rows[(name, actions, star, parameter)] += 1
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            (managed,) = re.findall(r"policy/(?:service-role/)?(\w+)", json.dumps(arn))
            rows[(name, frozenset({f"managed:{managed}"}), True, "")] += 1
    return rows


def _table_lines(text: str) -> list[str]:
    section = text.split("\n## Permissions\n", 1)[1]
    lines = []
    for line in section.splitlines():
        if line.startswith("## "):
            break
        if line.startswith("|"):
            lines.append(line)
    return lines


def doc_rows() -> Counter[Row]:
    lines = _table_lines(SECURITY_DOC.read_text())
    header = [c.strip().lower() for c in lines[0].strip("|").split("|")]
    assert header == ["role", "actions", "resources", "why"], header
    rows: Counter[Row] = Counter()
    for line in lines[2:]:
        role_cell, actions_cell, resources_cell, why = (
            c.strip() for c in line.strip().strip("|").split("|")
        )
        assert why, line
        (role,) = re.findall(r"`(\w+)`", role_cell)
        managed = re.findall(r"managed policy `(\w+)`", actions_cell)
        if managed:
            actions = frozenset(f"managed:{m}" for m in managed)
        else:
            actions = frozenset(re.findall(r"`([a-z0-9-]+:[A-Za-z0-9*]+)`", actions_cell))
        assert actions, line
        star = "`*`" in resources_cell
        parameters = re.findall(r"only with `(\w+)`", resources_cell)
        assert len(parameters) <= 1, line
        rows[(role, actions, star, parameters[0] if parameters else "")] += 1
    return rows


def _show(rows: Counter[Row]) -> list[str]:
    return sorted(
        f"{role}: {sorted(actions)}{' on *' if star else ''}{' with ' + p if p else ''}"
        for (role, actions, star, p), n in rows.items()
        for _ in range(n)
    )


def test_permissions_table_lists_every_statement_of_every_role() -> None:
    missing = template_rows() - doc_rows()
    assert not missing, "in the template but not in docs/security.md:\n" + "\n".join(_show(missing))


def test_permissions_table_lists_nothing_the_roles_do_not_have() -> None:
    extra = doc_rows() - template_rows()
    assert not extra, "in docs/security.md but not in the template:\n" + "\n".join(_show(extra))


def test_permissions_table_names_every_role() -> None:
    assert {role for role, *_ in doc_rows()} == set(roles(translated()))


# ---------------------------------------------------------------- the calls the code makes

# botocore operation -> the IAM action that authorizes it, where the names differ.
IAM_ACTION = {
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectsV2": "s3:ListBucket",
}
# botocore names a few services otherwise than IAM does.
IAM_PREFIX = {
    "eventbridge": "events",
    "sfn": "states",
    "bedrock-agentcore-control": "bedrock-agentcore",
    "resource-groups-tagging-api": "tag",
}


@pytest.fixture(scope="module")
def calls_by_function() -> dict[str, set[str]]:
    """The AWS operations each function sends on the emulator, sweeping the example account
    twice: a dry run, then a deleting run."""
    from sweeper_emulator import faults
    from sweeper_emulator.emulator import Emulator
    from sweeper_emulator.inventory import inventory_from_dict

    calls: dict[str, set[str]] = defaultdict(set)
    record = faults.CALLS.record

    def recording(operation: str) -> Any:
        # Handlers run one at a time, with the function's name in the environment.
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "?").rsplit("-", 1)[-1]
        prefix, _, name = operation.partition(":")
        operation = f"{IAM_PREFIX.get(prefix, prefix)}:{name}"
        calls[function].add(IAM_ACTION.get(operation, operation))
        return record(operation)

    data = json.loads((ROOT / "examples" / "blog-account.json").read_text())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(faults.CALLS, "record", recording)
        for execution_input in ('{"dry_run": true}', '{"dry_run": false}'):
            with Emulator(
                inventory_from_dict(data), config_file=ROOT / "config" / "ecrm.yaml"
            ) as emulator:
                assert emulator.run(execution_input)["status"] == "SUCCEEDED"
    return dict(calls)


# Functions that call no AWS API (their role: their log group and X-Ray only).
NO_AWS_CALLS = {"FailureFunction"}


def test_every_function_is_exercised(calls_by_function: dict[str, set[str]]) -> None:
    assert set(FUNCTIONS) - NO_AWS_CALLS <= set(calls_by_function)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_role_allows_every_call_its_function_makes(
    calls_by_function: dict[str, set[str]], function: str
) -> None:
    cfn = deployed("defaults")
    role = cfn["Resources"][role_id(cfn, function)]
    allowed = {
        action
        for policy in role["Properties"]["Policies"]
        for statement in as_list(policy["PolicyDocument"]["Statement"])
        for action in as_list(statement["Action"])
    }
    assert calls_by_function.get(function, set()) - allowed == set()


# ---------------------------------------------------------------- skips carry their reason


def _resources_metadata() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in translated()["Resources"].items():
        yield name, resource.get("Metadata", {})


def test_every_checkov_skip_gives_its_reason() -> None:
    skips = 0
    for name, meta in _resources_metadata():
        for skip in meta.get("checkov", {}).get("skip", []):
            assert set(skip) == {"id", "comment"}, (name, skip)
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
            assert len(skip["comment"].split()) >= 5, (name, skip)
            skips += 1
    assert skips > 0


def test_every_cfn_lint_ignore_gives_its_reason() -> None:
    lines = TEMPLATE.read_text().splitlines()
    ignores = [n for n, line in enumerate(lines) if "ignore_checks:" in line]
    assert ignores
    for number in ignores:
        # A comment on the line itself or on the lines just above it.
        assert "#" in lines[number] or lines[number - 1].lstrip().startswith("#"), lines[number]


def test_cfn_lint_with_the_serverless_rules_is_clean() -> None:
    result = run_cfn_lint(TEMPLATE, "--append-rules", "cfn_lint_serverless.rules")
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- no secrets

ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "RUN_BUCKET",
    "CONFIG_FILE",
    "DRY_RUN_DEFAULT",
    "ALLOW_DELETING_RUNS",
    "MAP_MAX_CONCURRENCY",
    "NOTIFY_ON_SUCCESS",
    "FUNCTION_LOG_GROUPS",  # log group names, for the failure's links
}


def test_function_environments_hold_no_secret() -> None:
    cfn = deployed("all-options")
    for function in FUNCTIONS:
        variables = cfn["Resources"][function]["Properties"]["Environment"]["Variables"]
        # Only known, harmless names: a new variable has to be added here, knowingly.
        assert set(variables) <= ENVIRONMENT, (function, set(variables) - ENVIRONMENT)
        assert "KmsKeyArn" not in cfn["Resources"][function]["Properties"]


def test_functions_do_not_log_their_events() -> None:
    # Powertools logs the whole event with log_event=True or POWERTOOLS_LOGGER_LOG_EVENT.
    sources = list((ROOT / "functions" / "ecr_sweeper").rglob("*.py"))
    assert sources
    for source in sources:
        text = source.read_text()
        assert "log_event=True" not in text, source
        assert "POWERTOOLS_LOGGER_LOG_EVENT" not in text, source


def test_state_machine_logs_no_execution_data_unless_asked() -> None:
    template = translated()
    logging = template["Resources"]["StateMachine"]["Properties"]["LoggingConfiguration"]
    assert logging["IncludeExecutionData"] == {"Fn::If": ["LogExecutionDataEnabled", True, False]}
    assert template["Conditions"]["LogExecutionDataEnabled"] == {
        "Fn::Equals": [{"Ref": "LogExecutionData"}, "true"]
    }
    assert template["Parameters"]["LogExecutionData"]["Default"] == "false"


# ---------------------------------------------------------------- dependency locks

PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(?P<version>[A-Za-z0-9.+!-]+)$")


def _pins(path: Path) -> dict[str, str]:
    """name -> version for every requirement line of a requirements or constraints file
    (following -r includes); every one must be pinned with ==."""
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            pins.update(_pins(path.parent / line[3:].strip()))
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not pinned with ==: {raw}"
        pins[canonicalize_name(match["name"])] = match["version"]
    return pins


@pytest.mark.parametrize(
    ("requirements", "lock"),
    [
        ("requirements-dev.txt", "constraints.txt"),
        ("functions/requirements.txt", "constraints.txt"),
        ("requirements-tools.txt", "constraints-tools.txt"),
    ],
)
def test_direct_pins_agree_with_the_lock(requirements: str, lock: str) -> None:
    direct, locked = _pins(ROOT / requirements), _pins(ROOT / lock)
    assert direct
    disagree = {n: (v, locked.get(n)) for n, v in direct.items() if locked.get(n) != v}
    assert not disagree, f"{requirements} vs {lock} (run `make constraints`): {disagree}"


def test_the_lock_covers_the_whole_dependency_tree() -> None:
    """Every package that the direct requirements pull in, however deep, is in
    constraints.txt (read from the installed packages' metadata)."""
    locked = _pins(ROOT / "constraints.txt")
    roots = []
    for path in ("requirements-dev.txt", "functions/requirements.txt"):
        for raw in (ROOT / path).read_text().splitlines():
            line = raw.strip()
            if line and not line.startswith(("#", "-")):
                roots.append(Requirement(line))
    missing: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in roots]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        if name not in locked:
            missing.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            environments = [{"extra": e} for e in extras] or [{"extra": ""}]
            if requirement.marker is None or any(
                requirement.marker.evaluate(env) for env in environments
            ):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    assert not missing, f"not in constraints.txt (run `make constraints`): {sorted(missing)}"


def test_optional_security_parameters_are_documented() -> None:
    text = SECURITY_DOC.read_text()
    for parameter in set(ALL_OPTIONS) - {"NotificationEmail"}:
        assert f"`{parameter}`" in text, parameter
