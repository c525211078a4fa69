"""What moto's ASL parser refuses in a definition that AWS accepts, written as moto takes it.

moto's grammar (moto 5.2) takes `ToleratedFailurePercentage` only as a decimal number:
`100` is a parse error there, `100.0` is not. AWS takes both, and the AWS Toolkit's
validator (amazon-states-language-service, tests/unit/test_asl_validators.py) takes
only an integer, so the definition says `100` and `for_moto()` hands moto `100.0`, the
same number. moto ignores the value anyway (docs/emulator.md, Known limits).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def _states(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every state, those of Map children and Parallel branches included."""
    for state in states.values():
        yield state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _states(processor.get("States", {}))
        for branch in state.get("Branches", []):
            yield from _states(branch.get("States", {}))


def for_moto(definition: str) -> str:
    """The definition with each integer ToleratedFailurePercentage written as a decimal."""
    document = json.loads(definition)
    changed = False
    for state in _states(document.get("States", {})):
        value = state.get("ToleratedFailurePercentage")
        if isinstance(value, int) and not isinstance(value, bool):
            state["ToleratedFailurePercentage"] = float(value)
            changed = True
    return json.dumps(document) if changed else definition
