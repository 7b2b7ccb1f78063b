"""The edge process's shared parts, wired once: settings, metrics, the pacing clock, the conversation
event publisher, UDP ports and their receiver, the mod_audio_stream server, and the per-call connection
handler."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import gevent

from edge.call.recorder import EventPublisher, celery_sender, warm_up_celery
from edge.call.services import CallServices
from edge.call.session import CallSession
from edge.call.setup import start_setup_cache, warm_up_reads
from edge.call.transfer import warm_up_decisions
from edge.esl.session import EslConnection
from edge.gc_pauses import collect_fully_on_schedule, freeze_startup_objects, watch_pauses
from edge.metrics import METRICS, EdgeMetrics
from edge.pacing import Pacer
from edge.services.openai.client import warm_up as warm_up_openai
from edge.transports.base import AudioTransport
from edge.transports.ports import PortAllocator
from edge.transports.udp_receiver import UdpReceiver
from edge.transports.unicast import UnicastTransport
from shared.db import bound_statements
from shared.logging import Tag, call_logger
from shared.settings import Settings

if TYPE_CHECKING:
    from edge.transports.audio_stream import AudioStreamServer

log = call_logger("edge")


class EdgeApp:
    """Everything one edge process shares between its calls."""

    def __init__(self, settings: Settings, metrics: EdgeMetrics = METRICS) -> None:
        self.settings = settings
        self.metrics = metrics
        self.pacer = Pacer(metrics)
        self.publisher = EventPublisher(celery_sender(settings.redis_url), settings.spool_dir)
        self.ports = PortAllocator(*settings.unicast_port_range, settings.edge_listen_address)
        self.udp_receiver = UdpReceiver()
        self.audio_server: AudioStreamServer | None = None
        self.services = CallServices(settings, metrics, self.pacer, self.publisher, self.make_transport,
                                     fallback_prompt=settings.voice_ai_fallback_prompt or None)
        self.frozen_objects = 0
        metrics.extra_health.update({
            "udp_ports_in_use": lambda: len(self.ports.in_use),
            "paced_streams": lambda: self.pacer.active_streams,
            "audio_streams": lambda: self.audio_server.connections if self.audio_server else 0,
            "spool_pending": lambda: self.publisher.pending_spool,
            "events_sent": lambda: self.publisher.sent,
            "events_spooled": lambda: self.publisher.spooled,
            "events_replayed": lambda: self.publisher.replayed,
            # Counted once, when frozen: gc.get_freeze_count walks the whole permanent generation
            # (~0.7 ms for 200k objects, on the hub, for every health check).
            "gc_frozen_objects": lambda: self.frozen_objects,
        })

    def start(self) -> None:
        """Bound the database statements, start the clock and the publisher; warm the set-up read and the
        engines up, then take the start-up objects out of the garbage collector's full passes, which then
        run on a schedule (:mod:`edge.gc_pauses`)."""
        bound_statements(self.settings.edge_statement_timeout_seconds)
        start_setup_cache(self.settings, self.metrics.extra_health)
        warm_up_celery(self.settings.redis_url)
        warm_up_decisions(self.settings.redis_url)
        watch_pauses(self.metrics.gc_pause, self.metrics.gc_collected)
        self.pacer.start()
        self.publisher.start()
        warm_up_reads(log)  # also without EDGE_WARM_UP (the engines'): a cold first read could cost a call
        if self.settings.edge_warm_up:
            self._warm_up_openai()
            self._warm_up_engines()
        else:
            self._freeze_startup_objects()

    def _freeze_startup_objects(self) -> None:
        self.frozen_objects = frozen = freeze_startup_objects()
        collect_fully_on_schedule()
        log.info(Tag.SESSION, "%d start-up objects exempted from garbage collection", frozen)

    def _warm_up_openai(self) -> None:
        """The vendor SDK's part of the warm-up, on the hub (it runs subprocesses: see its docstring)."""
        try:
            warm_up_openai()
        except Exception as exc:  # noqa: BLE001 - warming is an optimisation; a call reports the real error
            log.error("vendor SDK warm-up failed: %s", exc)
        else:
            log.info(Tag.SESSION, "vendor SDK warmed up")

    def _warm_up_engines(self) -> None:
        """Load the engines' modules and the VAD model in a native thread, off the hub (which keeps
        running meanwhile), and return only once they are loaded and frozen: the edge opens its ESL port
        after :meth:`start`, so the first calls of a burst do not queue behind ~1.3 s of imports and
        ``gc.freeze``, and every call hears its greeting without waiting for them."""
        import gevent

        from edge.engines.registry import warm_up

        try:
            loaded = gevent.get_hub().threadpool.apply(warm_up)
        except Exception as exc:  # noqa: BLE001 - warming is an optimisation; a call reports the real error
            log.error("engine warm-up failed: %s", exc)
            loaded = []
        log.info(Tag.SESSION, "engines warmed up: %s", ", ".join(loaded) or "none")
        self._freeze_startup_objects()

    def make_transport(self, esl: EslConnection, call_uuid: str, on_frame: Callable[[bytes], None],
                       native: bool) -> AudioTransport:
        """The configured transport for a call (``audio_stream`` falls back to unicast when the module
        cannot play to the caller)."""
        def unicast(on_frame: Callable[[bytes], None]) -> AudioTransport:
            return UnicastTransport(esl, self.ports, self.udp_receiver,
                                    freeswitch_host=self.settings.freeswitch_audio_host,
                                    edge_host=self.settings.edge_host, native=native, on_frame=on_frame)

        if self.settings.edge_audio_transport == "audio_stream":
            from edge.transports.audio_stream import AudioStreamTransport

            assert self.audio_server is not None, "audio_stream transport needs the audio server"
            return AudioStreamTransport(esl, self.audio_server, call_uuid=call_uuid,
                                        edge_host=self.settings.edge_host, on_frame=on_frame, unicast=unicast)
        return unicast(on_frame)

    def handle_connection(self, sock: socket.socket, address: tuple) -> None:
        """Serve one FreeSWITCH outbound connection (runs in its own greenlet)."""
        conn_log = call_logger("edge.call", peer=f"{address[0]}:{address[1]}")
        esl = EslConnection(sock, conn_log)
        try:
            channel = esl.connect()
        except (Exception, gevent.Timeout) as exc:  # noqa: BLE001 - garbage, silence or a dead peer
            # gevent.Timeout is no Exception: a peer that never answers ``connect`` must end here too,
            # not as an uncaught traceback in the hub (and its frames kept alive until the next collection).
            conn_log.error("no valid connect reply: %s", f"none within {exc}" if isinstance(exc, gevent.Timeout)
                           else exc)
            esl.close()
            return
        call_uuid = channel.get("Unique-ID", "unknown")
        call_log = call_logger("edge.call", call_uuid=call_uuid, domain_uuid=channel.get("variable_domain_uuid"))
        esl.log = call_log
        call = CallSession(self.services, esl, channel, call_log)
        self.services.calls.add(call)
        self.metrics.active_calls += 1
        call_log.info(Tag.SESSION, "connected: from %s to %s", "caller" if channel.get(
            "Caller-Caller-ID-Number") else "unknown", channel.get("Caller-Destination-Number", "?"))
        try:
            call.run()
        except gevent.Timeout:  # a command FreeSWITCH never answered, past the call's own handling
            call_log.error("call ended: FreeSWITCH did not answer a command in time")
        finally:
            self.metrics.active_calls -= 1

