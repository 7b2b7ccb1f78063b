"""An edge answers its first call only once it is warm: FreeSWITCH (and a load balancer polling
``/healthz``) can reach it only after the engines' warm-up and the start-up freeze, so the first calls of
a burst after a restart do not queue behind them."""

from __future__ import annotations

import pytest

from tests.edge.conftest import start_edge


@pytest.mark.slow
def test_the_edge_opens_its_ports_only_once_warm(database_url: str, clean_queue: str, tmp_path) -> None:
    edge = start_edge(database_url, clean_queue, tmp_path, EDGE_WARM_UP="true")  # returns at EDGE_READY
    try:
        # The very first look, without waiting: the start-up objects are already frozen.
        assert edge.health()["gc_frozen_objects"] > 10_000
        log = edge.log()
        assert log.index("engines warmed up") < log.index("edge listening")
    finally:
        edge.stop()
