"""Turn-taking shared by the pipeline and offline engines: VAD, utterances, speaking, barge-in.

The caller's frames go through :class:`~edge.audio.vad.StreamingVad` inline (about 0.1 ms per model
window). A finished utterance is queued to the engine's conversation greenlet, which transcribes it,
decides the reply (:meth:`TurnTakingEngine.handle_text`, engine-specific) and speaks it sentence by
sentence, playing each TTS chunk as soon as it arrives. When the caller starts speaking while the
secretary is talking, the engine flushes the host's playback, stops synthesis, and records only the
part of the reply the caller actually heard (from :meth:`EngineHost.played_bytes`).

Blocking work never runs on the gevent hub: pocketsphinx and espeak-ng run in subprocesses read through
gevent pipes, vendor SDK calls go through :func:`blocking` (cooperative sockets).
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import gevent
from gevent.event import Event
from gevent.queue import Queue

from edge.audio.g711 import ulaw_to_l16
from edge.audio.vad import StreamingVad, VadEvent, VadParams
from edge.engines.base import RESUME, CallState, Engine, EngineHost, EngineUnavailable
from edge.engines.greeting_cache import GreetingCache, shared_cache
from edge.services.base import ServiceError, SpeechToText, TextToSpeech
from shared.logging import Tag, call_logger

T = TypeVar("T")

PRE_ROLL_FRAMES = 15
"""Frames kept before SPEECH_START (300 ms): the VAD needs ~100 ms to decide, words start earlier."""

APOLOGY = {
    "pt": "Desculpe, estamos com um problema técnico no momento.",
    "en": "I'm sorry, we are having a technical problem right now.",
}


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
class Utterance:
    """One assistant reply being spoken: text pieces and the audio bytes queued for each."""

    pieces: list[tuple[str, int]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Everything synthesized so far."""
        return " ".join(t for t, _ in self.pieces)

    def heard(self, played: int) -> str:
        """The text the caller heard, given the bytes played (a partial piece is cut proportionally)."""
        heard, remaining = [], played
        for text, size in self.pieces:
            if remaining >= size:
                heard.append(text)
                remaining -= size
                continue
            if size and remaining > 0:
                cut = text[: int(len(text) * remaining / size)]
                heard.append(cut.rsplit(" ", 1)[0] if " " in cut else cut)
            break
        return " ".join(h for h in heard if h).strip()


class Interrupted(Exception):
    """The caller barged in while the secretary was speaking."""


class TurnTakingEngine(Engine):
    """Base of the pipeline and offline engines (see the module docstring)."""

    name = "turns"
    vad_params = VadParams()

    def __init__(self, host: EngineHost, greeting_cache: GreetingCache | None = None) -> None:
        super().__init__(host)
        context = host.context
        self.log = context.log or call_logger(__name__, call_uuid=context.call_uuid,
                                               domain_uuid=context.domain_uuid)
        self.secretary = context.secretary
        self.lang = "en" if (self.secretary.language or "").lower().startswith("en") else "pt"
        self.greeting_cache = greeting_cache or shared_cache()
        self.vad: StreamingVad | None = None
        self.stt: SpeechToText | None = None
        self.tts: TextToSpeech | None = None
        self._fallback_tts: TextToSpeech | None = None
        self._pre_roll: deque[bytes] = deque(maxlen=PRE_ROLL_FRAMES)
        self._utterance: list[bytes] = []
        self._inbox: Queue = Queue()
        self._loop: gevent.Greenlet | None = None
        self._speaking = Event()
        self._barge_in = Event()
        self._current: Utterance | None = None
        self._stopped_at: float | None = None
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
        self.host.set_state(CallState.GREETING)
        self.host.begin_utterance()
        hits = self.greeting_cache.hits
        try:
            audio = self.greeting_cache.speak(self.tts, text, self.secretary.language, self.host.play)
            self.log.info(Tag.SESSION, "greeting %s (%d ms)",
                          "from cache" if self.greeting_cache.hits > hits else "synthesized", len(audio) // 8)
        except ServiceError as exc:
            self.log.error("%s greeting synthesis failed: %s", self.name, exc)
            raise EngineUnavailable(str(exc)) from exc
        self.host.record("assistant", text)
        self._speaking.set()
        self._loop = gevent.spawn(self._run)

    def _resume(self) -> None:
        """Take over a call whose previous engine failed: ask the caller to repeat, then listen."""
        self.host.begin_utterance()
        try:
            self.speak([RESUME[self.lang]])
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
                self._stopped_at = time.monotonic()
                self.host.caller_speech_stopped()
                audio, self._utterance = b"".join(self._utterance), []
                self._inbox.put(("speech", audio))

    def on_dtmf(self, digit: str) -> None:
        """Keys the caller typed (collected by the host into one input) reach the dialogue as text."""
        self._inbox.put(("dtmf", digit))

    def notify(self, text: str) -> None:
        """Something happened on the call (``transfer failed: no answer``): let the dialogue respond."""
        self._inbox.put(("notify", text))

    def say(self, text: str) -> None:
        """Speak fixed text now (from any greenlet), falling back to espeak-ng if the TTS fails."""
        if not text.strip():
            return
        self.host.begin_utterance()
        try:
            self.speak([text], record=False)
        except ServiceError as exc:
            self.log.error("%s TTS failed, using offline voice: %s", self.name, exc)
            self.host.begin_utterance()
            self.speak([text], record=False, tts=self.fallback_tts())
        self.host.record("assistant", text)

    def close(self) -> None:
        """Stop the conversation greenlet; idempotent."""
        self._closed = True
        if self._loop is not None:
            self._loop.kill(block=False)
            self._loop = None

    # -- speaking -------------------------------------------------------------------------------------
    def barge_in(self) -> None:
        """The caller talks over the secretary: stop the audio now and remember what was heard."""
        played = self.host.flush_playback()
        self._barge_in.set()
        self._speaking.clear()
        current = self._current
        if current is not None:
            heard = current.heard(played)
            self.log.info(Tag.STATE_MACHINE, "barge-in after %d ms of audio", played // 8)
            self.on_interrupted(current, heard)
            self._current = None
        self.host.set_state(CallState.LISTENING)

    def on_interrupted(self, utterance: Utterance, heard: str) -> None:
        """Record the truncated reply (the pipeline also truncates the model's history)."""
        self.host.record("assistant", heard, interrupted=True)

    def speak(self, texts: Iterable[str], record: bool = True, tts: TextToSpeech | None = None) -> str:
        """Synthesize and play ``texts`` piece by piece; return the text spoken.

        Raises :class:`Interrupted` when the caller barges in (the reply is then recorded truncated by
        :meth:`barge_in`) and :class:`ServiceError` when the TTS fails.
        """
        tts = tts or self.tts
        assert tts is not None
        utterance = Utterance()
        self._current = utterance
        self._barge_in.clear()
        first = True
        for text in texts:
            size = 0
            for chunk in tts.stream(text):
                if self._barge_in.is_set():
                    raise Interrupted
                if first:
                    self._speaking.set()
                    self.host.set_state(CallState.SPEAKING)
                    first = False
                self.host.play(chunk)
                size += len(chunk)
            if self._barge_in.is_set():
                raise Interrupted
            utterance.pieces.append((text, size))
        done = self.host.wait_playback_done(timeout=max(5.0, sum(s for _, s in utterance.pieces) / 8000 + 5))
        if self._barge_in.is_set() or not done and self._current is not utterance:
            raise Interrupted
        self._current = None
        self._speaking.clear()
        spoken = utterance.text
        if record and spoken:
            self.host.record("assistant", spoken)
        return spoken

    def latency_mark(self) -> float | None:
        """Seconds since the caller stopped speaking (for logs)."""
        return None if self._stopped_at is None else time.monotonic() - self._stopped_at

    # -- the conversation loop ------------------------------------------------------------------------
    def _run(self) -> None:
        if self.host.wait_playback_done(timeout=60):
            self._speaking.clear()
        self._speaking.clear()
        self.host.set_state(CallState.LISTENING)
        while not self._closed:
            source, payload = self._inbox.get()
            try:
                if source == "speech":
                    assert self.stt is not None
                    text = self.stt.transcribe(ulaw_to_l16(payload), self.secretary.language).strip()
                    if not text:
                        continue
                    self.host.record("user", text)
                    self.log.info(Tag.SESSION, "caller said %d words", len(text.split()))
                else:
                    text = payload
                self.handle_text(text, source)
                if not self._closed:
                    self.host.set_state(CallState.LISTENING)
            except Interrupted:
                continue
            except ServiceError as exc:
                self.fail(exc)
                return

    def fail(self, exc: ServiceError) -> None:
        """A vendor failed mid-call: ❌ ERROR and an apology in the offline voice; the host then retries
        once with a fresh engine (which asks the caller to repeat) and after that falls back (the
        domain's fallback destination, else the goodbye prompt and hangup)."""
        self.log.error("%s engine: %s", self.name, exc)
        self._speaking.clear()
        self.host.flush_playback()
        text = APOLOGY[self.lang]
        try:
            self.host.begin_utterance()
            self.speak([text], record=False, tts=self.fallback_tts())
            self.host.record("assistant", text)
        except (ServiceError, Interrupted) as again:
            self.log.error("%s engine: could not apologize: %s", self.name, again)
        self.host.engine_failed(f"{exc.provider} {exc.kind}")
