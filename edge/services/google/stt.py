"""Google Cloud Speech-to-Text v1 ``speech:recognize`` over plain HTTPS with an API key.

Request ``{"config": {"encoding": "MULAW", "sampleRateHertz": 8000, "languageCode": ...},
"audio": {"content": <base64>}}``; reply ``{"results": [{"alternatives": [{"transcript": ...}]}]}``
(no ``results`` when nothing was recognized). The key travels in the ``x-goog-api-key`` header, which
Google accepts like the ``key`` query parameter, never in the URL (URLs end up in logs).

Errors come as ``{"error": {"code", "message", "status", "details"}}``. A wrong key is HTTP 400
``INVALID_ARGUMENT`` with reason ``API_KEY_INVALID``, so the kind is read from the body, not only the
HTTP status: a bad key must read as an auth failure, not as a malformed request.

``speech:recognize`` refuses audio longer than about one minute ("Sync input too long"): a longer
utterance is sent as consecutive pieces of at most :data:`MAX_REQUEST_SECONDS` (µ-law at 8 kHz: 400 kB
each, far below the 10 MB request limit) and their transcripts are joined.
"""

from __future__ import annotations

import base64

import httpx

from edge.audio.g711 import l16_to_ulaw
from edge.services.base import ErrorKind, ServiceError, SpeechToText, kind_for_status
from shared.providers import ProviderConfig

DEFAULT_BASE_URL = "https://speech.googleapis.com/v1"
MAX_REQUEST_SECONDS = 50
"""Audio per synchronous request (the API's limit is 60 s; a margin for its own rounding)."""
_AUTH_REASONS = {"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED",
                 "API_KEY_IP_ADDRESS_BLOCKED", "SERVICE_DISABLED"}


def error_kind(status_code: int, body: object) -> tuple[ErrorKind, str]:
    """The kind of a Google API error reply and a safe detail (the ``status`` and reason names only)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return kind_for_status(status_code), ""
    status = str(error.get("status") or "")
    reasons = [d.get("reason", "") for d in error.get("details") or [] if isinstance(d, dict)]
    detail = " ".join(part for part in [status, *reasons] if part)
    if status in ("UNAUTHENTICATED", "PERMISSION_DENIED") or _AUTH_REASONS.intersection(reasons):
        return ErrorKind.AUTH, detail
    if status == "RESOURCE_EXHAUSTED":
        return ErrorKind.RATE_LIMIT, detail
    return kind_for_status(status_code), detail


class GoogleSpeechToText(SpeechToText):
    """One synchronous recognize request per utterance."""

    name = "google"

    def __init__(self, config: ProviderConfig) -> None:
        if not config.api_key:
            raise ServiceError("google-stt", ErrorKind.AUTH, "no api_key configured")
        self._key = config.api_key
        self.base_url = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.model = config.model
        self.timeout = float(config.config.get("timeout", 15.0))

    def transcribe(self, pcm16_8k: bytes, language: str) -> str:
        """The best transcript (blocking HTTP calls, one per :data:`MAX_REQUEST_SECONDS` of audio)."""
        ulaw = l16_to_ulaw(pcm16_8k)
        step = MAX_REQUEST_SECONDS * 8000
        pieces = [self._recognize(ulaw[start:start + step], language) for start in range(0, len(ulaw), step)]
        return " ".join(p for p in pieces if p).strip()

    def _recognize(self, ulaw: bytes, language: str) -> str:
        recognition = {"encoding": "MULAW", "sampleRateHertz": 8000, "languageCode": language or "pt-BR"}
        if self.model:
            recognition["model"] = self.model
        body = {"config": recognition, "audio": {"content": base64.b64encode(ulaw).decode()}}
        try:
            response = httpx.post(f"{self.base_url}/speech:recognize", json=body, timeout=self.timeout,
                                  headers={"x-goog-api-key": self._key})
        except httpx.TimeoutException:
            raise ServiceError("google-stt", ErrorKind.TIMEOUT) from None
        except httpx.HTTPError:
            raise ServiceError("google-stt", ErrorKind.NETWORK) from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code != 200:
            kind, detail = error_kind(response.status_code, payload)
            raise ServiceError("google-stt", kind, detail, status=response.status_code)
        if not isinstance(payload, dict):
            raise ServiceError("google-stt", ErrorKind.BAD_RESPONSE)
        results = [r for r in payload.get("results") or [] if isinstance(r, dict)]
        return " ".join((r.get("alternatives") or [{}])[0].get("transcript", "").strip() for r in results).strip()
