"""OpenAI text-to-speech via ``audio.speech`` with ``response_format="pcm"`` (24 kHz) → 8 kHz PCMU."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from edge.audio.g711 import samples_to_ulaw
from edge.audio.resample import Decimator
from edge.services.base import TextToSpeech
from edge.services.openai.client import guarded, make_client, translate
from edge.services.voices import openai_tts_voice
from shared.logging import CallLogger
from shared.providers import ProviderConfig, default_model


class OpenAITextToSpeech(TextToSpeech):
    """Streams the response body, converting each chunk as it arrives."""

    name = "openai"

    def __init__(self, config: ProviderConfig, voice_name: str | None = None, log: CallLogger | None = None) -> None:
        self.model = config.model or default_model("speech")
        self.voice = openai_tts_voice([config.config.get("voice"), voice_name], log)
        self.client = make_client(config)

    def cache_key(self) -> str:
        """Provider, model and voice."""
        return f"openai:{self.model}:{self.voice}"

    def stream(self, text: str) -> Iterator[bytes]:
        """PCMU chunks as the 24 kHz PCM arrives."""
        decimator = Decimator(3)
        odd = b""
        manager = guarded("openai-tts", lambda: self.client.audio.speech.with_streaming_response.create(
            model=self.model, voice=self.voice, input=text, response_format="pcm"))
        try:
            with manager as response:
                for chunk in response.iter_bytes(4800):
                    data = odd + chunk
                    odd = data[len(data) & ~1:]
                    samples = np.frombuffer(data[: len(data) & ~1], dtype="<i2")
                    out = decimator.process(samples)
                    if len(out):
                        yield samples_to_ulaw(out)
        except Exception as exc:
            from edge.services.base import ServiceError

            if isinstance(exc, ServiceError):
                raise
            raise translate("openai-tts", exc) from None
