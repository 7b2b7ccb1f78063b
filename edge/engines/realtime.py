"""OpenAI Realtime (GA protocol) as a conversation engine, through the ``openai`` SDK's Realtime client.

Audio is ``audio/pcmu`` both ways, so caller frames go to the model and model audio goes to the pacer
without conversion. Server VAD with ``interrupt_response`` detects barge-in; on
``input_audio_buffer.speech_started`` the engine flushes playback at once, cancels the response and
truncates the assistant item to what the caller actually heard (never more than the server sent, which
the server would reject and then stay silent).

The SDK opens the socket (URL, headers, the shared client of the provider); everything the engine sends
is JSON it builds itself, never through the SDK's typed (and slower: ~3 ms for a ``session.update``)
layer, and server events are read as raw JSON, handled on the greenlet that reads the socket
(:mod:`edge.services.pushed_websocket`: no second greenlet and queue between the socket and the engine).
Every write goes through the call's own :class:`~edge.services.socket_writer.SocketWriter`: ``on_audio``
runs on the greenlet that receives every call's audio and must never wait for a vendor; a vendor that
stops reading loses only its own call's audio (oldest first, control events kept) and, once nothing has
been written for the response deadline, counts as gone silent (below).

The socket opens while the call is being answered (:meth:`RealtimeEngine.open`), and ``session.update`` is
sent the moment it is open; a greeting not yet cached is asked for with ``response.create``, without waiting for
``session.updated``. The server handles a connection's client events one after the other, in the order
sent (a WebSocket is one ordered stream, and the SDK itself queues ``session.update`` and
``response.create`` to be flushed the moment the socket opens: ``RealtimeConnectionManager.send`` in
openai 3.63, "Queue a message to be sent when the connection is established"; the API reference says
the client "may send [session.update] at any time"), so the greeting is made with the updated session.
Should the server refuse the ``session.update`` (its ``error`` names our ``event_id``), that response would
use the default session (another audio format): its audio is never played, and the engine is unavailable.

The greeting: the vendor speaks a secretary's greeting once; the audio of one spoken whole (not cut
short) whose transcript has the greeting's words goes into the greeting cache
(:mod:`edge.engines.greeting_cache`, keyed by the text, the language, and the provider's endpoint, model
and voice), and every later call plays it at once — while the WebSocket is still opening, so the vendor's
round trip (connect, upgrade, first audio) leaves the greeting's path. The session is then told it already
greeted: an assistant message with ``output_text`` (the server takes no assistant audio in
``conversation.item.create``), sent behind ``session.update`` once the caller has heard the greeting — or
the words of it they heard, when they spoke over it: a barge-in stops it within a frame, like a reply. The
stored conversation has the greeting either way. Caller audio that comes while the socket opens over a
cached greeting (its last second) is sent once it is open. The provider's ``greeting_cache: false`` has the
vendor speak every greeting (the session then decides the greeting's exact rendition each call).

Caller audio goes out frame by frame (20 ms) while it carries sound or the server hears the caller
speaking; silence between turns goes out in chunks of ``silence_chunk_ms`` (provider config, default
100 ms). A frame with sound sends the held silence and itself at once, so the server's VAD hears the
start of speech as early as with 20 ms appends, and the end of a turn is never delayed (the server
hears speech until its own ``speech_stopped``). Each append is a websocket message and a TCP send,
the largest share of the edge's CPU per call (``bench_edge --silence-chunk-ms 20`` for comparison).

Function calls: the server may put several in one response, and emits ``…arguments.done`` even for a
response that is then cancelled. The engine acts on the calls of a response only once it is ``completed``
(``response.done``), runs them one after the other (the ones whose effect the host speaks — transfer,
goodbye — last), gives every call exactly one ``function_call_output`` before any ``response.create``
that follows it (a tool that speaks meanwhile gets an "in progress" output first, and its result follows
as a system message), and then asks for exactly one response. Calls of a cancelled or incomplete response
are answered "not run"; arguments that are not a JSON object are an error result for the model.

A vendor that goes silent: from the end of the caller's speech (the server's ``speech_stopped``) or any
``response.create`` the engine sends, the first audio must come within ``response_deadline_seconds``
(provider config, default 4 s; a response that only calls tools also counts as an answer); and once the
server has heard the caller start, it must end the turn — a caller quiet for the deadline (or the VAD's
own longest wait plus a second, if longer) with no ``speech_stopped`` means the server went silent. Past it — as
when the socket drops — the edge apologizes in its own offline voice and hands the call back to the host,
which connects afresh once and then falls back (destination or goodbye prompt), never asking the dead
vendor to speak.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
from collections import deque
from typing import Any

import gevent
from gevent.event import AsyncResult, Event

from edge.audio.g711 import has_sound
from edge.core.state import CallState
from edge.dialogue.phrases import phrase
from edge.engines.base import Engine, EngineHost, EngineUnavailable, Notice, response_deadline
from edge.engines.greeting_cache import GreetingCache, greeting_key, shared_cache
from edge.engines.offline import TOOLS_THAT_SPEAK
from edge.engines.tool_definitions import TOOL_DEFINITIONS, ToolResult
from edge.metrics import METRICS
from edge.services.base import parse_arguments
from edge.services.openai.client import make_client, websocket_options
from edge.services.pushed_websocket import PushedConnection
from edge.services.socket_writer import SocketWriter
from edge.services.voices import realtime_voice
from shared.logging import Tag, call_logger
from shared.providers import default_model

DEFAULT_VOICE = "marin"
EAGERNESS = ("low", "medium", "high", "auto")
"""``semantic_vad`` eagerness values (the SDK's ``SemanticVad.eagerness``)."""
SEMANTIC_MAX_WAIT_MS = {"low": 8000, "medium": 4000, "high": 2000, "auto": 4000}
"""The longest a ``semantic_vad`` server waits after the caller's last sound before ending the turn."""
CONNECT_TIMEOUT = 5.0
SESSION_UPDATE_ID = "evt_session_update"
"""The ``event_id`` of the call's ``session.update``: an ``error`` naming it means the session was refused."""
SAY_TIMEOUT = 20.0
CLOSE_WAIT = 0.2
CACHED_GREETING = "cached-greeting"
"""What the engine calls the greeting it plays from the cache, where a vendor item's id would be."""
EARLY_FRAMES = 50
"""Caller frames kept while the socket opens over a cached greeting (the last second), sent once it is
open: the caller may speak over the greeting's first words."""
_WORDS = re.compile(r"\w+")
# Errors the protocol produces in normal races (our cancel after the server's own interrupt).
_BENIGN_ERRORS = {"response_cancel_not_active"}
# An ``error`` event of these types or codes means the session cannot go on serving the caller.
_FATAL_ERROR_TYPES = {"server_error", "rate_limit_exceeded", "insufficient_quota", "authentication_error"}
_FATAL_ERROR_CODES = {"session_expired", "rate_limit_exceeded", "insufficient_quota", "invalid_api_key"}


def _language_code(language: str) -> str:
    return (language or "pt").split("-")[0].lower()


class _Closed(Exception):
    """Raised in the greenlet opening the socket when the call closes the engine first (its audio
    transport failed, the caller hung up). An ``Exception``, not gevent's ``GreenletExit``: the websockets
    client closes a half-open connection on an ``Exception`` only, and a ``GreenletExit`` in the middle of
    the handshake left the vendor's socket open, its reading thread with it, for the life of the process
    (seen with a missing mod_audio_stream: the session opened while the call was answered never closed)."""


_SDK_RESOURCES = ("session", "response", "input_audio_buffer", "conversation", "output_audio_buffer")


def _let_go(conn: Any) -> None:
    """Break the cycles of a closed Realtime connection, so that it is freed at once rather than by the
    next full garbage collection (which stops every call's audio, longer the more it walks: see
    ``edge/gc_pauses.py``). The SDK connection keeps five resource objects that each keep it (the edge
    sends its events as prebuilt JSON and uses none of them); the ``websockets`` connection logs through
    a ``LoggerAdapter`` that names it, kept by it and by its protocol (the plain logger takes its place)."""
    for name in _SDK_RESOURCES:
        vars(conn).pop(name, None)
    websocket: Any = getattr(conn, "_connection", None)
    adapter = getattr(websocket, "logger", None)
    if isinstance(adapter, logging.LoggerAdapter):
        websocket.logger = websocket.protocol.logger = adapter.logger


class RealtimeEngine(Engine):
    """Speech-to-speech over one Realtime WebSocket per call."""

    name = "realtime"

    def __init__(self, host: EngineHost, greeting_cache: GreetingCache | None = None) -> None:
        super().__init__(host)
        context = host.context
        self.log = context.log or call_logger(__name__, call_uuid=context.call_uuid,
                                              domain_uuid=context.domain_uuid)
        self.config = context.providers["llm"]
        self._manager: Any = None
        self._conn: Any = None
        self._closed = False
        self._ready = Event()
        self._idle = Event()  # no response in progress
        self._idle.set()
        self._audio_item: str | None = None
        self._item_bytes: dict[str, int] = {}
        self._interrupted: set[str] = set()
        self._say_waiters: list[AsyncResult] = []
        self._say_by_response: dict[str, AsyncResult] = {}
        self._greeting_pending = False
        self._silence_frames = max(1, int(self.config.config.get("silence_chunk_ms", 100)) // 20)
        self._held: list[bytes] = []  # silent caller frames not yet sent
        self._caller_speaking = False  # between the server's speech_started and speech_stopped
        self._quiet_frames = 0  # caller frames without sound since then
        self._hung_after_frames = 0  # quiet frames after which a server that has not ended the turn is silent
        self._detection: dict[str, Any] | None = None
        self._tasks: list[gevent.Greenlet] = []
        self._send: Any = None  # the websocket's send_text (UTF-8 bytes -> one text frame)
        self._writer: SocketWriter | None = None
        self._opening: gevent.Greenlet | None = None
        self._open_error: Exception | None = None
        self._configured = False  # session.updated received: its audio format is ours
        self._refusal: str | None = None
        self._lost_reason = ""
        self._started = False
        self._calls: dict[str, list[dict[str, str]]] = {}  # response id -> its function calls, as emitted
        self._unanswered: dict[str, str] = {}  # call id -> name: calls of the running batch without output
        self._deadline_seconds = response_deadline(self.config)
        self._deadline: gevent.Greenlet | None = None
        self._voice: str | None = None
        self._greeting_cache = greeting_cache or shared_cache()
        self._greeting_size = 0  # bytes of the cached greeting
        self._greeting_playing = False  # the cached greeting is being played (not yet heard or interrupted)
        self._greeting_note: str | None = None  # what the session must be told the caller heard of it
        self._greeting_recording: bytearray | None = None  # the vendor's greeting, for the cache
        self._greeting_item: str | None = None
        self._greeting_transcript = ""
        self._early: deque[bytes] = deque(maxlen=EARLY_FRAMES)  # caller frames before the socket was open
        self._audio_open = False  # session.update sent: caller audio may follow

    # --- session ---------------------------------------------------------------------------------

    def session_config(self) -> dict[str, Any]:
        """The GA ``session.update`` payload for this call's secretary."""
        secretary = self.host.context.secretary
        extras = self.config.config
        language = secretary.language or "pt-BR"
        instructions = (secretary.system_prompt or "You are a helpful phone secretary.") + (
            f"\nSpeak {language}. Keep answers short: this is a phone call.")
        return {
            "type": "realtime",
            "instructions": instructions,
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": extras.get("transcription_model")
                                      or default_model("realtime_transcription"),
                                      "language": _language_code(language)},
                    "turn_detection": self.turn_detection(),
                },
                "output": {"format": {"type": "audio/pcmu"}, "voice": self.voice()},
            },
            "tools": TOOL_DEFINITIONS,
            "tool_choice": "auto",
        }

    def voice(self) -> str:
        """The Realtime voice of this call (a refused value is reported once per engine)."""
        if self._voice is None:
            self._voice = realtime_voice([self.host.context.secretary.voice_name, self.config.config.get("voice")],
                                         self.log, DEFAULT_VOICE)
        return self._voice

    def turn_detection(self) -> dict[str, Any]:
        """``server_vad`` (threshold, padding, silence) or ``semantic_vad`` (eagerness only: the server
        refuses the VAD's other keys for it with ``unknown_parameter``); worked out (and a bad value
        reported) once per engine."""
        if self._detection is None:
            self._detection = self._turn_detection()
        return self._detection

    def _turn_detection(self) -> dict[str, Any]:
        extras = self.config.config
        kind = extras.get("turn_detection") or "server_vad"
        if kind == "semantic_vad":
            eagerness = extras.get("eagerness") or "auto"
            if eagerness not in EAGERNESS:
                self.log.error("Realtime eagerness %r is not one of %s; using auto", eagerness, ", ".join(EAGERNESS))
                eagerness = "auto"
            return {"type": "semantic_vad", "eagerness": eagerness, "create_response": True,
                    "interrupt_response": True}
        if kind != "server_vad":
            self.log.error("Realtime turn_detection %r is not server_vad or semantic_vad; using server_vad", kind)
        return {
            "type": "server_vad",
            "threshold": float(extras.get("vad_threshold", 0.5)),
            "prefix_padding_ms": int(extras.get("prefix_padding_ms", 300)),
            "silence_duration_ms": int(extras.get("silence_duration_ms", 500)),
            "create_response": True,
            "interrupt_response": True,
        }

    def open(self) -> None:
        """Begin opening the socket (and configuring the session) while the call is answered."""
        if self._opening is None:
            self._opening = gevent.spawn(self._open_quietly)

    def _open_quietly(self) -> None:
        try:
            self._open()
        except Exception as exc:  # noqa: BLE001 - start() reports it
            self._open_error = exc

    def _open(self) -> None:
        """Connect, put the call's writer under the websocket, start reading, send ``session.update``."""
        if not self.config.api_key:
            raise EngineUnavailable("openai_realtime provider has no api_key")
        # Built once per provider and shared by every call: see make_client and websocket_options.
        client = make_client(self.config)
        options = websocket_options(self.config)
        # Server events come to _on_message from the socket's reading greenlet (no second hop).
        options["create_connection"] = functools.partial(PushedConnection, on_message=self._on_message,
                                                         on_closed=self._on_socket_closed)
        try:
            self._manager = client.realtime.connect(model=self.config.model or default_model("realtime"),
                                                    websocket_connection_options=options)
            conn = self._manager.enter()
        except Exception as exc:
            raise EngineUnavailable(f"cannot open Realtime socket: {type(exc).__name__}: {exc}") from exc
        websocket = conn._connection  # ours: the SDK's wrapper adds a reconnect queue we do not use
        self._writer = SocketWriter(websocket.socket, stall_seconds=self._deadline_seconds,
                                    on_stalled=self._vendor_stalled, log=self.log)
        websocket.socket = self._writer
        self._send = websocket.send_text
        self._conn = conn
        self._hung_after_frames = self._turn_end_frames()
        self._send_event({"type": "session.update", "event_id": SESSION_UPDATE_ID, "session": self.session_config()})
        self._tell_greeted()
        self._audio_open = True  # the caller's audio goes to the server from now on, after the session's set-up
        early, self._early = self._early, deque(maxlen=EARLY_FRAMES)
        for frame in early:  # what the caller said while the socket opened (over a cached greeting)
            self.on_audio(frame)

    def start(self) -> None:
        """Play the greeting from the cache while the socket opens (unless :meth:`open` opened it already),
        or once it is open ask the vendor for it; then make sure the server took the session's
        configuration."""
        context = self.host.context
        secretary = context.secretary
        greeting = secretary.greeting_message if not context.extra.get("resumed") else ""
        cached = self._cached_greeting(greeting) if greeting and not context.extra.get("greeted") else None
        if cached is not None:
            self._play_cached_greeting(greeting, cached)
        self.open()
        assert self._opening is not None
        self._opening.join()
        if self._open_error is not None:
            raise self._open_error
        if context.extra.get("resumed"):
            # This socket replaces one that failed mid-call: the caller's last words may be lost.
            self.host.set_state(CallState.LISTENING)
            self._speak(phrase(secretary.language, "engine.resume"))
        elif cached is not None:
            pass  # playing; the session is told once it has been heard (or interrupted)
        elif greeting and context.extra.get("greeted"):
            # An engine that failed to start already played it from the cache: not twice.
            self.host.set_state(CallState.LISTENING)
            self._greeting_note = greeting
            self._tell_greeted()
        elif greeting:
            self.host.set_state(CallState.GREETING)
            self._greeting_pending = True
            if self._greeting_cache_enabled():
                self._greeting_recording = bytearray()
            self._speak(greeting)
        else:
            self.host.set_state(CallState.LISTENING)
        if not self._ready.wait(CONNECT_TIMEOUT):
            raise EngineUnavailable("no session.updated from the Realtime server")
        if self._refusal is not None:
            raise EngineUnavailable(f"session.update refused: {self._refusal}")
        if self._closed:
            raise EngineUnavailable(f"Realtime socket lost while starting ({self._lost_reason})")
        self.log.info(Tag.SESSION, "Realtime session ready (model %s)", self.config.model or default_model("realtime"))
        self._started = True

    def _send_event(self, event: dict[str, Any]) -> None:
        """One client event, as JSON built here; a socket already gone is the reader's to report."""
        if self._send is None or self._closed:
            return
        try:
            self._send(json.dumps(event).encode())
        except Exception as exc:  # noqa: BLE001 - closed or reset: the call's vendor is lost
            self._lost(f"send failed: {type(exc).__name__}")

    def _vendor_stalled(self) -> None:
        """The call's writer has written nothing for the response deadline: the vendor stopped reading."""
        self._deadline_passed(f"the vendor stopped reading (nothing written for {self._deadline_seconds:.1f} s)")

    def _speak(self, text: str) -> None:
        self._answer_pending()
        self._send_event({"type": "response.create", "response": {
            "instructions": f'Say exactly this to the caller, word for word, and nothing else: "{text}"'}})
        self._arm()

    def _respond(self) -> None:
        """Ask the model for a response (after tool outputs or a note); it must start speaking in time."""
        self._answer_pending()
        self._send_event({"type": "response.create"})
        self._arm()

    # --- the greeting from the cache -------------------------------------------------------------

    def _greeting_cache_enabled(self) -> bool:
        """The provider's ``greeting_cache`` (default on): off, the vendor speaks every call's greeting."""
        return str(self.config.config.get("greeting_cache", True)).lower() not in ("false", "0", "no", "off")

    def _greeting_key(self, text: str) -> str:
        """What identifies the greeting's audio: its text, the language, and the provider, endpoint, model
        and voice that spoke it (PCMU)."""
        voice = ":".join(["openai-realtime", self.config.base_url or "", self.config.model or default_model("realtime"),
                          self.voice(), "pcmu"])
        return greeting_key(text, self.host.context.secretary.language, voice)

    def _cached_greeting(self, text: str) -> bytes | None:
        """The greeting as the vendor spoke it on an earlier call, or None."""
        if not self._greeting_cache_enabled():
            return None
        return self._greeting_cache.get(self._greeting_key(text))

    def _play_cached_greeting(self, text: str, audio: bytes) -> None:
        """Play the cached greeting now (the socket opens meanwhile); a barge-in stops it like a reply."""
        self.host.context.extra["greeted"] = True
        self.host.set_state(CallState.GREETING)
        self.host.begin_utterance()
        self._audio_item = CACHED_GREETING
        self._greeting_playing = True
        self._greeting_size = len(audio)
        self.host.play(audio)
        self.log.info(Tag.SESSION, "greeting from cache (%d ms)", len(audio) // 8)
        self._tasks.append(gevent.spawn(self._cached_greeting_heard, text))

    def _cached_greeting_heard(self, text: str) -> None:
        heard = self.host.wait_playback_done(timeout=self._greeting_size / 8000 + 10)
        if not self._greeting_playing:
            return  # interrupted: the barge-in recorded it
        self._greeting_playing = False
        if self._audio_item == CACHED_GREETING:
            self._audio_item = None
        self._greeted(text, text, interrupted=not heard)  # not heard whole: flushed (the call moved on)
        if heard and not self._closed:
            self.host.set_state(CallState.LISTENING)

    def _greeting_interrupted(self, heard: int) -> None:
        """The caller spoke over the cached greeting after ``heard`` bytes: the model learns what they heard."""
        self._audio_item = None
        self._greeting_playing = False
        text = self.host.context.secretary.greeting_message
        words = text.split()
        kept = min(len(words), round(len(words) * heard / self._greeting_size)) if self._greeting_size else 0
        self._greeted(text, " ".join(words[:kept]) + ("..." if 0 < kept < len(words) else ""), interrupted=True)

    def _greeted(self, text: str, heard_text: str, *, interrupted: bool) -> None:
        """Record the cached greeting and tell the session (now, or once it is open)."""
        self.host.record("assistant", text, interrupted=interrupted)
        if heard_text:
            self._greeting_note = heard_text
            self._tell_greeted()

    def _tell_greeted(self) -> None:
        """Tell the session the secretary already said this: an assistant text item (the server refuses
        assistant audio in ``conversation.item.create``), sent after ``session.update`` and before the
        caller's first words end their turn, so the model answers them knowing it greeted."""
        if self._greeting_note is None or self._send is None:
            return
        text, self._greeting_note = self._greeting_note, None
        self._send_event({"type": "conversation.item.create", "item": {
            "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}})

    def _keep_vendor_greeting(self, response: dict[str, Any]) -> None:
        """Cache the greeting the vendor just spoke, for the next calls: only a greeting heard whole (not
        cut short by the caller) whose transcript says the greeting's words (a model may add or change
        words, which would then be said to every caller)."""
        audio, self._greeting_recording = self._greeting_recording, None
        item = self._greeting_item
        if (audio is None or not audio or item is None or item in self._interrupted
                or response.get("status") != "completed"):
            return
        text = self.host.context.secretary.greeting_message
        if _WORDS.findall(self._greeting_transcript.lower()) != _WORDS.findall(text.lower()):
            self.log.info(Tag.SESSION, "greeting not cached: the vendor said %r", self._greeting_transcript[:200])
            return
        self._greeting_cache.put(self._greeting_key(text), bytes(audio))

    # --- the response deadline -------------------------------------------------------------------

    def _arm(self) -> None:
        """The vendor owes the caller audio within the deadline from now."""
        self._disarm()
        if not self._closed:
            self._deadline = self.host.clock.call_later(self._deadline_seconds, self._deadline_passed)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.kill(block=False)
            self._deadline = None

    def _watch_turn_end(self, pcmu_frame: bytes) -> None:
        """The server heard the caller start: it must end the turn (``speech_stopped``) once they are quiet.
        If the caller has been quiet for longer than the server's VAD waits plus the deadline and no
        ``speech_stopped`` came, the server went silent mid-turn."""
        self._quiet_frames = 0 if has_sound(pcmu_frame) else self._quiet_frames + 1
        if self._quiet_frames == self._hung_after_frames > 0:
            self._deadline_passed(f"no end of the caller's turn {self._quiet_frames * 20 / 1000:.1f} s after they "
                                  "went quiet")

    def _turn_end_frames(self) -> int:
        detection = self.turn_detection()
        if detection["type"] == "semantic_vad":
            vad_wait_ms = SEMANTIC_MAX_WAIT_MS[detection["eagerness"]]
        else:
            vad_wait_ms = detection["silence_duration_ms"]
        return int(max(self._deadline_seconds * 1000, vad_wait_ms + 1000) // 20)

    def _deadline_passed(self, reason: str | None = None) -> None:
        self._deadline = None
        reason = reason or f"no response within {self._deadline_seconds:.1f} s"
        METRICS.engine_errors.inc("timeout")
        self.log.error("Realtime: %s", reason)
        self._lost(reason)

    # --- audio in --------------------------------------------------------------------------------

    def on_audio(self, pcmu_frame: bytes) -> None:
        """Forward the caller's audio: at once while it has sound or the caller speaks, silence in chunks."""
        if self._closed:
            return
        if not self._audio_open:
            if self._greeting_playing:  # kept for the server: the caller may speak over the greeting
                self._early.append(pcmu_frame)
            return
        held = self._held
        held.append(pcmu_frame)
        if len(held) < self._silence_frames and not self._caller_speaking and not has_sound(pcmu_frame):
            return
        if self._caller_speaking:
            self._watch_turn_end(pcmu_frame)
        audio = held[0] if len(held) == 1 else b"".join(held)
        held.clear()
        try:  # never waits: what the kernel does not take waits in the call's writer (or is dropped)
            if self._writer is None:
                raise ConnectionError("no socket writer")
            self._writer.send_audio(self._send, b'{"type":"input_audio_buffer.append","audio":"'
                                    + base64.b64encode(audio) + b'"}')
        except Exception as exc:  # noqa: BLE001 - the socket is gone: the reader reports it
            self._lost(f"send failed: {type(exc).__name__}")

    # --- server events ---------------------------------------------------------------------------

    def _on_message(self, raw: bytes) -> None:
        """One server event, on the socket's reading greenlet. After close() the socket is still read (the
        closing handshake waits for what is queued) but nothing is done."""
        if self._closed:
            return
        try:
            event = json.loads(raw)
        except ValueError:
            return
        try:
            self._handle(event)
        except Exception as exc:  # a bug handling one event must not leave the caller in silence
            self.log.exception("Realtime: handling %s failed", event.get("type") if isinstance(event, dict) else "?")
            self._lost(f"{type(exc).__name__}: {exc}")

    def _on_socket_closed(self, exc: Exception) -> None:
        """The socket ended: closed by the vendor or lost (ours, from close(), is no news)."""
        if not self._closed:
            self._lost(f"{type(exc).__name__}: {exc}")

    def _lost(self, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        self._disarm()
        self._ready.set()
        for waiter in self._say_waiters + list(self._say_by_response.values()):
            waiter.set(False)
        self._lost_reason = reason
        if self._started:
            # Mid-call: the caller hears the edge's own apology before the host reconnects or falls back.
            self._tasks.append(gevent.spawn(self._apologize_then_fail, reason))
        # Before that, start() is still running: it raises EngineUnavailable with the reason.

    def _apologize_then_fail(self, reason: str) -> None:
        from edge.services.offline.tts import OfflineTextToSpeech

        text = phrase(self.host.context.secretary.language, "engine.apology")
        try:
            audio = OfflineTextToSpeech(self.host.context.secretary.language).synthesize(text)
            self.host.flush_playback()
            self.host.begin_utterance()
            self.host.play(audio)
            self.host.wait_playback_done(timeout=len(audio) / 8000 + 5)
            self.host.record("assistant", text)
        except Exception as exc:  # noqa: BLE001 - the hand-over below must happen anyway
            self.log.error("Realtime: could not apologize: %s", exc)
        self.host.engine_failed(f"Realtime vendor lost ({reason})")

    def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type", "")
        if kind == "response.output_audio.delta":
            item = event.get("item_id") or ""
            if item in self._interrupted or not self._configured:
                return  # late audio of an item the caller interrupted, or of a session not ours
            if item != self._audio_item:
                self._disarm()
                self._audio_item = item
                self._item_bytes[item] = 0
                self.host.begin_utterance()
                self.host.set_state(CallState.GREETING if self._greeting_pending else CallState.SPEAKING)
            audio = base64.b64decode(event.get("delta", ""))
            self._item_bytes[item] += len(audio)
            self.host.play(audio)
            if self._greeting_recording is not None and self._greeting_pending:
                if self._greeting_item is None:
                    self._greeting_item = item
                if item == self._greeting_item:
                    self._greeting_recording += audio
        elif kind == "input_audio_buffer.speech_started":
            self._caller_speaking = True
            self._quiet_frames = 0
            self._disarm()
            self._barge_in()
        elif kind == "input_audio_buffer.speech_stopped":
            self._caller_speaking = False
            self._arm()
            self.host.caller_speech_stopped()
        elif kind == "conversation.item.input_audio_transcription.completed":
            self.host.record("user", event.get("transcript", ""))
        elif kind == "response.output_audio_transcript.done":
            item = event.get("item_id") or ""
            if item == self._greeting_item:
                self._greeting_transcript = event.get("transcript", "")
            self.host.record("assistant", event.get("transcript", ""), interrupted=item in self._interrupted)
        elif kind == "response.created":
            response_id = (event.get("response") or {}).get("id") or ""
            self._idle.clear()
            if self._say_waiters:
                self._say_by_response[response_id] = self._say_waiters.pop(0)
        elif kind == "response.done":
            self._response_done(event.get("response") or {})
        elif kind == "response.function_call_arguments.done":
            # Also emitted for a response cancelled or cut short: kept until its response.done says how it ended.
            self._calls.setdefault(event.get("response_id") or "", []).append(
                {"call_id": event.get("call_id") or "", "name": event.get("name") or "",
                 "arguments": event.get("arguments") or ""})
        elif kind in ("session.created", "session.updated"):
            if kind == "session.updated":
                self._configured = True
                self._ready.set()
        elif kind == "error":
            self._error(event.get("error") or {})

    def _response_done(self, response: dict[str, Any]) -> None:
        response_id = response.get("id") or ""
        self._idle.set()
        self._disarm()
        if self._greeting_pending and self._greeting_recording is not None:
            self._keep_vendor_greeting(response)
        self._greeting_pending = False
        status = response.get("status")
        waiter = self._say_by_response.pop(response_id, None)
        if waiter is not None:
            waiter.set(status != "failed")
        calls = self._calls.pop(response_id, [])
        known = {c["call_id"] for c in calls}
        calls += [{"call_id": o.get("call_id") or "", "name": o.get("name") or "", "arguments": o.get("arguments") or ""}
                  for o in response.get("output") or [] if (o or {}).get("type") == "function_call"
                  and o.get("call_id") not in known]
        if status == "failed":
            # The model could not answer (overloaded, rate-limited, server error): without this the
            # caller would wait in silence for a reply that never comes.
            error = (response.get("status_details") or {}).get("error") or {}
            code = str(error.get("code") or error.get("type") or "response_failed")
            METRICS.engine_errors.inc(code)
            self.log.error("Realtime response failed: %s", code)
            self._lost(f"response failed: {code}")
            return
        if calls and status == "completed":
            self._tasks.append(gevent.spawn(self._run_calls, calls))
        elif calls:
            # Cancelled (the caller barged in) or incomplete: the calls' arguments may be cut short, and
            # the caller is saying something new. Nothing runs; the model learns why.
            self.log.info(Tag.EVENT_BUS, "Realtime: %d function call(s) of a %s response not run", len(calls), status)
            for call in calls:
                self._output(call["call_id"], {"ok": False, "error": "not_run", "message": (
                    "The caller interrupted before this call was complete, so it was not run. "
                    "Listen to the caller and call it again if it is still needed.")})
        elif status == "completed":
            self._tasks.append(gevent.spawn(self._back_to_listening))

    def _back_to_listening(self) -> None:
        """Listening again once the reply has been heard."""
        if self.host.wait_playback_done(timeout=60):
            self.host.set_state(CallState.LISTENING)

    def _error(self, error: dict[str, Any]) -> None:
        code = str(error.get("code") or error.get("type") or "unknown")
        if error.get("event_id") == SESSION_UPDATE_ID and not self._configured:
            self._refusal = f"{code}: {str(error.get('message', ''))[:200]}"
            self.log.error("Realtime refused the session: %s", self._refusal)
            self._ready.set()
            return
        if code in _BENIGN_ERRORS:
            self.log.debug(Tag.EVENT_BUS, "Realtime: %s", code)
            return
        METRICS.engine_errors.inc(code)
        self.log.error("Realtime error %s: %s", code, str(error.get("message", ""))[:200])
        if error.get("type") in _FATAL_ERROR_TYPES or code in _FATAL_ERROR_CODES:
            self._lost(f"error {code}")

    # --- barge-in --------------------------------------------------------------------------------

    def _barge_in(self) -> None:
        self.host.caller_speech_started()
        item = self._audio_item
        if item is None or item in self._interrupted:
            return
        heard = self.host.flush_playback()
        if item == CACHED_GREETING:
            self._greeting_interrupted(heard)
            self.host.set_state(CallState.LISTENING)
            return
        received = self._item_bytes.get(item, 0)
        self._interrupted.add(item)
        self._audio_item = None
        if not self._idle.is_set():
            self._send_event({"type": "response.cancel"})
        if heard < received:
            # audio_end_ms is what the caller heard; clamp to what the server sent (PCMU: 8 bytes/ms).
            self._send_event({"type": "conversation.item.truncate", "item_id": item, "content_index": 0,
                              "audio_end_ms": min(heard, received) // 8})
        self.host.set_state(CallState.LISTENING)

    # --- tools -----------------------------------------------------------------------------------

    def _run_calls(self, calls: list[dict[str, str]]) -> None:
        """Run a completed response's function calls, answer each once, then ask for one response."""
        ordered = sorted(calls, key=lambda c: c["name"] in TOOLS_THAT_SPEAK)  # stable: the model's order otherwise
        self._unanswered = {c["call_id"]: c["name"] for c in ordered}
        spoken = ended = False
        for call in ordered:
            if self._closed:
                return
            arguments, problem = parse_arguments(call["arguments"])
            if problem is not None:
                self.log.error("Realtime: %s called with %s", call["name"], problem)
                result = ToolResult({"ok": False, "error": "invalid_arguments", "message": (
                    f"The arguments were not valid ({problem}); nothing was done. Call it again with a JSON "
                    "object of the parameters.")})
            else:
                result = self.host.run_tool(call["name"], arguments)
            spoken = spoken or result.spoken
            ended = ended or result.ended
            if self._closed or ended:
                return  # the call is over (goodbye said, or the caller transferred)
            if self._unanswered.pop(call["call_id"], None) is not None:
                self._output(call["call_id"], result.payload)
            else:  # answered "in progress" when the tool spoke: the result follows as a note
                self._note(f"Result of {call['name']}: {json.dumps(result.payload, default=str)}")
        self._unanswered = {}
        if not spoken:  # the host already spoke (a fallback offer): the caller's answer starts the next response
            self._idle.wait(SAY_TIMEOUT)
            self._respond()

    def _output(self, call_id: str, result: dict[str, Any]) -> None:
        """The one ``function_call_output`` of a call."""
        self._send_event({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": call_id, "output": json.dumps(result, default=str)}})

    def _note(self, text: str) -> None:
        self._send_event({"type": "conversation.item.create", "item": {
            "type": "message", "role": "system", "content": [{"type": "input_text", "text": text}]}})

    def _answer_pending(self) -> None:
        """Before any response.create: every call of the running batch gets its output (a tool that speaks
        — transfer message, goodbye — is still running: "in progress")."""
        pending, self._unanswered = self._unanswered, {}
        for call_id, name in pending.items():
            self._output(call_id, {"ok": True, "status": "in_progress", "message": (
                f"{name} is running and the secretary is speaking to the caller for it; its result follows "
                "as a system message if the call goes on.")})

    # --- Engine API ------------------------------------------------------------------------------

    def on_dtmf(self, digit: str) -> None:
        """Tell the model which key the caller pressed."""
        self._tell(f"The caller pressed the telephone key {digit}.")

    def say(self, text: str) -> None:
        """Speak ``text`` and return once the caller has heard it."""
        if self._conn is None or self._closed:
            return
        self._idle.wait(SAY_TIMEOUT)
        waiter = AsyncResult()
        self._say_waiters.append(waiter)
        self._speak(text)
        # wait(), not get(): a server that never answers must not raise gevent.Timeout (not an
        # Exception) through the caller's goodbye and skip the hangup.
        if waiter.wait(SAY_TIMEOUT):
            self.host.wait_playback_done(timeout=60)
        elif not waiter.ready():
            self.log.error("Realtime: no response to a fixed text within %.0f s", SAY_TIMEOUT)
            if waiter in self._say_waiters:
                self._say_waiters.remove(waiter)

    def notify(self, notice: Notice) -> None:
        """Tell the model what happened and let it respond."""
        self._tell(notice.text)

    def _tell(self, text: str) -> None:
        """Add a system note to the conversation and let the model respond."""
        if self._conn is None or self._closed:
            return
        self._idle.wait(SAY_TIMEOUT)
        self._answer_pending()
        self._note(text)
        self._respond()

    def close(self) -> None:
        """Close the socket and stop the greenlets (idempotent)."""
        if self._greeting_playing and not self._closed:
            # Closed while the cached greeting plays (the vendor failed to start): it is in the record.
            self._greeting_playing = False
            self.host.record("assistant", self.host.context.secretary.greeting_message, interrupted=True)
        self._closed = True
        self._disarm()
        if self._opening is not None and self._opening is not gevent.getcurrent():
            self._opening.kill(_Closed, block=True, timeout=1)
        for task in self._tasks:
            if task is not gevent.getcurrent():
                task.kill(block=False)
        if self._conn is not None:
            # A polite closing handshake, but the call's cleanup never waits more than CLOSE_WAIT for it.
            closer = gevent.spawn(self._conn.close)
            closer.join(CLOSE_WAIT)
            if not closer.dead:
                sock = getattr(getattr(self._conn, "_connection", None), "socket", None)
                if sock is not None:
                    sock.close()
                closer.kill(block=False)
            _let_go(self._conn)
        self.log.debug(Tag.SESSION, "Realtime socket closed")
