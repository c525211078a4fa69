"""The dashboard shows only metrics that exist: those the functions emit (EMF, found in
the handlers' source) and the state machine's own."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from sweeper_emulator.template import load_template

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "functions" / "ecr_sweeper" / "handlers"
STATES_METRICS = {
    "ExecutionsSucceeded",
    "ExecutionsFailed",
    "ExecutionsTimedOut",
    "ExecutionsAborted",
}


def emitted() -> dict[str, set[str]]:
    """Metric name -> the handlers that call metrics.add_metric(name=...) with it."""
    found: dict[str, set[str]] = {}
    for path in HANDLERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_metric"
            ):
                (name,) = [k.value for k in node.keywords if k.arg == "name"]
                assert isinstance(name, ast.Constant), path
                found.setdefault(name.value, set()).add(path.stem)
    return found


def dashboard() -> dict:
    template = load_template(ROOT / "template.yaml")
    (body,) = [
        r["Properties"]["DashboardBody"]["Fn::Sub"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    # Only ${...} placeholders of the stack: a JSON document once they are filled in.
    return json.loads(re.sub(r"\$\{[^}]+\}", "X", body))


def metrics_of(board: dict) -> list[list]:
    return [m for widget in board["widgets"] for m in widget["properties"]["metrics"]]


def unknown_metrics(board: dict, names: set[str]) -> list[list]:
    """The dashboard's metrics that nothing emits: not the state machine's, or not in
    the functions' namespace and dimension, or named by no handler."""
    unknown = []
    for metric in metrics_of(board):
        namespace, name, dimension, value = metric[:4]
        if namespace == "AWS/States":
            if name not in STATES_METRICS or dimension != "StateMachineArn":
                unknown.append(metric)
        # The namespace and the one dimension Powertools adds (handlers/common.py).
        elif (namespace, dimension, value) != (
            "ecr-sweeper",
            "service",
            "ecr-sweeper",
        ) or name not in names:
            unknown.append(metric)
    return unknown


def test_every_metric_on_the_dashboard_is_emitted() -> None:
    names = set(emitted())
    assert {"RepositoriesHeld", "RepositoriesFailed", "ImagesDeleted", "BytesReclaimed"} <= names
    assert unknown_metrics(dashboard(), names) == []


def test_the_dashboard_shows_runs_deletions_held_and_failed() -> None:
    shown = {metric[1] for metric in metrics_of(dashboard())}
    assert shown >= STATES_METRICS
    assert {"ImagesDeleted", "BytesReclaimed", "RepositoriesHeld", "RepositoriesFailed"} <= shown


def test_the_namespace_is_the_one_the_functions_use() -> None:
    template = load_template(ROOT / "template.yaml")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "ecr-sweeper"
    common = (HANDLERS / "common.py").read_text()
    assert 'Metrics(service="ecr-sweeper")' in common


def test_a_metric_nobody_emits_is_caught() -> None:
    board = dashboard()
    wrong = [
        ["ecr-sweeper", "ImagesVanished", "service", "ecr-sweeper"],
        ["ecr-sweeper", "ImagesDeleted", "repository", "app"],
        ["AWS/States", "ExecutionThrottled", "StateMachineArn", "X"],
    ]
    board["widgets"][0]["properties"]["metrics"].extend(wrong)
    assert unknown_metrics(board, set(emitted())) == wrong
