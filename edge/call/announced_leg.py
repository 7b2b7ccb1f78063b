"""The leg of an announced transfer (:mod:`edge.call.announce`): the person who answered hears who is
calling, as the engine's greeting, and takes the call or not; no conversation is stored."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from edge.call.announce import ACCEPT_KEY, ANNOUNCE_VARIABLE, DECLINE_KEY
from edge.core.state import CallState
from shared.logging import Tag

if TYPE_CHECKING:
    from edge.call.session import CallSession


def serve_announced_leg(call: CallSession) -> None:
    """Find the caller's waiting announcement, speak it and wait for the answer (keys or words)."""
    assert call.context is not None
    caller_uuid = call.channel.get(f"variable_{ANNOUNCE_VARIABLE}")
    caller = call.services.find_call(caller_uuid, other_than=call)
    if caller is None or caller.announcement is None or caller.announcement.result.ready():
        call.log.error("announced leg for %s, which no longer waits for it: hanging up", caller_uuid)
        call.safe(call.esl.hangup, "NORMAL_CLEARING")
        return
    call.announcement = caller.announcement
    call.context = dataclasses.replace(call.context, secretary=dataclasses.replace(
        call.context.secretary, greeting_message=call.announcement.text))
    call.log.info(Tag.SESSION, "announcing the call of %s", caller_uuid)
    if not call.start_audio() or not call.engines.start():
        call.announcement.decide("hangup")
        return
    call.spawn(_deadline, call)
    call.event_loop()


def _deadline(call: CallSession) -> None:
    """No answer within ``TRANSFER_ANNOUNCE_ANSWER_SECONDS`` (of the call's clock) of the announcement being heard."""
    clock = call.services.clock
    seconds = call.services.settings.transfer_announce_answer_seconds
    while call.machine.state == CallState.GREETING or (call.stream is not None and call.stream.queued):
        clock.sleep(0.1)
    if call.announcement is not None and not clock.wait(call.announcement.result, seconds):
        answer(call, "no_input")


def key_pressed(call: CallSession, digit: str) -> None:
    """``1`` takes the call, ``2`` declines it; other keys mean nothing here."""
    if digit in (ACCEPT_KEY, DECLINE_KEY):
        answer(call, "accepted" if digit == ACCEPT_KEY else "declined")


def answer(call: CallSession, outcome: str) -> None:
    """The person who answered took the call (the caller's session bridges it) or not (hang up)."""
    if call.announcement is None or not call.announcement.decide(outcome):
        return
    call.log.info(Tag.SESSION, "announced transfer: %s", outcome)
    call.audio_paused = True
    call.host.flush_playback()
    if outcome == "accepted":
        call.machine.move(CallState.TRANSFERRING)  # keys are the caller's business from now on
        if call.transport is not None:
            call.transport.pause()
        engine, call.engine = call.engine, None
        if engine is not None:  # no vendor session for a leg that now talks to the caller
            call.spawn(engine.close)
        return
    call.machine.move(CallState.ENDING)
    call.safe(call.esl.hangup, "NORMAL_CLEARING")
