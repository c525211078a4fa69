"""Byte sizes printed the way ecrm prints them (go-humanize ``Bytes``: decimal units)."""

from __future__ import annotations

import math

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
_BASE = 1000


def format_size(n: int) -> str:
    """``0 B``, ``999 B``, ``1.0 kB``, ``84 MB``, ``1.2 GB``: one decimal below 10."""
    if n < 0:
        return "-" + format_size(-n)
    if n < 10:
        return f"{n} B"
    exponent = 0
    while exponent < len(_UNITS) - 1 and n >= _BASE ** (exponent + 1):
        exponent += 1
    value = math.floor(n / float(_BASE**exponent) * 10 + 0.5) / 10
    if value < 10:
        return f"{value:.1f} {_UNITS[exponent]}"
    return f"{value:.0f} {_UNITS[exponent]}"


def format_cell(count: int, size: int, negative: bool = False) -> str:
    """A report cell: ``55 (924 MB)``, or ``-5 (84 MB)`` for the EXPIRED column."""
    shown = -count if negative else count
    return f"{shown} ({format_size(size)})"
