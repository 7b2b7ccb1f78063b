"""The edge benchmark's driver runs end to end on a tiny load and reports every figure (no timing checks)."""

from __future__ import annotations

import pytest

from tests.benchmarks.bench_edge import FIELDS, PHASES, format_table, run_benchmark


@pytest.mark.slow
def test_benchmark_driver_reports_every_figure(database_url: str, clean_queue: str) -> None:
    report = run_benchmark(3, seconds=2.5, settle=0.5, period=1.5, reply_ms=2000, warmup=0.5,
                           database_url=database_url, redis_url=clean_queue)

    assert {key for key, _ in FIELDS} <= report.keys()
    assert report["calls"] == 3 and report["answered"] == 3
    assert report["calls_active_in_window"] == 3
    assert report["frames_paced"] > 0, "no caller-bound audio was paced during the window"
    assert report["latency_in_p50_ms"] is not None, "no caller silence probe reached the model"
    assert report["latency_speech_p50_ms"] is not None, "no caller speech probe reached the model"
    assert report["latency_out_p50_ms"] is not None, "no reply probe frame reached the caller"
    assert report["left_over"] == {"calls_active": 0, "udp_ports_in_use": 0, "paced_streams": 0}
    table = format_table([report])
    assert all(label in table for _, label in FIELDS)


@pytest.mark.slow
def test_burst_mode_reports_each_calls_greeting_and_setup_steps(database_url: str, clean_queue: str) -> None:
    # The warm-up call reads the secretary's set-up, so the burst's calls take it from memory: on a busy
    # test host a cold edge's first read could take longer than a call's set-up timeout, and the calls
    # were then (rightly) told goodbye. The vendor speaks every greeting: none is cached.
    report = run_benchmark(4, arrival_rate=50, burst=True, greeting_cache=False, period=1.5, reply_ms=1000,
                           database_url=database_url, redis_url=clean_queue)

    assert report["mode"] == "burst" and report["answered"] == 4
    # Every caller heard a greeting, and every setup step was seen for every call on its way there.
    assert report["greeted"] == 4
    assert report["greeting_p50_ms"] is not None and report["greeting_p99_ms"] >= report["greeting_p50_ms"]
    # No greeting is cached: every call asks the vendor for it (nothing to tell afterwards).
    missing = [name for name, _ in PHASES if name != "greeting_told" and report[f"setup_{name}_ms"] is None]
    assert not missing, (missing, report)
    assert report["frames_paced"] > 0, "the greetings were not paced inside the burst window"
    assert report["left_over"] == {"calls_active": 0, "udp_ports_in_use": 0, "paced_streams": 0}
