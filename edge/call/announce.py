"""Announced (warm) transfers: whoever answers hears the secretary first, and takes the call or not.

The caller's session rings the destination with ``originate … &socket(<edge> async full)`` and the
channel variable ``voice_ai_announce_for=<caller's uuid>``: once answered, the new leg reaches the edge
the way callers do, as a call session of its own, which finds the waiting :class:`Announcement` of the
caller's session, speaks it with the same engine as the call (as its greeting) and listens:

* key ``1`` or a "yes" → ``accepted``: the caller's session joins the two legs (``uuid_bridge``);
* key ``2`` or a "no" → ``declined``; nothing within ``TRANSFER_ANNOUNCE_ANSWER_SECONDS`` after the announcement →
  ``no_input``; the person hanging up → ``hangup``: the caller, who heard hold audio all along, is back
  with the secretary and hears the rule's fallback offer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gevent.event import AsyncResult

from edge.dialogue.phrases import phrases
from shared.transfer_rules import normalise

ANNOUNCE_VARIABLE = "voice_ai_announce_for"
"""Channel variable naming the caller's call on the leg that hears an announcement."""
ACCEPT_KEY, DECLINE_KEY = "1", "2"
YES_WORDS = frozenset({"yes", "yeah", "yep", "sure", "ok", "okay", "accept", "sim", "pode", "claro", "aceito"})
NO_WORDS = frozenset({"no", "nope", "decline", "nao", "recuso", "agora"})


def announcement_text(language: str | None, caller_name: str | None, caller_id: str | None,
                      reason: str | None) -> str:
    """What the person who answers hears: who is calling, why, and how to take the call."""
    book = phrases(language, "announce")
    caller = (caller_name or "").strip() or " ".join(caller_id or "") or book["someone"]
    about = book["about"].format(reason=reason.strip().rstrip(".")) if reason and reason.strip() else ""
    return book["announcement"].format(caller=caller, about=about)


def spoken_answer(text: str | None) -> str | None:
    """``accepted``, ``declined`` or None (neither) for what the person said."""
    words = set(normalise(text or "").split())
    if words & NO_WORDS:
        return "declined"
    if words & YES_WORDS:
        return "accepted"
    return None


@dataclass
class Announcement:
    """One announced transfer, shared by the caller's session and the announced leg's session."""

    text: str
    result: AsyncResult = field(default_factory=AsyncResult)
    """``accepted``, ``declined``, ``no_input`` or ``hangup``; set once."""

    def decide(self, outcome: str) -> bool:
        """Record the outcome if none is known yet; True if this call decided it."""
        if self.result.ready():
            return False
        self.result.set(outcome)
        return True
