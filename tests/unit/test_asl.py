"""The state machine definition (statemachine/sweep.asl.json).

`sam validate --lint` never sees the definition (DefinitionUri is a file), so it is linted
here on its own: cfn-lint's rule E3601 on a synthetic AWS::StepFunctions::StateMachine.
cfn-lint does not check Next targets, so the transitions are checked here too.
tests/unit/test_asl_validators.py runs two validators of the States Language on it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from moto.stepfunctions.parser.asl.parse.asl_parser import (
    AmazonStateLanguageParser,
    ASLParserException,
)
from samtranslator.yaml_helper import yaml_parse

from sweeper_emulator.moto_patches import express, moto_asl

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachine" / "sweep.asl.json"
TEMPLATE = ROOT / "template.yaml"

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
# A function that crashed (process exit, sandbox timeout): retried too, every step being
# idempotent.
LAMBDA_CRASHES = {"Runtime.ExitError", "Sandbox.Timedout"}
SNS_PUBLISH = "arn:aws:states:::sns:publish"
# The workflow's main path: plan everything, check the caps, then delete.
MAIN_PATH = [
    "ScanInUse",
    "PlanRepositories",
    "CheckCaps",
    "SweepRepositories",
    "Summarize",
    "NotifyOnSuccess",
]


@pytest.fixture(scope="module")
def asl_text() -> str:
    return ASL_PATH.read_text()


@pytest.fixture(scope="module")
def asl(asl_text: str) -> dict[str, Any]:
    return json.loads(asl_text)


@pytest.fixture(scope="module")
def state_machine() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())["Resources"]["StateMachine"]["Properties"]


@pytest.fixture(scope="module")
def substitutions(state_machine: dict[str, Any]) -> dict[str, Any]:
    return state_machine["DefinitionSubstitutions"]


def _states(definition: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, nested ones (Map ItemProcessor/Iterator, Parallel Branches) included."""
    for name, state in definition["States"].items():
        yield f"{path}{name}", state
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _states(state[key], f"{path}{name}/")
        for i, branch in enumerate(state.get("Branches", [])):
            yield from _states(branch, f"{path}{name}[{i}]/")


def _scopes(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The definition and every nested state machine (each has its own StartAt/States)."""
    yield definition
    for state in definition["States"].values():
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _scopes(state[key])
        for branch in state.get("Branches", []):
            yield from _scopes(branch)


def _strings(value: Any) -> Iterator[str]:
    """Every key and string value in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _lint(definition: dict[str, Any], substitutions: dict[str, str] | None) -> list[Any]:
    properties: dict[str, Any] = {
        "Definition": definition,
        "RoleArn": "arn:aws:iam::123456789012:role/ecr-sweeper-sweep",
    }
    if substitutions:
        properties["DefinitionSubstitutions"] = substitutions
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "StateMachine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": properties}
        },
    }
    return lint(
        json.dumps(template),
        config=ManualArgs(regions=["us-east-1"], include_checks=["I"]),
    )


def _dummy_substitutions(asl_text: str) -> dict[str, str]:
    return {name: f"dummy-{name}" for name in PLACEHOLDER.findall(asl_text)}


def _transition_errors(definition: dict[str, Any]) -> list[str]:
    """Targets that are not states of the same scope, and states that cannot be reached."""
    errors: list[str] = []
    for scope in _scopes(definition):
        states = scope["States"]
        edges: dict[str, set[str]] = {}
        for name, state in states.items():
            targets = {state["Next"]} if "Next" in state else set()
            targets |= {choice["Next"] for choice in state.get("Choices", [])}
            targets |= {catcher["Next"] for catcher in state.get("Catch", [])}
            if "Default" in state:
                targets.add(state["Default"])
            edges[name] = targets
            errors += [f"{name} -> {t}: no such state" for t in sorted(targets - set(states))]
            terminal = state["Type"] in ("Succeed", "Fail", "Choice") or state.get("End") is True
            if not terminal and "Next" not in state:
                errors.append(f"{name}: neither Next nor End")
        seen, todo = set(), [scope["StartAt"]]
        while todo:
            name = todo.pop()
            if name in seen or name not in states:
                continue
            seen.add(name)
            todo += sorted(edges[name])
        errors += [f"{name}: unreachable" for name in sorted(set(states) - seen)]
    return errors


# ---------------------------------------------------------------- placeholders


def test_every_placeholder_is_substituted_and_every_substitution_used(
    asl_text: str, substitutions: dict[str, Any]
) -> None:
    used = set(PLACEHOLDER.findall(asl_text))
    assert used == set(substitutions)


def test_state_machine_reads_this_file(state_machine: dict[str, Any]) -> None:
    assert ROOT / state_machine["DefinitionUri"] == ASL_PATH


# ---------------------------------------------------------------- cfn-lint (E3601)


def test_cfn_lint_accepts_the_definition(asl: dict[str, Any], asl_text: str) -> None:
    matches = _lint(asl, _dummy_substitutions(asl_text))
    assert not matches, [str(m) for m in matches]


def test_cfn_lint_accepts_the_substituted_definition(
    substituted_definitions: dict[str, str],
) -> None:
    # Substituted as CloudFormation does, for every allowed value of ChildExecutionType.
    for label, text in substituted_definitions.items():
        matches = _lint(json.loads(text), None)
        assert not matches, (label, [str(m) for m in matches])


def _start_at_nowhere(definition: dict[str, Any]) -> None:
    definition["States"]["SweepRepositories"]["ItemProcessor"]["StartAt"] = "Nowhere"


def _unknown_field(definition: dict[str, Any]) -> None:
    definition["States"]["Summarize"]["ResultPaths"] = "$.summary"


def _neither_next_nor_end(definition: dict[str, Any]) -> None:
    del definition["States"]["Summarize"]["Next"]


def _task_without_resource(definition: dict[str, Any]) -> None:
    del definition["States"]["ScanInUse"]["Resource"]


@pytest.mark.parametrize(
    "breakage",
    [_start_at_nowhere, _unknown_field, _neither_next_nor_end, _task_without_resource],
)
def test_cfn_lint_catches_a_broken_definition(
    asl: dict[str, Any], asl_text: str, breakage: Any
) -> None:
    broken = copy.deepcopy(asl)
    breakage(broken)
    matches = _lint(broken, _dummy_substitutions(asl_text))
    assert any(m.rule.id == "E3601" for m in matches), [str(m) for m in matches]


# ---------------------------------------------------------------- transitions


def test_every_transition_targets_a_state_and_every_state_is_reachable(
    asl: dict[str, Any],
) -> None:
    assert _transition_errors(asl) == []


def test_transition_check_catches_a_next_into_another_map(asl: dict[str, Any]) -> None:
    # Each Map's children are a scope of their own: Collect may not lead to Delete.
    broken = copy.deepcopy(asl)
    broken["States"]["PlanRepositories"]["ItemProcessor"]["States"]["Collect"]["Next"] = "Delete"
    assert "Collect -> Delete: no such state" in _transition_errors(broken)


def test_transition_check_catches_a_next_pointing_nowhere(asl: dict[str, Any]) -> None:
    # cfn-lint does not check Next targets: the check above does.
    broken = copy.deepcopy(asl)
    broken["States"]["PlanRepositories"]["ItemProcessor"]["States"]["Collect"]["Next"] = "Nope"
    errors = _transition_errors(broken)
    assert "Collect -> Nope: no such state" in errors
    assert "Evaluate: unreachable" in errors


def test_state_names_are_unique_in_the_whole_state_machine(asl: dict[str, Any]) -> None:
    # The States Language: state names must be unique within the scope of the whole state
    # machine, nested Map and Parallel states included. cfn-lint does not check it.
    names = [path.rsplit("/", 1)[-1] for path, _ in _states(asl)]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_uniqueness_check_catches_a_repeated_name() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}},
                "Next": "B",
            },
            "B": {"Type": "Succeed"},
        },
    }
    names = [path.rsplit("/", 1)[-1] for path, _ in _states(definition)]
    assert names.count("B") == 2


# ---------------------------------------------------------------- what the emulator can run


def test_jsonpath_only_no_jsonata_assign_or_variables(asl: dict[str, Any]) -> None:
    keys = set(_keys(asl))
    assert not keys & {"QueryLanguage", "Assign", "Arguments", "Output", "Items"}
    for text in _strings(asl):
        assert not text.startswith("{%"), f"JSONata expression: {text!r}"
        # `$.path`, `$$.Context` and `${Placeholder}` are fine; `$name` is a variable.
        assert not re.search(r"\$[A-Za-z_]", text), f"variable reference: {text!r}"


def test_moto_parses_every_substituted_definition_as_the_emulator_hands_it(
    substituted_definitions: dict[str, str],
) -> None:
    for text in substituted_definitions.values():
        as_standard, _ = express.as_standard(moto_asl.for_moto(text))
        AmazonStateLanguageParser.parse(as_standard)


def test_moto_still_refuses_an_integer_tolerated_failure_percentage(
    substituted_definitions: dict[str, str],
) -> None:
    # Why moto_asl.for_moto exists: the day this fails, moto takes the definition as it
    # is and for_moto can go.
    text = substituted_definitions["ChildExecutionType=STANDARD"]
    assert '"ToleratedFailurePercentage": 100,' in text
    with pytest.raises(ASLParserException, match="ToleratedFailurePercentage"):
        AmazonStateLanguageParser.parse(text)
    assert json.loads(moto_asl.for_moto(text)) == json.loads(text)  # the same numbers


# ---------------------------------------------------------------- error handling


def test_every_lambda_task_retries_transient_errors_and_catches_all(
    asl: dict[str, Any],
) -> None:
    tasks = {
        path: state
        for path, state in _states(asl)
        if state["Type"] == "Task" and state.get("Resource") == LAMBDA_INVOKE
    }
    assert {path.rsplit("/", 1)[-1] for path in tasks} == {
        "ScanInUse",
        "Collect",
        "Evaluate",
        "CheckCaps",
        "Delete",
        "Summarize",
        "DescribeFailure",
        "DescribeRepositoryFailure",
        "DescribeSweepFailure",
    }
    for path, task in tasks.items():
        retriers = [r for r in task.get("Retry", []) if set(r["ErrorEquals"]) >= LAMBDA_TRANSIENT]
        assert retriers, f"{path}: no Retry on the transient Lambda errors"
        assert any(set(r["ErrorEquals"]) >= LAMBDA_CRASHES for r in retriers), (
            f"{path}: no Retry on a crashed function"
        )
        # A catch-all retrier would retry the product's own errors (a cap exceeded, a run
        # in progress): those must fail at once.
        for retrier in task.get("Retry", []):
            assert "States.ALL" not in retrier["ErrorEquals"], path
        for retrier in retriers:
            assert retrier.get("MaxDelaySeconds"), path
            assert retrier.get("JitterStrategy") == "FULL", path
            assert retrier.get("MaxAttempts", 3) >= 2, path
        assert any(c["ErrorEquals"] == ["States.ALL"] for c in task.get("Catch", [])), path


def test_every_task_is_caught(asl: dict[str, Any]) -> None:
    for path, state in _states(asl):
        if state["Type"] in ("Task", "Map"):
            assert any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", [])), path


# ---------------------------------------------------------------- the two Distributed Maps


def _functions(states: dict[str, Any]) -> set[str]:
    """The functions that the Lambda tasks of one scope invoke."""
    return {
        state["Parameters"]["FunctionName"]
        for state in states.values()
        if state.get("Resource") == LAMBDA_INVOKE
    }


@pytest.mark.parametrize(
    ("name", "label", "prefix", "children", "items"),
    [
        (
            "PlanRepositories",
            "plan",
            "map-results/plan",
            ["Collect", "Evaluate"],
            "$.run.repositories_key",  # every repository the scan targets
        ),
        # only the plans CheckCaps approved
        ("SweepRepositories", "sweep", "map-results/sweep", ["Delete"], "$.caps.approved.key"),
    ],
)
def test_the_maps_are_distributed_read_s3_and_write_map_results(
    asl: dict[str, Any], name: str, label: str, prefix: str, children: list[str], items: str
) -> None:
    state = asl["States"][name]
    assert state["Type"] == "Map"
    processor = state["ItemProcessor"]
    assert processor["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert processor["ProcessorConfig"]["ExecutionType"] == "${ChildExecutionType}"
    assert state["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert state["ItemReader"]["ReaderConfig"]["InputType"] == "JSON"
    assert state["ItemReader"]["Parameters"] == {"Bucket.$": "$.run.bucket", "Key.$": items}
    assert state["Label"] == label
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", state["Label"])
    writer = state["ResultWriter"]
    assert writer["Resource"] == "arn:aws:states:::s3:putObject"
    # The state machine role grants ResultWriter access to map-results/* only.
    assert writer["Parameters"] == {"Bucket": "${RunBucketName}", "Prefix": prefix}
    # The children's path when nothing fails: from StartAt, Next by Next, to End.
    states, chain = processor["States"], [processor["StartAt"]]
    while not states[chain[-1]].get("End"):
        chain.append(states[chain[-1]]["Next"])
    assert chain == children
    assert all(states[child].get("Resource") == LAMBDA_INVOKE for child in chain)


def test_there_are_exactly_two_maps(asl: dict[str, Any]) -> None:
    maps = [path for path, state in _states(asl) if state["Type"] == "Map"]
    assert maps == ["PlanRepositories", "SweepRepositories"]


def test_everything_is_planned_and_capped_before_anything_is_deleted(
    asl: dict[str, Any],
) -> None:
    states = asl["States"]
    path, current = [], asl["StartAt"]
    while current:
        path.append(current)
        current = states[current].get("Next")
    assert path == MAIN_PATH
    # The success notification is optional and leads to Done either way.
    choice = states["NotifyOnSuccess"]
    assert choice["Type"] == "Choice" and choice["Default"] == "Done"
    assert [c["Next"] for c in choice["Choices"]] == ["NotifySuccess"]
    assert states["NotifySuccess"]["Next"] == "Done"
    # Planning invokes no deleter; the sweep invokes nothing but the deleter; the caps
    # run between the two, and nowhere else is the deleter invoked.
    # (FailureFunction puts a failure in words: it calls no AWS API.)
    assert _functions(states["PlanRepositories"]["ItemProcessor"]["States"]) == {
        "${CollectorFunctionArn}",
        "${EvaluatorFunctionArn}",
        "${FailureFunctionArn}",
    }
    assert _functions(states["SweepRepositories"]["ItemProcessor"]["States"]) == {
        "${DeleterFunctionArn}",
        "${FailureFunctionArn}",
    }
    assert states["CheckCaps"]["Parameters"]["FunctionName"] == "${CapsFunctionArn}"
    assert states["CheckCaps"]["Parameters"]["Payload"] == {
        "run.$": "$.run",
        "plan_results.$": "$.plan_run.ResultWriterDetails",
    }
    deleters = [
        p
        for p, state in _states(asl)
        if state.get("Parameters", {}).get("FunctionName") == "${DeleterFunctionArn}"
    ]
    assert deleters == ["SweepRepositories/Delete"]
    # A failed plan or a cap exceeded ends the run (notified) before the sweep: no path
    # from their catchers leads to SweepRepositories.
    for name in ("PlanRepositories", "CheckCaps"):
        (catcher,) = states[name]["Catch"]
        seen, todo = set(), [catcher["Next"]]
        while todo:
            target = todo.pop()
            if target in seen:
                continue
            seen.add(target)
            todo += [states[target]["Next"]] if "Next" in states[target] else []
            todo += [c["Next"] for c in states[target].get("Catch", [])]
        assert "SweepRepositories" not in seen, name
        assert "Failed" in seen, name


def test_every_failure_names_its_state_is_put_in_words_and_is_notified(
    asl: dict[str, Any],
) -> None:
    """Every catcher, at the top level and in each Map's children, leads to a Pass state
    that names the failed state, then to the scope's one Describe*Failure step (the
    failure in words), then to the scope's one notification. If the words cannot be
    had, the `*AsIs` Pass state hands the notification the raw error instead."""
    failures = set()
    for scope in _scopes(asl):
        states = scope["States"]
        (notify,) = [
            n
            for n, state in states.items()
            if state.get("Resource") == SNS_PUBLISH
            and state["Parameters"].get("Message.$") == "$.described.message"
        ]
        (describe,) = [
            n
            for n, state in states.items()
            if state.get("Parameters", {}).get("FunctionName") == "${FailureFunctionArn}"
        ]
        assert states[describe]["Next"] == notify
        assert states[describe]["ResultPath"] == "$.described"
        (fallback,) = [c["Next"] for c in states[describe]["Catch"]]
        assert states[fallback]["Type"] == "Pass"
        assert states[fallback]["ResultPath"] == "$.described"
        assert states[fallback]["Next"] == notify
        assert set(states[fallback]["Parameters"]) == {"subject", "message.$", "cause.$"}
        for name, state in states.items():
            if state.get("Resource") == SNS_PUBLISH or name == describe:
                continue
            for catcher in state.get("Catch", []):
                failed = states[catcher["Next"]]
                assert failed["Type"] == "Pass", name
                assert failed["Parameters"]["state"] == name
                assert failed["Next"] == describe, name
                failures.add(catcher["Next"])
    assert {"PlanFailed", "CapsFailed", "SweepFailed"} <= failures


def test_the_run_fails_with_the_cause_in_words_and_children_keep_theirs_for_the_report(
    asl: dict[str, Any],
) -> None:
    """`describe-execution` of a failed run shows the cause in words; a repository's
    child keeps the raw cause (with the stack trace), which the summary puts in the
    report in words, with the trace below it."""
    assert asl["States"]["Failed"]["CausePath"] == "$.described.cause"
    for map_state, fail in (
        ("PlanRepositories", "RepositoryFailed"),
        ("SweepRepositories", "SweepRepositoryFailed"),
    ):
        children = asl["States"][map_state]["ItemProcessor"]["States"]
        assert children[fail]["CausePath"] == "$.cause"


def test_notifications_carry_real_newlines(asl: dict[str, Any]) -> None:
    messages = [
        state["Parameters"]["message.$"]
        for _, state in _states(asl)
        if state["Type"] == "Pass" and "message.$" in state.get("Parameters", {})
    ]
    # The raw fallback of NotifyFailure and of each Map's failure notification (the
    # words come from FailureFunction; NotifySuccess publishes the summary's message)
    assert len(messages) == 3
    for message in messages:
        assert message.startswith("States.Format('")
        assert "\n" in message
        # A backslash then `n` reaches the e-mail as those two characters.
        assert "\\n" not in message, message


def test_the_role_covers_what_the_definition_calls(
    asl: dict[str, Any], state_machine: dict[str, Any]
) -> None:
    statements = {s["Sid"]: s for s in state_machine["Policies"][0]["Statement"]}
    resources = {state["Resource"] for _, state in _states(asl) if state["Type"] == "Task"} | {
        state["ItemReader"]["Resource"] for _, state in _states(asl) if "ItemReader" in state
    }
    needs = {
        "arn:aws:states:::lambda:invoke": ("InvokeFunctions", "lambda:InvokeFunction"),
        "arn:aws:states:::sns:publish": ("Notify", "sns:Publish"),
        "arn:aws:states:::s3:getObject": ("ItemReader", "s3:GetObject"),
    }
    assert resources <= set(needs)
    for resource in resources:
        sid, action = needs[resource]
        assert action in statements[sid]["Action"], resource
    invoked = {
        state["Parameters"]["FunctionName"]
        for _, state in _states(asl)
        if state.get("Resource") == LAMBDA_INVOKE
    }
    granted = {
        "${" + r["Fn::GetAtt"][0] + "Arn}"
        for r in statements["InvokeFunctions"]["Resource"]
        if "Fn::GetAtt" in r
    }
    assert invoked == granted


def test_hashes_travel_in_the_payload_from_writer_to_reader(asl: dict[str, Any]) -> None:
    """Each file a later step acts on is checked against the SHA-256 its writer returned,
    carried by the state machine (which nothing in S3 can change): the images from
    Collect to Evaluate, the plan from Evaluate (its child's result, read by CheckCaps)
    through the approved list to Delete."""
    plan = asl["States"]["PlanRepositories"]["ItemProcessor"]["States"]
    assert plan["Collect"]["ResultSelector"]["images_sha256.$"] == "$.Payload.images_sha256"
    assert plan["Collect"]["ResultPath"] == "$.collected"
    evaluate = plan["Evaluate"]
    assert evaluate["Parameters"]["Payload"]["images_sha256.$"] == "$.collected.images_sha256"
    assert evaluate["ResultSelector"] == {
        "repository.$": "$.Payload.repository",
        "plan_sha256.$": "$.Payload.plan_sha256",
        "planned.$": "$.Payload.planned",
        "held.$": "$.Payload.held",
        "plan.$": "$.Payload.plan",  # a small plan, inline to the deleter
        "result.$": "$.Payload.result",  # a plan that is not swept: its result, inline
    }
    assert evaluate["OutputPath"] == "$.plan" and evaluate["End"] is True
    caps = asl["States"]["CheckCaps"]
    assert caps["ResultPath"] == "$.caps"
    assert caps["ResultSelector"]["approved.$"] == "$.Payload.approved"
    sweep = asl["States"]["SweepRepositories"]
    assert sweep["ItemSelector"] == {
        "repository.$": "$$.Map.Item.Value.repository",
        "plan_sha256.$": "$$.Map.Item.Value.plan_sha256",
        "plan.$": "$$.Map.Item.Value.plan",  # a small plan, inline
        # The item's place in the approved list and its proof, against the root the
        # payload carries from CheckCaps (core/approval.py).
        "index.$": "$$.Map.Item.Value.index",
        "proof.$": "$$.Map.Item.Value.proof",
        "approved_root.$": "$.caps.approved_root",
        "run.$": "$.run",
    }
    assert caps["ResultSelector"]["approved_root.$"] == "$.Payload.approved_root"
    assert sweep["ItemProcessor"]["States"]["Delete"]["Parameters"]["Payload"] == {
        "repository.$": "$.repository",
        "plan_sha256.$": "$.plan_sha256",
        "plan.$": "$.plan",
        "index.$": "$.index",
        "proof.$": "$.proof",
        "approved_root.$": "$.approved_root",
        "run.$": "$.run",
    }
    summarize = asl["States"]["Summarize"]["Parameters"]["Payload"]
    assert summarize["plan_results.$"] == "$.plan_run.ResultWriterDetails"
    assert summarize["sweep_results.$"] == "$.map_run.ResultWriterDetails"
