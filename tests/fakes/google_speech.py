"""A local stand-in for Google Cloud Speech-to-Text v1 ``speech:recognize`` (REST, API key).

Follows the documented REST shape: ``POST {base}/v1/speech:recognize`` with the API key either as the
``key`` query parameter or the ``x-goog-api-key`` header; body ``{"config": {"encoding",
"sampleRateHertz", "languageCode", "model"?, ...}, "audio": {"content": <base64>}}``; reply
``{"results": [{"alternatives": [{"transcript", "confidence"}], "resultEndTime", "languageCode"}],
"totalBilledTime", "requestId"}`` — with no ``results`` at all when nothing was recognized.

Errors use Google's ``{"error": {"code", "message", "status", "details"}}`` shape. As the real API does,
a wrong key is ``400 INVALID_ARGUMENT`` with an ``ErrorInfo`` whose reason is ``API_KEY_INVALID``, and a
missing key is ``403 PERMISSION_DENIED``; :meth:`FakeGoogleSpeech.fail_next` injects 403
``PERMISSION_DENIED``, 429 ``RESOURCE_EXHAUSTED``, 500 ``INTERNAL`` or 503 ``UNAVAILABLE``;
:meth:`FakeGoogleSpeech.stall_next` delays a reply for timeout tests. Transcripts come from a script.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http_server import FakeHandler, FakeHttpServer

DEFAULT_KEY = "AIzaSyTest-0123456789abcdefghijklmnopqr"
ENCODINGS = {"LINEAR16": 2, "MULAW": 1, "FLAC": 0, "AMR": 0, "AMR_WB": 0, "OGG_OPUS": 0,
             "SPEEX_WITH_HEADER_BYTE": 0, "WEBM_OPUS": 0}
"""v1 ``RecognitionConfig.AudioEncoding`` values, with bytes per sample for the raw ones (v1 has no
``ALAW``; ``MP3`` is v1p1beta1 only)."""
CONFIG_FIELDS = frozenset({
    "encoding", "sampleRateHertz", "audioChannelCount", "enableSeparateRecognitionPerChannel", "languageCode",
    "alternativeLanguageCodes", "maxAlternatives", "profanityFilter", "adaptation", "transcriptNormalization",
    "speechContexts", "enableWordTimeOffsets", "enableWordConfidence", "enableAutomaticPunctuation",
    "enableSpokenPunctuation", "enableSpokenEmojis", "diarizationConfig", "metadata", "model", "useEnhanced"})
"""The fields of v1 ``RecognitionConfig``; any other name is refused as an unknown field."""
MAX_CONTENT_BYTES = 10 * 1024 * 1024
"""Inline audio over 10 MB is refused, whatever its length."""
STATUS_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
SYNC_LIMIT_SECONDS = 60


@dataclass
class RecordedRequest:
    """A request the fake received; ``audio`` is the decoded ``audio.content``."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    audio: bytes = b""


class FakeGoogleSpeech(FakeHttpServer):
    """The fake server. Use as a context manager; ``base_url`` (``http://127.0.0.1:<port>/v1``, like
    ``https://speech.googleapis.com/v1``) goes into the config."""

    path_prefix = "/v1"

    def __init__(self, api_key: str = DEFAULT_KEY) -> None:
        self._transcripts: deque[str] = deque()
        super().__init__(api_key)

    # -- control -------------------------------------------------------------------------------
    def script_transcripts(self, *texts: str) -> None:
        """Queue recognition results, used in order (then "nothing recognized")."""
        with self._lock:
            self._transcripts.extend(texts)

    def stall_next(self, seconds: float) -> None:
        """Delay the next reply by ``seconds``."""
        with self._lock:
            self._stalls.append(seconds)

    # -- behaviour -----------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(FakeHandler):
            json_content_type = "application/json; charset=UTF-8"

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                raw, headers, path, query = self.read_request()
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self._error(400, "Invalid JSON payload received.")
                record = RecordedRequest(path, query, headers, body)
                fake.requests.append(record)
                stall = fake._pop(fake._stalls)
                if stall is not None:
                    fake._stall(stall)
                key = query.get("key") or headers.get("x-goog-api-key")
                if not key:
                    return self._error(403, "Method doesn't allow unregistered callers (callers without "
                                            "established identity). Please use API Key or other form of API "
                                            "consumer identity to call this API.")
                if key != fake.api_key:
                    return self._error(400, "API key not valid. Please pass a valid API key.",
                                       reason="API_KEY_INVALID")
                failure = fake._next_failure()
                if failure is not None:
                    status = failure[0]
                    message = {403: "Cloud Speech-to-Text API has not been used in this project or it is "
                                    "disabled.",
                               429: "Quota exceeded for quota metric 'Requests' and limit 'Requests per "
                                    "minute' of service 'speech.googleapis.com'."}.get(
                        status, "Internal error encountered." if status == 500 else "The service is "
                                "currently unavailable.")
                    return self._error(status, message)
                if path.rstrip("/") != "/v1/speech:recognize":
                    return self._error(404, f"Method not found: {path}")
                return self._recognize(record)

            def _recognize(self, record: RecordedRequest) -> None:
                config = record.body.get("config")
                audio = record.body.get("audio")
                if not isinstance(config, dict) or not isinstance(audio, dict):
                    return self._error(400, "Invalid recognition 'config' or 'audio': both are required.")
                for where, names, allowed in (("", record.body, {"config", "audio"}), ("config", config, CONFIG_FIELDS),
                                              ("audio", audio, {"content", "uri"})):
                    unknown = sorted(set(names) - allowed)
                    if unknown:
                        return self._error(400, f'Invalid JSON payload received. Unknown name "{unknown[0]}" at '
                                                f"'{where}': Cannot find field.")
                encoding = config.get("encoding", "ENCODING_UNSPECIFIED")
                if encoding not in ENCODINGS:
                    return self._error(400, f"Invalid value at 'config.encoding' ({encoding}).")
                rate = config.get("sampleRateHertz")
                if ENCODINGS[encoding] and not (isinstance(rate, int) and 8000 <= rate <= 48000):
                    return self._error(400, "Invalid recognition 'config': sample_rate_hertz must be "
                                            "between 8000 and 48000 for raw audio.")
                language = config.get("languageCode")
                if not language:
                    return self._error(400, "Invalid recognition 'config': missing language_code.")
                if "uri" in audio:
                    return self._error(400, "This fake serves only inline audio content.")
                try:
                    record.audio = base64.b64decode(audio.get("content") or "", validate=True)
                except (binascii.Error, ValueError):
                    return self._error(400, "Invalid value at 'audio.content' (TYPE_BYTES), Base64 "
                                            "decoding failed.")
                if len(record.audio) > MAX_CONTENT_BYTES:
                    return self._error(400, "Request payload size exceeds the limit: 10485760 bytes.")
                seconds = len(record.audio) / (ENCODINGS[encoding] * rate) if ENCODINGS[encoding] else 0.0
                if seconds > SYNC_LIMIT_SECONDS:
                    return self._error(400, "Sync input too long. For audio longer than 1 min use "
                                            "LongRunningRecognize with a 'uri' parameter.")
                reply: dict[str, Any] = {"totalBilledTime": f"{max(1, round(seconds))}s",
                                         "requestId": str(uuid.uuid4().int >> 64)}
                text = fake._pop(fake._transcripts)
                if text:
                    reply["results"] = [{"alternatives": [{"transcript": text, "confidence": 0.93}],
                                         "resultEndTime": f"{seconds:.3f}s",
                                         "languageCode": language.lower()}]
                self.send_json(200, reply)

            def _error(self, status: int, message: str, reason: str | None = None) -> None:
                error: dict[str, Any] = {"code": status, "message": message,
                                         "status": STATUS_NAMES.get(status, "UNKNOWN")}
                if reason:
                    error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                                         "domain": "googleapis.com",
                                         "metadata": {"service": "speech.googleapis.com"}}]
                self.send_json(status, {"error": error})

        return Handler
