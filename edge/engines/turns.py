"""Turn-taking shared by the pipeline and offline engines: VAD, utterances, speaking, barge-in.

The caller's frames go through :class:`~edge.audio.vad.StreamingVad` inline (about 0.1 ms per model
window). A finished utterance is queued to the engine's conversation greenlet, which transcribes it,
decides the reply (:meth:`TurnTakingEngine.handle_text`, engine-specific) and speaks it sentence by
sentence, playing each TTS chunk as soon as it arrives. When the caller starts speaking while the
secretary is talking, the engine flushes the host's playback, stops synthesis, and records only the
part of the reply the caller actually heard: the sentences played in full and, of the sentence being
played (even one whose audio is still streaming from the TTS), the share of its text matching the share
of its audio played (:meth:`Utterance.heard`). The greeting is recorded the same way.

One voice at a time: the greeting, the engine's replies and the host's fixed texts (:meth:`say` from a
tool, a DTMF operator transfer or a timer, in other greenlets) each hold the engine's speech lock while
their audio plays, so they follow each other and never overlap.

Blocking work never runs on the gevent hub: pocketsphinx and espeak-ng run in subprocesses read through
gevent pipes, vendor SDK calls go through :func:`blocking` (cooperative sockets).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore
from gevent.queue import Queue

from edge.audio.g711 import ulaw_to_l16
from edge.audio.vad import StreamingVad, VadEvent, VadParams
from edge.core.clock import WALL_CLOCK, Clock
from edge.core.state import CallState
from edge.dialogue.phrases import phrase
from edge.engines.base import RESPONSE_DEADLINE_SECONDS, Engine, EngineHost, EngineUnavailable, Notice
from edge.engines.greeting_cache import GreetingCache, shared_cache
from edge.services.base import ErrorKind, ServiceError, SpeechToText, TextToSpeech
from shared.logging import Tag, call_logger

T = TypeVar("T")

PRE_ROLL_FRAMES = 15
"""Frames kept before SPEECH_START (300 ms): the VAD needs ~100 ms to decide, words start earlier."""

DEFAULT_BYTES_PER_CHAR = 8000 / 15
"""PCMU bytes per character of text before the call's TTS has been measured (about 15 characters a
second); the greeting and every sentence synthesized refine it."""



def blocking(function: Callable[..., T], *args: Any) -> T:
    """Run a vendor SDK call so that only the calling greenlet waits.

    In the edge, sockets are gevent's (``monkey.patch_all``): the call runs right here and its network
    waits are cooperative. Keeping it out of the threadpool matters: a threadpool task gets its own hub,
    destroyed when the task ends, so a pooled keep-alive connection opened there breaks the next request
    ("operation on destroyed loop"). Without patching (a test driving an engine directly), the call goes
    to gevent's threadpool.
    """
    from gevent import monkey

    if monkey.is_module_patched("socket"):
        return function(*args)
    return gevent.get_hub().threadpool.apply(function, args)


def bounded(seconds: float, provider: str, function: Callable[..., T], *args: Any, clock: Clock = WALL_CLOCK) -> T:
    """:func:`blocking`, given up after ``seconds`` of ``clock``: a vendor that accepted the request and
    went silent is a :class:`ServiceError` (``timeout``) like any other failure, not dead air for the caller.

    The request runs in a greenlet of its own, which the caller waits for on ``clock`` (so a test's
    scripted clock decides when the vendor is late) and kills once it gives up or is itself killed."""
    result: AsyncResult = AsyncResult()

    def request() -> None:
        try:
            result.set(blocking(function, *args))
        except Exception as exc:  # noqa: BLE001 - the caller's to handle: re-raised in its greenlet below
            result.set_exception(exc)

    worker = gevent.spawn(request)
    try:
        if not clock.wait(result, seconds):
            raise ServiceError(provider, ErrorKind.TIMEOUT, f"no answer within {seconds:.1f} s")
    finally:
        worker.kill(block=False)
    return cast(T, result.get())


def sentences(chunks: Iterable[str]) -> Iterator[str]:
    """Regroup streamed text into sentences (so TTS can start before the reply is complete)."""
    buffer = ""
    for chunk in chunks:
        buffer += chunk
        while True:
            match = re.search(r"[.!?;:](\s+)", buffer)
            if match is None:
                break
            sentence, buffer = buffer[: match.start(1)], buffer[match.end(1):]
            if sentence.strip():
                yield sentence.strip()
    if buffer.strip():
        yield buffer.strip()


@dataclass
class Piece:
    """One sentence of an utterance and the audio bytes queued for it so far."""

    text: str
    size: int = 0
    complete: bool = False
    """The TTS has delivered all of this sentence's audio."""


@dataclass
class Utterance:
    """One thing the secretary says: its sentences as they are synthesized and played.

    ``kind`` is ``reply`` (the engine's answer), ``greeting`` or ``host`` (a fixed text the host asked for).
    """

    pieces: list[Piece] = field(default_factory=list)
    kind: str = "reply"

    @property
    def text(self) -> str:
        """Everything synthesized so far."""
        return " ".join(p.text for p in self.pieces if p.size)

    def heard(self, played: int, bytes_per_char: float = DEFAULT_BYTES_PER_CHAR) -> str:
        """The text the caller heard, given the bytes played: whole sentences, then the share of the
        sentence being played that its played audio is of its whole audio (for a sentence still being
        synthesized, of the audio expected from its length), cut back to the last whole word."""
        heard, remaining = [], played
        for piece in self.pieces:
            size = piece.size if piece.complete else max(piece.size, int(len(piece.text) * bytes_per_char))
            if remaining >= size:
                heard.append(piece.text)
                remaining -= size
                continue
            if size and remaining > 0:
                cut = piece.text[: int(len(piece.text) * remaining / size)]
                heard.append(cut.rsplit(" ", 1)[0] if " " in cut else cut)
            break
        return " ".join(h for h in heard if h).strip()


class Interrupted(Exception):
    """The caller barged in while the secretary was speaking."""


MAX_OWED_SECONDS = 30.0
"""How long after the caller stopped speaking an engine still working on the reply holds the call's silence
timer (:attr:`TurnTakingEngine.reply_owed`)."""


class TurnTakingEngine(Engine):
    """Base of the pipeline and offline engines (see the module docstring)."""

    name = "turns"
    vad_params = VadParams()
    deadline_seconds = RESPONSE_DEADLINE_SECONDS
    """How long a vendor may keep the caller waiting (a pipeline takes its provider's setting)."""

    def __init__(self, host: EngineHost, greeting_cache: GreetingCache | None = None) -> None:
        super().__init__(host)
        context = host.context
        self.log = context.log or call_logger(__name__, call_uuid=context.call_uuid,
                                               domain_uuid=context.domain_uuid)
        self.secretary = context.secretary
        self.greeting_cache = greeting_cache or shared_cache()
        self.vad: StreamingVad | None = None
        self.stt: SpeechToText | None = None
        self.tts: TextToSpeech | None = None
        self._fallback_tts: TextToSpeech | None = None
        self._pre_roll: deque[bytes] = deque(maxlen=PRE_ROLL_FRAMES)
        self._utterance: list[bytes] = []
        self._inbox: Queue = Queue()
        self._utterances_owed = 0
        """The caller's utterances queued or being transcribed and answered."""
        self._owed_since = 0.0
        self._in_turn = False
        """The conversation greenlet is answering something (it goes back to listening when done)."""
        self._loop: gevent.Greenlet | None = None
        self._speaking = Event()
        self._barge_in = Event()
        self._speech_lock = Semaphore()
        self._current: Utterance | None = None
        self._tts_bytes = 0
        self._tts_chars = 0
        self._stopped_at: float | None = None
        self._reply_by: float | None = None  # when the caller must hear the reply's first audio
        self._closed = False

    # -- subclass hooks -------------------------------------------------------------------------------
    def build_services(self) -> None:
        """Create ``self.stt`` and ``self.tts`` (and anything else); raise EngineUnavailable."""
        raise NotImplementedError

    def greeting_text(self) -> str:
        """The first thing the secretary says."""
        return self.secretary.greeting_message

    def handle_text(self, text: str, source: str) -> None:
        """React to the caller's words (``source`` = ``speech``, ``dtmf`` or ``notify``)."""
        raise NotImplementedError

    def on_greeting_heard(self, text: str) -> None:
        """The caller heard the whole greeting (a barge-in records its heard part instead)."""
        self.host.record("assistant", text)

    def fallback_tts(self) -> TextToSpeech:
        """The voice used when the configured TTS fails (espeak-ng needs no network)."""
        if self._fallback_tts is None:
            from edge.services.offline.tts import OfflineTextToSpeech

            self._fallback_tts = OfflineTextToSpeech(self.secretary.language, self.secretary.voice_name)
        return self._fallback_tts

    # -- Engine ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Build the services, play the (cached) greeting and start listening."""
        try:
            self.build_services()
            if self.stt is not None:
                self.stt.prepare()
            self.vad = StreamingVad(self.vad_params)
        except EngineUnavailable:
            raise
        except Exception as exc:
            raise EngineUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        assert self.tts is not None
        if self.host.context.extra.get("resumed"):
            self._resume()
            return
        text = self.greeting_text()
        greeting = Utterance([Piece(text)], kind="greeting")
        self._speech_lock.acquire()  # released by the conversation greenlet once the greeting is heard
        try:
            self.host.set_state(CallState.GREETING)
            self.host.begin_utterance()
            self._begin(greeting)
            hits = self.greeting_cache.hits

            def play(chunk: bytes) -> None:
                if not self._barge_in.is_set():  # a cache miss streams on after a barge-in: drop the rest
                    greeting.pieces[0].size += len(chunk)
                    self.host.play(chunk)

            try:
                audio = self.greeting_cache.speak(self.tts, text, self.secretary.language, play)
            except ServiceError as exc:
                self.log.error("%s greeting synthesis failed: %s", self.name, exc)
                raise EngineUnavailable(str(exc)) from exc
            self.log.info(Tag.SESSION, "greeting %s (%d ms)",
                          "from cache" if self.greeting_cache.hits > hits else "synthesized", len(audio) // 8)
            greeting.pieces[0].size = len(audio)
            self._synthesized(greeting.pieces[0])
        except BaseException:
            self._current = None
            self._speaking.clear()
            self._speech_lock.release()
            raise
        self._loop = gevent.spawn(self._run, greeting)

    def _resume(self) -> None:
        """Take over a call whose previous engine failed: ask the caller to repeat, then listen."""
        try:
            self.speak([phrase(self.secretary.language, "engine.resume")])
        except ServiceError as exc:
            raise EngineUnavailable(str(exc)) from exc
        except Interrupted:
            pass
        self._loop = gevent.spawn(self._run)

    def on_audio(self, pcmu_frame: bytes) -> None:
        """Feed the VAD; collect the utterance; barge in; hand finished utterances to the loop."""
        if self._closed or self.vad is None:
            return
        was_speaking = self.vad.speaking
        events = self.vad.feed(pcmu_frame)
        if was_speaking or self.vad.speaking:
            self._utterance.append(pcmu_frame)
        else:
            self._pre_roll.append(pcmu_frame)
        for event in events:
            if event is VadEvent.SPEECH_START:
                self._utterance = [*self._pre_roll, *self._utterance]
                self._pre_roll.clear()
                self.host.caller_speech_started()
                if self._speaking.is_set():
                    self.barge_in()
            elif event is VadEvent.SPEECH_STOP:
                self._stopped_at = self.host.clock.now()
                self.host.caller_speech_stopped()
                audio, self._utterance = b"".join(self._utterance), []
                if not self._utterances_owed:
                    self._owed_since = self._stopped_at
                self._utterances_owed += 1
                self._inbox.put(("speech", audio))

    @property
    def reply_owed(self) -> bool:
        """An utterance of the caller is queued or being transcribed and answered — for at most
        :data:`MAX_OWED_SECONDS` (a local recogniser has no vendor deadline: one that hangs must not keep
        the caller from being asked whether they are still there)."""
        return self._utterances_owed > 0 and self.host.clock.now() - self._owed_since < MAX_OWED_SECONDS

    def on_dtmf(self, digit: str) -> None:
        """Keys the caller typed (collected by the host into one input) reach the dialogue as text."""
        self._inbox.put(("dtmf", digit))

    def notify(self, notice: Notice) -> None:
        """Something happened on the call: the dialogue responds to it in turn (:meth:`handle_notice`)."""
        self._inbox.put(("notice", notice))

    def handle_notice(self, notice: Notice) -> None:
        """React to a :class:`Notice`; by default the model reads it as a system note."""
        self.handle_text(notice.text, "notify")

    def say(self, text: str) -> None:
        """Speak fixed text (from any greenlet) once nothing else is being said, falling back to
        espeak-ng if the TTS fails; returns once heard. Raises :class:`Interrupted` on a barge-in."""
        if not text.strip() or self._closed:
            return
        try:
            self.speak([text], record=False, kind="host")
        except ServiceError as exc:
            self.log.error("%s TTS failed, using offline voice: %s", self.name, exc)
            self.speak([text], record=False, tts=self.fallback_tts(), kind="host")
        self.host.record("assistant", text)
        if not self._in_turn and not self._closed:
            # Said for the host while the conversation was idle (the offer after an operator nobody
            # answered): the secretary now waits for the caller, and the silence timer runs again. Within a
            # turn, the conversation greenlet does this when the turn ends; an ending call stays ending.
            self.host.set_state(CallState.LISTENING)

    def close(self) -> None:
        """Stop the conversation greenlet; idempotent. What the caller heard of an utterance cut short
        by the end of the call is recorded."""
        if not self._closed:
            current, self._current = self._current, None
            if current is not None:
                heard = current.heard(self.host.played_bytes(), self.bytes_per_char)
                if heard:
                    self.host.record("assistant", heard, interrupted=True)
        self._closed = True
        if self._loop is not None:
            self._loop.kill(block=False)
            self._loop = None

    # -- speaking -------------------------------------------------------------------------------------
    @property
    def bytes_per_char(self) -> float:
        """PCMU bytes the call's TTS makes per character of text (measured on what it synthesized)."""
        return self._tts_bytes / self._tts_chars if self._tts_chars else DEFAULT_BYTES_PER_CHAR

    def _synthesized(self, piece: Piece) -> None:
        """A sentence's audio is complete: it refines :attr:`bytes_per_char`."""
        piece.complete = True
        if piece.size and piece.text:
            self._tts_bytes += piece.size
            self._tts_chars += len(piece.text)

    def _begin(self, utterance: Utterance) -> None:
        """``utterance`` is what the caller hears from now (the speech lock is held)."""
        self._current = utterance
        self._barge_in.clear()
        self._speaking.set()

    def barge_in(self) -> None:
        """The caller talks over the secretary: stop the audio now and remember what was heard."""
        played = self.host.flush_playback()
        self._barge_in.set()
        self._speaking.clear()
        current = self._current
        if current is not None:
            heard = current.heard(played, self.bytes_per_char)
            self.log.info(Tag.STATE_MACHINE, "barge-in after %d ms of audio", played // 8)
            self._current = None
            self.on_interrupted(current, heard)
        self.host.set_state(CallState.LISTENING)

    def on_interrupted(self, utterance: Utterance, heard: str) -> None:
        """Record the truncated utterance (the pipeline also truncates the model's history)."""
        self.host.record("assistant", heard, interrupted=True)

    def speak(self, texts: Iterable[str], record: bool = True, tts: TextToSpeech | None = None,
              kind: str = "reply") -> str:
        """Synthesize and play ``texts`` piece by piece; return the text spoken.

        The speech lock is taken when the first audio is ready (not while the model is still thinking)
        and held until the audio has been played. Raises :class:`Interrupted` when the caller barges in
        (the utterance is then recorded truncated by :meth:`barge_in`) and :class:`ServiceError` when the
        TTS fails.
        """
        tts = tts or self.tts
        assert tts is not None
        utterance = Utterance(kind=kind)
        locked = False
        try:
            for text in texts:
                piece: Piece | None = None
                for chunk in tts.stream(text):
                    if not locked:
                        self._speech_lock.acquire()
                        locked = True
                        self._reply_by = None  # the caller hears the reply: each later wait gets the deadline
                        self.host.begin_utterance()
                        self._begin(utterance)
                        self.host.set_state(CallState.SPEAKING)
                    if self._barge_in.is_set() or self._current is not utterance:
                        raise Interrupted
                    if piece is None:
                        piece = Piece(text)
                        utterance.pieces.append(piece)
                    piece.size += len(chunk)
                    self.host.play(chunk)
                if piece is not None:
                    self._synthesized(piece)
                if locked and (self._barge_in.is_set() or self._current is not utterance):
                    raise Interrupted
            if not locked:
                return ""
            queued = sum(p.size for p in utterance.pieces)
            done = self.host.wait_playback_done(timeout=max(5.0, queued / 8000 + 5))
            if self._barge_in.is_set() or not done and self._current is not utterance:
                raise Interrupted
            if self._current is utterance:
                self._current = None
                self._speaking.clear()
        finally:
            if locked:
                self._speech_lock.release()
        spoken = utterance.text
        if record and spoken:
            self.host.record("assistant", spoken)
        return spoken

    def vendor_budget(self) -> float:
        """Seconds a vendor call may take now: what is left until the reply is due (the end of the
        caller's speech plus :attr:`deadline_seconds`), or the whole deadline once the reply is playing."""
        if self._reply_by is None:
            return self.deadline_seconds
        return max(0.05, self._reply_by - self.host.clock.now())

    def reply_due(self, since: float | None = None) -> None:
        """The caller is waiting for a reply from ``since`` (default now)."""
        self._reply_by = (since or self.host.clock.now()) + self.deadline_seconds

    # -- the conversation loop ------------------------------------------------------------------------
    def _run(self, greeting: Utterance | None = None) -> None:
        if greeting is not None:
            try:
                self.host.wait_playback_done(timeout=60)
                if self._current is greeting:  # not interrupted: the caller heard all of it
                    self._current = None
                    self.on_greeting_heard(greeting.text)
            finally:
                self._speaking.clear()
                self._speech_lock.release()
        self.host.set_state(CallState.LISTENING)
        while not self._closed:
            source, payload = self._inbox.get()
            self._in_turn = True
            try:
                self.reply_due(self._stopped_at if source == "speech" else None)
                if source == "notice":
                    self.handle_notice(payload)
                elif source == "dtmf":
                    self.handle_text(payload, source)
                else:
                    assert self.stt is not None
                    text = self.stt.transcribe(ulaw_to_l16(payload), self.secretary.language).strip()
                    if not text:
                        continue
                    self.host.record("user", text)
                    self.log.info(Tag.SESSION, "caller said %d words", len(text.split()))
                    self.handle_text(text, source)
                if not self._closed:
                    self.host.set_state(CallState.LISTENING)
            except Interrupted:
                continue
            except ServiceError as exc:
                self.fail(exc)
                return
            finally:
                self._in_turn = False
                if source == "speech":
                    self._utterances_owed -= 1

    def fail(self, exc: ServiceError) -> None:
        """A vendor failed mid-call: ❌ ERROR and an apology in the offline voice; the host then retries
        once with a fresh engine (which asks the caller to repeat) and after that falls back (the
        domain's fallback destination, else the goodbye prompt and hangup)."""
        self.log.error("%s engine: %s", self.name, exc)
        self._speaking.clear()
        self.host.flush_playback()
        text = phrase(self.secretary.language, "engine.apology")
        try:
            self.speak([text], record=False, tts=self.fallback_tts(), kind="host")
            self.host.record("assistant", text)
        except (ServiceError, Interrupted) as again:
            self.log.error("%s engine: could not apologize: %s", self.name, again)
        self.host.engine_failed(f"{exc.provider} {exc.kind}")
