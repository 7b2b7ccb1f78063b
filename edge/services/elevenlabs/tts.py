"""ElevenLabs text-to-speech via the SDK's HTTP stream with ``output_format="ulaw_8000"``.

The vendor returns PCMU at 8 kHz directly, so chunks go to the caller untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from edge.services.base import ErrorKind, ServiceError, TextToSpeech, kind_for_status
from edge.services.voices import elevenlabs_voice
from shared.logging import CallLogger
from shared.providers import ProviderConfig, default_model

DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"


def _translate(exc: Exception) -> ServiceError:
    from elevenlabs.core.api_error import ApiError

    if isinstance(exc, ApiError) and exc.status_code is not None:
        # The vendor's error body is {"detail": {"status": "invalid_api_key", "message": ...}}: keep the code.
        detail = exc.body.get("detail") if isinstance(exc.body, dict) else None
        code = str(detail.get("status") or "") if isinstance(detail, dict) else ""
        return ServiceError("elevenlabs-tts", kind_for_status(exc.status_code), code, status=exc.status_code)
    if isinstance(exc, httpx.TimeoutException):
        return ServiceError("elevenlabs-tts", ErrorKind.TIMEOUT)
    if isinstance(exc, httpx.HTTPError):
        return ServiceError("elevenlabs-tts", ErrorKind.NETWORK)
    return ServiceError("elevenlabs-tts", ErrorKind.BAD_RESPONSE, type(exc).__name__)


class ElevenLabsTextToSpeech(TextToSpeech):
    """``client.text_to_speech.stream(voice_id, text=..., model_id=..., output_format="ulaw_8000")``."""

    name = "elevenlabs"

    def __init__(self, config: ProviderConfig, voice_name: str | None = None, log: CallLogger | None = None) -> None:
        from elevenlabs import ElevenLabs

        if not config.api_key:
            raise ServiceError("elevenlabs-tts", ErrorKind.AUTH, "no api_key configured")
        self.model = config.model or default_model("elevenlabs")
        self.voice = elevenlabs_voice([config.config.get("voice"), voice_name], log, DEFAULT_VOICE)
        kwargs: dict[str, Any] = {"api_key": config.api_key, "timeout": float(config.config.get("timeout", 15.0))}
        if config.base_url:
            kwargs["base_url"] = config.base_url
        self.client = ElevenLabs(**kwargs)

    def cache_key(self) -> str:
        """Provider, model and voice."""
        return f"elevenlabs:{self.model}:{self.voice}"

    def stream(self, text: str) -> Iterator[bytes]:
        """PCMU chunks as the vendor sends them."""
        try:
            for chunk in self.client.text_to_speech.stream(
                self.voice, text=text, model_id=self.model, output_format="ulaw_8000"
            ):
                if chunk:
                    yield chunk
        except ServiceError:
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes the ServiceError callers handle
            raise _translate(exc) from None
