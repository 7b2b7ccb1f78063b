"""Each secretary's call set-up in the edge's memory, kept fresh by PostgreSQL ``LISTEN/NOTIFY``.

A new call takes its set-up (:class:`edge.call.setup.CallSetup`) from here when the copy is current, so a
burst of calls for one secretary costs no database work. Migration 016 makes every insert, update or
delete of the tables a set-up reads send ``<table>:<domain_uuid>`` on the channel :data:`CHANNEL` when
its transaction commits; :class:`SetupListener` listens on one connection of its own, in a greenlet, and
each notification makes that domain's copies stale (a TRUNCATE, every domain's). A copy is current while:

* the listener is connected and listening, and has been since the copy was read (on every (re)connect
  every copy becomes stale: notifications sent while it was away are lost);
* no notification for its domain arrived since its read began;
* it is younger than the safety-net TTL (``CALL_SETUP_CACHE_SECONDS``); an older one still serves the
  call while a fresh read runs in the background (the next call gets that one).

A secretary's copies are never dropped, only marked stale: while PostgreSQL is down the call is served
from the last one read (:mod:`edge.call.setup`). Reads are shared: the calls arriving for one secretary
while its set-up is being read wait for that one read rather than each starting their own. Copies are
keyed by ``(domain_uuid, secretary)``: one tenant's entry is reached only with its own domain's key.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import gevent
import gevent.select

from shared.logging import Tag, call_logger

CHANNEL = "voice_ai_setup"
"""The notification channel of migration 016."""

Key = tuple[uuid.UUID, str]
"""``(domain_uuid, secretary as the channel variable gave it, lower case)``."""
T = TypeVar("T")

log = call_logger("edge.setup")


def first_line(exc: BaseException) -> str:
    """An error's message for a log line: its first line, at most 200 characters ("" when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""


@dataclass(frozen=True)
class Copy(Generic[T]):
    """A set-up as read, with when its read began (monotonic) and the :meth:`SetupCache.stamp` then."""

    value: T
    read_at: float
    stamp: tuple[int, int]


class SetupCache(Generic[T]):
    """Set-ups of type ``value_type`` by :data:`Key`; see the module's description."""

    def __init__(self, value_type: type[T], gone: type[BaseException] | None = None, ttl: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.value_type = value_type
        self.gone = gone
        """A read ending with this error drops the copy (a secretary deleted or disabled is not served
        from memory during a later outage)."""
        self.ttl = ttl
        self.clock = clock
        self.copies: dict[Key, Copy[T]] = {}
        self._domain_changes: dict[uuid.UUID, int] = {}
        self._epoch = 0
        """Bumped on every (re)connect of the listener and every notification naming no domain."""
        self.listening = False
        """True while a :class:`SetupListener` is connected and listening: only then is a copy current."""
        self._reads: dict[Key, tuple[tuple[int, int], gevent.Greenlet, float]] = {}
        self.reads = 0
        """Reads started (shared reads count once)."""
        self.notifications = 0
        """Notifications received."""

    def stamp(self, domain_uuid: uuid.UUID) -> tuple[int, int]:
        """What a copy of ``domain_uuid`` read from now on is current for: the listener's epoch and the
        domain's count of changes."""
        return self._epoch, self._domain_changes.get(domain_uuid, 0)

    def current(self, key: Key, reader: Callable[[], Any]) -> T | None:
        """The current copy of ``key``, else None (the caller reads it with :meth:`read`). A current copy
        past the TTL is returned too, while ``reader`` reads a fresh one in the background."""
        copy = self.copies.get(key)
        if copy is None or not self.listening or self.ttl <= 0 or copy.stamp != self.stamp(key[0]):
            return None
        if self.clock() - copy.read_at > self.ttl:
            self.read(key, reader)
        return copy.value

    def current_count(self) -> int:
        """How many copies are current (a call for their secretary would not read the database)."""
        if not self.listening:
            return 0
        return sum(1 for key, copy in self.copies.items() if copy.stamp == self.stamp(key[0]))

    def last(self, key: Key) -> Copy[T] | None:
        """The last copy of ``key`` read, current or not (served while the database is down)."""
        return self.copies.get(key)

    def read(self, key: Key, reader: Callable[[], Any], within: float | None = None) -> gevent.Greenlet:
        """The greenlet reading ``key`` (``reader`` returns a set-up, or the error it met): the one already
        running since the last change of the domain and for less than ``within`` seconds (a read past the
        callers' deadline, hung on a dead connection, is left to itself), else a new one. Its set-up is
        kept when it ends, even if every call waiting for it has given up by then."""
        stamp = self.stamp(key[0])
        running = self._reads.get(key)
        if (running is not None and running[0] == stamp and not running[1].ready()
                and (within is None or self.clock() - running[2] < within)):
            return running[1]
        self.reads += 1
        started = self.clock()
        greenlet = gevent.spawn(reader)
        greenlet.link(lambda done: self._keep(key, stamp, started, done))
        self._reads[key] = (stamp, greenlet, started)
        return greenlet

    def _keep(self, key: Key, stamp: tuple[int, int], started: float, done: gevent.Greenlet) -> None:
        if (running := self._reads.get(key)) is not None and running[1] is done:
            del self._reads[key]
        value = done.value
        if self.gone is not None and isinstance(value, self.gone):
            self.copies.pop(key, None)
        elif isinstance(value, self.value_type):
            previous = self.copies.get(key)
            if previous is None or previous.read_at <= started:
                self.copies[key] = Copy(value, started, stamp)

    def notified(self, payload: str) -> None:
        """A notification ``<table>:<domain_uuid>`` (or ``<table>:``, every domain) arrived."""
        self.notifications += 1
        _table, _, domain = payload.partition(":")
        try:
            domain_uuid = uuid.UUID(domain)
        except ValueError:
            self._epoch += 1
            return
        self._domain_changes[domain_uuid] = self._domain_changes.get(domain_uuid, 0) + 1

    def set_listening(self, listening: bool) -> None:
        """The listener (re)connected (every copy read before is stale) or lost its connection."""
        self._epoch += 1
        self.listening = listening

    def health(self) -> dict[str, Callable[[], object]]:
        """Figures for ``/healthz``."""
        return {
            "setup_cache_listening": lambda: self.listening,
            "setup_cache_copies": lambda: len(self.copies),
            "setup_cache_current": self.current_count,
            "setup_cache_reads": lambda: self.reads,
            "setup_cache_notifications": lambda: self.notifications,
        }


class SetupListener:
    """One database connection of its own, in a greenlet, LISTENing on :data:`CHANNEL` for ``cache``.

    After ``idle_seconds`` without a notification it asks the server ``SELECT 1``: no answer within
    ``idle_seconds`` more (a server or route gone silent, which TCP alone would notice only after its
    keepalives) counts as a lost connection, like an error; it reconnects after ``retry_seconds``."""

    def __init__(self, cache: SetupCache[Any], database_url: str, retry_seconds: float = 1.0,
                 idle_seconds: float = 5.0) -> None:
        self.cache = cache
        self.database_url = database_url
        self.retry_seconds = retry_seconds
        self.idle_seconds = idle_seconds
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        """Start listening (returns at once; :attr:`SetupCache.listening` turns True once it listens)."""
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        """Stop listening."""
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
        self.cache.set_listening(False)

    def _run(self) -> None:
        import psycopg2

        failures = 0
        while True:
            connection = None
            try:
                connection = self._connect()
                failures = 0
                self._listen(connection)
            except (psycopg2.Error, OSError, gevent.Timeout) as exc:
                failures += 1
                if failures == 1 or failures % 60 == 0:
                    problem = (f"no answer within {exc}" if isinstance(exc, gevent.Timeout)
                               else first_line(exc) or type(exc).__name__)
                    log.warning(Tag.SESSION, "set-up notifications lost (%s): calls read their set-up from the "
                                "database until they are back", problem)
            finally:
                self.cache.set_listening(False)
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:  # noqa: BLE001 - a dead connection may refuse to close
                        pass
            gevent.sleep(self.retry_seconds)

    def _connect(self) -> Any:
        import psycopg2

        from shared.db import CONNECT_ARGS

        connection = psycopg2.connect(self.database_url, **{**CONNECT_ARGS, "application_name": "voice-ai-edge-setup"})
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        self.cache.set_listening(True)
        log.info(Tag.SESSION, "listening for set-up changes on %s", CHANNEL)
        return connection

    def _listen(self, connection: Any) -> None:
        """Hand every notification to the cache until the connection fails (raises).

        A notification that arrives while the idle ``SELECT 1`` waits for its answer is read with that
        answer: it is in ``connection.notifies`` with nothing left on the socket, so it is handed over
        after the ping too (held back otherwise until the next notification: seen under load, an edited
        greeting not heard at the next call)."""
        while True:
            readable, _, _ = gevent.select.select([connection], [], [], self.idle_seconds)
            if readable:
                connection.poll()
            else:
                with gevent.Timeout(self.idle_seconds), connection.cursor() as cursor:
                    cursor.execute("SELECT 1")  # a dead server or route shows here, not by silence
            while connection.notifies:
                self.cache.notified(connection.notifies.pop(0).payload)
