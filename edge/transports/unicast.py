"""``unicast``: stock FreeSWITCH sends each 20 ms frame the channel reads to our UDP port and plays every
datagram we send back, at once (docs/protocols.md). With ``flags: native`` on a PCMU channel the datagrams are
160-byte PCMU both ways (no transcoding); otherwise 320-byte L16 at 8 kHz, converted with exact G.711
tables. Comfort-noise frames arrive as 320 bytes of 0xFF even in native mode and become silence."""

from __future__ import annotations

import socket
from collections.abc import Callable

from edge.audio.g711 import l16_to_ulaw, ulaw_to_l16
from edge.core.frames import FRAME_BYTES
from edge.esl.session import EslConnection
from edge.serializers import esl as protocol
from edge.transports.base import AudioTransport, TransportError
from edge.transports.ports import PortAllocator
from edge.transports.udp_receiver import UdpReceiver

_SILENCE = b"\xff" * FRAME_BYTES


class UnicastTransport(AudioTransport):
    """Call audio over a UDP port pair."""

    name = "unicast"
    lead_frames = 1  # FreeSWITCH does not buffer: a second frame would just be a burst on the wire

    def __init__(self, esl: EslConnection, ports: PortAllocator, receiver: UdpReceiver, *, freeswitch_host: str,
                 edge_host: str, native: bool, on_frame: Callable[[bytes], None]) -> None:
        super().__init__(on_frame)
        self.esl = esl
        self.ports = ports
        self.receiver = receiver
        self.freeswitch_host = freeswitch_host
        self.edge_host = edge_host
        self.native = native
        self.port: int | None = None
        self._sock: socket.socket | None = None
        self._peer: tuple[str, int] | None = None

    def start(self) -> None:
        """Bind our port, hand it to the process's receiver and send the ``unicast`` command."""
        try:
            self._sock, self.port = self.ports.bind_pair()
        except OSError as exc:
            raise TransportError(str(exc)) from exc
        self._peer = (self.freeswitch_host, self.port + 1)
        self.receiver.add(self._sock, self._on_datagram)
        self.esl.command(protocol.encode_unicast(
            self.freeswitch_host, self.port + 1, self.edge_host, self.port, native=self.native))

    def wire_format(self, codec: str) -> str:
        """``PCMU native`` when the datagrams are the channel's own PCMU, else L16."""
        return "PCMU native" if self.native else super().wire_format(codec)

    def _on_datagram(self, data: bytes) -> None:
        size = len(data)
        if self.native:
            if size == FRAME_BYTES:
                frame = data
            elif size == 2 * FRAME_BYTES and data.count(0xFF) == size:
                frame = _SILENCE  # comfort noise, delivered in decoded size
            elif size % FRAME_BYTES == 0 and size:
                for i in range(0, size, FRAME_BYTES):
                    self.frames_in += 1
                    self.on_frame(data[i : i + FRAME_BYTES])
                return
            else:
                return
        else:
            if size < 2:
                return
            frame = l16_to_ulaw(data)
        self.frames_in += 1
        self.on_frame(frame)

    def send_frame(self, pcmu: bytes) -> None:
        """One datagram to FreeSWITCH's local-port (dropped, never waited for, if the kernel is full)."""
        if self._sock is None or self._peer is None:
            return
        try:
            self._sock.sendto(pcmu if self.native else ulaw_to_l16(pcmu), self._peer)
        except BlockingIOError:
            return
        self.frames_out += 1

    def close(self) -> None:
        """Stop receiving, close the socket, free the port pair."""
        if self._sock is not None:
            self.receiver.remove(self._sock)
            self._sock.close()
            self._sock = None
        if self.port is not None:
            self.ports.release(self.port)
            self.port = None
