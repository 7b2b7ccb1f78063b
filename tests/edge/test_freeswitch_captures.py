"""The real FreeSWITCH 1.10.12 wire captures (``shared/captures/freeswitch-1.10.12``) against the edge's
ESL parser and against the fake FreeSWITCH.

1. Every captured FreeSWITCH → edge byte stream, fed in its real TCP segments (and re-split and
   coalesced), decodes into the same messages as the captures' reference reading, with the facts the
   edge relies on (connect data, failed-bridge variables, linger notice form).
2. The fake FreeSWITCH, driven by the commands the edge sent in a captured call (replayed by a plain
   socket server standing in for the edge), answers with the same replies and events, in the same order,
   carrying the same key headers.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from edge.serializers.esl import EslMessage, EslParser, encode_command, message_event
from simulator.freeswitch import FakeCall, FakeFreeSwitch
from tests.polling import wait_until

CAPTURES = Path(os.environ.get("FREESWITCH_CAPTURES", "/work/shared/captures/freeswitch-1.10.12"))
CALLS = ("call_a3", "call_busy", "call_noans", "call_unreg", "call_sip3", "call_dtmf", "call_bye", "call_barge")
MESSAGES = {"call_a3": 31, "call_busy": 28, "call_noans": 27, "call_unreg": 29, "call_sip3": 22, "call_dtmf": 31,
            "call_bye": 17, "call_barge": 17}
"""fs->app ESL messages per call (the captures' README table)."""
KEY_HEADERS = ("Unique-ID", "Channel-Name", "Answer-State", "Application", "Application-UUID",
               "Application-Response", "Hangup-Cause", "Bridge-A-Unique-ID", "Bridge-B-Unique-ID",
               "variable_originate_disposition", "variable_DIALSTATUS", "variable_originate_failed_cause",
               "variable_bridge_hangup_cause", "DTMF-Digit")

pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason="FreeSWITCH captures not present")


def segments(call: str, direction: str = "fs->app") -> list[tuple[float, bytes]]:
    """The captured TCP payloads of one direction, exactly as segmented on the wire."""
    lines = (CAPTURES / f"{call}.esl.jsonl").read_text(encoding="utf-8").splitlines()
    return [(seg["t"], seg["data"].encode("latin-1")) for seg in map(json.loads, lines) if seg["dir"] == direction]


def reference_messages(data: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The captures' README reading of a stream (header lines, ``Content-Length`` body), as the oracle."""
    found = []
    while b"\n\n" in data:
        head, rest = data.split(b"\n\n", 1)
        headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\n"))
        length = int(headers.get("Content-Length", 0))
        found.append((headers, rest[:length]))
        data = rest[length:]
    assert data == b""
    return found


def shape(message: EslMessage) -> tuple[str, ...]:
    """What kind of message this is: content type, and the event's name and application."""
    if message.content_type == "text/event-plain":
        event = message_event(message)
        return ("event", event.name, event.get("Application") or "", event.get("Channel-State") or ""
                if event.name == "CHANNEL_STATE" else "")
    if message.content_type == "text/disconnect-notice":
        return ("notice", message.headers.get("Content-Disposition", ""))
    return (message.content_type, message.reply_text.split(" ")[0] if message.reply_text else "")


@pytest.mark.parametrize("call", CALLS)
def test_the_captured_stream_decodes_in_its_real_segments(call: str) -> None:
    parser = EslParser()
    messages: list[EslMessage] = []
    for _t, data in segments(call):
        messages += parser.feed(data)
    oracle = reference_messages(b"".join(data for _t, data in segments(call)))
    assert len(messages) == len(oracle) == MESSAGES[call]
    for message, (headers, body) in zip(messages, oracle, strict=True):
        assert message.body == body
        assert message.content_type == headers["Content-Type"]
        if message.content_type == "text/event-plain":
            event = message_event(message)
            raw = dict(line.split(": ", 1) for line in body.split(b"\n\n", 1)[0].decode("latin-1").split("\n"))
            assert event.name == unquote(raw["Event-Name"])
            assert event.get("Unique-ID") == unquote(raw.get("Unique-ID", "")) or "Unique-ID" not in raw
    connect = messages[0]
    assert connect.reply_text == "+OK" and connect.headers["Control"] == "full"
    assert connect.headers["Channel-Read-Codec-Name"] in ("L16", "PCMU")
    assert connect.headers["variable_domain_uuid"] and connect.headers["variable_voice_secretary_uuid"]
    linger = next(m for m in messages if m.headers.get("Content-Disposition") == "linger")
    assert linger.headers["Linger-Time"] == "-1" and linger.body == b""
    assert messages[-1].headers.get("Content-Disposition") == "disconnect"


@pytest.mark.parametrize("call", CALLS)
def test_the_captured_stream_decodes_however_it_is_split_or_coalesced(call: str) -> None:
    stream = b"".join(data for _t, data in segments(call))
    whole = [shape(m) for m in EslParser().feed(stream)]
    rng = random.Random(call)
    parser, pieces, at = EslParser(), [], 0
    while at < len(stream):
        size = rng.choice((1, 2, 7, 64, 1500, 9000))
        pieces += parser.feed(stream[at:at + size])
        at += size
    assert [shape(m) for m in pieces] == whole


@pytest.mark.parametrize(("call", "cause", "last_cause"), [
    ("call_busy", "USER_BUSY", "USER_BUSY"), ("call_noans", "NO_ANSWER", "NO_ANSWER"),
    ("call_unreg", "USER_NOT_REGISTERED", None)])
def test_a_failed_bridge_is_read_from_its_originate_variables(call: str, cause: str, last_cause: str | None) -> None:
    parser = EslParser()
    events = [message_event(m) for _t, data in segments(call) for m in parser.feed(data)
              if m.content_type == "text/event-plain"]
    done = next(e for e in events if e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") == "bridge")
    assert done.get("Application-Response") == "_none_"
    assert done.variable("originate_disposition") == cause == done.variable("originate_failed_cause")
    assert done.variable("bridge_hangup_cause") is None
    assert done.variable("last_bridge_hangup_cause") == last_cause
    assert not any(e.name == "CHANNEL_BRIDGE" for e in events)


# --- the fake FreeSWITCH against the captures -----------------------------------------------------


class CapturedEdge:
    """A plain socket server that replays a captured call's edge → FreeSWITCH commands to the fake."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(10)
        self.port = self.server.getsockname()[1]
        self.sock: socket.socket | None = None
        self.parser = EslParser()
        self.received: list[EslMessage] = []

    def accept(self) -> None:
        self.sock, _ = self.server.accept()
        self.sock.settimeout(0.05)

    def pump(self) -> None:
        assert self.sock is not None
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        if data:
            self.received += self.parser.feed(data)

    def until(self, predicate: Any, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, [shape(m) for m in self.received]
            self.pump()

    def send(self, raw: bytes) -> None:
        assert self.sock is not None
        self.sock.sendall(raw)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.server.close()


def free_port_pair() -> int:
    """An even UDP port whose odd neighbour is free too (the unicast pair of the captures)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1] & ~1
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free UDP port pair")


def replay(call: str, edge: CapturedEdge, fake: FakeCall, act: dict[int, Any] | None = None) -> None:
    """Send the captured call's commands in order, each once the previous one's effect has arrived."""
    edge.accept()
    for index, (_t, raw) in enumerate(segments(call, "app->fs")):
        if act and index in act:
            act[index]()
        text = raw.decode("latin-1")
        if "call-command: unicast" in text:
            port = free_port_pair()
            text = (text.replace(text.split("local-port: ")[1].split("\n")[0], str(port + 1))
                    .replace(text.split("remote-port: ")[1].split("\n")[0], str(port)))
        text = text.replace("{originate_timeout=25}", f"{{originate_timeout={RING_SECONDS}}}")
        if text.startswith("exit"):
            edge.until(lambda: any(m.headers.get("Content-Disposition") for m in edge.received))
        before = len(edge.received)
        edge.send(text.encode("latin-1"))
        edge.until(lambda before=before: any(m.content_type in ("command/reply", "api/response")
                                             for m in edge.received[before:]))
        uuid_line = [line for line in text.split("\n") if line.startswith("event-uuid: ")]
        if uuid_line:  # the edge waited for the application's completion (or, for a bridge, the bridge)
            app_uuid = uuid_line[0].split(": ", 1)[1]
            edge.until(lambda app_uuid=app_uuid: any(m.content_type == "text/event-plain" and (
                message_event(m).name == "CHANNEL_HANGUP" or (
                message_event(m).name == "CHANNEL_EXECUTE_COMPLETE" and message_event(m).get("Application-UUID") == app_uuid))
                for m in edge.received), timeout=40)
    edge.until(lambda: fake.closed.is_set() and edge.received[-1].headers.get("Content-Disposition") == "disconnect")


def captured(call: str) -> list[EslMessage]:
    parser = EslParser()
    return [m for _t, data in segments(call) for m in parser.feed(data)]


def comparable(messages: list[EslMessage]) -> list[tuple[str, ...]]:
    """The message shapes in order; CHANNEL_PARK left out (it appears only when ``myevents`` happens to be
    processed before the park, as in two of the eight captures)."""
    return [shape(m) for m in messages if shape(m)[:2] != ("event", "CHANNEL_PARK")]


def key_headers(message: EslMessage) -> dict[str, str]:
    if message.content_type == "text/disconnect-notice":
        return {k: v for k, v in message.headers.items() if k not in ("Controlled-Session-UUID", "Channel-Name")}
    if message.content_type != "text/event-plain":
        return {}
    event = message_event(message)
    return {k: "<set>" if k.endswith(("UUID", "Unique-ID", "Channel-Name")) else event.get(k, "")
            for k in KEY_HEADERS if event.get(k) is not None}


@pytest.fixture
def fake_switch() -> Iterator[tuple[FakeFreeSwitch, CapturedEdge]]:
    edge = CapturedEdge()
    fs = FakeFreeSwitch("127.0.0.1", edge.port)
    yield fs, edge
    fs.close()
    edge.close()


RING_SECONDS = 1
"""The captured bridges ring for up to 25 s; replayed to the fake, a no-answer rings this long."""
VARIABLES = {"domain_uuid": "b1f0c1a2-0000-4000-8000-000000000001",
             "voice_secretary_uuid": "b1f0c1a2-0000-4000-8000-000000000002", "hangup_after_bridge": "true"}


@pytest.mark.parametrize(("call", "options"), [
    ("call_a3", {"codec": "L16", "bridge_outcome": "answer"}),
    ("call_busy", {"codec": "L16", "bridge_outcome": "USER_BUSY"}),
    ("call_noans", {"codec": "L16", "bridge_outcome": "NO_ANSWER"}),
    ("call_dtmf", {"codec": "L16", "bridge_outcome": "answer"}),
    ("call_unreg", {"codec": "PCMU", "directory_users": frozenset({"2001@demo.voice-ai.local"}),
                    "registered_users": frozenset()}),
    ("call_sip3", {"codec": "PCMU", "directory_users": frozenset({"2001@demo.voice-ai.local"}),
                   "bridge_outcome": "answer", "bridge_talk_seconds": 30}),
    ("call_bye", {"codec": "PCMU"}),
])
def test_the_fake_answers_the_captured_commands_as_freeswitch_did(call: str, options: dict[str, Any],
                                                                  fake_switch: Any) -> None:
    fs, edge = fake_switch
    fake = fs.place_call(dict(VARIABLES), **options)
    commands = segments(call, "app->fs")
    act: dict[int, Any] = {}
    if call == "call_dtmf":  # the caller pressed 0 before the edge's first `set`
        first_set = next(i for i, (_t, raw) in enumerate(commands) if b"execute-app-name: set" in raw)
        act[first_set] = lambda: (fake.dtmf("0"), edge.until(lambda: any(
            shape(m)[:2] == ("event", "DTMF") for m in edge.received)))
    if call == "call_sip3":  # the caller hung up while bridged
        threading.Thread(target=lambda: fake.wait("bridged", timeout=20) and fake.hangup(), daemon=True).start()
    if call in ("call_bye", "call_noans"):  # the caller's leg ended before the edge's exit
        act[len(commands) - 1] = lambda: fake.hangup()
    replay(call, edge, fake, act)
    real, ours = captured(call), edge.received
    if call == "call_dtmf":  # the DTMF's position among the replies depends on when the key came
        real = [m for m in real if shape(m)[:2] != ("event", "DTMF")] + [m for m in real if shape(m)[:2] == ("event", "DTMF")]
        ours = [m for m in ours if shape(m)[:2] != ("event", "DTMF")] + [m for m in ours if shape(m)[:2] == ("event", "DTMF")]
    assert comparable(ours) == comparable(real)
    real_keys = [key_headers(m) for m in real if shape(m)[:2] != ("event", "CHANNEL_PARK")]
    our_keys = [key_headers(m) for m in ours if shape(m)[:2] != ("event", "CHANNEL_PARK")]
    for mine, theirs, kind in zip(our_keys, real_keys, comparable(real), strict=True):
        assert mine == theirs, (kind, mine, theirs)
    if call in ("call_busy", "call_unreg", "call_a3", "call_dtmf", "call_sip3"):
        # The bridge shut the unicast down for good: nothing reached the edge's port afterwards.
        assert fake.unicast_torn_down


def connected(edge: CapturedEdge) -> int:
    """Take the fake's call and send ``connect``; a free port pair for its unicast (ours, ours + 1)."""
    edge.accept()
    edge.send(encode_command("connect"))
    edge.until(lambda: edge.received)
    return free_port_pair()


def unicast_command(port: int) -> bytes:
    """The edge's ``unicast`` for the pair: FreeSWITCH plays what reaches ``port + 1`` (PCMU native)."""
    return encode_command("sendmsg", {
        "call-command": "unicast", "local-ip": "127.0.0.1", "local-port": str(port + 1),
        "remote-ip": "127.0.0.1", "remote-port": str(port), "transport": "udp", "flags": "native"})


def test_playback_ends_unicast_for_good_and_a_second_unicast_carries_nothing(fake_switch: Any) -> None:
    fs, edge = fake_switch
    fake = fs.place_call(dict(VARIABLES), codec="PCMU")
    port = connected(edge)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as ours:
        ours.bind(("127.0.0.1", port))
        ours.settimeout(5)
        unicast = unicast_command(port)
        edge.send(unicast)
        assert len(ours.recvfrom(2048)[0]) == 160  # the caller's audio flows
        edge.send(encode_command("sendmsg", {"call-command": "execute", "execute-app-name": "playback",
                                             "execute-app-arg": "tone_stream://%(100,0,425)", "event-uuid": "p1"}))
        edge.until(lambda: any(shape(m)[:3] == ("event", "CHANNEL_EXECUTE_COMPLETE", "playback")
                               for m in edge.received))
        edge.send(unicast)  # the edge tries to get its audio back
        edge.until(lambda: sum(m.content_type == "command/reply" for m in edge.received) >= 4)
    assert wait_until(lambda: fake.unicast_restarts == 1) and fake.unicast_torn_down
    assert fake not in fs.streaming  # no caller frame goes out any more
    assert fake.udp is None  # and nothing the edge sends is played


def test_unicasts_port_is_bound_when_its_ok_arrives(fake_switch: Any) -> None:
    """FreeSWITCH wakes the channel's thread, which binds the port, before it writes the ``+OK``: a frame the
    edge sends the moment the ``+OK`` arrives is played (22 real calls: none refused, docs/protocols.md)."""
    fs, edge = fake_switch
    fake = fs.place_call(dict(VARIABLES), codec="PCMU")
    bound_when_replying: list[bool] = []
    write = fake._write

    async def replying(data: bytes) -> None:
        if data.startswith(b"Content-Type: command/reply"):
            bound_when_replying.append(fake.udp is not None)
        await write(data)

    fake._write = replying  # type: ignore[method-assign]
    port = connected(edge)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as ours:
        ours.bind(("127.0.0.1", port))
        edge.send(unicast_command(port))
        edge.until(lambda: sum(m.content_type == "command/reply" for m in edge.received) >= 2)
        ours.sendto(b"\x11" * 160, ("127.0.0.1", port + 1))  # the greeting's first frame, at once
        assert wait_until(lambda: any(h.pcmu == b"\x11" * 160 for h in fake.heard))
    assert bound_when_replying[-1] is True
