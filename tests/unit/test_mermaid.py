"""The diagram in docs/design.md is generated from the ASL (tools/asl_to_mermaid.py).

If this fails after a change of statemachine/sweep.asl.json, regenerate the diagram:

    python tools/asl_to_mermaid.py --write docs/design.md
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.asl_to_mermaid import asl_to_mermaid, extract_block, main, replace_block

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachine" / "sweep.asl.json"
DESIGN = ROOT / "docs" / "design.md"
FIX = "python tools/asl_to_mermaid.py --write docs/design.md"


@pytest.fixture(scope="module")
def asl() -> dict[str, Any]:
    return json.loads(ASL_PATH.read_text())


def test_design_md_shows_the_diagram_of_the_current_asl(asl: dict[str, Any]) -> None:
    assert extract_block(DESIGN.read_text()) == asl_to_mermaid(asl), (
        f"docs/design.md's diagram is out of date with {ASL_PATH.name}: run {FIX}"
    )


def test_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", str(DESIGN)]) == 0
    stale = tmp_path / "design.md"
    stale.write_text(DESIGN.read_text().replace("PlanRepositories --> CheckCaps", "X --> Y"))
    assert main(["--check", str(stale)]) == 1
    assert "--write" in capsys.readouterr().err
    assert main(["--write", str(stale)]) == 0
    assert stale.read_text() == DESIGN.read_text()


def _states(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in machine["States"].items():
        yield name, state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _states(processor)
        for branch in state.get("Branches", []):
            yield from _states(branch)


def test_every_state_and_transition_is_drawn(asl: dict[str, Any]) -> None:
    diagram = asl_to_mermaid(asl)
    lines = {line.strip() for line in diagram.splitlines()}
    for name, state in _states(asl):
        node = rf"subgraph {name}\[" if state["Type"] == "Map" else rf"{name}[\[\(\{{]"
        assert any(re.match(node, line) for line in lines), name
        if "Next" in state:
            assert f"{name} --> {state['Next']}" in lines
        for catcher in state.get("Catch", []):
            assert f"{name} -->|error| {catcher['Next']}" in lines
    assert f"Start([start]) --> {asl['StartAt']}" in lines
    # Each Map's children start at their own node and end at their own (End: true).
    assert "PlanRepositories_Start([child execution starts]) --> Collect" in lines
    assert "Evaluate --> PlanRepositories_End" in lines
    assert "SweepRepositories_Start([child execution starts]) --> Delete" in lines
    assert "Delete --> SweepRepositories_End" in lines
    assert "PlanRepositories --> CheckCaps" in lines
    assert "CheckCaps --> SweepRepositories" in lines
    (fail_class,) = [line for line in lines if line.startswith("class ") and line.endswith(" fail")]
    fail_states = {name for name, state in _states(asl) if state["Type"] == "Fail"}
    assert set(fail_class.split()[1].split(",")) == fail_states


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(asl: dict[str, Any]) -> None:
        target = asl
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _remove_catch(asl: dict[str, Any]) -> None:
    del asl["States"]["Summarize"]["Catch"]


def _add_state(asl: dict[str, Any]) -> None:
    asl["States"]["Wait"] = {"Type": "Wait", "Seconds": 1, "Next": "Summarize"}
    asl["States"]["SweepRepositories"]["Next"] = "Wait"


PLAN_STATES = ["States", "PlanRepositories", "ItemProcessor", "States"]
MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "start moved": _set(["StartAt"], "Summarize"),
    "transition changed": _set(["States", "Summarize", "Next"], "Failed"),
    "catch removed": _remove_catch,
    "catch narrowed": _set(["States", "ScanInUse", "Catch", 0, "ErrorEquals"], ["ConfigError"]),
    "state added": _add_state,
    "type changed": _set(["States", "Done", "Type"], "Pass"),
    "map child start moved": _set(
        ["States", "PlanRepositories", "ItemProcessor", "StartAt"], "Evaluate"
    ),
    "second map's child start moved": _set(
        ["States", "SweepRepositories", "ItemProcessor", "StartAt"], "DeleteFailed"
    ),
    "map child transition changed": _set([*PLAN_STATES, "Collect", "Next"], "EvaluateFailed"),
    "map child catch moved": _set([*PLAN_STATES, "Evaluate", "Catch", 0, "Next"], "CollectFailed"),
    "map mode changed": _set(
        ["States", "SweepRepositories", "ItemProcessor", "ProcessorConfig", "Mode"], "INLINE"
    ),
    "map label changed": _set(["States", "PlanRepositories", "Label"], "repositories"),
    "maps swapped": _set(["States", "ScanInUse", "Next"], "SweepRepositories"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_changed_asl_gives_a_different_diagram(asl: dict[str, Any], mutation: str) -> None:
    changed = copy.deepcopy(asl)
    MUTATIONS[mutation](changed)
    assert asl_to_mermaid(changed) != asl_to_mermaid(asl)


def test_a_changed_asl_makes_design_md_stale(asl: dict[str, Any]) -> None:
    changed = copy.deepcopy(asl)
    _add_state(changed)
    assert extract_block(DESIGN.read_text()) != asl_to_mermaid(changed)


def test_unsafe_names_choices_and_parallel_branches() -> None:
    asl = {
        "StartAt": "Pick one",
        "States": {
            "Pick one": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.kind", "StringEquals": "a|b", "Next": "end"},
                    {
                        "And": [
                            {"Variable": "$.n", "NumericGreaterThanEquals": 3},
                            {"Variable": "$.x", "IsPresent": True},
                        ],
                        "Next": "Fan out",
                    },
                ],
                "Default": "end",
            },
            "end": {"Type": "Pass", "End": True},
            "Fan out": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "B1", "States": {"B1": {"Type": "Task", "End": True}}},
                    {"StartAt": "B2", "States": {"B2": {"Type": "Succeed"}}},
                ],
                "End": True,
            },
        },
    }
    diagram = asl_to_mermaid(asl, source="x.json")
    lines = [line.strip() for line in diagram.splitlines()]
    # `end` is a Mermaid keyword: the state gets another id, and keeps its name as label.
    assert "s_end[/end/]" in lines
    assert 'Pick_one -->|"1: $.kind == #quot;a#124;b#quot;"| s_end' in lines
    assert 'Pick_one -->|"2: ($.n >= 3) and ($.x is present)"| Fan_out' in lines
    assert "Pick_one -->|default| s_end" in lines
    assert "subgraph Fan_out[Fan out: Parallel]" not in lines  # a colon is quoted
    assert 'subgraph Fan_out["Fan out: Parallel"]' in lines
    assert "B1 --> Fan_out_branch1_End" in lines
    assert "Fan_out --> End" in lines and "End([end])" in lines


def test_replace_block_keeps_the_rest() -> None:
    text = "# T\n\n```mermaid\nflowchart TD\n    A --> B\n```\n\nafter\n"
    assert replace_block(text, "flowchart TD\n    C\n") == (
        "# T\n\n```mermaid\nflowchart TD\n    C\n```\n\nafter\n"
    )
    with pytest.raises(ValueError):
        replace_block("no diagram", "flowchart TD\n")
