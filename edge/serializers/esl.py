"""The FreeSWITCH Event Socket wire format, as a pure parser fed bytes and pure encoders.

Nothing here touches a socket: :class:`EslParser` takes whatever bytes TCP delivered (any split) and
returns complete :class:`EslMessage` objects; :func:`decode_event` turns a ``text/event-plain`` body into
an :class:`EslEvent`; the ``encode_*`` functions build client commands. Facts from docs/protocols.md:

* FS → client: a header block ending in a blank line, then a body only when the block has
  ``Content-Length``. Values in the ``connect`` reply and in event bodies are URL-encoded.
* client → FS: a command line, optional ``Name: value`` lines, a blank line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024


class EslProtocolError(ValueError):
    """The peer sent bytes that are not the Event Socket protocol; the connection must be dropped."""


def _decode_value(raw: str) -> str:
    # unquote, not unquote_plus: FreeSWITCH encodes a space as %20 and leaves "+" as %2B.
    return unquote(raw, errors="replace")


def _parse_header_lines(block: bytes, *, decode_values: bool) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name or b" " in name.strip():
            raise EslProtocolError(f"malformed header line {line[:60]!r}")
        text = value.decode("utf-8", errors="replace").strip()
        headers[name.decode("ascii", errors="replace").strip()] = _decode_value(text) if decode_values else text
    return headers


@dataclass
class EslMessage:
    """One framed message from FreeSWITCH: its header block and optional body."""

    headers: dict[str, str]
    body: bytes = b""

    @property
    def content_type(self) -> str:
        """``command/reply``, ``api/response``, ``text/event-plain``, ``text/disconnect-notice``..."""
        return self.headers.get("Content-Type", "")

    @property
    def reply_text(self) -> str:
        """``Reply-Text`` of a command reply, stripped (``+OK ...`` / ``-ERR ...``)."""
        return self.headers.get("Reply-Text", "").strip()


@dataclass
class EslEvent:
    """A decoded FreeSWITCH event: its headers (values decoded) and optional body."""

    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    @property
    def name(self) -> str:
        """``Event-Name`` (``CUSTOM`` events are named by ``Event-Subclass``)."""
        name = self.headers.get("Event-Name", "")
        if name == "CUSTOM":
            return self.headers.get("Event-Subclass", name)
        return name

    def get(self, key: str, default: str | None = None) -> str | None:
        """A header value, or ``default``."""
        return self.headers.get(key, default)

    def variable(self, name: str, default: str | None = None) -> str | None:
        """A channel variable (``variable_<name>`` header)."""
        return self.headers.get(f"variable_{name}", default)


class EslParser:
    """Incremental parser: :meth:`feed` any bytes, get back the messages they complete.

    Raises :class:`EslProtocolError` on bytes that cannot be the protocol (bad header line, bad or huge
    ``Content-Length``, a header block that never ends); the caller drops that connection only.
    """

    def __init__(self, max_header_bytes: int = MAX_HEADER_BYTES, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._buffer = bytearray()
        self._pending: dict[str, str] | None = None
        self._body_length = 0
        self._max_header = max_header_bytes
        self._max_body = max_body_bytes

    def feed(self, data: bytes) -> list[EslMessage]:
        """Add received bytes; return every message now complete, in order."""
        self._buffer += data
        messages: list[EslMessage] = []
        while True:
            if self._pending is None:
                # Blank lines between messages are tolerated (FreeSWITCH never sends them).
                while self._buffer[:1] == b"\n":
                    del self._buffer[:1]
                end = self._buffer.find(b"\n\n")
                if end < 0:
                    if len(self._buffer) > self._max_header:
                        raise EslProtocolError("header block too long")
                    return messages
                if end > self._max_header:
                    raise EslProtocolError("header block too long")
                headers = _parse_header_lines(bytes(self._buffer[:end]), decode_values=True)
                del self._buffer[: end + 2]
                length_text = headers.get("Content-Length")
                if length_text is None:
                    messages.append(EslMessage(headers))
                    continue
                try:
                    length = int(length_text)
                except ValueError as exc:
                    raise EslProtocolError(f"bad Content-Length {length_text!r}") from exc
                if not 0 <= length <= self._max_body:
                    raise EslProtocolError(f"Content-Length out of range: {length}")
                self._pending, self._body_length = headers, length
            if len(self._buffer) < self._body_length:
                return messages
            body = bytes(self._buffer[: self._body_length])
            del self._buffer[: self._body_length]
            messages.append(EslMessage(self._pending, body))
            self._pending = None


def decode_event(body: bytes) -> EslEvent:
    """Decode a ``text/event-plain`` body: URL-encoded ``Name: value`` lines, then an optional body."""
    head, sep, rest = body.partition(b"\n\n")
    headers = _parse_header_lines(head, decode_values=True)
    content = ""
    if sep and "Content-Length" in headers:
        try:
            length = int(headers["Content-Length"])
        except ValueError as exc:
            raise EslProtocolError("bad event Content-Length") from exc
        content = rest[:length].decode("utf-8", errors="replace")
    for key, value in headers.items():
        if value == "_undef_":
            headers[key] = ""
    return EslEvent(headers, content)


def message_event(message: EslMessage) -> EslEvent:
    """The event a ``text/event-plain`` message carries (raises on another content type)."""
    if message.content_type != "text/event-plain":
        raise EslProtocolError(f"not an event: {message.content_type!r}")
    return decode_event(message.body)


def _check_field(text: str) -> str:
    # A newline inside a command would let a value (e.g. a caller-supplied digit string) inject commands.
    if "\n" in text or "\r" in text:
        raise ValueError("Event Socket command fields cannot contain line breaks")
    return text


def encode_command(command: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> bytes:
    """Frame a client command: the command line, ``Name: value`` lines, a blank line, an optional body."""
    lines = [_check_field(command)]
    for name, value in (headers or {}).items():
        lines.append(f"{_check_field(name)}: {_check_field(str(value))}")
    if body:
        lines.append(f"content-length: {len(body)}")
    raw = ("\n".join(lines) + "\n\n").encode("utf-8")
    return raw + body if body else raw


def encode_execute(app: str, arg: str | None = None, *, event_uuid: str | None = None, lock: bool = False) -> bytes:
    """``sendmsg`` + ``call-command: execute`` of a dialplan application on the controlled channel."""
    headers = {"call-command": "execute", "execute-app-name": app}
    if arg:
        headers["execute-app-arg"] = arg
    if event_uuid:
        headers["event-uuid"] = event_uuid
    if lock:
        headers["event-lock"] = "true"
    return encode_command("sendmsg", headers)


def encode_hangup(cause: str = "NORMAL_CLEARING") -> bytes:
    """``sendmsg`` + ``call-command: hangup``."""
    return encode_command("sendmsg", {"call-command": "hangup", "hangup-cause": cause})


def encode_unicast(
    local_ip: str, local_port: int, remote_ip: str, remote_port: int, *, native: bool
) -> bytes:
    """``sendmsg`` + ``call-command: unicast``: FS plays what arrives on local-port, sends to remote."""
    headers = {
        "call-command": "unicast",
        "local-ip": local_ip,
        "local-port": str(local_port),
        "remote-ip": remote_ip,
        "remote-port": str(remote_port),
        "transport": "udp",
    }
    if native:
        headers["flags"] = "native"
    return encode_command("sendmsg", headers)
