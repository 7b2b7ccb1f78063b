"""The unicast transport against FreeSWITCH's order of things: the ``unicast`` command's ``+OK`` comes
when the message is queued, and FreeSWITCH binds its port only when the channel's thread parses it (a
datagram sent before is refused and lost). Its first datagram to us says the port is bound."""

from __future__ import annotations

import socket
from collections.abc import Callable

from edge.core.frames import FRAME_BYTES
from edge.metrics import EdgeMetrics
from edge.pacing import Pacer, PlaybackStream
from edge.transports.ports import PortAllocator
from edge.transports.unicast import PLAYING_AT_THE_LATEST, UnicastTransport
from tests.scripted_clock import ScriptedClock

GREETING = bytes(range(1, 41)) * (FRAME_BYTES // 40) * 5  # five frames, each different from silence


class _Esl:
    """The call's Event Socket: records the commands sent."""

    def __init__(self) -> None:
        self.commands: list[bytes] = []

    def command(self, data: bytes) -> None:
        self.commands.append(data)


class _Receiver:
    """The process's UDP reader: the test hands FreeSWITCH's datagrams to the transport itself."""

    def __init__(self) -> None:
        self.handlers: dict[socket.socket, Callable[[bytes], None]] = {}

    def add(self, sock: socket.socket, on_datagram: Callable[[bytes], None]) -> None:
        self.handlers[sock] = on_datagram

    def remove(self, sock: socket.socket) -> None:
        self.handlers.pop(sock, None)

    def from_freeswitch(self, data: bytes) -> None:
        for handler in list(self.handlers.values()):
            handler(data)


def _call(clock: ScriptedClock) -> tuple[UnicastTransport, _Receiver, PlaybackStream, Pacer, list[bytes]]:
    """A call's transport and playback wired as the call does it; the list collects what was sent."""
    receiver = _Receiver()
    heard_from_edge: list[bytes] = []
    transport = UnicastTransport(_Esl(), PortAllocator(42000, 42999, "127.0.0.1"), receiver,  # type: ignore[arg-type]
                                 freeswitch_host="127.0.0.1", edge_host="127.0.0.1", native=True,
                                 on_frame=lambda _frame: None, clock=clock)
    transport.send_frame = heard_from_edge.append  # type: ignore[method-assign]
    pacer = Pacer(EdgeMetrics(), clock)
    stream = PlaybackStream(lambda frame: transport.send_frame(frame))
    pacer.add(stream)
    transport.start()
    if not transport.playing:
        stream.hold()
        transport.when_playing(stream.release)
    return transport, receiver, stream, pacer, heard_from_edge


def test_the_greeting_waits_for_freeswitchs_first_datagram_and_is_heard_from_its_first_frame():
    clock = ScriptedClock(100.0)
    transport, receiver, stream, pacer, sent = _call(clock)
    try:
        assert b"call-command: unicast" in transport.esl.commands[0]  # type: ignore[attr-defined]
        assert not transport.playing

        stream.push(GREETING)  # a cached greeting, ready the moment the call starts
        for due in (100.0, 100.02):
            clock.run_until(due)
            pacer.tick(due)
        assert sent == []  # FreeSWITCH has not bound its port: these frames would be lost

        clock.run_until(100.031)
        receiver.from_freeswitch(b"\xff" * FRAME_BYTES)  # its first frame of the caller's audio
        assert transport.playing
        assert sent == [GREETING[:FRAME_BYTES]]  # at once, not at the next tick
        for due in (100.04, 100.06, 100.08, 100.1):
            clock.run_until(due)
            pacer.tick(due)
        assert b"".join(sent) == GREETING  # every frame, in order
    finally:
        transport.close()


def test_a_channel_that_sends_nothing_gets_the_greeting_after_a_short_wait():
    clock = ScriptedClock(100.0)
    transport, _receiver, stream, pacer, sent = _call(clock)
    try:
        stream.push(GREETING)
        clock.run_until(100.0 + PLAYING_AT_THE_LATEST - 0.001)
        assert sent == [] and not transport.playing
        clock.run_until(100.0 + PLAYING_AT_THE_LATEST)  # no datagram yet (a phone sending no RTP)
        assert transport.playing and sent == [GREETING[:FRAME_BYTES]]
    finally:
        transport.close()


def test_a_call_that_ends_before_freeswitch_plays_leaves_nothing_running():
    clock = ScriptedClock(100.0)
    transport, _receiver, stream, _pacer, sent = _call(clock)
    stream.push(GREETING)
    transport.close()
    clock.run_until(101.0)
    assert sent == [] and transport.port is None
