"""Wildcards as ecrm matches names and tags: `*` any run of characters (also empty), `?`
exactly one character, anything else (including `/`, `[`, `\\`) literal. Case-sensitive.
Same as ecrm's wildcard package.

Pure: no I/O.
"""

from __future__ import annotations

__all__ = ["wildcard_match"]


def wildcard_match(pattern: str, text: str) -> bool:
    """True if `text` matches `pattern` as a whole. Linear-ish (no regex backtracking)."""
    p = t = 0
    star = -1  # position in pattern of the last `*` seen
    mark = 0  # position in text the last `*` is currently made to cover up to
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif star >= 0:
            # Let the last `*` swallow one more character and retry.
            mark += 1
            p, t = star + 1, mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)
