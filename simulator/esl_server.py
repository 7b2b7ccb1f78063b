"""The server side of the Event Socket format: what FreeSWITCH writes and how it reads a client's
commands, for the fake FreeSWITCH and the parser tests (the edge only reads these and writes commands:
:mod:`edge.serializers.esl`)."""

from __future__ import annotations

from urllib.parse import quote


def encode_value(value: str) -> str:
    """URL-encode a header value as FreeSWITCH does (every byte but unreserved ASCII; empty → _undef_)."""
    if value == "":
        return "_undef_"
    return quote(value, safe="-_.!~*'()/:")


def encode_event_plain(headers: dict[str, str], body: str = "") -> bytes:
    """A complete ``text/event-plain`` message (outer block + URL-encoded event) as FreeSWITCH sends it."""
    lines = [f"{name}: {encode_value(str(value))}" for name, value in headers.items()]
    content = body.encode("utf-8")
    if content:
        lines.append(f"Content-Length: {len(content)}")
    event = ("\n".join(lines) + "\n\n").encode("utf-8") + content
    return f"Content-Length: {len(event)}\nContent-Type: text/event-plain\n\n".encode() + event


def encode_reply(reply_text: str, extra: dict[str, str] | None = None) -> bytes:
    """A ``command/reply`` block."""
    lines = ["Content-Type: command/reply", f"Reply-Text: {reply_text}"]
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_api_response(body: str) -> bytes:
    """An ``api/response`` message with its body."""
    data = body.encode("utf-8")
    return f"Content-Type: api/response\nContent-Length: {len(data)}\n\n".encode() + data


def encode_connect_reply(channel: dict[str, str]) -> bytes:
    """The ``connect`` answer: channel data URL-encoded, no Content-Length, ending in the reply fields."""
    lines = [f"{name}: {encode_value(str(value))}" for name, value in channel.items()]
    lines += ["Content-Type: command/reply", "Reply-Text: %2BOK%0A", "Socket-Mode: async", "Control: full"]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


DISCONNECT_BODY = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


def encode_disconnect_notice(session_uuid: str, disposition: str, linger_seconds: int | None = None) -> bytes:
    """A ``text/disconnect-notice`` (``linger`` while lingering, ``disconnect`` when closing)."""
    body = DISCONNECT_BODY.encode()
    lines = ["Content-Type: text/disconnect-notice", f"Controlled-Session-UUID: {session_uuid}",
             f"Content-Disposition: {disposition}"]
    if linger_seconds is not None:
        lines.append(f"Linger-Time: {linger_seconds}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\n".join(lines) + "\n\n").encode() + body


def encode_linger_notice(session_uuid: str, channel_name: str, linger_seconds: int | None) -> bytes:
    """The notice FreeSWITCH sends when a lingering channel hangs up: no body, ``Content-Length: 0``,
    ``Linger-Time: -1`` when ``linger`` was sent without a time."""
    lines = ["Content-Type: text/disconnect-notice", f"Controlled-Session-UUID: {session_uuid}",
             "Content-Disposition: linger", f"Channel-Name: {channel_name}",
             f"Linger-Time: {-1 if linger_seconds is None else linger_seconds}", "Content-Length: 0"]
    return ("\n".join(lines) + "\n\n").encode()


def parse_command(block: bytes) -> tuple[str, dict[str, str], bytes]:
    """Split a client command block (no trailing blank line) into command line, headers, body."""
    text = block.decode("utf-8", errors="replace")
    first, _, rest = text.partition("\n")
    headers: dict[str, str] = {}
    for line in rest.split("\n"):
        if not line.strip():
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return first.strip(), headers, b""
