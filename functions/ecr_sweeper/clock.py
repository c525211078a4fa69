"""The one place the workflow reads the wall clock.

Only the in-use scan calls it: it fixes the run's "now", and every later step
judges expiry against that same instant (passed along in the run context), so a
run that spans midnight still treats every repository alike. The local emulator
replaces this function to run an inventory at its recorded time.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
