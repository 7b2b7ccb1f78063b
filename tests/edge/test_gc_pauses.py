"""The garbage collector against the audio clock (``edge/gc_pauses.py``): the edge's start-up objects leave
the full collections, and every collection is visible to the operator."""

from __future__ import annotations

import gc
import re

from edge.gc_pauses import freeze_startup_objects, watch_pauses
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


def test_every_collection_is_observed() -> None:
    metrics = EdgeMetrics()
    callback = watch_pauses(metrics.gc_pause)
    try:
        gc.collect()
        gc.collect(0)
    finally:
        gc.callbacks.remove(callback)
    page = metrics.render()
    count = int(re.search(r"^voice_ai_gc_pause_seconds_count (\d+)", page, re.M).group(1))
    total = float(re.search(r"^voice_ai_gc_pause_seconds_sum (\S+)", page, re.M).group(1))
    assert count >= 2 and total > 0


def test_the_edge_freezes_after_warm_up_and_reports_its_collections(edge) -> None:
    assert wait_until(lambda: edge.health()["gc_frozen_objects"] > 10_000, timeout=30)
    assert "voice_ai_gc_pause_seconds_count" in edge.metrics()
