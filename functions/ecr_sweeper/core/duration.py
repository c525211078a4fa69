"""Durations (`expires: 30days`), read as ecrm reads them.

ecrm parses durations with github.com/k1LoW/duration: terms of `number unit`, spaces
ignored, units case-insensitive, a number may have a fraction, and a sign carries
to the terms after it (`1d-2h3h` is 1d - 2h - 3h = 19h; a `+` turns it back). The
value is Go's int64 nanoseconds, each term truncated towards zero.

We read the same text to the same number of nanoseconds, with a message for every
mistake. Where we differ, it is towards keeping more:

* a number without a unit, or with a sign inside it (ecrm reads `1-2h` as -12h),
  is an error;
* more than Go's int64 (about 292 years) is an error;
* the result is rounded *up* to whole microseconds (Python's resolution), so a
  cutoff (`now - expires`) is never later than ecrm's;
* a duration of zero or less is refused where a positive one is needed
  (:func:`check_positive`): ecrm would take `expires: 1d-24h` as "everything
  pushed before now is expired".

Pure: no I/O.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction

from ecr_sweeper.core.messages import clip, short_repr

__all__ = ["MAX_DURATION", "check_positive", "minus_carries", "parse_duration", "parse_ns"]

_NS = 1
_US = 1_000 * _NS
_MS = 1_000 * _US
_S = 1_000 * _MS
_MIN = 60 * _S
_H = 60 * _MIN
_D = 24 * _H
_W = 7 * _D
_SPELLINGS: dict[int, tuple[str, ...]] = {
    _NS: ("ns", "nsec", "nanosecond", "nanoseconds"),
    _US: ("us", "usec", "microsecond", "microseconds"),
    _MS: ("ms", "msec", "millisecond", "milliseconds"),
    _S: ("s", "sec", "second", "seconds"),
    _MIN: ("m", "min", "minute", "minutes"),
    _H: ("h", "hour", "hours"),
    _D: ("d", "day", "days"),
    _W: ("w", "week", "weeks"),
}
_NS_PER_UNIT = {spelling: ns for ns, spellings in _SPELLINGS.items() for spelling in spellings}
_UNITS_HELP = (
    "ns, nsec, nanosecond(s), us, usec, microsecond(s), ms, msec, millisecond(s), "
    "s, sec, second(s), m, min, minute(s), h, hour(s), d, day(s), w, week(s)"
)
# Go's time.Duration is int64 nanoseconds (about 292 years); ecrm cannot express more.
_MAX_NS = 2**63 - 1
MAX_DURATION = timedelta(microseconds=_MAX_NS // 1000)
_MAX_NUMBER_CHARS = 40


@dataclass(frozen=True)
class _Term:
    negative: bool
    signed: bool  # the term has its own sign (else it carries the previous one)
    number: str
    unit: str


def _terms(text: str) -> list[_Term]:
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: must be a string like '30days'")
    quoted = short_repr(text)
    s = "".join(c.lower() if c.isascii() else c for c in text if not c.isspace())
    if not s:
        raise ValueError(f"invalid duration {quoted}: empty (write for example '30days')")

    def fail(problem: str) -> ValueError:
        return ValueError(f"invalid duration {quoted}: {problem}")

    terms: list[_Term] = []
    negative = False
    i, n = 0, len(s)
    while i < n:
        signed = False
        while i < n and s[i] in "+-":  # the last sign written wins, as in ecrm
            negative, signed = s[i] == "-", True
            i += 1
        start = i
        while i < n and ((s[i].isascii() and s[i].isdigit()) or s[i] == "."):
            i += 1
        number = s[start:i]
        unit_start = i
        while i < n and s[i].isascii() and s[i].isalpha():
            i += 1
        unit = s[unit_start:i]
        if not number:
            if unit:
                raise fail(f"missing number before unit '{clip(unit)}'")
            if i >= n:
                raise fail("ends without a number and unit")
            raise fail(f"unexpected character {s[i]!r}")
        if number.count(".") > 1 or number == ".":
            raise fail(f"invalid number '{clip(number)}'")
        if len(number) > _MAX_NUMBER_CHARS:
            raise fail("number too long")
        if not unit:
            if i < n and s[i] not in "+-":
                raise fail(f"unexpected character {s[i]!r} after '{clip(number)}'")
            raise fail(f"missing unit after '{clip(number)}' (for example '{clip(number)}days')")
        if unit not in _NS_PER_UNIT:
            hint = difflib.get_close_matches(unit, _NS_PER_UNIT, n=1)
            extra = f"did you mean '{hint[0]}'? " if hint else ""
            raise fail(f"unknown unit '{clip(unit)}' ({extra}units: {_UNITS_HELP})")
        terms.append(_Term(negative, signed, number, unit))
    return terms


def parse_ns(text: str) -> int:
    """The duration in nanoseconds, exactly as ecrm computes it (each term truncated
    towards zero). May be zero or negative. Raises ValueError naming the problem."""
    total = 0
    for term in _terms(text):
        value = math.trunc(Fraction(term.number) * _NS_PER_UNIT[term.unit])
        total += -value if term.negative else value
        if abs(total) > 2 * _MAX_NS:
            break
    if abs(total) > _MAX_NS:
        raise ValueError(f"invalid duration {short_repr(text)}: too long (at most about 292 years)")
    return total


def parse_duration(text: str) -> timedelta:
    """Parse an ecrm duration such as `30days`, `30 days`, `1d12h`, `1w 2d`, `1.5h`,
    `1d-2h3h` (19 hours). Rounded up to whole microseconds. May be zero or negative:
    see :func:`check_positive`. Raises ValueError with a message naming the problem."""
    return timedelta(microseconds=-(-parse_ns(text) // 1000))


def check_positive(text: str, consequence: str = "") -> timedelta:
    """Parse `text`, refusing a duration of zero or less (ecrm accepts one, and as an
    `expires` it would make every image expired at once). `consequence` says what
    such a value would do where it is used."""
    ns = parse_ns(text)
    if ns <= 0:
        shown = f"-{timedelta(microseconds=-ns // 1000)}" if ns < 0 else "0s"
        raise ValueError(
            f"invalid duration {short_repr(text)}: comes to zero or less ({shown}); "
            f"{consequence or 'it must be more than zero'}"
        )
    return parse_duration(text)


def minus_carries(text: str) -> bool:
    """True when a minus sign in `text` applies to more than the term right after it
    (`1d-2h3h`): ecrm's reading, which may not be what was meant."""
    try:
        terms = _terms(text)
    except ValueError:
        return False
    return any(t.negative and not t.signed for t in terms)
