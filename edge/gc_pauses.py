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

:func:`watch_pauses` observes every collection's duration in ``voice_ai_gc_pause_seconds``, so an
operator sees the stalls the collector still causes.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from edge.metrics import Histogram


def freeze_startup_objects() -> int:
    """Collect once, then exempt every object alive now from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def watch_pauses(histogram: Histogram) -> Callable[[str, dict[str, Any]], None]:
    """Observe the duration of every garbage collection of this process in ``histogram``; returns the
    callback it added to :data:`gc.callbacks`."""
    started = [0.0]

    def on_collection(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            histogram.observe(time.perf_counter() - started[0])

    gc.callbacks.append(on_collection)
    return on_collection
