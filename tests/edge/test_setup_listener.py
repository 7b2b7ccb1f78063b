"""The edge's set-up listener (edge/call/setup_cache.py) on a real PostgreSQL: a change announced while the
listener pings its idle connection still makes that secretary's kept set-up stale, so the next call reads
the edited greeting (seen under load before the fix: the notification waited, unread, for the next one)."""

from __future__ import annotations

import uuid
from typing import Any

import gevent

from edge.call.setup_cache import CHANNEL, SetupCache, SetupListener
from tests.polling import wait_until


class AnswerPingWithNotice:
    """The listener's connection, whose first idle ping comes back together with a notification (as when
    a secretary is saved while the ``SELECT 1`` waits for its answer)."""

    def __init__(self, connection: Any, payload: str) -> None:
        self._connection = connection
        self._payload = payload
        self.pings = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def fileno(self) -> int:
        return self._connection.fileno()

    def cursor(self) -> Any:
        """The ping's cursor; before the first ping, this session announces a change to itself."""
        cursor = self._connection.cursor()
        if self.pings == 0:
            cursor.execute(f"NOTIFY {CHANNEL}, %s", (self._payload,))
        self.pings += 1
        return cursor


class PingedListener(SetupListener):
    """A listener on :class:`AnswerPingWithNotice` connections."""

    def __init__(self, payload: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.payload = payload
        self.connection: AnswerPingWithNotice | None = None

    def _connect(self) -> Any:
        self.connection = AnswerPingWithNotice(super()._connect(), self.payload)
        return self.connection


def test_a_change_announced_during_the_idle_ping_makes_the_kept_set_up_stale(database_url: str) -> None:
    domain = uuid.uuid4()
    key = (domain, "secretary")
    cache: SetupCache[str] = SetupCache(str)
    listener = PingedListener(f"v_voice_secretaries:{domain}", cache, database_url, idle_seconds=0.05)
    listener.start()
    try:
        assert wait_until(lambda: cache.listening, sleep=gevent.sleep)
        cache.read(key, lambda: "greeting as first read").join()
        assert cache.current(key, lambda: "unused") == "greeting as first read"
        # The first ping brings the change; later pings bring nothing.
        assert wait_until(lambda: listener.connection is not None and listener.connection.pings >= 3,
                          sleep=gevent.sleep)
        assert cache.notifications == 1
        assert cache.current(key, lambda: "unused") is None  # the next call reads the set-up again
    finally:
        listener.stop()
