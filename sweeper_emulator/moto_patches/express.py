"""EXPRESS child executions of a Distributed Map, which moto's ASL parser refuses.

moto's grammar accepts only `"ExecutionType": "STANDARD"` in a Map's ProcessorConfig.
An EXPRESS child runs the same states in AWS; what it may not use is what only a
Standard workflow has: the `.sync` and `.waitForTaskToken` integration patterns and
activities. `as_standard()` checks that the children use none of those and hands moto
the same definition with STANDARD children. The Map's children then run as they would
in AWS; the 5-minute limit of an EXPRESS execution is not enforced (emulated time is not
AWS time), which is why the benchmark reports the children's durations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sweeper_emulator.template import TemplateError

STANDARD_ONLY = (".sync", ".waitForTaskToken", ":activity:")


class ExpressError(TemplateError):
    """An EXPRESS child uses what only a STANDARD workflow may."""


def _maps(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if state.get("Type") == "Map" and processor:
            yield name, state
            yield from _maps(processor.get("States", {}))
        for branch in state.get("Branches", []):
            yield from _maps(branch.get("States", {}))


def _resources(states: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for name, state in states.items():
        if isinstance(state.get("Resource"), str):
            yield name, state["Resource"]
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _resources(processor.get("States", {}))
        for branch in state.get("Branches", []):
            yield from _resources(branch.get("States", {}))


def as_standard(definition: str) -> tuple[str, list[str]]:
    """The definition with EXPRESS children made STANDARD, and the Maps that had them.

    Raises ExpressError if an EXPRESS child uses what only a Standard workflow may.
    """
    document = json.loads(definition)
    express: list[str] = []
    for map_name, state in _maps(document.get("States", {})):
        config = (state.get("ItemProcessor") or {}).get("ProcessorConfig", {})
        if config.get("ExecutionType") != "EXPRESS":
            continue
        for name, resource in _resources(state["ItemProcessor"].get("States", {})):
            if any(marker in resource for marker in STANDARD_ONLY):
                raise ExpressError(
                    f"state {name} of an EXPRESS child uses {resource}, which only a "
                    "STANDARD workflow may"
                )
        config["ExecutionType"] = "STANDARD"
        express.append(map_name)
    if not express:
        return definition, []
    return json.dumps(document), express
