"""One call, from FreeSWITCH's ``connect`` to the last released port: the :class:`CallSession`.

It is the call's lifecycle: set-up, answer, audio, the channel's events, the keys, the cleanup. What its
engine, timers and tools may do to it is :class:`~edge.call.host.CallHost`; its other parts are pieces of
their own: the engine slot (:mod:`edge.call.engine_slot`), transfers (:mod:`edge.call.bridge`), the keypad
(:mod:`edge.call.keypad`), the outcome (:mod:`edge.call.outcome`), the fallback path
(:mod:`edge.call.fallback`), an announced transfer's leg (:mod:`edge.call.announced_leg`) and the speech
timings (:mod:`edge.call.turn_clock`). The process hands it :class:`~edge.call.services.CallServices`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import Event
from gevent.queue import Empty

from edge.call import announced_leg
from edge.call.announce import ANNOUNCE_VARIABLE, Announcement
from edge.call.bridge import CallBridge
from edge.call.engine_slot import EngineSlot
from edge.call.fallback import fall_back, reject
from edge.call.host import CallHost
from edge.call.keypad import Keypad, KeypadInput
from edge.call.knowledge import prepare_search
from edge.call.outcome import CallOutcome
from edge.call.recorder import ConversationRecorder
from edge.call.services import CallServices
from edge.call.setup import CallRejected, CallSetup, load_call_setup
from edge.call.state import CallStateMachine
from edge.call.timeouts import CallTimers
from edge.call.tools import ToolDispatcher
from edge.call.turn_clock import TurnClock
from edge.core.context import CallContext
from edge.core.state import CallState
from edge.engines.base import Engine, Notice
from edge.esl.session import CLOSED, EslConnection, EslDisconnected
from edge.pacing import PlaybackStream
from edge.transports.base import AudioTransport, TransportError
from shared.logging import CallLogger, Tag, call_logger

LINGER_SECONDS = 30
"""How long FreeSWITCH keeps a hung-up channel's socket for its last events (bounded: without a time
it keeps it for as long as the socket stays open)."""
HANGUP_EVENTS = {"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE"}
RELEASE_WAIT_SECONDS = 1.0
"""How long an ended call waits for its killed greenlets to stop before it lets go of its parts."""
_PARTS = ("engines", "engine", "host", "bridging", "keypad", "timers", "tools", "transport", "stream", "recorder",
          "turns", "esl", "context", "setup", "announcement", "machine", "_greenlets")
"""What :meth:`CallSession._release` lets go of."""
DTMF_IGNORED_STATES = (CallState.TRANSFERRING, CallState.ENDING, CallState.ENDED)
"""Keys pressed while the caller is bridged to a person or the call is ending reach no engine."""


class CallSession:
    """One call's lifetime; :meth:`run` returns when everything of the call has been released."""

    def __init__(self, services: CallServices, esl: EslConnection, channel: dict[str, str], log: CallLogger) -> None:
        self.services, self.esl, self.channel, self.log = services, esl, channel, log
        self.call_uuid = channel.get("Unique-ID") or channel.get("variable_uuid") or "unknown"
        self.machine = CallStateMachine(log)
        self.context: CallContext | None = None  # set once the secretary is loaded
        self.setup: CallSetup | None = None
        self.engine: Engine | None = None
        self.engines = EngineSlot(self)
        self.transport: AudioTransport | None = None
        self.stream: PlaybackStream | None = None
        self.recorder: ConversationRecorder | None = None
        self.timers: CallTimers | None = None
        self.tools = ToolDispatcher()
        self.host = CallHost(self)
        """What the engine, timers and tools see of the call."""
        self.keypad = Keypad(self._keypad_input, services.clock)
        self.bridging = CallBridge(self)
        self.call_outcome = CallOutcome()
        self.turns = TurnClock(services.metrics, services.clock)
        self.ended = Event()
        self.caller_gone = Event()
        self.audio_paused = False
        """The engine hears nothing (the caller is ringing a destination, or bridged)."""
        self.announcement: Announcement | None = None
        """The announced transfer this call is waiting on (caller side), or the one this leg hears."""
        self.announced_leg = bool(channel.get(f"variable_{ANNOUNCE_VARIABLE}"))
        self.hangup_at: float | None = None
        self._greenlets: list[gevent.Greenlet] = []

    def spawn(self, func: Callable[..., Any], *args: Any) -> None:
        """Run ``func`` in a greenlet of this call (killed by the cleanup)."""
        self._greenlets = [g for g in self._greenlets if not g.dead] + [gevent.spawn(func, *args)]

    def safe(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A FreeSWITCH command whose failure only gets logged (the call is ending or can go on)."""
        try:
            return func(*args, **kwargs)
        except (EslDisconnected, gevent.Timeout):
            return None
        except Exception as exc:  # noqa: BLE001 - FreeSWITCH refused (-ERR): log, go on ending
            self.log.error("FreeSWITCH command failed: %s", exc)
            return None

    # --- lifecycle -------------------------------------------------------------------------------

    def run(self) -> None:
        """Serve the call to its end, then release everything."""
        try:
            self._run()
        except EslDisconnected:
            self.log.info(Tag.SESSION, "Event Socket closed by FreeSWITCH")
        except Exception:
            self.call_outcome.failed()
            self.log.exception("call failed")
        finally:
            self._cleanup()
            self._release()

    def _run(self) -> None:
        # In flight while the set-up loads; BACKGROUND_JOB: the results of the transfer's bgapi originate.
        started = self.esl.start_call(LINGER_SECONDS, "BACKGROUND_JOB")
        try:
            setup = load_call_setup(self.channel.get("variable_domain_uuid"),
                                    self.channel.get("variable_voice_secretary_uuid"), self.log)
        except CallRejected as exc:
            started()
            reject(self, exc)
            return
        started()
        self.setup = setup
        self.log = self.machine.log = self.esl.log = call_logger(
            "edge.call", call_uuid=self.call_uuid, domain_uuid=setup.domain_uuid)
        channel = self.channel
        self.context = CallContext(
            call_uuid=self.call_uuid, domain_uuid=setup.domain_uuid, secretary=setup.secretary,
            providers=setup.providers, caller_id=channel.get("Caller-Caller-ID-Number"),
            caller_name=channel.get("Caller-Caller-ID-Name"),
            destination_number=channel.get("Caller-Destination-Number"), log=self.log,
            extra={"transfer_rules": list(setup.transfer_targets), "vocabulary": list(setup.vocabulary)},
        )
        self.log.info(Tag.SESSION, "call for secretary %s (%s), engine %s", setup.secretary.name,
                      setup.secretary.voice_secretary_uuid, setup.engine)
        if self.announced_leg:
            announced_leg.serve_announced_leg(self)
            return
        prepare_search(self.context, setup.searchable)
        self.engines.open()
        self.esl.execute("answer", wait=True, timeout=10)
        self.timers = CallTimers(self.host, setup.secretary, self.log, setup.operator_destination,
                                 clock=self.services.clock)
        self.machine.listeners.append(self.timers.on_state)
        self.timers.start()
        # Recorded from here on: a call whose audio transport fails still leaves its row (outcome error).
        self.recorder = ConversationRecorder(self.services.publisher.publish, setup.domain_uuid, self.call_uuid)
        self.recorder.call_started(
            voice_secretary_uuid=setup.secretary.voice_secretary_uuid, caller_id=self.context.caller_id,
            caller_name=self.context.caller_name, destination_number=self.context.destination_number,
            engine=setup.engine)
        if self.start_audio() and self.engines.start():
            self.event_loop()

    def start_audio(self) -> bool:
        """Start the audio transport; if it cannot start, take the fallback path and return False."""
        codec = (self.channel.get("Channel-Read-Codec-Name") or "").upper()
        try:
            self.transport = self.services.make_transport(self.esl, self.call_uuid, self.on_caller_frame,
                                                          codec == "PCMU")
            self.stream = PlaybackStream(self.transport.send_frame, self.transport.lead_frames)
            self.services.pacer.add(self.stream)
            self.transport.start()
            self.stream.sink_buffers = self.transport.sink_buffers
        except TransportError as exc:  # no dead air: fallback destination, else goodbye prompt
            self.log.error("audio transport %s failed: %s", self.services.settings.edge_audio_transport, exc)
            self.engines.close_opened()  # no conversation starts: the vendor session opened early goes now
            fall_back(self, "audio transport failed", audio=False)
            return False
        self.log.info(Tag.SESSION, "audio over %s (%s)", self.transport.name, self.transport.wire_format(codec))
        return True

    def event_loop(self) -> None:
        """Handle the channel's events until it hangs up or the socket closes; log a heartbeat meanwhile."""
        beat, clock = self.services.settings.edge_heartbeat_seconds, self.services.clock
        next_beat = clock.now() + beat
        while True:
            timeout = max(0.0, next_beat - clock.now())
            try:
                event = clock.get(self.esl.events, timeout) if timeout else None
            except Empty:  # gevent's queue raises on timeout: nothing happened, time for a heartbeat
                event = None
            if event is None:
                if clock.now() >= next_beat:
                    next_beat = clock.now() + beat
                    frames = (self.transport.frames_in, self.transport.frames_out) if self.transport else (0, 0)
                    self.log.info(Tag.HEARTBEAT, "state=%s frames in=%d out=%d", self.machine.state, *frames)
                continue
            if event is CLOSED:
                return
            name = event.name
            if name in HANGUP_EVENTS or name == "DISCONNECT-NOTICE":
                self.caller_gone.set()
                if name == "DISCONNECT-NOTICE" and event.get("Content-Disposition") != "linger":
                    return
                self.hangup_at = self.hangup_at or clock.now()
                if name != "DISCONNECT-NOTICE":
                    self.log.info(Tag.SESSION, "hangup: %s", event.get("Hangup-Cause", "?"))
                return
            if name == "DTMF":
                self._on_dtmf(event.get("DTMF-Digit", ""))
            elif name == "CHANNEL_UNBRIDGE" and (self.call_outcome.transfer_target is not None or self.announced_leg):
                self.spawn(self.bridging.hangup_after_bridge)
            elif name:
                self.log.debug(Tag.EVENT_BUS, "event %s", name)

    def _on_dtmf(self, digit: str) -> None:
        """A key: collected into one input (``#`` or a pause ends it), never seen while bridged or ending."""
        if self.announced_leg:
            announced_leg.key_pressed(self, digit)
        elif self.machine.state in DTMF_IGNORED_STATES:
            self.log.info(Tag.EVENT_BUS, "DTMF ignored while %s", self.machine.state)
            self.keypad.clear()
        else:
            self.log.info(Tag.EVENT_BUS, "DTMF key")
            if self.timers is not None:
                self.timers.on_caller_activity()
            self.keypad.press(digit)

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
        result = self.host.run_tool("transfer_call", arguments)
        # A failed transfer already told the caller what happened and what is offered (result "spoken").
        if (not result.ok and not result.ended and not result.spoken
                and self.engine is not None and not self.machine.ended):
            self.engine.notify(Notice.OPERATOR_UNAVAILABLE)

    def on_caller_frame(self, pcmu: bytes) -> None:
        """A 20 ms frame of the caller's audio from the transport."""
        engine = self.engine
        if engine is not None and not self.audio_paused:
            engine.on_audio(pcmu)

    def _release(self) -> None:
        """Let go of the call's parts once it has ended and its greenlets have stopped. They refer back
        to the session (the host, the engine slot, the transfers, the keypad, the transport's frame
        handler...), so kept, the whole call (~270 objects, its engine and WebSocket included) would wait
        for the next full garbage collection, which stops every call's audio for as long as it walks
        (``edge/gc_pauses.py``); let go, reference counting frees it now. What stays is the record:
        ``call_uuid``, ``channel``, ``call_outcome``, ``ended``."""
        self.services.calls.discard(self)
        current = gevent.getcurrent()
        gevent.joinall([g for g in self._greenlets if g is not current], timeout=RELEASE_WAIT_SECONDS)
        for name in _PARTS:
            vars(self).pop(name, None)

    def _cleanup(self) -> None:
        """Release engine, transport, port, pacer slot and socket; record the end of the call."""
        self.caller_gone.set()
        if self.announced_leg and self.announcement is not None:
            self.announcement.decide("hangup")  # hung up before taking the call or not
        self.bridging.idle.wait(3.0)  # a ringing transfer kills its new leg before the socket goes
        self.machine.move(CallState.ENDED)
        self.ended.set()
        if self.timers is not None:
            self.timers.stop()
        if self.stream is not None:
            self.stream.flush()
            self.services.pacer.remove(self.stream)
        self.engines.close()
        if self.transport is not None:
            self.transport.close()
        self.keypad.close()
        for greenlet in self._greenlets:
            greenlet.kill(block=False)
        self.esl.close()
        outcome, metrics = self.call_outcome, self.services.metrics
        if self.recorder is not None and self.recorder.started:
            self.recorder.call_ended(outcome.value, transfer_target=outcome.transfer_target,
                                     taken_message=outcome.taken_message)
        metrics.calls_total.inc(outcome.value)
        if self.hangup_at is not None:
            metrics.cleanup.observe(self.services.clock.now() - self.hangup_at)
        self.log.info(Tag.SESSION, "call ended: %s", outcome.value)
