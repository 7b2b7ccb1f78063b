"""ElevenLabs TTS and Google STT clients against local fakes of the vendors' documented APIs.

What a caller would notice: the right audio and words come back; a wrong key, a 429, a 5xx or a stalled
vendor turns into a :class:`ServiceError` of the right kind promptly (never a hang), and the key shows up
nowhere — not in the exception, its traceback, or any log line.
"""

from __future__ import annotations

import base64
import logging
import traceback

import httpx
import pytest

from edge.audio.g711 import l16_to_ulaw, ulaw_to_l16
from edge.core.state import CallState
from edge.engines.base import EngineUnavailable
from edge.engines.greeting_cache import GreetingCache
from edge.engines.pipeline import PipelineEngine
from edge.services.base import ErrorKind, ServiceError
from edge.services.elevenlabs.tts import ElevenLabsTextToSpeech
from edge.services.factory import speech_to_text, text_to_speech
from edge.services.google.stt import GoogleSpeechToText
from shared.providers import ProviderConfig
from simulator.voice import caller_says
from tests.fakes.elevenlabs import DEFAULT_KEY as XI_KEY
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.engine_host import FakeHost
from tests.fakes.google_speech import DEFAULT_KEY as GOOGLE_KEY
from tests.fakes.google_speech import FakeGoogleSpeech
from tests.fakes.openai_http import DEFAULT_KEY as OPENAI_KEY
from tests.fakes.openai_http import ChatReply, FakeOpenAI

pytestmark = pytest.mark.timeout(30)

WRONG_KEY = "wrong-secret-key-9f8e7d6c5b4a"


@pytest.fixture
def eleven():
    with FakeElevenLabs() as server:
        yield server


@pytest.fixture
def google():
    with FakeGoogleSpeech() as server:
        yield server


def tts_config(fake: FakeElevenLabs, key: str = XI_KEY, **extra) -> ProviderConfig:
    return ProviderConfig("tts", "elevenlabs", {"api_key": key, "base_url": fake.base_url, **extra})


def stt_config(fake: FakeGoogleSpeech, key: str = GOOGLE_KEY, **extra) -> ProviderConfig:
    return ProviderConfig("stt", "google", {"api_key": key, "base_url": fake.base_url, **extra})


def assert_key_hidden(error: ServiceError, key: str, log_text: str) -> None:
    shown = "".join(traceback.format_exception(error)) + repr(error) + str(error) + log_text
    assert key not in shown and key[6:] not in shown


# -- ElevenLabs ----------------------------------------------------------------------------------------
def test_elevenlabs_streams_ulaw_8k_that_grows_with_the_text(eleven):
    tts = text_to_speech(tts_config(eleven), "en-US", None)
    assert isinstance(tts, ElevenLabsTextToSpeech)
    short = list(tts.stream("Hello."))
    long = list(tts.stream("Hello, this is Acme. We are open from nine to five on weekdays."))
    assert len(long) > 1, "the reply should arrive in several chunks"
    assert len(b"".join(short)) == eleven.audio_bytes_for("Hello.")
    assert len(b"".join(long)) == eleven.audio_bytes_for("Hello, this is Acme. We are open from nine to "
                                                         "five on weekdays.") > len(b"".join(short))
    samples = ulaw_to_l16(b"".join(long))
    assert max(abs(int.from_bytes(samples[i:i + 2], "little", signed=True))
               for i in range(0, 4000, 2)) > 3000, "audible tone, not silence"
    request = eleven.requests[-1]
    assert request.path == "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream"
    assert request.query["output_format"] == "ulaw_8000"
    assert request.headers["xi-api-key"] == XI_KEY
    assert request.body["model_id"] == "eleven_flash_v2_5"


def test_elevenlabs_uses_the_configured_voice_and_model(eleven):
    eleven.voices.add("pNInz6obpgDQGcFmaJgB")
    tts = text_to_speech(tts_config(eleven, voice="pNInz6obpgDQGcFmaJgB", model="eleven_turbo_v2_5"),
                         "pt-BR", None)
    assert b"".join(tts.stream("Olá"))
    assert eleven.requests[-1].path == "/v1/text-to-speech/pNInz6obpgDQGcFmaJgB/stream"
    assert eleven.requests[-1].body["model_id"] == "eleven_turbo_v2_5"
    assert tts.cache_key() == "elevenlabs:eleven_turbo_v2_5:pNInz6obpgDQGcFmaJgB"


def test_elevenlabs_wrong_key_is_an_auth_error_without_the_key(eleven, caplog):
    tts = text_to_speech(tts_config(eleven, key=WRONG_KEY), "en-US", None)
    with caplog.at_level(logging.DEBUG), pytest.raises(ServiceError) as raised:
        list(tts.stream("Hello."))
    assert raised.value.kind is ErrorKind.AUTH and raised.value.status == 401
    assert str(raised.value) == "elevenlabs-tts: auth (HTTP 401): invalid_api_key"
    assert eleven.requests[-1].headers["xi-api-key"] == WRONG_KEY  # it was really sent, and rejected
    assert_key_hidden(raised.value, WRONG_KEY, caplog.text)


def test_elevenlabs_unknown_voice_is_a_request_error(eleven):
    tts = text_to_speech(tts_config(eleven, voice="NoSuchVoice000000000"), "en-US", None)
    with pytest.raises(ServiceError) as raised:
        list(tts.stream("Hello."))
    assert raised.value.kind is ErrorKind.BAD_REQUEST and raised.value.status == 404


@pytest.mark.parametrize(("status", "kind"), [(429, ErrorKind.RATE_LIMIT), (500, ErrorKind.SERVER),
                                              (503, ErrorKind.SERVER)])
def test_elevenlabs_429_and_5xx_fail_at_once(eleven, status, kind):
    tts = text_to_speech(tts_config(eleven), "en-US", None)
    eleven.fail_next(status)
    with pytest.raises(ServiceError) as raised:
        list(tts.stream("Hello."))
    assert raised.value.kind is kind and raised.value.status == status
    assert len(eleven.requests) == 1, "the stream call is not retried behind the caller's back"
    assert b"".join(tts.stream("Hello.")), "the next request works again"


@pytest.mark.parametrize("mid_stream", [False, True])
def test_elevenlabs_stall_becomes_a_timeout_not_a_hang(eleven, mid_stream):
    tts = text_to_speech(tts_config(eleven, timeout=0.5), "en-US", None)
    eleven.stall_next(20, after_first_chunk=mid_stream)
    with pytest.raises(ServiceError) as raised:
        list(tts.stream("A sentence long enough to need more than one chunk of audio."))
    assert raised.value.kind is ErrorKind.TIMEOUT


def test_elevenlabs_without_a_key_is_refused_before_any_request(eleven):
    with pytest.raises(ServiceError) as raised:
        text_to_speech(ProviderConfig("tts", "elevenlabs", {"base_url": eleven.base_url}), "en-US", None)
    assert raised.value.kind is ErrorKind.AUTH and not eleven.requests


# -- Google Speech-to-Text -----------------------------------------------------------------------------
def test_google_transcribes_the_callers_audio(google):
    google.script_transcripts("When are you open on Saturday?")
    stt = speech_to_text(stt_config(google))
    assert isinstance(stt, GoogleSpeechToText)
    pcm = ulaw_to_l16(caller_says("When are you open on Saturday?"))
    assert stt.transcribe(pcm, "en-US") == "When are you open on Saturday?"
    request = google.requests[-1]
    assert request.path == "/v1/speech:recognize"
    assert request.body["config"] == {"encoding": "MULAW", "sampleRateHertz": 8000, "languageCode": "en-US"}
    assert request.audio == l16_to_ulaw(pcm), "the utterance goes as 8 kHz µ-law, whole"
    assert request.headers["x-goog-api-key"] == GOOGLE_KEY and "key" not in request.query


def test_google_two_minute_utterance_is_recognized_in_pieces_the_api_accepts(google):
    google.script_transcripts("first part", "second part", "third part")
    stt = speech_to_text(stt_config(google))
    pcm = ulaw_to_l16(caller_says("I would like to explain my problem in detail.")) * 1
    two_minutes = (pcm * (2 * 60 * 16000 // len(pcm) + 1))[: 2 * 60 * 16000]
    assert stt.transcribe(two_minutes, "en-US") == "first part second part third part"
    sent = [request.audio for request in google.requests]
    assert b"".join(sent) == l16_to_ulaw(two_minutes)  # nothing lost, nothing repeated
    assert all(len(audio) / 8000 <= 60 for audio in sent) and len(sent) == 3


def test_voices_a_vendor_does_not_offer_are_never_sent(eleven, caplog):
    from edge.services.openai.tts import OpenAITextToSpeech
    from shared.logging import call_logger

    log = call_logger("tests.voices", call_uuid="c1")
    with caplog.at_level(logging.ERROR):
        eleven_tts = text_to_speech(tts_config(eleven), "en-US", "Rachel", log)
        openai_tts = OpenAITextToSpeech(ProviderConfig("tts", "openai", {"api_key": OPENAI_KEY}), "marin-ish", log)
        espeak = text_to_speech(ProviderConfig("tts", "offline"), "en-US", "marin", log)
    assert eleven_tts.voice == "21m00Tcm4TlvDq8ikWAM" and openai_tts.voice == "alloy" and espeak.voice == "en-us"
    refused = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(refused) == 3 and all(name in " ".join(refused) for name in ("'Rachel'", "'marin-ish'", "'marin'"))
    assert text_to_speech(tts_config(eleven), "en-US", "ash", None).voice == "21m00Tcm4TlvDq8ikWAM"
    assert OpenAITextToSpeech(ProviderConfig("tts", "openai", {"api_key": OPENAI_KEY}), "ash").voice == "ash"


def test_google_nothing_recognized_is_an_empty_transcript(google):
    stt = speech_to_text(stt_config(google, model="phone_call"))
    assert stt.transcribe(b"\x00\x00" * 4000, "pt-BR") == ""
    assert google.requests[-1].body["config"]["model"] == "phone_call"
    assert google.requests[-1].body["config"]["languageCode"] == "pt-BR"


def test_google_wrong_key_is_an_auth_error_without_the_key(google, caplog):
    stt = speech_to_text(stt_config(google, key=WRONG_KEY))
    with caplog.at_level(logging.DEBUG), pytest.raises(ServiceError) as raised:
        stt.transcribe(b"\x00\x00" * 800, "en-US")
    # Google answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID: still an auth failure.
    assert raised.value.kind is ErrorKind.AUTH and raised.value.status == 400
    assert "API_KEY_INVALID" in str(raised.value)
    assert_key_hidden(raised.value, WRONG_KEY, caplog.text)


@pytest.mark.parametrize(("status", "kind"), [(403, ErrorKind.AUTH), (429, ErrorKind.RATE_LIMIT),
                                              (500, ErrorKind.SERVER), (503, ErrorKind.SERVER)])
def test_google_errors_map_to_their_kind(google, status, kind):
    stt = speech_to_text(stt_config(google))
    google.fail_next(status)
    with pytest.raises(ServiceError) as raised:
        stt.transcribe(b"\x00\x00" * 800, "en-US")
    assert raised.value.kind is kind and raised.value.status == status
    google.script_transcripts("again")
    assert stt.transcribe(b"\x00\x00" * 800, "en-US") == "again"


def test_google_stall_becomes_a_timeout_not_a_hang(google):
    stt = speech_to_text(stt_config(google, timeout=0.5))
    google.stall_next(20)
    with pytest.raises(ServiceError) as raised:
        stt.transcribe(b"\x00\x00" * 800, "en-US")
    assert raised.value.kind is ErrorKind.TIMEOUT


def test_google_fake_rejects_what_google_rejects(google):
    """The fake is strict where the real API is, so a client drifting from the shape fails here."""
    url = f"{google.base_url}/speech:recognize"
    good = {"config": {"encoding": "MULAW", "sampleRateHertz": 8000, "languageCode": "en-US"},
            "audio": {"content": ""}}
    assert httpx.post(url, params={"key": GOOGLE_KEY}, json=good).status_code == 200
    assert httpx.post(url, json=good).json()["error"]["status"] == "PERMISSION_DENIED"
    no_language = {**good, "config": {"encoding": "MULAW", "sampleRateHertz": 8000}}
    reply = httpx.post(url, params={"key": GOOGLE_KEY}, json=no_language)
    assert reply.status_code == 400 and reply.json()["error"]["status"] == "INVALID_ARGUMENT"
    too_long = {**good, "audio": {"content": base64.b64encode(b"\xff" * 8000 * 61).decode()}}
    assert "Sync input too long" in httpx.post(url, params={"key": GOOGLE_KEY}, json=too_long).text


# -- the pipeline engine with Google STT, OpenAI chat and ElevenLabs TTS ------------------------------
@pytest.fixture
def openai():
    with FakeOpenAI() as server:
        yield server


def vendor_providers(google: FakeGoogleSpeech, openai: FakeOpenAI, eleven: FakeElevenLabs,
                     xi_key: str = XI_KEY) -> dict[str, ProviderConfig]:
    return {"stt": stt_config(google), "tts": tts_config(eleven, key=xi_key),
            "llm": ProviderConfig("llm", "openai", {"api_key": OPENAI_KEY, "base_url": openai.base_url}),
            "embeddings": ProviderConfig("embeddings", "offline")}


def start_engine(host: FakeHost, tmp_path) -> PipelineEngine:
    engine = PipelineEngine(host, greeting_cache=GreetingCache(tmp_path))
    engine.start()
    assert host.wait_for(lambda: CallState.LISTENING in host.states)
    return engine


def test_pipeline_google_stt_openai_chat_elevenlabs_voice(google, openai, eleven, tmp_path):
    google.script_transcripts("When are you open on Saturday?")
    reply = "We open from nine to one on Saturday. Anything else?"
    openai.script_chat(ChatReply(text=reply))
    host = FakeHost(vendor_providers(google, openai, eleven))
    engine = start_engine(host, tmp_path)
    try:
        greeting = host.context.secretary.greeting_message
        assert eleven.requests[0].body["text"] == greeting
        assert host.wait_for(lambda: len(host.sent) >= eleven.audio_bytes_for(greeting))
        before = len(host.sent)
        host.speak_into(engine, caller_says("When are you open on Saturday?"))
        assert host.wait_for(lambda: reply in host.messages("assistant"), timeout=15)
        assert host.messages("user") == ["When are you open on Saturday?"]
        # The caller's utterance reached Google as 8 kHz µ-law; its transcript reached the model.
        assert len(google.requests) == 1 and len(google.requests[0].audio) > 8000
        chat = [r for r in openai.requests if r.path.endswith("/chat/completions")][-1]
        assert chat.body["messages"][-1] == {"role": "user", "content": "When are you open on Saturday?"}
        # The reply was synthesized by ElevenLabs as ulaw_8000 and played to the caller as it came.
        spoken = eleven.requests[1:]
        assert " ".join(r.body["text"] for r in spoken) == reply
        assert all(r.query["output_format"] == "ulaw_8000" for r in spoken)
        expected = b"".join(eleven.audio_for(r.body["text"]) for r in spoken)
        assert host.wait_for(lambda: len(host.sent) - before >= len(expected))
        assert bytes(host.sent[before:]).startswith(expected), "the vendor's PCMU, played untouched"
        assert host.hung_up is None
    finally:
        engine.close()
        host.close()


def test_pipeline_google_rate_limit_mid_call_apologizes_and_hands_the_call_back(google, openai, eleven, tmp_path,
                                                                               caplog):
    host = FakeHost(vendor_providers(google, openai, eleven))
    engine = start_engine(host, tmp_path)
    try:
        google.fail_next(429)
        with caplog.at_level(logging.ERROR):
            host.speak_into(engine, caller_says("Hello?"))
            assert host.failed_event.wait(15)
        assert "technical problem" in host.messages("assistant")[-1]
        assert host.failed == "google-stt rate_limit"
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert any("google-stt" in line and "429" in line for line in errors)
    finally:
        engine.close()
        host.close()


def test_pipeline_elevenlabs_wrong_key_makes_the_engine_unavailable(google, openai, eleven, tmp_path, caplog):
    host = FakeHost(vendor_providers(google, openai, eleven, xi_key=WRONG_KEY))
    with caplog.at_level(logging.DEBUG), pytest.raises(EngineUnavailable) as raised:
        PipelineEngine(host, greeting_cache=GreetingCache(tmp_path)).start()
    host.close()
    assert "elevenlabs-tts" in str(raised.value) and "401" in str(raised.value)
    assert WRONG_KEY not in str(raised.value) and WRONG_KEY not in caplog.text
