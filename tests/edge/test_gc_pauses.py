"""The garbage collector against the audio clock (``edge/gc_pauses.py``): the edge's start-up objects leave
the full collections, and every collection is visible to the operator."""

from __future__ import annotations

import gc
import re

import gevent

from edge.gc_pauses import collect_fully_on_schedule, freeze_startup_objects, watch_pauses
from edge.metrics import EdgeMetrics
from tests.polling import wait_until


def test_a_full_collection_no_longer_walks_the_frozen_objects() -> None:
    walked_before = len(gc.get_objects())  # what a full collection walks now: the test process's modules too
    assert walked_before > 10_000
    try:
        frozen = freeze_startup_objects()
        kept = [[n] for n in range(100)]  # made after the freeze: still collected as before
        walked_after = len(gc.get_objects())
        assert frozen >= walked_before // 2
        assert 100 <= walked_after < walked_before // 10
        assert all(gc.is_tracked(item) for item in kept)
    finally:
        gc.unfreeze()
    assert len(gc.get_objects()) >= walked_before // 2


class _Cycle:
    """Two of these holding each other: only the garbage collector frees them."""

    def __init__(self) -> None:
        self.other = self


def test_every_collection_is_observed_and_what_it_freed_counted() -> None:
    metrics = EdgeMetrics()
    callback = watch_pauses(metrics.gc_pause, metrics.gc_collected)
    try:
        gc.collect()
        for _ in range(10):
            _Cycle()  # unreachable at once: a cycle each (the object and its __dict__)
        gc.collect()
        gc.collect(0)
    finally:
        gc.callbacks.remove(callback)
    page = metrics.render()
    count = int(re.search(r"^voice_ai_gc_pause_seconds_count (\d+)", page, re.M).group(1))
    total = float(re.search(r"^voice_ai_gc_pause_seconds_sum (\S+)", page, re.M).group(1))
    assert count >= 3 and total > 0
    assert float(re.search(r"^voice_ai_gc_collected_total (\S+)", page, re.M).group(1)) >= 10


def test_full_collections_run_on_the_schedule_not_on_the_collectors_own_trigger() -> None:
    threshold = gc.get_threshold()
    full_before = gc.get_stats()[2]["collections"]
    naps: list[float] = []

    def nap(seconds: float) -> None:  # the schedule's waits, scripted: the third one ends the schedule
        naps.append(seconds)
        if len(naps) == 3:
            raise gevent.GreenletExit

    collector = collect_fully_on_schedule(600.0, sleep=nap)
    try:
        assert gc.get_threshold()[0] == threshold[0]  # the young generation as before
        assert gc.get_threshold()[2] > 1_000_000  # no full collection of the collector's own
        collector.join(timeout=10)
        assert naps == [600.0, 600.0, 600.0]
        assert gc.get_stats()[2]["collections"] >= full_before + 2  # one after each of the first two waits
    finally:
        collector.kill()
        gc.set_threshold(*threshold)


def test_the_edge_freezes_after_warm_up_and_reports_its_collections(edge) -> None:
    assert wait_until(lambda: edge.health()["gc_frozen_objects"] > 10_000, timeout=30)
    assert "voice_ai_gc_pause_seconds_count" in edge.metrics()
    assert "voice_ai_gc_collected_total" in edge.metrics()
