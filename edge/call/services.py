"""What a call is handed by its process (:class:`CallServices`), instead of the whole edge application."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edge.call.recorder import EventPublisher
from edge.core.clock import WALL_CLOCK, Clock
from edge.esl.session import EslConnection
from edge.metrics import EdgeMetrics
from edge.pacing import Pacer
from edge.transports.base import AudioTransport
from shared.settings import Settings

if TYPE_CHECKING:
    from edge.call.session import CallSession

TransportFactory = Callable[[EslConnection, str, Callable[[bytes], None], bool], AudioTransport]
"""``(esl, call_uuid, on_frame, native) -> transport``: the process's configured audio transport."""


@dataclass
class CallServices:
    """The process's shared parts a call uses: settings, metrics, the pacing clock, the conversation
    event publisher, the audio transport factory, and the calls in progress (an announced transfer's
    leg finds its caller's call there)."""

    settings: Settings
    metrics: EdgeMetrics
    pacer: Pacer
    publisher: EventPublisher
    make_transport: TransportFactory
    fallback_prompt: str | None = None
    """``VOICE_AI_FALLBACK_PROMPT``: a sound played when the edge cannot speak (else a tone)."""
    calls: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)
    clock: Clock = WALL_CLOCK
    """What the call's timers read and wait on (a test's scripted clock plays a call's timeline)."""

    def find_call(self, call_uuid: str | None, other_than: Any = None) -> CallSession | None:
        """The call in progress with this UUID (not ``other_than``), if any."""
        return next((c for c in list(self.calls) if c.call_uuid == call_uuid and c is not other_than), None)
