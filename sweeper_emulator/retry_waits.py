"""Retry waits, compressed: botocore's backoff and its adaptive rate limiter run faster.

Retry waits are real seconds; an emulated run compresses them so that a test of ten
retries does not take minutes. The number and order of attempts are unchanged.

Imports nothing but the standard library and botocore: the artifact mode's bootstrap
loads this file by path into a function's own process, next to the function's own
botocore, where the emulator's package is not importable.
"""

from __future__ import annotations

import time
from typing import Any


class ScaledTime:
    """`time` for the modules that wait between retries, with waits scaled down."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def scale_botocore_waits(scale: float) -> ScaledTime:
    """Scale botocore's waits in this process (1.0 puts them back); returns the clock."""
    import botocore.endpoint
    from botocore.retries import bucket

    scaled = ScaledTime(scale)
    botocore.endpoint.time = scaled  # type: ignore[assignment]
    # The adaptive retry mode's client-side rate limiter refills on its own clock:
    # run that clock faster by the same factor, and shorten its waits to match.
    epoch = time.time()
    bucket.Clock.current_time = lambda self: epoch + (time.time() - epoch) / scale
    if not hasattr(bucket.TokenBucket, "_unscaled_sleep_amount"):
        bucket.TokenBucket._unscaled_sleep_amount = bucket.TokenBucket._sleep_amount
    bucket.TokenBucket._sleep_amount = lambda self, amount: (
        bucket.TokenBucket._unscaled_sleep_amount(self, amount) * scale
    )
    return scaled
