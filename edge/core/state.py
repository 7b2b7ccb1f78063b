"""The states of a call (the machine that moves between them is :mod:`edge.call.state`)."""

from __future__ import annotations

from enum import StrEnum


class CallState(StrEnum):
    """The explicit call states; every transition is logged under 🔄 STATE_MACHINE."""

    CONNECTING = "connecting"
    GREETING = "greeting"
    LISTENING = "listening"
    SPEAKING = "speaking"
    TOOL_RUNNING = "tool-running"
    TRANSFERRING = "transferring"
    ENDING = "ending"
    ENDED = "ended"
