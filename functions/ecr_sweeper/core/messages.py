"""How a value the user wrote is shown in a message: short, quoted, never a huge repr;
and where it is, as `repositories[2].expires`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

# A place in a document: list indices are ints, mapping keys are their text (key_text).
Path = tuple[int | str, ...]


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_repr(value: str, limit: int = 60) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 4] + "...'"


def describe(value: Any) -> str:
    """A short description of a YAML or JSON value for messages (never a huge repr)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        text = str(value) if value.bit_length() < 200 else "(a very large number)"
        return f"integer {text}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {short_repr(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__} ({clip(str(value))})"


def key_text(key: Any) -> str:
    """A mapping key as part of a location: as written if plain, else quoted or described
    (so it is never blank and never mistaken for a list index)."""
    if not isinstance(key, str):
        return describe(key)
    if key and key.isprintable() and key.strip() == key and ": " not in key:
        return clip(key, 80)
    return short_repr(key)


def location(path: Sequence[int | str]) -> str:
    """`repositories[2].expires` for ("repositories", 2, "expires"); "" for the top."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def problems_of(error: ValidationError) -> list[tuple[Path, str]]:
    """Each error of a pydantic validation: where (as a Path) and what."""
    return [(tuple(e["loc"]), e["msg"]) for e in error.errors()]


def validation_problems(error: ValidationError, top: str = "(top level)") -> list[str]:
    """Each error of a pydantic validation as "where: what", `top` naming the whole value."""
    return [f"{location(where) or top}: {what}" for where, what in problems_of(error)]
