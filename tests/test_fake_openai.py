"""The OpenAI fake answers the real SDK the way the API does (so tests built on it mean something)."""

from __future__ import annotations

import io
import math

import openai
import pytest

from tests.fakes.openai_http import DEFAULT_KEY, ChatReply, FakeOpenAI


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def _client(fake: FakeOpenAI, key: str = DEFAULT_KEY) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=fake.base_url, max_retries=0)


def test_embeddings_default_base64_and_float_agree(fake) -> None:
    client = _client(fake)
    b64 = client.embeddings.create(model="text-embedding-3-small", input=["office hours", "opening hours"])
    flt = client.embeddings.create(model="text-embedding-3-small", input="office hours", encoding_format="float")
    assert len(b64.data) == 2 and len(b64.data[0].embedding) == 1536
    assert all(abs(a - b) < 1e-6 for a, b in zip(b64.data[0].embedding, flt.data[0].embedding, strict=True))
    dot = sum(a * b for a, b in zip(b64.data[0].embedding, b64.data[1].embedding, strict=True))
    assert 0.3 < dot < 0.99  # a shared word makes the texts near, not equal
    assert math.isclose(sum(v * v for v in flt.data[0].embedding), 1.0, rel_tol=1e-6)


def test_chat_streams_text_and_tool_calls(fake) -> None:
    fake.script_chat(ChatReply(text="Let me transfer you.", tool_calls=[("transfer_call", {"destination": "sales"})]))
    stream = _client(fake).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "sales please"}], stream=True
    )
    text, name, arguments = "", "", ""
    for chunk in stream:
        delta = chunk.choices[0].delta
        text += delta.content or ""
        for call in delta.tool_calls or []:
            name += call.function.name or ""
            arguments += call.function.arguments or ""
    assert text == "Let me transfer you." and name == "transfer_call" and '"sales"' in arguments


def test_chat_without_script_echoes(fake) -> None:
    reply = _client(fake).chat.completions.create(model="m", messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content == "You said: hello"


def test_transcription_and_speech(fake) -> None:
    fake.script_transcripts("what are your opening hours")
    client = _client(fake)
    result = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", io.BytesIO(b"RIFF...."), "audio/wav"))
    assert result.text == "what are your opening hours"
    audio = client.audio.speech.create(model="tts-1", voice="alloy", input="hello", response_format="pcm")
    assert len(audio.content) == 24000 * 2 * 5 * fake.speech_ms_per_char // 1000  # 16-bit at 24 kHz


def test_wrong_key_and_injected_errors(fake) -> None:
    with pytest.raises(openai.AuthenticationError):
        _client(fake, key="sk-wrong").embeddings.create(model="m", input="x")
    fake.fail_next(429)
    with pytest.raises(openai.RateLimitError):
        _client(fake).embeddings.create(model="m", input="x")
    fake.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        _client(fake).embeddings.create(model="m", input="x")
    assert _client(fake).embeddings.create(model="m", input="x").data  # recovers
