"""What the caller hears and what is recorded as heard, for the engines built on turn-taking (pipeline,
offline): barge-in during the greeting and during a sentence whose audio is still streaming from the
TTS, and the host's fixed texts never spoken over the engine's reply.

The engine here is the shared turn-taking base with a scripted STT and a TTS whose audio is one byte
value per text, so the audio the caller heard tells which text it came from and the bytes per character
are known exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import gevent
import gevent.event
import pytest

from edge.engines import turns
from edge.engines.greeting_cache import GreetingCache
from edge.engines.turns import TurnTakingEngine, sentences
from edge.services.base import SpeechToText, TextToSpeech
from simulator.voice import caller_says
from tests.fakes.engine_host import FakeHost

BYTES_PER_CHAR = 400
GREETING = ("Hello, this is Acme, the home of fine anvils, rockets and giant magnets since nineteen forty nine. "
            "Our opening hours are from nine to six, Monday to Friday. How can I help you today?")
REPLY = ("We deliver anvils, rockets and giant magnets anywhere in the desert within three working days, "
         "and every order above one hundred dollars ships for free with a lifetime guarantee.")
NOTICE = "One moment, I will transfer your call to the operator."


class ScriptedTTS(TextToSpeech):
    """Audio of ``BYTES_PER_CHAR`` bytes per character, in 10-frame chunks, a distinct byte per text;
    ``chunk_delay`` seconds between chunks (a TTS still streaming while the start is played)."""

    name = "scripted"

    def __init__(self, chunk_delay: float = 0.0) -> None:
        self.chunk_delay = chunk_delay
        self.codes: dict[str, int] = {}

    def cache_key(self) -> str:
        return "scripted"

    def code(self, text: str) -> int:
        return self.codes.setdefault(text, 0x10 + len(self.codes))

    def stream(self, text: str) -> Iterator[bytes]:
        audio = bytes([self.code(text)]) * (len(text) * BYTES_PER_CHAR)
        for start in range(0, len(audio), 1600):
            yield audio[start:start + 1600]
            if self.chunk_delay:
                gevent.sleep(self.chunk_delay)


class ScriptedSTT(SpeechToText):
    """Every utterance of the caller is heard as ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def prepare(self) -> None:
        pass

    def transcribe(self, pcm16_8k: bytes, language: str) -> str:
        return self.text


class ScriptedEngine(TurnTakingEngine):
    """Greets, and answers every caller turn with ``REPLY``."""

    name = "scripted"

    def __init__(self, host: FakeHost, tts: ScriptedTTS, cache: GreetingCache) -> None:
        super().__init__(host, greeting_cache=cache)
        self.scripted_tts = tts

    def build_services(self) -> None:
        self.stt = ScriptedSTT("When do you deliver?")
        self.tts = self.scripted_tts

    def greeting_text(self) -> str:
        return GREETING

    def handle_text(self, text: str, source: str) -> None:
        self.speak(sentences(iter([REPLY])))


@pytest.fixture
def host() -> Iterator[FakeHost]:
    host = FakeHost(tick=0.004)
    yield host
    host.close()


def start(host: FakeHost, tmp_path, chunk_delay: float = 0.0) -> ScriptedEngine:
    engine = ScriptedEngine(host, ScriptedTTS(chunk_delay), GreetingCache(tmp_path))
    engine.start()
    return engine


def interrupted(host: FakeHost) -> list[str]:
    return [r["content"] for r in host.records if r.get("interrupted")]


def assert_heard_as_played(heard: str, text: str, played: int) -> None:
    """``heard`` is the start of ``text`` the played audio covers, give or take the word being said."""
    assert heard and text.startswith(heard) and len(heard) < len(text), heard
    said = played / BYTES_PER_CHAR
    longest_word = max(len(word) for word in text.split())
    assert said - longest_word - 1 <= len(heard) <= said, (heard, said)


def test_barge_in_during_the_greeting_records_only_what_was_heard_of_it(host, tmp_path):
    engine = start(host, tmp_path)
    try:
        assert host.wait_for(lambda: len(host.sent) >= 24000)  # three seconds of the greeting were heard
        host.speak_into(engine, caller_says("Sorry, goodbye"), trailing_silence_ms=300)
        assert host.wait_for(lambda: interrupted(host), timeout=10), host.records
        assert GREETING not in host.messages("assistant")  # never recorded as heard in full
        assert_heard_as_played(interrupted(host)[0], GREETING, host.flushes[0])
        assert len(host.sent) < len(GREETING) * BYTES_PER_CHAR  # and the rest was not played
    finally:
        engine.close()


def test_barge_in_on_a_sentence_still_streaming_from_the_tts_records_the_part_heard(host, tmp_path):
    engine = start(host, tmp_path, chunk_delay=0.02)  # the TTS delivers 10 frames every 5 frame ticks
    try:
        assert host.wait_for(lambda: host.messages("assistant") == [GREETING], timeout=20)
        host.speak_into(engine, caller_says("When do you deliver?"))
        reply_code = bytes([engine.scripted_tts.code(REPLY)])
        assert host.wait_for(lambda: host.sent.count(reply_code) >= 16000, timeout=20)
        host.speak_into(engine, caller_says("Sorry, goodbye"), trailing_silence_ms=300)
        assert host.wait_for(lambda: interrupted(host), timeout=10), host.records
        played = host.flushes[-1]
        assert played < len(REPLY) * BYTES_PER_CHAR / 2  # the sentence was still being synthesized
        assert_heard_as_played(interrupted(host)[0], REPLY, played)
        assert REPLY not in host.messages("assistant")
    finally:
        engine.close()


def test_a_fixed_text_from_another_greenlet_waits_for_the_reply_instead_of_talking_over_it(host, tmp_path):
    engine = start(host, tmp_path, chunk_delay=0.01)
    try:
        assert host.wait_for(lambda: host.messages("assistant") == [GREETING], timeout=20)
        host.speak_into(engine, caller_says("When do you deliver?"))
        tts = engine.scripted_tts
        assert host.wait_for(lambda: host.sent.count(bytes([tts.code(REPLY)])) >= 1600, timeout=20)
        # The caller presses 0 (or a timer fires) while the reply is being spoken: the host says its text.
        notice = gevent.spawn(engine.say, NOTICE)
        notice.join(timeout=30)
        assert notice.successful()
        assert host.messages("assistant") == [GREETING, REPLY, NOTICE]
        heard = bytes(host.sent)
        reply, notice_audio = (bytes([tts.code(REPLY)]) * (len(REPLY) * BYTES_PER_CHAR),
                               bytes([tts.code(NOTICE)]) * (len(NOTICE) * BYTES_PER_CHAR))
        # One after the other, whole: not a chunk of one inside the other.
        assert heard.endswith(reply + notice_audio)
    finally:
        engine.close()


class HeldSTT(ScriptedSTT):
    """A recogniser that works on each utterance until the test lets it finish (an overloaded host)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.started = gevent.event.Event()
        self.release = gevent.event.Event()

    def transcribe(self, pcm16_8k: bytes, language: str) -> str:
        self.started.set()
        self.release.wait()
        return self.text


def test_the_engine_owes_the_caller_a_reply_until_it_answers_and_no_longer_than_its_limit(host, tmp_path, monkeypatch):
    """What holds the call's silence timer (edge/call/timeouts.py): from the end of the caller's words
    until the engine is done with them — unless it takes longer than MAX_OWED_SECONDS."""
    engine = start(host, tmp_path)
    held = HeldSTT("When do you deliver?")
    engine.stt = held
    try:
        assert host.wait_for(lambda: host.messages("assistant") == [GREETING], timeout=20)
        assert not engine.reply_owed
        host.speak_into(engine, caller_says("When do you deliver?"))
        assert host.wait_for(held.started.is_set)
        assert engine.reply_owed  # transcribing: the caller is waiting for us
        monkeypatch.setattr(turns, "MAX_OWED_SECONDS", 0.0)
        assert not engine.reply_owed  # stuck past the limit: silence counts again
        monkeypatch.undo()
        held.release.set()
        assert host.wait_for(lambda: REPLY in host.messages("assistant"), timeout=20)
        assert not engine.reply_owed
    finally:
        held.release.set()
        engine.close()
