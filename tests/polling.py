"""Waiting in tests for something a user would notice (a hangup, a stored row), without fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, step: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy and return that; after ``timeout`` seconds
    return its last (falsy) value, for the test's ``assert`` to report."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
