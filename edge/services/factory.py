"""Build the service client for a resolved provider (``shared.providers`` decides which one applies)."""

from __future__ import annotations

from collections.abc import Sequence

from edge.services.base import ChatModel, ErrorKind, ServiceError, SpeechToText, TextToSpeech
from shared.logging import CallLogger
from shared.providers import ProviderConfig


def speech_to_text(config: ProviderConfig, hints: Sequence[str] = ()) -> SpeechToText:
    """STT for ``config`` (``openai``, ``google``, ``offline``)."""
    name = config.provider_name
    if name == "openai":
        from edge.services.openai.stt import OpenAISpeechToText

        return OpenAISpeechToText(config)
    if name == "google":
        from edge.services.google.stt import GoogleSpeechToText

        return GoogleSpeechToText(config)
    if name == "offline":
        from edge.services.offline.stt import OfflineSpeechToText

        return OfflineSpeechToText(hints)
    raise ServiceError(f"stt:{name}", ErrorKind.BAD_REQUEST, "unknown provider")


def text_to_speech(config: ProviderConfig, language: str | None, voice_name: str | None,
                   log: CallLogger | None = None) -> TextToSpeech:
    """TTS for ``config`` (``elevenlabs``, ``openai``, ``offline``); a voice the vendor does not offer is
    replaced by its default with one ❌ ERROR line on ``log``."""
    name = config.provider_name
    if name == "elevenlabs":
        from edge.services.elevenlabs.tts import ElevenLabsTextToSpeech

        return ElevenLabsTextToSpeech(config, voice_name, log)
    if name == "openai":
        from edge.services.openai.tts import OpenAITextToSpeech

        return OpenAITextToSpeech(config, voice_name, log)
    if name == "offline":
        from edge.services.offline.tts import OfflineTextToSpeech

        return OfflineTextToSpeech.for_provider(config, language, voice_name, log)
    raise ServiceError(f"tts:{name}", ErrorKind.BAD_REQUEST, "unknown provider")


def chat_model(config: ProviderConfig) -> ChatModel:
    """The chat model for ``config`` (``openai``)."""
    if config.provider_name == "openai":
        from edge.services.openai.llm import OpenAIChatModel

        return OpenAIChatModel(config)
    raise ServiceError(f"llm:{config.provider_name}", ErrorKind.BAD_REQUEST, "no chat model for this provider")
