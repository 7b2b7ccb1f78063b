"""``voice-ai edge``: one gevent process serving many calls.

gevent's ``monkey.patch_all()`` runs first, here in the entry point only (importing the edge's modules
must not patch a host process such as the test runner), and psycogreen makes psycopg2 cooperative.
"""

from __future__ import annotations

import argparse
import errno
import functools
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager


@contextmanager
def _entry_points_read_once_per_group() -> Iterator[None]:
    """While gevent patches: each entry-point group is read from the installed packages once.

    ``patch_all`` announces about 25 events, and for each it asks ``importlib.metadata`` for the plugins
    of the event's group, which reads every installed package's metadata again; the answers cannot change
    while it patches. Measured on this machine: 0.71 instead of 0.78 CPU s per edge start and stop.
    """
    from importlib import metadata

    original = metadata.entry_points
    read = functools.cache(lambda params: original(**dict(params)))
    metadata.entry_points = lambda **params: read(tuple(sorted(params.items())))  # type: ignore[assignment]
    try:
        yield
    finally:
        metadata.entry_points = original


def _patch() -> None:
    import gevent

    # A greenlet keeps its spawner's stack (~6 frame records, lists and cells) only for debugging; over
    # hundreds of calls those are tens of thousands of objects every full garbage collection walks
    # while every call's audio waits (edge/gc_pauses.py).
    gevent.config.track_greenlet_tree = False
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        with _entry_points_read_once_per_group():
            monkey.patch_all()
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()


class CannotListen(RuntimeError):
    """A port the edge must open is taken or not allowed."""


def _listen(what: str, setting: str, address: str, port: int, start: Callable[[], object]) -> None:
    """``start()`` a server; a port it cannot open becomes one clear :class:`CannotListen`."""
    try:
        start()
    except OSError as exc:
        hint = " (another edge, or another program, holds it)" if exc.errno == errno.EADDRINUSE else ""
        raise CannotListen(f"cannot listen on {address}:{port} for {what}: {exc.strerror or exc}{hint}; "
                           f"free the port or set {setting}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    """Run the edge until SIGTERM/SIGINT; returns the exit status."""
    _patch()
    import gevent
    from gevent.pywsgi import WSGIServer

    from edge.app import EdgeApp
    from edge.esl.server import EslServer
    from edge.loop_priority import raise_loop_priority
    from edge.metrics import METRICS, http_app
    from shared.logging import Tag, call_logger, setup_logging
    from shared.settings import get_settings

    parser = argparse.ArgumentParser(prog="voice-ai edge", description="ESL outbound server, audio, metrics")
    parser.add_argument("--listen", help="address of the ESL, audio and unicast ports (default: EDGE_LISTEN, "
                        "else EDGE_HOST; 127.0.0.1 unless configured)")
    parser.add_argument("--metrics-listen", help="address of /metrics and /healthz (default: EDGE_METRICS_LISTEN, "
                        "else the --listen address)")
    args = parser.parse_args(list(argv or []))

    settings = get_settings()
    if args.listen:
        settings = settings.replace(edge_listen=args.listen)
    if args.metrics_listen:
        settings = settings.replace(edge_metrics_listen=args.metrics_listen)
    listen = settings.edge_listen_address
    metrics_listen = settings.edge_metrics_listen or listen
    setup_logging(settings.log_level)
    log = call_logger("edge")
    app = EdgeApp(settings)
    app.start()
    raise_loop_priority(settings.edge_rr_priority, log)  # once warm: start-up work is not urgent

    try:
        if settings.edge_audio_transport == "audio_stream":
            from edge.transports.audio_stream import AudioStreamServer

            app.audio_server = AudioStreamServer(listen, settings.edge_audio_port)
            _listen("the audio WebSocket", "EDGE_AUDIO_PORT", listen, settings.edge_audio_port,
                    app.audio_server.start)
        esl_server = EslServer(listen, settings.edge_esl_port, app.handle_connection)
        _listen("the Event Socket", "EDGE_ESL_PORT", listen, settings.edge_esl_port, esl_server.start)
        metrics_server = WSGIServer((metrics_listen, settings.edge_metrics_port), http_app(METRICS), log=None)
        _listen("/metrics and /healthz", "EDGE_METRICS_PORT", metrics_listen, settings.edge_metrics_port,
                metrics_server.start)
    except CannotListen as exc:
        log.error("%s", exc)
        return 1
    log.info(Tag.SESSION, "edge listening on %s: esl=%d audio=%s unicast=%s; metrics on %s:%d; transport=%s",
             listen, esl_server.port, app.audio_server.port if app.audio_server else "-",
             settings.edge_unicast_ports, metrics_listen, metrics_server.server_port, settings.edge_audio_transport)
    # One line on stdout with the bound ports, for supervisors and tests that start the edge on port 0.
    print(f"EDGE_READY esl={esl_server.port} metrics={metrics_server.server_port} "
          f"audio={app.audio_server.port if app.audio_server else 0}", flush=True)

    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    stop.wait()
    log.info(Tag.SESSION, "shutting down: %d calls active", METRICS.active_calls)
    esl_server.stop(timeout=5)
    metrics_server.stop(timeout=1)
    if app.audio_server is not None:
        app.audio_server.stop()
    app.publisher.drain(timeout=5)
    app.pacer.stop()
    from edge.services.offline import embedding_worker, sphinx_worker

    embedding_worker.close_shared_pool()
    sphinx_worker.close_shared_pool()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
