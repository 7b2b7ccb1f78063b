"""Waiting in tests for something a user would notice (a hangup, a stored row), without fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.freeswitch import FakeCall


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, step: float = 0.02,
               sleep: Callable[[float], None] = time.sleep) -> Any:
    """Poll ``predicate`` until it returns something truthy and return that; after ``timeout`` seconds
    return its last (falsy) value, for the test's ``assert`` to report. Greenlets that must run
    meanwhile need ``sleep=gevent.sleep``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        sleep(step)
    return predicate()


def let_frames_pass(call: FakeCall, frames: int, timeout: float = 15.0) -> bool:
    """Wait until ``frames`` more 20 ms frames of ``call`` have gone by on the fake FreeSWITCH's own media
    clock: a window of call time (not of the test's time) in which something must *not* happen."""
    start = call.sent_frames
    return wait_until(lambda: call.sent_frames >= start + frames, timeout)
