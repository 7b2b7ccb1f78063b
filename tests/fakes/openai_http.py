"""A local stand-in for the OpenAI REST API, for tests and the demo's vendor-less runs.

It follows the request and response shapes the ``openai`` SDK sends and parses (read from the SDK's
``resources/`` and ``types/``), so the product's real SDK clients talk to it through ``base_url``:

* ``POST /v1/embeddings`` — ``input`` str or list; ``encoding_format`` ``float`` or ``base64`` (the
  SDK asks for base64 float32 when the caller does not choose). Vectors are deterministic hashed
  bags of words, so texts sharing words are near each other.
* ``POST /v1/chat/completions`` — plain JSON or SSE (``stream: true``) with ``chat.completion.chunk``
  objects, content deltas and ``tool_calls`` deltas, ending ``data: [DONE]``. Replies come from a script
  (:meth:`FakeOpenAI.script_chat`) or, unscripted, echo the last user message.
* ``POST /v1/audio/transcriptions`` — multipart with ``file``; returns the next scripted transcript.
* ``POST /v1/audio/speech`` — ``response_format`` ``pcm`` (24 kHz 16-bit mono) or ``wav``: a tone whose
  length grows with the text, so a test can tell how much was spoken.

Every JSON body is validated against the ``openai`` package's own request param types (strict, unknown
keys refused at every depth: :mod:`tests.fakes.sdk_schema`; a top-level ``null`` counts as absent, as the
API treats it), a transcription's form fields against the names its params declare, and an invalid
request gets the API's 400 ``invalid_request_error`` with ``code`` and ``param``. What the types cannot
say is checked as the API does: an assistant message needs ``content`` or ``tool_calls``; reasoning
models (``o1``, ``o3``, ``o4-mini``, ``gpt-5`` ...) refuse ``max_tokens`` (``max_completion_tokens``
instead) and any ``temperature`` but 1.

Errors as the real API returns them: 401 ``invalid_api_key`` for a wrong bearer token, and injected
429/500 responses (:meth:`FakeOpenAI.fail_next`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any

from openai.types.audio.speech_create_params import SpeechCreateParams
from openai.types.audio.transcription_create_params import TranscriptionCreateParamsNonStreaming
from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from openai.types.embedding_create_params import EmbeddingCreateParams

from tests.fakes.http_server import FakeHandler, FakeHttpServer
from tests.fakes.sdk_schema import Refusal, refusal

DEFAULT_KEY = "sk-test-0123456789abcdef"
REASONING_MODELS = ("o1", "o3", "o4", "gpt-5")
"""Model name prefixes of the reasoning family (no ``max_tokens``, no ``temperature`` but 1)."""
TRANSCRIPTION_FIELDS = (TranscriptionCreateParamsNonStreaming.__required_keys__
                        | TranscriptionCreateParamsNonStreaming.__optional_keys__)
"""The form fields a transcription request may carry."""


def request_refusal(path: str, body: dict[str, Any]) -> Refusal | None:
    """Why the API would refuse this request body (None: it would accept it)."""
    if path == "/v1/audio/transcriptions":
        unknown = sorted(set(body) - TRANSCRIPTION_FIELDS)
        if unknown:
            return Refusal("unknown_parameter", unknown[0], f"Unknown parameter: '{unknown[0]}'.")
        return None
    present = {key: value for key, value in body.items() if value is not None}
    if path == "/v1/chat/completions":
        sdk_type: Any = CompletionCreateParamsStreaming if present.get("stream") else CompletionCreateParamsNonStreaming
    else:
        sdk_type = {"/v1/embeddings": EmbeddingCreateParams, "/v1/audio/speech": SpeechCreateParams}.get(path)
    if sdk_type is None:
        return None
    problem = refusal(sdk_type, present)
    if problem is not None or path != "/v1/chat/completions":
        return problem
    for index, message in enumerate(present["messages"]):
        if message["role"] == "assistant" and message.get("content") is None and not message.get("tool_calls"):
            return Refusal("invalid_value", f"messages[{index}].content",
                           f"Invalid value for 'messages[{index}].content': expected a string, got null.")
    if str(present["model"]).startswith(REASONING_MODELS):
        if "max_tokens" in present:
            return Refusal("unsupported_parameter", "max_tokens", "Unsupported parameter: 'max_tokens' is not "
                           "supported with this model. Use 'max_completion_tokens' instead.")
        if present.get("temperature", 1) != 1:
            return Refusal("unsupported_value", "temperature", f"Unsupported value: 'temperature' does not "
                           f"support {present['temperature']} with this model. Only the default (1) value is "
                           "supported.")
    return None


@dataclass
class ChatReply:
    """One scripted assistant reply: text, tool calls (``[(name, arguments dict)]``), or both."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class RecordedRequest:
    """A request the fake received (headers lower-cased; ``body`` parsed JSON or form fields)."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def hashed_embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector: each lower-cased word adds ±1 at a hashed position."""
    vector = [0.0] * dimensions
    for word in "".join(c if c.isalnum() else " " for c in text.lower()).split():
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def tone_pcm16(duration_ms: int, rate: int = 24000, frequency: float = 440.0) -> bytes:
    """A sine tone as 16-bit little-endian mono PCM."""
    count = rate * duration_ms // 1000
    return b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * i / rate))) for i in range(count)
    )


class FakeOpenAI(FakeHttpServer):
    """The fake server. Use as a context manager; ``base_url`` (``http://127.0.0.1:<port>/v1``) goes into
    the provider's config."""

    path_prefix = "/v1"

    def __init__(self, api_key: str = DEFAULT_KEY, embedding_dimensions: int = 1536) -> None:
        self.embedding_dimensions = embedding_dimensions
        self.speech_ms_per_char = 20  # quicker than real speech (about 60 ms a character): quicker calls
        self._chat_script: deque[ChatReply] = deque()
        self._transcripts: deque[str] = deque()
        self.refusals: list[Refusal] = []  # every request refused as invalid, for tests to assert on
        super().__init__(api_key)

    # -- control -------------------------------------------------------------------------------
    def script_chat(self, *replies: ChatReply) -> None:
        """Queue chat replies, used in order (then the echo reply)."""
        with self._lock:
            self._chat_script.extend(replies)

    def script_transcripts(self, *texts: str) -> None:
        """Queue transcription results, used in order (then the empty transcript)."""
        with self._lock:
            self._transcripts.extend(texts)

    def stall_next(self, seconds: float, path: str = "/v1/chat/completions") -> None:
        """Hold the next reply to ``path`` for ``seconds`` (or until :meth:`stop`): a vendor gone silent."""
        with self._lock:
            self._stalls.append((path, seconds))

    def _stall_for(self, path: str) -> float | None:
        with self._lock:
            for entry in self._stalls:
                if entry[0] == path:
                    self._stalls.remove(entry)
                    return entry[1]
        return None

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [r.path for r in self.requests]

    # -- behaviour -----------------------------------------------------------------------------
    def _next_chat(self, messages: list[dict[str, Any]]) -> ChatReply:
        with self._lock:
            if self._chat_script:
                return self._chat_script.popleft()
        last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        content = last_user.get("content") or ""
        if isinstance(content, list):
            content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
        return ChatReply(text=f"You said: {content}")

    def _next_transcript(self) -> str:
        with self._lock:
            return self._transcripts.popleft() if self._transcripts else ""

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(FakeHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                raw, headers, path, _query = self.read_request()
                body = self._parse(raw, headers.get("content-type", ""))
                fake.requests.append(RecordedRequest(self.path, headers, body))
                if headers.get("authorization") != f"Bearer {fake.api_key}":
                    masked = (headers.get("authorization", "")[7:11] or "none") + "****"
                    return self._error(401, f"Incorrect API key provided: {masked}.", "invalid_request_error",
                                       "invalid_api_key")
                failure = fake._next_failure()
                if failure is not None:
                    status, code = failure
                    if status == 429:
                        return self._error(429, "Rate limit reached for requests", "requests",
                                           code or "rate_limit_exceeded", {"retry-after": "1"})
                    return self._error(status, "The server had an error while processing your request.",
                                       "server_error", code or None)
                stall = fake._stall_for(path)
                if stall is not None:
                    fake._stall(stall)
                problem = request_refusal(path, body)
                if problem is not None:
                    fake.refusals.append(problem)
                    return self._error(400, problem.message, "invalid_request_error", problem.code,
                                       param=problem.param)
                route = {
                    "/v1/embeddings": self._embeddings,
                    "/v1/chat/completions": self._chat,
                    "/v1/audio/transcriptions": self._transcription,
                    "/v1/audio/speech": self._speech,
                }.get(path)
                if route is None:
                    return self._error(404, f"Invalid URL (POST {self.path})", "invalid_request_error", None)
                return route(body)

            # -- parsing and replies -----------------------------------------------------------
            def _parse(self, raw: bytes, content_type: str) -> dict[str, Any]:
                if content_type.startswith("multipart/form-data"):
                    message = BytesParser(policy=HTTP).parsebytes(
                        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
                    )
                    fields: dict[str, Any] = {}
                    for part in message.iter_parts():
                        name = part.get_param("name", header="content-disposition")
                        payload = part.get_payload(decode=True) or b""
                        fields[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
                    return fields
                try:
                    return json.loads(raw or b"{}")
                except ValueError:
                    return {"_raw": raw}

            def send_body(self, status: int, payload: bytes, content_type: str,
                          extra: dict[str, str] | None = None) -> None:
                # Every OpenAI reply carries a request id.
                super().send_body(status, payload, content_type,
                                  {"x-request-id": f"req_{uuid.uuid4().hex[:16]}", **(extra or {})})

            def _error(self, status: int, message: str, kind: str, code: str | None,
                       extra: dict[str, str] | None = None, param: str | None = None) -> None:
                self.send_json(status, {"error": {"message": message, "type": kind, "param": param, "code": code}},
                               extra)

            def _embeddings(self, body: dict[str, Any]) -> None:
                inputs = body.get("input")
                texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
                if not texts or not all(isinstance(t, str) and t for t in texts):
                    return self._error(400, "'input' must be a non-empty string or array of strings",
                                       "invalid_request_error", None)
                dims = int(body.get("dimensions") or fake.embedding_dimensions)
                data = []
                for index, text in enumerate(texts):
                    vector = hashed_embedding(text, dims)
                    if body.get("encoding_format") == "base64":
                        encoded: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
                    else:
                        encoded = vector
                    data.append({"object": "embedding", "index": index, "embedding": encoded})
                tokens = sum(len(t.split()) for t in texts)
                self.send_json(200, {"object": "list", "data": data, "model": body.get("model"),
                                 "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

            def _chat(self, body: dict[str, Any]) -> None:
                reply = fake._next_chat(body.get("messages") or [])
                created = int(time.time())
                completion_id = f"chatcmpl-{uuid.uuid4().hex[:20]}"
                tool_calls = [
                    {"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                     "function": {"name": name, "arguments": json.dumps(args)}}
                    for name, args in reply.tool_calls
                ]
                finish = "tool_calls" if tool_calls else "stop"
                usage = {"prompt_tokens": 10, "completion_tokens": max(1, len(reply.text.split())),
                         "total_tokens": 10 + max(1, len(reply.text.split()))}
                if not body.get("stream"):
                    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None,
                                               "refusal": None}
                    if tool_calls:
                        message["tool_calls"] = tool_calls
                    return self.send_json(200, {
                        "id": completion_id, "object": "chat.completion", "created": created,
                        "model": body.get("model"), "system_fingerprint": None,
                        "choices": [{"index": 0, "message": message, "finish_reason": finish,
                                     "logprobs": None}],
                        "usage": usage,
                    })
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

                def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> None:
                    obj = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                           "model": body.get("model"), "system_fingerprint": None,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                                        "logprobs": None}]}
                    self.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
                    self.wfile.flush()

                chunk({"role": "assistant", "content": ""})
                words = reply.text.split(" ") if reply.text else []
                for i, word in enumerate(words):
                    chunk({"content": word if i == 0 else " " + word})
                for index, call in enumerate(tool_calls):
                    chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                           "function": {"name": call["function"]["name"], "arguments": ""}}]})
                    arguments = call["function"]["arguments"]
                    for start in range(0, len(arguments), 16):
                        chunk({"tool_calls": [{"index": index,
                                               "function": {"arguments": arguments[start:start + 16]}}]})
                chunk({}, finish)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _transcription(self, body: dict[str, Any]) -> None:
                audio = body.get("file")
                if not isinstance(audio, bytes | bytearray) or not audio:
                    return self._error(400, "Missing required parameter: 'file'.", "invalid_request_error", None)
                text = fake._next_transcript()
                if body.get("response_format") == "text":
                    return self.send_body(200, text.encode(), "text/plain")
                self.send_json(200, {"text": text})

            def _speech(self, body: dict[str, Any]) -> None:
                text = body.get("input") or ""
                if not text:
                    return self._error(400, "Missing required parameter: 'input'.", "invalid_request_error", None)
                pcm = tone_pcm16(max(100, fake.speech_ms_per_char * len(text)))
                response_format = body.get("response_format") or "mp3"
                if response_format == "pcm":
                    return self.send_body(200, pcm, "audio/pcm")
                if response_format == "wav":
                    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + struct.pack(
                        "<IHHIIHH", 16, 1, 1, 24000, 48000, 2, 16) + b"data" + struct.pack("<I", len(pcm))
                    return self.send_body(200, header + pcm, "audio/wav")
                self._error(400, f"response_format {response_format!r} is not supported by this fake",
                            "invalid_request_error", None)

        return Handler
