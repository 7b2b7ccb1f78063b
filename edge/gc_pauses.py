"""The garbage collector against the audio clock.

Every call of an edge process shares one gevent hub, so while CPython's cyclic garbage collector runs,
no call gets a frame. A full (generation 2) collection walks every tracked object of the process, and
most of those are the modules, SDK types (the ``openai`` package's pydantic models alone are tens of
thousands) and models loaded at start, which never become garbage. Measured with
``tests/benchmarks/bench_edge.py`` on 2 cores: at 300 calls a full collection walked ~290k objects and
stopped the hub for 90-170 ms, a few times a minute, which alone made ~1 % of frames later than 5 ms.

So once the process has loaded what its calls need (after the engines' warm-up), the objects alive at
that moment move to the collector's permanent generation (:func:`gc.freeze`) and full collections only
walk what calls create. Cycles among the frozen start-up objects are never collected, which costs
nothing: they live as long as the process. What calls create is kept small too: ``edge/main.py`` turns
off gevent's greenlet-tree tracking, which kept every greenlet's spawning stack (at ~200 calls, 9.7k
frame records and most of the 13.9k lists among the 66k objects a full collection walked). Together: at
300 calls pacing p99 went from 23-25 ms to 1.7 ms, and the largest N holding p99 <= 5 ms on 2 cores from
250 to 500.

A full collection still walks every object the calls in progress hold (at 500 calls ~140k objects,
130-140 ms here, bench_edge), and CPython starts one whenever the objects that survived the younger
collections have grown by a quarter: during a burst of calls several times, and in steady traffic each time
a few hundred new calls have come and gone. Those walks free nothing when an ended call frees itself: its
objects no longer hold each other once it ends (``CallSession._release``, ``SocketWriter.close``,
``edge.engines.realtime._let_go``), which bench_edge's calls confirm (nothing of theirs was left for the
collector). So :func:`collect_fully_on_schedule` takes full collections off the collector's own trigger and
runs one every :data:`FULL_COLLECTION_SECONDS` instead, to free whatever cycle a path we did not foresee
still leaves (a pause of the size above, every ten minutes rather than every few tens of seconds).

:func:`watch_pauses` observes every collection's duration in ``voice_ai_gc_pause_seconds`` and counts the
objects collections free in ``voice_ai_gc_collected_total``, so an operator sees the stalls the collector
still causes and whether calls leave it work (a count that grows with the calls).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import gevent

from edge.metrics import Counter, Histogram

FULL_COLLECTION_SECONDS = 600.0
"""How often :func:`collect_fully_on_schedule` runs a full collection."""
_NEVER = 1 << 30
"""A full-collection threshold never reached (it counts the collections of the middle generation)."""
MIDDLE_THRESHOLD = 3
"""The middle generation is collected after every 3 young collections (CPython's default: 10). Its
collections walk what survived the young ones since the last, so they get shorter; what survives them
goes to the oldest generation, which no longer costs a pause of its own (bench_edge, 500 calls at 50/s,
burst, two runs each: collections over 5 ms 3-5 instead of 10-14)."""


def freeze_startup_objects() -> int:
    """Collect once, then exempt every object alive now from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def collect_fully_on_schedule(seconds: float = FULL_COLLECTION_SECONDS,
                              sleep: Callable[[float], Any] = gevent.sleep) -> gevent.Greenlet:
    """No full collection on the collector's own trigger any more (the young ones go on, the middle
    generation's more often: :data:`MIDDLE_THRESHOLD`); one every ``seconds`` instead, from the greenlet
    returned (see the module docstring). ``sleep``: how that greenlet waits (a test's scripted one)."""
    young, _, _ = gc.get_threshold()
    gc.set_threshold(young, MIDDLE_THRESHOLD, _NEVER)

    def collect() -> None:
        while True:
            sleep(seconds)
            gc.collect()

    return gevent.spawn(collect)


def watch_pauses(histogram: Histogram, collected: Counter) -> Callable[[str, dict[str, Any]], None]:
    """Observe the duration of every garbage collection of this process in ``histogram`` and count the
    objects it freed in ``collected``; returns the callback it added to :data:`gc.callbacks`."""
    started = [0.0]

    def on_collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            histogram.observe(time.perf_counter() - started[0])
            if info.get("collected"):
                collected.inc(amount=info["collected"])

    gc.callbacks.append(on_collection)
    return on_collection
