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
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_KEY = "AIzaSyTest-0123456789abcdefghijklmnopqr"
ENCODINGS = {"LINEAR16": 2, "MULAW": 1, "ALAW": 1, "FLAC": 0, "AMR": 0, "AMR_WB": 0, "OGG_OPUS": 0,
             "SPEEX_WITH_HEADER_BYTE": 0, "WEBM_OPUS": 0, "MP3": 0}
"""``RecognitionConfig.AudioEncoding`` values, with bytes per sample for the raw ones."""
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


class FakeGoogleSpeech:
    """The fake server. Use as a context manager; ``base_url`` (ending ``/v1``) goes into the config."""

    def __init__(self, api_key: str = DEFAULT_KEY) -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self._transcripts: deque[str] = deque()
        self._failures: deque[int] = deque()
        self._stalls: deque[float] = deque()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True

    # -- control -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1`` (like ``https://speech.googleapis.com/v1``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeGoogleSpeech:
        """Serve in a background thread."""
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Release stalled replies, stop serving and close the socket."""
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGoogleSpeech:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script_transcripts(self, *texts: str) -> None:
        """Queue recognition results, used in order (then "nothing recognized")."""
        with self._lock:
            self._transcripts.extend(texts)

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` requests carrying a valid key with ``status``."""
        with self._lock:
            self._failures.extend([status] * count)

    def stall_next(self, seconds: float) -> None:
        """Delay the next reply by ``seconds``."""
        with self._lock:
            self._stalls.append(seconds)

    # -- behaviour -----------------------------------------------------------------------------
    def _pop(self, queue: deque) -> Any:
        with self._lock:
            return queue.popleft() if queue else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return

            def handle(self) -> None:
                try:
                    super().handle()
                except OSError:  # the client gave up first (timeout tests)
                    self.close_connection = True

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self._error(400, "Invalid JSON payload received.")
                record = RecordedRequest(url.path, query, headers, body)
                fake.requests.append(record)
                stall = fake._pop(fake._stalls)
                if stall is not None:
                    fake._released.wait(stall)
                key = query.get("key") or headers.get("x-goog-api-key")
                if not key:
                    return self._error(403, "Method doesn't allow unregistered callers (callers without "
                                            "established identity). Please use API Key or other form of API "
                                            "consumer identity to call this API.")
                if key != fake.api_key:
                    return self._error(400, "API key not valid. Please pass a valid API key.",
                                       reason="API_KEY_INVALID")
                failure = fake._pop(fake._failures)
                if failure is not None:
                    message = {403: "Cloud Speech-to-Text API has not been used in this project or it is "
                                    "disabled.",
                               429: "Quota exceeded for quota metric 'Requests' and limit 'Requests per "
                                    "minute' of service 'speech.googleapis.com'."}.get(
                        failure, "Internal error encountered." if failure == 500 else "The service is "
                                 "currently unavailable.")
                    return self._error(failure, message)
                if url.path.rstrip("/") != "/v1/speech:recognize":
                    return self._error(404, f"Method not found: {url.path}")
                return self._recognize(record)

            def _recognize(self, record: RecordedRequest) -> None:
                config = record.body.get("config")
                audio = record.body.get("audio")
                if not isinstance(config, dict) or not isinstance(audio, dict):
                    return self._error(400, "Invalid recognition 'config' or 'audio': both are required.")
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
                self._json(200, reply)

            def _json(self, status: int, obj: Any) -> None:
                payload = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _error(self, status: int, message: str, reason: str | None = None) -> None:
                error: dict[str, Any] = {"code": status, "message": message,
                                         "status": STATUS_NAMES.get(status, "UNKNOWN")}
                if reason:
                    error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                                         "domain": "googleapis.com",
                                         "metadata": {"service": "speech.googleapis.com"}}]
                self._json(status, {"error": error})

        return Handler
