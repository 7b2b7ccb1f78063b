"""The caller's keypad: keys collected into one input, the operator key, and the idle timer that ends a run
of keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent

from edge.core.clock import WALL_CLOCK, Clock

OPERATOR_KEY = "0"
"""DTMF digit that asks for the domain's operator (docs/contract.md), when pressed as the first key."""
DTMF_END_KEY = "#"
"""Ends the keys the caller is typing (a callback number)."""
DTMF_IDLE_SECONDS = 2.0
"""Keys typed are delivered as one input once no key has been pressed for this long."""


@dataclass(frozen=True)
class KeypadInput:
    """What a finished run of keys means: an operator request, or digits for the engine."""

    digits: str = ""
    operator: dict[str, Any] | None = None


class DtmfRouter:
    """Collects the caller's keys into one input (a callback number is typed, not spoken digit by digit).

    The operator key pressed as the first key asks for ``transfer_call`` to the operator at once; any
    other keys are collected until ``#`` (which is not part of the digits; ``#`` alone is delivered as
    itself) or until :data:`DTMF_IDLE_SECONDS` pass without a key (the caller's session calls
    :meth:`finish` then).
    """

    def __init__(self, operator_key: str = OPERATOR_KEY, end_key: str = DTMF_END_KEY) -> None:
        self.operator_key = operator_key
        self.end_key = end_key
        self.keys = ""

    def press(self, key: str) -> KeypadInput | None:
        """One key; the input it completes, or None while collecting."""
        if not key:
            return None
        if key == self.operator_key and not self.keys:
            return KeypadInput(operator={"destination": "operator", "reason": "caller pressed the operator key"})
        if key == self.end_key:
            keys, self.keys = self.keys, ""
            return KeypadInput(digits=keys or key)
        self.keys += key
        return None

    def finish(self) -> KeypadInput | None:
        """The keys collected so far as one input (no key for a while), or None if there are none."""
        keys, self.keys = self.keys, ""
        return KeypadInput(digits=keys) if keys else None

    def clear(self) -> None:
        """Forget the keys collected so far."""
        self.keys = ""


class Keypad:
    """One call's keys: a :class:`DtmfRouter` and its idle timer; a finished input goes to ``on_input``."""

    def __init__(self, on_input: Callable[[KeypadInput], None], clock: Clock = WALL_CLOCK) -> None:
        self.router = DtmfRouter()
        self.on_input = on_input
        self.clock = clock
        self._idle: gevent.Greenlet | None = None

    def press(self, digit: str) -> None:
        """One key: deliver the input it completes, or (re)start the idle timer while keys are pending."""
        self._stop_timer()
        keypad = self.router.press(digit)
        if keypad is not None:
            self.on_input(keypad)
        elif self.router.keys:
            self._idle = self.clock.call_later(DTMF_IDLE_SECONDS, self._finish)

    def _finish(self) -> None:
        self._idle = None
        keypad = self.router.finish()
        if keypad is not None:
            self.on_input(keypad)

    def _stop_timer(self) -> None:
        if self._idle is not None:
            self._idle.kill(block=False)
            self._idle = None

    def clear(self) -> None:
        """Forget pending keys (the call is bridged or ending)."""
        self.router.clear()

    def close(self) -> None:
        """Stop the idle timer (the call's cleanup)."""
        self._stop_timer()
