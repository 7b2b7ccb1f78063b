"""Malformed and silent Event Socket peers, in two rounds: the edge logs each as one line (no uncaught
traceback, a silent peer's ``connect`` deadline included), ends every connection, and its memory does not
grow from one round to the next (``python -m tests.faults.esl_fuzz`` measures bigger rounds)."""

from __future__ import annotations

import pytest

from tests.edge.conftest import start_edge
from tests.faults.esl_fuzz import SILENT_EVERY, fuzz_round, rss_mb

CONNECTIONS = 300


@pytest.mark.slow
def test_two_rounds_of_broken_peers_leave_no_traceback_no_connection_and_no_growth(database_url, redis_url,
                                                                                   tmp_path):
    edge = start_edge(database_url, redis_url, tmp_path, EDGE_WARM_UP="false")
    try:
        rss = []
        for number, silent in ((1, True), (2, False)):  # the silent peers' 10 s deadline once is enough
            assert fuzz_round(edge.esl_port, CONNECTIONS, seed=number, silent=silent) > CONNECTIONS // 2
            health = edge.wait_idle(60)
            assert health["calls_active"] == 0, health
            rss.append(rss_mb(edge.proc.pid))
        log = edge.log()
        assert "Traceback" not in log, log[log.find("Traceback") - 500:][:3000]
        # Every silent peer was given up on at its connect deadline, with a line saying so.
        assert log.count("no valid connect reply: none within") == len(range(0, CONNECTIONS, SILENT_EVERY))
        # A leak grows with every round; the allocator's own arenas settle within the first.
        assert rss[1] - rss[0] < 5, f"RSS after each round: {rss} MB"
    finally:
        edge.stop()
