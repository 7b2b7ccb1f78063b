"""mod_audio_stream's wire format (docs/protocols.md): the ``uuid_audio_stream`` commands, the stream's
URL, the probe that tells which build plays audio, and the ``streamAudio`` message. Pure: the transport
that speaks it is :mod:`edge.transports.audio_stream`."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

from edge.audio.g711 import ulaw_to_l16

EVENTS = ("mod_audio_stream::connect", "mod_audio_stream::disconnect", "mod_audio_stream::error",
          "mod_audio_stream::json", "mod_audio_stream::play")
"""The module's CUSTOM event subclasses (mod_audio_stream.h)."""
DIRECT, FILES, IGNORED = "direct", "files", "ignored"
"""What a build does with ``streamAudio``: plays it, writes it to a file, or does not know it."""


def start_command(call_uuid: str, url: str) -> str:
    """The ``api`` command line that makes mod_audio_stream stream the caller (only) at 8 kHz to ``url``."""
    return f"uuid_audio_stream {call_uuid} start {url} mono 8k"


def stop_command(call_uuid: str) -> str:
    """The ``api`` command line that stops the stream."""
    return f"uuid_audio_stream {call_uuid} stop"


def pause_command(call_uuid: str, paused: bool) -> str:
    """``uuid_audio_stream <uuid> pause|resume``: the media bug stops (or resumes) sending the caller."""
    return f"uuid_audio_stream {call_uuid} {'pause' if paused else 'resume'}"


def stream_url(edge_host: str, port: int, call_uuid: str) -> str:
    """Where mod_audio_stream connects for ``call_uuid``."""
    return f"ws://{edge_host}:{port}/{call_uuid}"


def call_uuid_from_path(path: str) -> str:
    """The call UUID in a request path such as ``/<uuid>`` or ``/<uuid>?x=y``."""
    return urlsplit(path).path.strip("/").rsplit("/", 1)[-1]


def probe_marker(token: str) -> bytes:
    """A JSON text message no build plays: every build answers it with a ``mod_audio_stream::json`` event."""
    return json.dumps({"type": "voiceAiProbe", "token": token}, separators=(",", ":")).encode()


def classify_build(events: list[tuple[str, str]], token: str) -> str | None:
    """What the module did with the probe's ``streamAudio``, from the (subclass, body) CUSTOM events it
    emitted; None while the marker's ``::json`` (which follows it) has not arrived."""
    playback = DIRECT
    for subclass, body in events:
        if subclass == "mod_audio_stream::play":
            playback = FILES
        elif subclass == "mod_audio_stream::json":
            try:
                message = json.loads(body)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            if message.get("type") == "voiceAiProbe" and message.get("token") == token:
                return playback
            if message.get("type") == "streamAudio" and playback == DIRECT:
                playback = IGNORED
    return None


def encode_stream_audio(pcmu: bytes) -> bytes:
    """A ``streamAudio`` text frame's payload: ``pcmu`` as base64 raw L16 at 8 kHz."""
    data = base64.b64encode(ulaw_to_l16(pcmu))
    return (b'{"type":"streamAudio","data":{"audioDataType":"raw","sampleRate":8000,"audioData":"'
            + data + b'"}}')
