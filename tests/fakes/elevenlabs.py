"""A local stand-in for the ElevenLabs text-to-speech HTTP stream, as the ``elevenlabs`` SDK calls it.

Read from the installed SDK (``text_to_speech/raw_client.py``, ``core/client_wrapper.py``,
``core/http_client.py``): ``ElevenLabs(api_key=..., base_url=...)`` joins ``base_url`` (no ``/v1``; the
SDK's default is ``https://api.elevenlabs.io``) with ``v1/text-to-speech/{voice_id}/stream`` and sends

* ``POST`` with header ``xi-api-key: <key>``, query ``output_format`` (and ``enable_logging``,
  ``optimize_streaming_latency`` when given), JSON body ``{"text": ..., "model_id": ..., ...}``;
* a 2xx reply is read as raw audio bytes (``iter_bytes``); anything else is parsed as JSON and raised as
  ``ApiError(status_code, body)`` (422 as ``UnprocessableEntityError``). The stream path does not retry.

The fake answers ``output_format=ulaw_8000`` (or ``pcm_8000``/``pcm_16000``) with a tone whose length
grows with the text (:attr:`FakeElevenLabs.ms_per_char`), sent with chunked transfer encoding in
:attr:`FakeElevenLabs.chunk_bytes` pieces, as the vendor streams it. Errors use the vendor's
``{"detail": {"status": ..., "message": ...}}`` body: 401 ``invalid_api_key`` for a wrong ``xi-api-key``,
404 ``voice_not_found``, 422 for a missing ``text``, and injected 429/5xx (:meth:`fail_next`) or a
stall (:meth:`stall_next`) for timeout tests. The WebSocket ``stream-input`` mode is not faked: the
product uses the HTTP stream.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np

from edge.audio.g711 import samples_to_ulaw
from tests.fakes.http_server import FakeHandler, FakeHttpServer

DEFAULT_KEY = "xi-test-5f3c9a1b2d4e6f708192a3b4c5d6e7f8"
DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"
RATES = {"ulaw_8000": 8000, "pcm_8000": 8000, "pcm_16000": 16000}
BODY_FIELDS = frozenset({
    "text", "model_id", "language_code", "voice_settings", "pronunciation_dictionary_locators", "seed",
    "previous_text", "next_text", "previous_request_ids", "next_request_ids", "apply_text_normalization",
    "apply_language_text_normalization", "use_pvc_as_ivc"})
"""The body fields of ``POST /v1/text-to-speech/{voice_id}/stream`` (the API reference); others are refused."""
VOICE_SETTINGS = frozenset({"stability", "similarity_boost", "style", "use_speaker_boost", "speed"})


@dataclass
class RecordedRequest:
    """A request the fake received (headers lower-cased, query as single values, JSON body)."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


def tone_samples(duration_ms: int, rate: int, frequency: float = 330.0) -> np.ndarray:
    """A sine tone as int16 samples."""
    t = np.arange(rate * duration_ms // 1000) / rate
    return (6000 * np.sin(2 * math.pi * frequency * t)).astype(np.int16)


class FakeElevenLabs(FakeHttpServer):
    """The fake server. Use as a context manager; ``base_url`` goes into the provider's config
    (``http://127.0.0.1:<port>``: the SDK adds ``/v1/...`` itself)."""

    def __init__(self, api_key: str = DEFAULT_KEY, voices: tuple[str, ...] = (DEFAULT_VOICE,)) -> None:
        self.voices = set(voices)
        self.ms_per_char = 40
        self.chunk_bytes = 1024
        super().__init__(api_key)

    # -- control -------------------------------------------------------------------------------
    def stall_next(self, seconds: float, after_first_chunk: bool = False) -> None:
        """Delay the next reply by ``seconds`` (before the headers, or after the first audio chunk)."""
        with self._lock:
            self._stalls.append((seconds, after_first_chunk))

    def audio_for(self, text: str, output_format: str = "ulaw_8000") -> bytes:
        """The audio the fake returns for ``text``."""
        samples = tone_samples(self.duration_ms(text), RATES[output_format])
        return samples_to_ulaw(samples) if output_format.startswith("ulaw") else samples.tobytes()

    def audio_bytes_for(self, text: str, output_format: str = "ulaw_8000") -> int:
        """How many audio bytes the fake returns for ``text``."""
        return len(self.audio_for(text, output_format))

    def duration_ms(self, text: str) -> int:
        """Speech length for ``text``."""
        return max(200, self.ms_per_char * len(text))

    # -- behaviour -----------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(FakeHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                raw, headers, path, query = self.read_request()
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                fake.requests.append(RecordedRequest(path, query, headers, body))
                if headers.get("xi-api-key") != fake.api_key:
                    return self._detail(401, "invalid_api_key", "Invalid API key")
                failure = fake._next_failure()
                status = failure[0] if failure else None
                if status == 429:
                    return self._detail(429, "too_many_concurrent_requests",
                                        "Too many concurrent requests for your subscription.")
                if status is not None:
                    return self._detail(status, "internal_server_error" if status == 500 else "system_busy",
                                        "An internal error occurred. Please try again.")
                parts = path.strip("/").split("/")
                if len(parts) != 4 or parts[:2] != ["v1", "text-to-speech"] or parts[3] != "stream":
                    return self.send_json(404, {"detail": "Not Found"})
                return self._stream(parts[2], query, body)

            def _stream(self, voice_id: str, query: dict[str, str], body: dict[str, Any]) -> None:
                if voice_id not in fake.voices:
                    return self._detail(404, "voice_not_found",
                                        f"A voice with voice_id {voice_id} was not found.")
                unknown = sorted(set(body) - BODY_FIELDS) + sorted(set(body.get("voice_settings") or {}) - VOICE_SETTINGS)
                if unknown:
                    return self.send_json(422, {"detail": [{"type": "extra_forbidden", "loc": ["body", unknown[0]],
                                                        "msg": "Extra inputs are not permitted"}]})
                text = body.get("text")
                if not isinstance(text, str) or not text:
                    return self.send_json(422, {"detail": [{"type": "missing", "loc": ["body", "text"],
                                                        "msg": "Field required", "input": body}]})
                output_format = query.get("output_format", "mp3_44100_128")
                if output_format not in RATES:
                    return self._detail(400, "invalid_output_format",
                                        f"This fake serves only {sorted(RATES)}, not {output_format}.")
                audio = fake.audio_for(text, output_format)
                stall = fake._pop(fake._stalls)
                if stall is not None and not stall[1]:
                    fake._stall(stall[0])
                self.send_response(200)
                self.send_header("Content-Type", "audio/basic" if output_format.startswith("ulaw")
                                 else "audio/pcm")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("request-id", uuid.uuid4().hex)
                self.end_headers()
                for start in range(0, len(audio), fake.chunk_bytes):
                    piece = audio[start:start + fake.chunk_bytes]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                    if start == 0 and stall is not None and stall[1]:
                        fake._stall(stall[0])
                self.wfile.write(b"0\r\n\r\n")

            def _detail(self, status: int, code: str, message: str) -> None:
                self.send_json(status, {"detail": {"status": code, "message": message}})

        return Handler
