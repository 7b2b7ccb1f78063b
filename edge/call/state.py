"""The call's explicit state machine; every transition is logged under 🔄 STATE_MACHINE."""

from __future__ import annotations

from collections.abc import Callable

from edge.core.state import CallState
from shared.logging import CallLogger, Tag

S = CallState
_TALKING = {S.GREETING, S.LISTENING, S.SPEAKING, S.TOOL_RUNNING, S.TRANSFERRING}
ALLOWED: dict[CallState, set[CallState]] = {
    S.CONNECTING: {S.GREETING, S.LISTENING, S.TRANSFERRING, S.ENDING, S.ENDED},
    S.GREETING: _TALKING | {S.ENDING, S.ENDED},
    S.LISTENING: _TALKING - {S.GREETING} | {S.ENDING, S.ENDED},
    S.SPEAKING: _TALKING - {S.GREETING} | {S.ENDING, S.ENDED},
    S.TOOL_RUNNING: _TALKING - {S.GREETING} | {S.ENDING, S.ENDED},
    S.TRANSFERRING: {S.LISTENING, S.SPEAKING, S.ENDING, S.ENDED},
    S.ENDING: {S.ENDED},
    S.ENDED: set(),
}
"""Which state may follow which (ENDING only leads to ENDED: nothing revives a call being ended)."""


class CallStateMachine:
    """Holds the state; refuses (and logs) transitions that ALLOWED does not list."""

    def __init__(self, log: CallLogger) -> None:
        self.state = CallState.CONNECTING
        self.log = log
        self.history: list[CallState] = [self.state]
        self.listeners: list[Callable[[CallState, CallState], None]] = []
        """Called with ``(old, new)`` after every transition (the call's timers listen)."""

    def move(self, new: CallState) -> bool:
        """Go to ``new``; True if the state changed."""
        if new == self.state:
            return False
        if new not in ALLOWED[self.state]:
            self.log.debug(Tag.STATE_MACHINE, "ignored %s -> %s", self.state, new)
            return False
        self.log.info(Tag.STATE_MACHINE, "%s -> %s", self.state, new)
        old, self.state = self.state, new
        self.history.append(new)
        for listener in list(self.listeners):
            listener(old, new)
        return True

    @property
    def ended(self) -> bool:
        """The call is ending or over."""
        return self.state in (CallState.ENDING, CallState.ENDED)
