"""One outbound Event Socket connection (FreeSWITCH connected to us for one call), under gevent.

A reader greenlet feeds the pure :class:`~edge.serializers.esl.EslParser`; command replies resolve the
oldest waiting command (FreeSWITCH answers in order); events go to :attr:`EslConnection.events`; an
executed application is awaited on the ``CHANNEL_EXECUTE_COMPLETE`` whose ``Application-UUID`` is the
``event-uuid`` we sent; a ``bgapi`` command is awaited on the ``BACKGROUND_JOB`` event whose ``Job-UUID``
we chose (the socket subscribes to that event: ``myevents`` alone does not deliver it, and with
``myevents`` FreeSWITCH passes a job event only to the socket of the channel that started it, by
``Job-Owner-UUID``). Bytes that are not the protocol close this connection and nothing else.
"""

from __future__ import annotations

import socket
import uuid
from collections import deque
from collections.abc import Callable

import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore
from gevent.queue import Queue

from edge.serializers import esl as protocol
from edge.serializers.esl import EslEvent, EslMessage, EslProtocolError
from shared.logging import CallLogger, Tag

CLOSED = object()
"""Put on :attr:`EslConnection.events` when the connection ends."""


SEND_TIMEOUT = 10.0
"""Seconds a command may wait for FreeSWITCH to take its bytes: a peer that stops reading (a wedged
switch, a half-open TCP connection) ends this call's connection instead of holding its greenlet forever."""


class EslDisconnected(ConnectionError):
    """The Event Socket connection is gone (caller hung up and the socket closed, or it was broken)."""


class EslCommandError(RuntimeError):
    """FreeSWITCH answered a command with ``-ERR``."""


def _checked(reply: EslMessage) -> EslMessage:
    """``reply``, unless it is an ``-ERR`` command reply (:class:`EslCommandError`)."""
    if reply.content_type == "command/reply" and reply.reply_text.startswith("-ERR"):
        raise EslCommandError(reply.reply_text)
    return reply


class EslConnection:
    """Commands and events of one outbound-mode connection."""

    def __init__(self, sock: socket.socket, log: CallLogger, send_timeout: float = SEND_TIMEOUT) -> None:
        self._sock = sock
        self._send_timeout = send_timeout
        self.log = log
        self._parser = protocol.EslParser()
        self._waiting: deque[AsyncResult] = deque()
        self._executions: dict[str, AsyncResult] = {}
        self._jobs: dict[str, AsyncResult] = {}
        self._write_lock = Semaphore()
        self.events: Queue = Queue()
        self.on_custom: Callable[[EslEvent], None] | None = None
        """Receives the CUSTOM events (named by their subclass) instead of :attr:`events` when set."""
        self.channel: dict[str, str] = {}
        self.closed = Event()
        self.lingering = False
        self._reader = gevent.spawn(self._read_loop)

    # --- reading ---------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            while True:
                data = self._sock.recv(65536)
                if not data:
                    break
                for message in self._parser.feed(data):
                    self._dispatch(message)
        except EslProtocolError as exc:
            self.log.error("Event Socket protocol error, dropping this connection: %s", exc)
        except OSError:
            pass
        finally:
            self._shutdown()

    def _dispatch(self, message: EslMessage) -> None:
        kind = message.content_type
        if kind in ("command/reply", "api/response"):
            if self._waiting:
                self._waiting.popleft().set(message)
            return
        if kind == "text/event-plain":
            event = protocol.message_event(message)
            if event.name == "CHANNEL_EXECUTE_COMPLETE":
                waiter = self._executions.pop(event.get("Application-UUID") or "", None)
                if waiter is not None:
                    waiter.set(event)
            elif event.name == "BACKGROUND_JOB":
                job = self._jobs.pop(event.get("Job-UUID") or "", None)
                if job is not None:
                    job.set(event.body)
                return
            elif self.on_custom is not None and event.get("Event-Name") == "CUSTOM":
                self.on_custom(event)
                return
            self.events.put(event)
            return
        if kind == "text/disconnect-notice":
            if message.headers.get("Content-Disposition") == "linger":
                self.lingering = True
            self.events.put(EslEvent({"Event-Name": "DISCONNECT-NOTICE", **message.headers}))
            return
        # Other content types (log/data, rude-rejection) carry nothing for a call.

    def _shutdown(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        gone = EslDisconnected("Event Socket connection closed")
        while self._waiting:
            self._waiting.popleft().set_exception(gone)
        for waiter in [*self._executions.values(), *self._jobs.values()]:
            waiter.set_exception(gone)
        self._executions.clear()
        self._jobs.clear()
        try:
            self._sock.close()
        except OSError:
            pass
        self.events.put(CLOSED)

    @property
    def local_address(self) -> tuple[str, int]:
        """The edge's address as FreeSWITCH reached it (where a new leg's ``socket`` app can connect)."""
        host, port = self._sock.getsockname()[:2]
        return host, port

    # --- writing ---------------------------------------------------------------------------------

    def _send(self, raw: bytes) -> AsyncResult:
        if self.closed.is_set():
            raise EslDisconnected("Event Socket connection closed")
        result = AsyncResult()
        with self._write_lock:
            self._waiting.append(result)
            try:
                with gevent.Timeout(self._send_timeout, EslDisconnected("FreeSWITCH stopped reading the Event Socket")):
                    self._sock.sendall(raw)
            except EslDisconnected:
                self._shutdown()
                raise
            except OSError as exc:
                self._shutdown()
                raise EslDisconnected(str(exc)) from exc
        return result

    def command(self, raw: bytes, timeout: float = 10.0) -> EslMessage:
        """Send a framed command and wait for its reply; raise :class:`EslCommandError` on ``-ERR``."""
        return _checked(self._send(raw).get(timeout=timeout))

    def pipeline(self, *raws: bytes) -> Callable[..., list[EslMessage]]:
        """Send several framed commands back to back, without waiting; the returned function waits for
        their replies (``timeout`` each; FreeSWITCH answers a socket's commands in order) and raises
        :class:`EslCommandError` on the first ``-ERR``. A call's set-up commands then cost one round trip,
        taken while the call's set-up loads, instead of one each before it (during a burst, each round
        trip waits behind every other call's work on both sides)."""
        results = [self._send(raw) for raw in raws]

        def replies(timeout: float = 10.0) -> list[EslMessage]:
            return [_checked(result.get(timeout=timeout)) for result in results]

        return replies

    def send_nowait(self, raw: bytes) -> None:
        """Send a command whose reply nobody waits for (it is still consumed in order)."""
        self._send(raw)

    def connect(self) -> dict[str, str]:
        """``connect``: returns the channel data (``Unique-ID``, ``variable_*``...)."""
        reply = self.command(protocol.encode_command("connect"))
        self.channel = dict(reply.headers)
        return self.channel

    def start_call(self, linger_seconds: int, *event_names: str) -> Callable[..., list[EslMessage]]:
        """A call's set-up commands, pipelined (:meth:`pipeline`): ``myevents`` (this channel's events),
        ``event plain <names>`` (these events too: :meth:`subscribe`) and ``linger`` (keep the socket after
        hangup so that the final events arrive, for at most ``linger_seconds``; without a time a hung-up
        channel is kept for as long as the socket stays open)."""
        return self.pipeline(protocol.encode_command("myevents"),
                             protocol.encode_command("event plain " + " ".join(event_names)),
                             protocol.encode_command(f"linger {int(linger_seconds)}"))

    def subscribe(self, *event_names: str) -> None:
        """Receive these events too (``event plain <names>``; needs the socket's ``full`` mode)."""
        self.command(protocol.encode_command("event plain " + " ".join(event_names)))

    def bgapi(self, command_line: str, timeout: float = 10.0) -> AsyncResult:
        """``bgapi <command>``: FreeSWITCH runs it in a thread of its own; the returned result gets
        the command's output (the ``BACKGROUND_JOB`` body, e.g. ``+OK <uuid>`` or ``-ERR USER_BUSY``)."""
        job_uuid = str(uuid.uuid4())
        job = AsyncResult()
        self._jobs[job_uuid] = job
        try:
            self.command(protocol.encode_command(f"bgapi {command_line}", {"Job-UUID": job_uuid}), timeout=timeout)
        except BaseException:
            self._jobs.pop(job_uuid, None)
            raise
        return job

    def execute(self, app: str, arg: str | None = None, *, wait: bool = False,
                timeout: float | None = None) -> EslEvent | None:
        """Queue a dialplan application; with ``wait``, return its ``CHANNEL_EXECUTE_COMPLETE`` event."""
        event_uuid = str(uuid.uuid4())
        waiter = AsyncResult()
        if wait:
            self._executions[event_uuid] = waiter
        try:
            self.command(protocol.encode_execute(app, arg, event_uuid=event_uuid))
            return waiter.get(timeout=timeout) if wait else None
        finally:
            self._executions.pop(event_uuid, None)

    def api(self, command_line: str, timeout: float = 10.0) -> str:
        """``api <command>``: the response body."""
        reply = self.command(protocol.encode_command(f"api {command_line}"), timeout=timeout)
        return reply.body.decode("utf-8", errors="replace")

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """Hang the channel up."""
        self.command(protocol.encode_hangup(cause))

    def close(self) -> None:
        """Say ``exit`` if still connected, then close the socket and stop the reader (idempotent)."""
        if not self.closed.is_set():
            try:
                self._send(protocol.encode_command("exit")).get(timeout=0.5)
            except (Exception, gevent.Timeout):  # noqa: BLE001 - best effort on the way out (a silent peer)
                pass
        self.log.debug(Tag.EVENT_BUS, "exit sent")
        self._shutdown()
        if self._reader is not gevent.getcurrent():
            self._reader.kill(block=True, timeout=1)
        self.log.debug(Tag.EVENT_BUS, "Event Socket closed")
