"""One call, from FreeSWITCH's ``connect`` to the last released port: the :class:`CallSession`.

It implements :class:`~edge.engines.base.EngineHost` for its engine, owns the audio transport and the
playback stream on the process's pacing clock, runs the tools, records the conversation, and handles
every way a call can end (caller hangup, ``end_call``, engine failure, time limit, broken socket).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import gevent
from gevent.event import Event
from gevent.lock import Semaphore
from gevent.queue import Empty

from edge.call.announce import (
    ACCEPT_KEY,
    ANNOUNCE_VARIABLE,
    ANSWER_SECONDS,
    DECLINE_KEY,
    Announcement,
    spoken_answer,
)
from edge.call.knowledge import prepare_search
from edge.call.outcome import CallOutcome
from edge.call.recorder import ConversationRecorder, now_iso
from edge.call.ringback import Ringback, country_for, hold_music, ringback_cadence
from edge.call.setup import CallRejected, CallSetup, FallbackRoute, load_call_setup
from edge.call.state import CallStateMachine
from edge.call.timeouts import CallTimers
from edge.call.tools import DTMF_IDLE_SECONDS, DtmfRouter, KeypadInput, ToolDispatcher
from edge.call.transfer import (
    BridgeResult,
    TransferSettings,
    destination_problem,
    dial_string,
    directory_user_query,
    extension_do_not_disturb,
    job_result,
    load_transfer_settings,
    originate_command,
    run_transfer,
)
from edge.core.context import CallContext
from edge.core.state import CallState
from edge.dialogue.phrases import phrase
from edge.engines.base import Engine, EngineUnavailable, Notice
from edge.engines.registry import create_engine
from edge.esl.session import CLOSED, EslConnection, EslDisconnected
from edge.pacing import PlaybackStream
from edge.services.offline.tts import OfflineTextToSpeech
from edge.transports.base import AudioTransport, TransportError
from shared.logging import CallLogger, Tag, call_logger
from shared.models import Outcome

if TYPE_CHECKING:
    from edge.app import EdgeApp

ENGINE_RETRY_DELAY = 0.2
LINGER_SECONDS = 30
GOODBYE_TONE = "tone_stream://%(500,500,480,620);loops=3"
"""Three seconds of a reorder tone: "this call cannot go on", heard where no words can be."""
"""How long FreeSWITCH keeps a hung-up channel's socket for its last events (bounded: without a time
it keeps it for as long as the socket stays open)."""
HANGUP_EVENTS = {"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"}
DTMF_IGNORED_STATES = (CallState.TRANSFERRING, CallState.ENDING, CallState.ENDED)
"""Keys pressed while the caller is bridged to a person or the call is ending reach no engine."""


class CallSession:
    """One call's lifetime; :meth:`run` returns when everything of the call has been released."""

    def __init__(self, app: EdgeApp, esl: EslConnection, channel: dict[str, str], log: CallLogger) -> None:
        self.app = app
        self.esl = esl
        self.channel = channel
        self.call_uuid = channel.get("Unique-ID") or channel.get("variable_uuid") or "unknown"
        self.log = log
        self.machine = CallStateMachine(log)
        self.context: CallContext | None = None  # set once the secretary is loaded
        self.setup: CallSetup | None = None
        self.engine: Engine | None = None
        self._opened: Engine | None = None  # created and connecting while the call is answered
        self.transport: AudioTransport | None = None
        self.stream: PlaybackStream | None = None
        self.recorder: ConversationRecorder | None = None
        self.tools = ToolDispatcher()
        self.dtmf = DtmfRouter()
        self._dtmf_timer: gevent.Greenlet | None = None
        self.call_outcome = CallOutcome()
        self.ended = Event()
        self.timers: CallTimers | None = None
        self._audio_paused = False
        self._transfer_lock = Semaphore()
        self._bridge_idle = Event()
        self._bridge_idle.set()
        self._caller_gone = Event()
        self._transfer_settings: TransferSettings | None = None
        self.announcement: Announcement | None = None
        """The announced transfer this call is waiting on (caller side), or the one this leg hears."""
        self.announced_leg = bool(channel.get(f"variable_{ANNOUNCE_VARIABLE}"))
        self.hangup_at: float | None = None
        self._engine_retries = 1
        self._recovering = False
        self._speech_started_at: float | None = None
        # When the current assistant utterance and the caller's current speech began (a message's started_at).
        self._began: dict[str, str] = {}
        self._turn_clock: float | None = None
        self._pending_latency_ms: int | None = None
        self._greenlets: list[gevent.Greenlet] = []

    # --- lifecycle -------------------------------------------------------------------------------

    def run(self) -> None:
        """Serve the call to its end, then release everything."""
        try:
            self._run()
        except EslDisconnected:
            self.log.info(Tag.SESSION, "Event Socket closed by FreeSWITCH")
        except Exception:  # noqa: BLE001 - one call's bug never takes the process down
            self.call_outcome.failed()
            self.log.exception("call failed")
        finally:
            self._cleanup()

    def _run(self) -> None:
        self.esl.myevents()
        self.esl.subscribe("BACKGROUND_JOB")  # the results of the transfer's bgapi originate
        self.esl.linger(LINGER_SECONDS)
        try:
            setup = load_call_setup(self.channel.get("variable_domain_uuid"),
                                    self.channel.get("variable_voice_secretary_uuid"), self.log)
        except CallRejected as exc:
            self._reject(exc)
            return
        self.setup = setup
        self.log = call_logger("edge.call", call_uuid=self.call_uuid, domain_uuid=setup.domain_uuid)
        self.machine.log = self.log
        self.esl.log = self.log
        self.context = CallContext(
            call_uuid=self.call_uuid, domain_uuid=setup.domain_uuid, secretary=setup.secretary,
            providers=setup.providers, caller_id=self.channel.get("Caller-Caller-ID-Number"),
            caller_name=self.channel.get("Caller-Caller-ID-Name"),
            destination_number=self.channel.get("Caller-Destination-Number"), log=self.log,
            extra={"transfer_rules": list(setup.transfer_targets), "vocabulary": list(setup.vocabulary)},
        )
        self.log.info(Tag.SESSION, "call for secretary %s (%s), engine %s", setup.secretary.name,
                      setup.secretary.voice_secretary_uuid, setup.engine)
        if self.announced_leg:
            self._announce()
            return
        prepare_search(self.context)
        with suppress(Exception):  # an engine that cannot be created is reported by _start_engine
            self._opened = create_engine(setup.engine, self)
            self._opened.open()  # the vendor connection opens while FreeSWITCH answers
        self.esl.execute("answer", wait=True, timeout=10)
        self.timers = CallTimers(self, setup.secretary, self.log, setup.operator_destination)
        self.machine.listeners.append(self.timers.on_state)
        self.timers.start()
        # Recorded from here on: a call whose audio transport fails still leaves its row (outcome error).
        self.recorder = ConversationRecorder(self.app.publisher.publish, setup.domain_uuid, self.call_uuid)
        self.recorder.call_started(
            voice_secretary_uuid=setup.secretary.voice_secretary_uuid, caller_id=self.context.caller_id,
            caller_name=self.context.caller_name, destination_number=self.context.destination_number,
            engine=setup.engine)
        if not self._start_audio():
            return
        if not self._start_engine():
            return
        self._event_loop()

    def _announce(self) -> None:
        """This leg was answered by the destination of an announced transfer: say who is calling (the
        engine's greeting) and wait for the person to take the call or not; no conversation is stored."""
        assert self.context is not None
        caller_uuid = self.channel.get(f"variable_{ANNOUNCE_VARIABLE}")
        caller = next((c for c in list(self.app.calls) if c.call_uuid == caller_uuid and c is not self), None)
        if caller is None or caller.announcement is None or caller.announcement.result.ready():
            self.log.error("announced leg for %s, which no longer waits for it: hanging up", caller_uuid)
            self._safe(self.esl.hangup, "NORMAL_CLEARING")
            return
        self.announcement = caller.announcement
        self.context = dataclasses.replace(self.context, secretary=dataclasses.replace(
            self.context.secretary, greeting_message=self.announcement.text))
        self.log.info(Tag.SESSION, "announcing the call of %s", caller_uuid)
        if not self._start_audio() or not self._start_engine():
            self.announcement.decide("hangup")
            return
        self._greenlets.append(gevent.spawn(self._announcement_deadline))
        self._event_loop()

    def _announcement_deadline(self) -> None:
        """No answer within :data:`ANSWER_SECONDS` of the announcement being heard: declined."""
        while self.machine.state == CallState.GREETING or (self.stream is not None and self.stream.queued):
            gevent.sleep(0.1)
        if self.announcement is not None and not self.announcement.result.wait(ANSWER_SECONDS):
            self._announcement_answer("no_input")

    def _announcement_answer(self, outcome: str) -> None:
        """The person who answered took the call (the caller's session bridges it) or not (hang up)."""
        if self.announcement is None or not self.announcement.decide(outcome):
            return
        self.log.info(Tag.SESSION, "announced transfer: %s", outcome)
        self._audio_paused = True
        self.flush_playback()
        if outcome == "accepted":
            self.machine.move(CallState.TRANSFERRING)  # keys are the caller's business from now on
            if self.transport is not None:
                self.transport.pause()
            engine, self.engine = self.engine, None
            if engine is not None:  # no vendor session for a leg that now talks to the caller
                self._greenlets.append(gevent.spawn(engine.close))
            return
        self.machine.move(CallState.ENDING)
        self._safe(self.esl.hangup, "NORMAL_CLEARING")

    def _start_audio(self) -> bool:
        """Start the audio transport; if it cannot start, take the fallback path and return False."""
        codec = (self.channel.get("Channel-Read-Codec-Name") or "").upper()
        try:
            self.transport = self.app.make_transport(self, native=(codec == "PCMU"))
            self.stream = PlaybackStream(self.transport.send_frame, self.transport.lead_frames)
            self.app.pacer.add(self.stream)
            self.transport.start()
        except TransportError as exc:  # no dead air: fallback destination, else goodbye prompt
            self.log.error("audio transport %s failed: %s", self.app.settings.edge_audio_transport, exc)
            self._close_opened()  # no conversation starts: the vendor session opened early goes now
            self._fallback("audio transport failed", audio=False)
            return False
        self.log.info(Tag.SESSION, "audio over %s (%s)", self.transport.name, self.transport.wire_format(codec))
        return True

    def _close_opened(self) -> None:
        """Close the engine opened while the call was answered and never started: it was only given the
        session's configuration, never asked for a response (nothing heard, nothing billed), and its
        vendor connection is released at once, not held through the goodbye until the cleanup."""
        opened, self._opened = self._opened, None
        if opened is not None:
            try:
                opened.close()
            except Exception:  # noqa: BLE001 - the caller's goodbye must happen anyway
                self.log.exception("engine close failed")

    def _start_engine(self) -> bool:
        """Start the engine, retrying once; on failure take the fallback path and return False."""
        assert self.setup is not None
        for attempt in (1, 2):
            engine: Engine | None = None
            try:
                engine, self._opened = self._opened or create_engine(self.setup.engine, self), None
                self.engine = engine
                engine.start()
                return True
            except EngineUnavailable as exc:
                self._engine_error("start", f"engine {self.setup.engine} unavailable (attempt {attempt}): {exc}")
            except Exception as exc:  # noqa: BLE001
                self._engine_error("start", f"engine {self.setup.engine} failed to start: {exc!r}")
            if engine is not None:
                engine.close()
            self.engine = None
            if self.machine.ended or self.esl.closed.is_set():
                return False
            if attempt == 1:
                gevent.sleep(ENGINE_RETRY_DELAY)
        self._fallback("engine unavailable")
        return False

    def _engine_error(self, kind: str, message: str) -> None:
        self.app.metrics.engine_errors.inc(kind)
        self.log.error(message)

    def _event_loop(self) -> None:
        beat = self.app.settings.edge_heartbeat_seconds
        next_beat = time.monotonic() + beat
        while True:
            timeout = max(0.0, next_beat - time.monotonic())
            try:
                event = self.esl.events.get(timeout=timeout) if timeout else None
            except Empty:  # gevent's queue raises on timeout: nothing happened, time for a heartbeat
                event = None
            now = time.monotonic()
            if event is None:
                if now >= next_beat:
                    next_beat = now + beat
                    self.log.info(Tag.HEARTBEAT, "state=%s frames in=%d out=%d", self.machine.state,
                                  self.transport.frames_in if self.transport else 0,
                                  self.transport.frames_out if self.transport else 0)
                continue
            if event is CLOSED:
                return
            name = event.name
            if name in HANGUP_EVENTS:
                self.hangup_at = self.hangup_at or time.monotonic()
                self._caller_gone.set()
                self.log.info(Tag.SESSION, "hangup: %s", event.get("Hangup-Cause", "?"))
                return
            if name == "DISCONNECT-NOTICE":
                self._caller_gone.set()
                if event.get("Content-Disposition") != "linger":
                    return
                self.hangup_at = self.hangup_at or time.monotonic()
                return
            if name == "DTMF":
                self._on_dtmf(event.get("DTMF-Digit", ""))
            elif name == "CHANNEL_UNBRIDGE" and (self.call_outcome.transfer_target is not None or self.announced_leg):
                self._greenlets.append(gevent.spawn(self._hangup_after_bridge))
            elif name:
                self.log.debug(Tag.EVENT_BUS, "event %s", name)

    def _on_dtmf(self, digit: str) -> None:
        """A key: collected into one input (``#`` or a pause ends it), never seen while bridged or ending."""
        if self.announced_leg:
            if digit in (ACCEPT_KEY, DECLINE_KEY):
                self._announcement_answer("accepted" if digit == ACCEPT_KEY else "declined")
            return
        if self.machine.state in DTMF_IGNORED_STATES:
            self.log.info(Tag.EVENT_BUS, "DTMF ignored while %s", self.machine.state)
            self.dtmf.clear()
            return
        self.log.info(Tag.EVENT_BUS, "DTMF key")
        if self.timers is not None:
            self.timers.on_caller_activity()
        if self._dtmf_timer is not None:
            self._dtmf_timer.kill(block=False)
            self._dtmf_timer = None
        keypad = self.dtmf.press(digit)
        if keypad is not None:
            self._keypad_input(keypad)
        elif self.dtmf.keys:
            self._dtmf_timer = gevent.spawn_later(DTMF_IDLE_SECONDS, self._keypad_idle)
            self._greenlets = [g for g in self._greenlets if not g.dead] + [self._dtmf_timer]

    def _keypad_idle(self) -> None:
        self._dtmf_timer = None
        keypad = self.dtmf.finish()
        if keypad is not None:
            self._keypad_input(keypad)

    def _keypad_input(self, keypad: KeypadInput) -> None:
        """The operator key, or the typed keys as one text for the engine (not once bridged or ending)."""
        if self.machine.state in DTMF_IGNORED_STATES:
            return
        if keypad.operator is not None:
            gevent.spawn(self._operator_transfer, keypad.operator)
        elif self.engine is not None and keypad.digits:
            self.log.info(Tag.EVENT_BUS, "DTMF: %d keys to the engine", len(keypad.digits))
            self.engine.on_dtmf(keypad.digits)

    def _operator_transfer(self, arguments: dict[str, Any]) -> None:
        result = self.run_tool("transfer_call", arguments)
        # A failed transfer already told the caller what happened and what is offered (result "spoken").
        if (not result.get("ok") and not result.get("ended") and not result.get("spoken")
                and self.engine is not None and not self.machine.ended):
            self.engine.notify(Notice.OPERATOR_UNAVAILABLE)

    def _reject(self, exc: CallRejected) -> None:
        """Unknown, disabled or other-tenant secretary: nothing is played, no vendor is contacted."""
        self.log.error("call rejected: %s", exc.reason)
        self.call_outcome.rejected()
        if exc.fallback is not None:
            self._transfer_out(exc.fallback)
        else:
            if exc.goodbye:  # no set-up at all (database down): the caller hears that nobody will answer
                self._safe(self.esl.execute, "answer", wait=True, timeout=5)
                self._safe(self.esl.execute, "playback", self._goodbye_prompt(), wait=True, timeout=30)
            self._safe(self.esl.hangup, "NORMAL_CLEARING")
        self.machine.move(CallState.ENDED)

    def _transfer_out(self, route: FallbackRoute) -> None:
        self.machine.move(CallState.TRANSFERRING)
        self.log.info(Tag.SESSION, "transferring to fallback destination %s", route.destination)
        self.call_outcome.transferred(route.destination)
        # The transfer takes the channel out of the socket app; wait for it before closing the socket.
        self._safe(self.esl.execute, "transfer", f"{route.destination} XML {route.context}", wait=True, timeout=5)

    def _fallback(self, reason: str, *, audio: bool = True) -> None:
        """The engine cannot serve: transfer to the domain's fallback destination, else goodbye + hangup.

        The goodbye is the edge's own words over the call's audio (``audio``: the transport works), in
        the offline voice; without audio it is a tone, never a sound file the server may not have.
        """
        if self.machine.ended or self.esl.closed.is_set():
            return
        self.call_outcome.failed()
        if self.stream is not None:
            self.stream.flush()
        fallback = self.setup.fallback if self.setup else None
        if fallback is not None:
            if self.transport is not None:
                self.transport.close()
            self._transfer_out(fallback)
            self.machine.move(CallState.ENDING)
            return
        self.machine.move(CallState.ENDING)
        self.log.info(Tag.SESSION, "no fallback destination: goodbye and hangup (%s)", reason)
        if not (audio and self._speak_goodbye()):
            if self.transport is not None:
                self.transport.close()
            self._safe(self.esl.execute, "playback", self._goodbye_prompt(), wait=True, timeout=30)
        self._safe(self.esl.hangup, "NORMAL_CLEARING")

    def _speak_goodbye(self) -> bool:
        """Say the fallback goodbye in the offline voice over the call's audio; False if it cannot."""
        if self.stream is None or self.transport is None:
            return False
        language = self.context.secretary.language if self.context else None
        text = phrase(language, "transfer.unavailable_goodbye")
        try:
            audio = OfflineTextToSpeech(language).synthesize(text)
        except Exception as exc:  # noqa: BLE001 - no espeak-ng: the tone instead
            self.log.error("fallback goodbye could not be synthesized: %s", exc)
            return False
        self._began["assistant"] = now_iso()
        self.stream.begin_utterance()
        self.stream.push(audio)
        self.stream.wait_drained(timeout=len(audio) / 8000 + 5)
        self.record("assistant", text)
        return True

    def _goodbye_prompt(self) -> str:
        """``VOICE_AI_FALLBACK_PROMPT`` when set, else a tone (stock ``mod_tone_stream``): FreeSWITCH's
        sound files depend on its ``sound_prefix`` and sounds package, and are absent on many servers."""
        from edge.app import DEFAULT_FALLBACK_PROMPT

        if self.app.fallback_prompt and self.app.fallback_prompt != DEFAULT_FALLBACK_PROMPT:
            return self.app.fallback_prompt
        return GOODBYE_TONE

    def _safe(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (EslDisconnected, gevent.Timeout):
            return None
        except Exception as exc:  # noqa: BLE001 - FreeSWITCH refused (-ERR): log, go on ending
            self.log.error("FreeSWITCH command failed: %s", exc)
            return None

    def _cleanup(self) -> None:
        """Release engine, transport, port, pacer slot and socket; record the end of the call."""
        self._caller_gone.set()
        if self.announced_leg and self.announcement is not None:
            self.announcement.decide("hangup")  # hung up before taking the call or not
        self._bridge_idle.wait(3.0)  # a ringing transfer kills its new leg before the socket goes
        self.machine.move(CallState.ENDED)
        self.ended.set()
        if self.timers is not None:
            self.timers.stop()
        if self.stream is not None:
            self.stream.flush()
            self.app.pacer.remove(self.stream)
        self.log.debug(Tag.SESSION, "cleanup: engine")
        self._close_opened()
        if self.engine is not None:
            try:
                self.engine.close()
            except Exception:  # noqa: BLE001
                self.log.exception("engine close failed")
        if self.transport is not None:
            self.transport.close()
        for greenlet in self._greenlets:
            greenlet.kill(block=False)
        self.log.debug(Tag.SESSION, "cleanup: socket")
        self.esl.close()
        outcome = self.call_outcome
        if self.recorder is not None and self.recorder.started:
            self.recorder.call_ended(outcome.value, transfer_target=outcome.transfer_target,
                                     taken_message=outcome.taken_message)
        self.app.metrics.calls_total.inc(outcome.value)
        if self.hangup_at is not None:
            self.app.metrics.cleanup.observe(time.monotonic() - self.hangup_at)
        self.log.info(Tag.SESSION, "call ended: %s", outcome.value)

    # --- EngineHost ------------------------------------------------------------------------------

    def play(self, pcmu: bytes) -> None:
        """Queue caller-bound audio; the first audio after the caller stopped closes the turn clock."""
        if self.stream is None or self.machine.state == CallState.ENDED or self._audio_paused:
            return
        if self._turn_clock is not None:
            latency = time.monotonic() - self._turn_clock
            self._turn_clock = None
            self.app.metrics.turn_latency.observe(latency)
            self._pending_latency_ms = int(latency * 1000)
        self.stream.push(pcmu)

    def flush_playback(self) -> int:
        """Stop caller-bound audio now (edge queue and anything FreeSWITCH holds)."""
        if self.stream is None:
            return 0
        had_audio = self.stream.queued > 0
        sent = self.stream.flush()
        if self.transport is not None and had_audio:
            self.transport.flush()
        if had_audio and self._speech_started_at is not None:
            self.app.metrics.bargein.observe(time.monotonic() - self._speech_started_at)
            self.log.info(Tag.EVENT_BUS, "barge-in: playback stopped after %d ms heard", sent // 8)
        return sent

    def played_bytes(self) -> int:
        """Bytes of the current utterance sent so far."""
        return self.stream.utterance_sent if self.stream is not None else 0

    def begin_utterance(self) -> None:
        """A new assistant utterance starts."""
        self._began["assistant"] = now_iso()
        if self.stream is not None:
            self.stream.begin_utterance()

    def wait_playback_done(self, timeout: float | None = None) -> bool:
        """Block until queued audio is out; False on timeout or flush."""
        if self.stream is None:
            return True
        return self.stream.wait_drained(timeout)

    def set_state(self, state: CallState) -> None:
        """Move the state machine."""
        self.machine.move(state)

    def record(self, role: str, content: str | None, **fields: Any) -> None:
        """Add a message to the conversation record (published in the background)."""
        if self.announced_leg and role == "user":
            answer = spoken_answer(content)
            if answer is not None:
                self._announcement_answer(answer)
        if self.recorder is None:
            return
        if role == "user" and content and self.timers is not None:
            self.timers.on_caller_turn()
        if role == "assistant" and "latency_ms" not in fields and self._pending_latency_ms is not None:
            fields["latency_ms"] = self._pending_latency_ms
            self._pending_latency_ms = None
        began = self._began.pop(role, None)  # a message is dated from when it began to be said
        if began is not None and "started_at" not in fields:
            fields["started_at"] = began
        self.recorder.message(role, content, **fields)

    def run_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run a tool and record it."""
        if self.announced_leg:  # the person hearing an announcement only takes the call or not
            return {"ok": False, "error": "not_available",
                    "message": "Ask them to press 1 or say yes to take the call, or press 2 to decline."}
        if not self.machine.ended:
            self.machine.move(CallState.TOOL_RUNNING)
        self.log.info(Tag.EVENT_BUS, "tool %s", name)
        result = self.tools.dispatch(self, name, arguments)
        self.record("tool", None, tool_name=name, tool_arguments=arguments, tool_result=result)
        return result

    def caller_speech_started(self) -> None:
        """The caller started speaking (barge-in clock)."""
        self._began["user"] = now_iso()
        self._speech_started_at = time.monotonic()
        self._turn_clock = None
        if self.timers is not None:
            self.timers.on_caller_speech_started()

    def caller_speech_stopped(self) -> None:
        """The caller stopped speaking (turn-latency clock)."""
        self._turn_clock = time.monotonic()
        if self.timers is not None:
            self.timers.on_caller_speech_stopped()

    def hangup(self, reason: str) -> None:
        """Hang up once queued audio has been heard."""
        if self.esl.closed.is_set():
            return
        self.machine.move(CallState.ENDING)
        self.wait_playback_done(timeout=30)
        self.log.info(Tag.SESSION, "hanging up: %s", reason)
        self.call_outcome.resolved()
        self._safe(self.esl.hangup, "NORMAL_CLEARING")

    def engine_failed(self, reason: str) -> None:
        """The engine lost its vendor mid-call: retry once with a new engine, then fall back."""
        if self._recovering or self.machine.ended or self.esl.closed.is_set():
            return
        self._recovering = True
        self._greenlets.append(gevent.spawn(self._recover, reason))

    def _recover(self, reason: str) -> None:
        self._engine_error("disconnect", f"engine lost mid-call: {reason}")
        if self.stream is not None:
            self.stream.flush()
        old, self.engine = self.engine, None
        if old is not None:
            old.close()
        if self._engine_retries > 0 and self.setup is not None:
            self._engine_retries -= 1
            gevent.sleep(ENGINE_RETRY_DELAY)
            try:
                engine = create_engine(self.setup.engine, self)
                if self.context is not None:
                    self.context.extra["resumed"] = True
                self.engine = engine
                engine.start()
                self.log.info(Tag.SESSION, "engine reconnected")
                self._recovering = False
                return
            except Exception as exc:  # noqa: BLE001
                self._engine_error("start", f"engine reconnect failed: {exc}")
                if self.engine is not None:
                    self.engine.close()
                self.engine = None
        self._fallback(reason)

    # --- CallControl (tools) ---------------------------------------------------------------------

    def end_call(self, reason: str, *, goodbye: str | None = None, outcome: str | None = None) -> None:
        """Say ``goodbye`` (default: the secretary's goodbye message), then hang up.

        ``outcome`` (timers) is recorded as given; without it the conversation counts as resolved.
        """
        if self.machine.ended:
            return
        self.machine.move(CallState.ENDING)
        if outcome is not None:
            self.call_outcome.ended_as(Outcome(outcome))
        self.call_outcome.resolved()
        if goodbye is None:
            goodbye = self.context.secretary.goodbye_message if self.context else ""
        self.log.info(Tag.SESSION, "ending call: %s", reason)
        if goodbye and self.engine is not None:
            try:
                self.engine.say(goodbye)
            except Exception as exc:  # noqa: BLE001 - the hangup must happen anyway
                self.log.error("goodbye failed: %s", exc)
        self.hangup(reason)

    # --- TimerHost (edge.call.timeouts) ----------------------------------------------------------

    @property
    def state(self) -> CallState:
        """The call's current state."""
        return self.machine.state

    @property
    def outcome(self) -> Outcome:
        """The conversation's outcome so far."""
        return self.call_outcome.value

    def listen(self) -> None:
        """Back to LISTENING after a timer's prompt."""
        if not self.machine.ended:
            self.machine.move(CallState.LISTENING)

    # --- call features (edge/call/transfer.py, edge/call/tools.py) -------------------------------

    def say(self, text: str) -> None:
        """Speak a fixed text through the engine; returns once heard (or when the caller interrupts)."""
        if not text or self.engine is None or self.machine.ended:
            return
        try:
            self.engine.say(text)
        except Exception as exc:  # noqa: BLE001 - an interrupted or failed sentence never stops the tool
            self.log.info(Tag.SESSION, "say interrupted: %s", type(exc).__name__)

    def transfer(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """``transfer_call``: one at a time per call."""
        if not self._transfer_lock.acquire(blocking=False):
            return {"ok": False, "error": "transfer_in_progress", "message": "A transfer is already in progress."}
        try:
            return run_transfer(self, arguments)
        finally:
            self._transfer_lock.release()

    def transfer_settings(self) -> TransferSettings:
        """The domain's name (its dialplan context) and ringing settings, read once per call."""
        if self._transfer_settings is None:
            assert self.context is not None
            self._transfer_settings = load_transfer_settings(self.context.domain_uuid)
        return self._transfer_settings

    def unavailable(self, destination: str, context: str) -> BridgeResult | None:
        """Refuse a destination outside the tenant (❌ ERROR), or one that cannot answer now: an
        extension with do-not-disturb on, a directory user with no registered phone. None: ring it."""
        if self.machine.ended or self.esl.closed.is_set() or self.context is None:
            return BridgeResult("hangup", "CALL_ENDED")
        settings = self.transfer_settings()
        context = context or settings.domain_name
        problem = destination_problem(destination, context, settings.domain_name)
        if problem is not None:
            self.log.error("transfer refused, treated as unavailable: %s", problem)
            return BridgeResult("unavailable", "INVALID_DESTINATION")
        try:
            dnd = extension_do_not_disturb(self.context.domain_uuid, destination)
        except Exception as exc:  # noqa: BLE001 - e.g. no SELECT on FusionPBX's table: ring, and say why
            self.log.error("do-not-disturb of extension %s unknown (%s): ringing it", destination,
                           type(exc).__name__)
            dnd = False
        if dnd:
            self.log.info(Tag.SESSION, "extension %s has do-not-disturb on: unavailable", destination)
            return BridgeResult("unavailable", "DO_NOT_DISTURB")
        if self._directory_user(destination, context):
            contact = (self._safe(self.esl.api, f"sofia_contact {destination}@{context}", timeout=3) or "").strip()
            if not contact or contact.startswith("error/"):
                self.log.info(Tag.SESSION, "extension %s has no registered phone: unavailable", destination)
                return BridgeResult("unavailable", "USER_NOT_REGISTERED")
        return None

    def _directory_user(self, destination: str, context: str) -> bool:
        query = directory_user_query(destination, context)
        return query is not None and (self._safe(self.esl.api, query, timeout=3) or "").strip() == "true"

    def _ringing_audio(self) -> bytes:
        """The domain's hold music, else the ringback tone of its country."""
        settings = self.transfer_settings()
        if settings.hold_music:
            try:
                return hold_music(settings.hold_music)
            except ValueError as exc:
                self.log.error("hold music unusable, ringback tone instead: %s", exc)
        language = self.context.secretary.language if self.context else None
        return ringback_cadence(country_for(settings.ringback, language))

    def bridge(self, destination: str, context: str, announcement: str | None = None) -> BridgeResult:
        """Ring ``destination`` as a leg of its own while the caller, still parked with their audio
        running, hears ringback; join the two with ``uuid_bridge`` once it answers (``announcement``:
        once the person who answered heard it and took the call, see :mod:`edge.call.announce`).

        Never the ``bridge`` application on the caller's channel: FreeSWITCH shuts the caller's unicast
        audio down at its start, for good, so a caller whose transfer fails would be left in dead air.
        """
        if self.machine.ended or self.esl.closed.is_set() or self.context is None:
            return BridgeResult("hangup", "CALL_ENDED")
        settings = self.transfer_settings()
        context = context or settings.domain_name
        if destination_problem(destination, context, settings.domain_name) is not None:
            return BridgeResult("unavailable", "INVALID_DESTINATION")  # never rung outside the tenant
        self.machine.move(CallState.TRANSFERRING)
        self._bridge_idle.clear()
        leg = str(uuid.uuid4())
        ringback: Ringback | None = None
        result = BridgeResult("failed", "NOT_STARTED")
        try:
            dial = dial_string(destination, context, directory_user=self._directory_user(destination, context))
            self._audio_paused = True  # the engine hears nothing while the caller waits
            if self.stream is not None:
                ringback = Ringback(self.stream, self._ringing_audio())
                ringback.start()
            self.log.info(Tag.SESSION, "ringing %s in %s for up to %d s%s", destination, context,
                          settings.ring_seconds, " (announced)" if announcement else "")
            then, variables = "&park()", None
            if announcement:
                self.announcement = Announcement(announcement)
                host, port = self.esl.local_address
                then = f"'&socket({host}:{port} async full)'"  # quoted: one argument of originate
                variables = {ANNOUNCE_VARIABLE: self.call_uuid, "domain_uuid": str(self.context.domain_uuid),
                             "voice_secretary_uuid": str(self.context.secretary.voice_secretary_uuid)}
            job = self.esl.bgapi(originate_command(leg, dial, settings.ring_seconds, self.context.caller_id,
                                                   self.context.caller_name, then=then, variables=variables))
            gevent.wait([job, self._caller_gone], count=1, timeout=settings.ring_seconds + 15)
            if job.ready():
                result = job_result(job.get())
            if result.answered and self.announcement is not None:
                result = self._await_announcement(self.announcement)
            if self._caller_gone.is_set() or not job.ready():
                # The caller left (or the job never answered): the new leg must not ring on, or be
                # answered by someone talking to nobody.
                self._safe(self.esl.api, f"uuid_kill {leg}", timeout=3)
                result = BridgeResult("hangup", "CALLER_LEFT") if self._caller_gone.is_set() else \
                    BridgeResult("failed", "NO_JOB_RESULT")
            if ringback is not None:
                ringback.stop()
                ringback = None
            if result.answered:
                if self.transport is not None:
                    self.transport.pause()
                reply = (self._safe(self.esl.api, f"uuid_bridge {self.call_uuid} {leg}", timeout=5) or "").strip()
                if reply.startswith("+OK"):
                    self.call_outcome.transferred(destination)
                else:
                    self.log.error("uuid_bridge to %s failed: %s", destination, reply or "no reply")
                    self._safe(self.esl.api, f"uuid_kill {leg}", timeout=3)
                    result = BridgeResult("failed", "BRIDGE_FAILED")
            self.log.info(Tag.SESSION, "transfer to %s: %s (%s)", destination, result.status, result.cause)
            return result
        except EslDisconnected:
            return BridgeResult("hangup", "CALL_ENDED")
        finally:
            if self.announcement is not None:
                self.announcement.decide("hangup")  # an announced leg still speaking learns it is over
                self.announcement = None
            if ringback is not None:
                ringback.stop()
            self._audio_paused = self.call_outcome.transfer_target is not None  # stays paused once bridged
            if not self._audio_paused and self.transport is not None and not self.esl.closed.is_set():
                self.transport.resume()
            if not self.machine.ended and self.call_outcome.transfer_target is None:
                self.machine.move(CallState.LISTENING)
            self._bridge_idle.set()

    def _await_announcement(self, announcement: Announcement) -> BridgeResult:
        """The announced leg answered: wait (the caller still hearing hold audio) for its person's answer."""
        gevent.wait([announcement.result, self._caller_gone], count=1, timeout=ANSWER_SECONDS + 120)
        outcome = announcement.result.get() if announcement.result.ready() else "no_input"
        if outcome == "accepted":
            return BridgeResult("answered", "ACCEPTED")
        if outcome == "declined":
            return BridgeResult("declined", "DECLINED")
        return BridgeResult("no_answer", "NO_INPUT" if outcome == "no_input" else "ANSWERER_HANGUP")

    def _hangup_after_bridge(self) -> None:
        """The bridged conversation is over: FreeSWITCH hangs the caller up (``hangup_after_bridge``);
        if it did not within a moment, the edge releases the caller's leg itself."""
        if self._caller_gone.wait(2.0):
            return
        if not self.esl.closed.is_set():
            self.log.info(Tag.SESSION, "bridged call finished: hanging up")
            self._safe(self.esl.hangup, "NORMAL_CLEARING")

    def transfer_completed(self, target: str) -> None:
        """The caller was bridged to ``target``: the conversation is over (the hangup follows the bridge)."""
        self.call_outcome.transferred(target)
        if self.stream is not None:
            self.stream.flush()
        self.machine.move(CallState.ENDING)
        self.log.info(Tag.SESSION, "transferred to %s", target)

    def store_message(self, message: dict[str, str]) -> None:
        """Keep the caller's message for ``call_ended`` (outcome ``message`` unless transferred later)."""
        self.call_outcome.message_taken(message)
        self.log.info(Tag.SESSION, "message taken (%d characters)", len(message.get("message", "")))

    # --- audio in --------------------------------------------------------------------------------

    def on_caller_frame(self, pcmu: bytes) -> None:
        """A 20 ms frame of the caller's audio from the transport."""
        engine = self.engine
        if engine is not None and not self._audio_paused:
            engine.on_audio(pcmu)
