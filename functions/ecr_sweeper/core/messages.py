"""How a value the user wrote is shown in a message: short, quoted, never a huge repr."""

from __future__ import annotations


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_repr(value: str, limit: int = 60) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 4] + "...'"
