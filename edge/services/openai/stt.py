"""OpenAI speech-to-text (``whisper-1``, ``gpt-4o-transcribe``) via ``audio.transcriptions.create``."""

from __future__ import annotations

import io
import wave

from edge.services.base import SpeechToText
from edge.services.openai.client import guarded, make_client
from shared.providers import ProviderConfig, default_model


def wav_bytes(pcm16: bytes, rate: int = 8000) -> bytes:
    """Wrap 16-bit mono PCM in a WAV container (what the endpoint accepts)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16)
    return buffer.getvalue()


class OpenAISpeechToText(SpeechToText):
    """One request per utterance; the audio is sent as an 8 kHz WAV file."""

    name = "openai"

    def __init__(self, config: ProviderConfig) -> None:
        self.model = config.model or default_model("transcription")
        self.client = make_client(config)

    def transcribe(self, pcm16_8k: bytes, language: str) -> str:
        """The transcript (blocking HTTP call)."""
        lang = (language or "").split("-", 1)[0] or None
        result = guarded("openai-stt", lambda: self.client.audio.transcriptions.create(
            model=self.model, file=("utterance.wav", wav_bytes(pcm16_8k), "audio/wav"),
            language=lang, response_format="json"))
        return (getattr(result, "text", None) or "").strip()
