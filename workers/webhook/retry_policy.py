"""When a failed webhook is tried again: exponential backoff with jitter, for up to 24 hours."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

RETRY_WINDOW = timedelta(hours=24)

RETRYABLE_STATUS = frozenset({408, 425, 429}) | frozenset(range(500, 600))


def is_retryable(status_code: int | None) -> bool:
    """A timeout or connection error (``None``), a 5xx, 408 or 429 may pass; other answers will not."""
    return status_code is None or status_code in RETRYABLE_STATUS


def retry_delay(
    attempt: int,
    first_attempt_at: datetime,
    now: datetime,
    base_seconds: float,
    max_seconds: float,
    window: timedelta = RETRY_WINDOW,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1), or None to give up.

    The delay doubles from ``base_seconds`` up to ``max_seconds`` (``WEBHOOK_RETRY_MAX_SECONDS``, which
    the settings keep below the broker's visibility timeout, so a waiting retry is never delivered
    twice), with "equal jitter" (between half and all of it) so that receivers recovering from an outage
    are not hit by every sender at once. No retry is scheduled past ``window`` after the first attempt.
    """
    ceiling = min(base_seconds * (2 ** max(attempt - 1, 0)), max_seconds)
    delay = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
    deadline = first_attempt_at + window
    if now >= deadline:
        return None
    return min(delay, (deadline - now).total_seconds())
