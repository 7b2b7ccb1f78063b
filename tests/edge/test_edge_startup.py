"""An edge answers its first call only once it is warm: FreeSWITCH (and a load balancer polling
``/healthz``) can reach it only after the engines' warm-up and the start-up freeze, so the first calls of
a burst after a restart do not queue behind them. An edge that cannot open its port says which and why
in one line, and exits."""

from __future__ import annotations

import socket

import pytest

from tests.edge.conftest import start_edge


@pytest.mark.slow
def test_the_edge_opens_its_ports_only_once_warm(database_url: str, clean_queue: str, tmp_path) -> None:
    edge = start_edge(database_url, clean_queue, tmp_path, forked=False, EDGE_WARM_UP="true")  # returns at EDGE_READY
    try:
        # The very first look, without waiting: the start-up objects are already frozen.
        assert edge.health()["gc_frozen_objects"] > 10_000
        log = edge.log()
        assert log.index("engines warmed up") < log.index("edge listening")
        # The vendor SDK too (on the hub: its imports run subprocesses), not left to the first call.
        assert log.index("vendor SDK warmed up") < log.index("edge listening")
        assert "warm-up failed" not in log
    finally:
        edge.stop()


def test_an_edge_whose_port_is_taken_says_so_and_exits(database_url: str, clean_queue: str, tmp_path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError) as failed:
            start_edge(database_url, clean_queue, tmp_path, forked=False, EDGE_ESL_PORT=str(port))
    log = str(failed.value)
    assert f"cannot listen on 127.0.0.1:{port} for the Event Socket: Address already in use" in log
    assert "EDGE_ESL_PORT" in log and "Traceback" not in log
