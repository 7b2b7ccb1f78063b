"""A scripted :class:`edge.core.clock.Clock`: time moves only when the test says so, and at once.

The test plays a timeline (``clock.advance(8.0)``: eight silent seconds of the call) and every greenlet
whose sleep, wait or ``call_later`` falls due meanwhile runs, in order, at its own time — the timeline of
a whole call runs in milliseconds and says at which second of call time each thing happened.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import AsyncResult, Event
from gevent.queue import Queue


class ScriptedClock:
    """Call time starting at ``start`` seconds; see the module docstring."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._alarms: list[tuple[float, int, Event]] = []  # a heap: (due, order of setting, its event)
        self._order = itertools.count()

    def now(self) -> float:
        """The scripted time."""
        return self._now

    def sleep(self, seconds: float) -> None:
        """Block until the script reaches now + ``seconds``."""
        alarm = self._set(seconds)
        try:
            alarm[2].wait()
        finally:
            self._forget(alarm)

    def wait(self, event: Event | AsyncResult, timeout: float | None = None) -> bool:
        """Block until ``event`` is set (ready) or the script reaches now + ``timeout``."""
        if event.ready() or timeout is None:
            event.wait()
            return True
        alarm = self._set(timeout)
        try:
            gevent.wait([event, alarm[2]], count=1)
        finally:
            self._forget(alarm)
        return event.ready()

    def call_later(self, seconds: float, function: Callable[[], object]) -> gevent.Greenlet:
        """``function`` in a greenlet of its own once the script reaches now + ``seconds``."""
        def later() -> None:
            self.sleep(seconds)
            function()
        return gevent.spawn(later)

    def get(self, queue: Queue, timeout: float | None = None) -> Any:
        """The next item of ``queue``, or ``Empty`` once the script reaches now + ``timeout`` without one."""
        if timeout is None or not queue.empty():
            return queue.get()
        alarm = self._set(timeout)
        arrival = gevent.spawn(queue.peek)  # an item is there (peek leaves it to the get below)
        try:
            gevent.wait([arrival, alarm[2]], count=1)
        finally:
            arrival.kill(block=False)
            self._forget(alarm)
        return queue.get_nowait()  # Empty when the alarm rang first

    def advance(self, seconds: float) -> None:
        """Play ``seconds`` of the timeline: every alarm due meanwhile rings at its own time."""
        self.run_until(self._now + seconds)

    def run_until(self, when: float) -> None:
        """Play the timeline up to the time ``when``."""
        self.settle()
        while self._alarms and self._alarms[0][0] <= when:
            due, _, ringing = heapq.heappop(self._alarms)
            self._now = max(self._now, due)
            ringing.set()
            self.settle()
        self._now = max(self._now, when)
        self.settle()

    @staticmethod
    def settle() -> None:
        """Let every greenlet that can run now run until it waits again (on the script or on the test)."""
        for _ in range(3):
            gevent.idle()

    def _set(self, seconds: float) -> tuple[float, int, Event]:
        alarm = (self._now + max(0.0, seconds), next(self._order), Event())
        heapq.heappush(self._alarms, alarm)
        return alarm

    def _forget(self, alarm: tuple[float, int, Event]) -> None:
        if alarm in self._alarms:
            self._alarms.remove(alarm)
            heapq.heapify(self._alarms)
