"""The one interface every call-audio transport offers: frames in, frames out, flush.

Audio crosses it as PCMU, 160 bytes per 20 ms (``edge.core.frames.FRAME_BYTES``); a transport converts
to and from whatever FreeSWITCH sends on its wire.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable


class TransportError(RuntimeError):
    """The transport could not be started (no free port, FreeSWITCH never connected...)."""


class AudioTransport(ABC):
    """Call audio between FreeSWITCH and the edge."""

    name = "base"
    lead_frames = 1
    """Frames the pacer may send ahead when an utterance starts (FreeSWITCH-side buffering)."""

    @property
    def sink_buffers(self) -> bool:
        """FreeSWITCH plays what it is sent from a buffer of its own, at the channel's pace, and nothing
        clears that buffer: the pacer then sends on its clock only (``edge.pacing``). Known once started."""
        return False

    def __init__(self, on_frame: Callable[[bytes], None]) -> None:
        self.on_frame = on_frame
        self.frames_in = 0
        self.frames_out = 0

    @abstractmethod
    def start(self) -> None:
        """Make FreeSWITCH send the caller's audio here and play what we send; raise TransportError."""

    def wire_format(self, codec: str) -> str:
        """What crosses FreeSWITCH's side for a channel whose codec is ``codec`` (for the call's log)."""
        return f"L16 from {codec or '?'}"

    @abstractmethod
    def send_frame(self, pcmu: bytes) -> None:
        """Send one 20 ms PCMU frame towards the caller now. Must not block (the pacer calls it)."""

    def flush(self) -> None:
        """Drop caller-bound audio FreeSWITCH may still hold (the edge's own queue is already empty)."""
        return None  # unicast: FreeSWITCH holds nothing

    def pause(self) -> None:
        """Stop exchanging audio while the caller is bridged to a person (nothing of that talk reaches
        the edge). Unicast needs nothing: FreeSWITCH only streams a channel parked in the socket app."""
        return None

    def resume(self) -> None:
        """Exchange audio again after a bridge nobody answered."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Release sockets, ports and greenlets; idempotent."""
