"""What a call is recorded as: its :class:`~shared.models.Outcome`, the transfer target and a taken message.

A call starts ``abandoned``. What happens during it moves the outcome through the few verbs of
:class:`CallOutcome`, which hold the precedence rules in one place: a transfer beats a message, a message
beats a plain resolved conversation, a timer's verdict (``ended_as``) is kept by the hangup that follows,
and a rejected call stays rejected.
"""

from __future__ import annotations

from shared.models import Outcome


class CallOutcome:
    """The outcome of one call, set only through its methods."""

    def __init__(self) -> None:
        self.value = Outcome.ABANDONED
        self.transfer_target: str | None = None
        self.taken_message: dict[str, str] | None = None
        self._final = False

    def resolved(self) -> None:
        """The conversation ends normally (goodbye, hangup by the secretary): ``resolved`` unless
        something else already happened."""
        if self.value is Outcome.ABANDONED and not self._final:
            self.value = Outcome.RESOLVED

    def ended_as(self, outcome: Outcome) -> None:
        """A timer ends the call with this outcome, kept whatever the hangup after it says."""
        self.value, self._final = outcome, True

    def transferred(self, target: str) -> None:
        """The caller was bridged (or sent to a fallback destination) to ``target``."""
        self.transfer_target = target
        if self.value is not Outcome.REJECTED:
            self.value = Outcome.TRANSFERRED

    def message_taken(self, message: dict[str, str]) -> None:
        """The caller left a message: ``message`` unless transferred (a later transfer still wins)."""
        self.taken_message = dict(message)
        if self.value in (Outcome.ABANDONED, Outcome.RESOLVED):
            self.value = Outcome.MESSAGE

    def failed(self) -> None:
        """No engine or no audio could serve the call, or the call's code failed."""
        self.value = Outcome.ERROR

    def rejected(self) -> None:
        """The secretary is unknown, disabled or another tenant's: nothing is stored."""
        self.value = Outcome.REJECTED
