"""When the secretary cannot serve a call: a rejected call, the domain's fallback destination, or the
edge's own goodbye (in the offline voice over the call's audio, else a tone or the configured prompt)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.call.recorder import now_iso
from edge.call.setup import CallRejected, FallbackRoute
from edge.core.state import CallState
from edge.dialogue.phrases import phrase
from edge.services.offline.tts import OfflineTextToSpeech
from shared.logging import Tag

if TYPE_CHECKING:
    from edge.call.session import CallSession

GOODBYE_TONE = "tone_stream://%(500,500,480,620);loops=3"
"""Three seconds of a reorder tone: "this call cannot go on", heard where no words can be."""


def reject(call: CallSession, exc: CallRejected) -> None:
    """Unknown, disabled or other-tenant secretary: nothing is played, no vendor is contacted (the
    fallback destination, if any, takes the call; with no set-up at all the caller hears the goodbye)."""
    call.log.error("call rejected: %s", exc.reason)
    call.call_outcome.rejected()
    if exc.fallback is not None:
        transfer_out(call, exc.fallback)
    else:
        if exc.goodbye:  # no set-up at all (database down): the caller hears that nobody will answer
            call.safe(call.esl.execute, "answer", wait=True, timeout=5)
            call.safe(call.esl.execute, "playback", goodbye_prompt(call), wait=True, timeout=30)
        call.safe(call.esl.hangup, "NORMAL_CLEARING")
    call.machine.move(CallState.ENDED)


def transfer_out(call: CallSession, route: FallbackRoute) -> None:
    """Send the caller to the domain's fallback destination with the ``transfer`` application."""
    call.machine.move(CallState.TRANSFERRING)
    call.log.info(Tag.SESSION, "transferring to fallback destination %s", route.destination)
    call.call_outcome.transferred(route.destination)
    # The transfer takes the channel out of the socket app; wait for it before closing the socket.
    call.safe(call.esl.execute, "transfer", f"{route.destination} XML {route.context}", wait=True, timeout=5)


def fall_back(call: CallSession, reason: str, *, audio: bool = True) -> None:
    """The engine cannot serve: transfer to the domain's fallback destination, else goodbye + hangup.

    The goodbye is the edge's own words over the call's audio (``audio``: the transport works), in
    the offline voice; without audio it is a tone, never a sound file the server may not have.
    """
    if call.machine.ended or call.esl.closed.is_set():
        return
    call.call_outcome.failed()
    if call.stream is not None:
        call.stream.flush()
    fallback = call.setup.fallback if call.setup else None
    if fallback is not None:
        if call.transport is not None:
            call.transport.close()
        transfer_out(call, fallback)
        call.machine.move(CallState.ENDING)
        return
    call.machine.move(CallState.ENDING)
    call.log.info(Tag.SESSION, "no fallback destination: goodbye and hangup (%s)", reason)
    if not (audio and _speak_goodbye(call)):
        if call.transport is not None:
            call.transport.close()
        call.safe(call.esl.execute, "playback", goodbye_prompt(call), wait=True, timeout=30)
    call.safe(call.esl.hangup, "NORMAL_CLEARING")


def _speak_goodbye(call: CallSession) -> bool:
    """Say the fallback goodbye in the offline voice over the call's audio; False if it cannot."""
    if call.stream is None or call.transport is None:
        return False
    language = call.context.secretary.language if call.context else None
    text = phrase(language, "transfer.unavailable_goodbye")
    try:
        audio = OfflineTextToSpeech(language).synthesize(text)
    except Exception as exc:  # noqa: BLE001 - no espeak-ng: the tone instead
        call.log.error("fallback goodbye could not be synthesized: %s", exc)
        return False
    call.turns.began("assistant", now_iso())
    call.stream.begin_utterance()
    call.stream.push(audio)
    call.stream.wait_drained(timeout=len(audio) / 8000 + 5)
    call.host.record("assistant", text)
    return True


def goodbye_prompt(call: CallSession) -> str:
    """``VOICE_AI_FALLBACK_PROMPT`` when set, else a tone (stock ``mod_tone_stream``): FreeSWITCH's
    sound files depend on its ``sound_prefix`` and sounds package, and are absent on many servers."""
    return call.services.fallback_prompt or GOODBYE_TONE
