"""An edge answers its first call only once it is warm: FreeSWITCH (and a load balancer polling
``/healthz``) can reach it only after the engines' warm-up and the start-up freeze, so the first calls of
a burst after a restart do not queue behind them. An edge that cannot open its port says which and why
in one line, and exits."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.edge.conftest import start_edge

REPO = Path(__file__).resolve().parents[2]


def _no_real_time_allowance() -> None:
    """RLIMIT_RTPRIO 0, as systemd gives a unit without LimitRTPRIO."""
    resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))


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
        # And the set-up read's first connection and query (cold: 162 ms of the hub's CPU on the first call).
        assert log.index("set-up reads warmed up") < log.index("edge listening")
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


def test_the_edge_loop_runs_at_the_real_time_priority_asked(database_url: str, clean_queue: str, tmp_path) -> None:
    """EDGE_RR_PRIORITY puts the thread that paces every call's audio under SCHED_RR (the test runs as
    root, as CAP_SYS_NICE allows)."""
    edge = start_edge(database_url, clean_queue, tmp_path, forked=False, EDGE_RR_PRIORITY="3")
    try:
        pid = edge.proc.pid
        assert os.sched_getscheduler(pid) == os.SCHED_RR  # the main thread: the gevent hub's
        assert os.sched_getparam(pid).sched_priority == 3
        assert "event loop at real-time priority (SCHED_RR 3)" in edge.log()
    finally:
        edge.stop()


def test_an_edge_not_allowed_real_time_priority_says_why_and_runs_on() -> None:
    """Without LimitRTPRIO (or CAP_SYS_NICE) the edge logs what to set and carries on at ordinary priority."""
    script = ("import os; from shared.logging import call_logger, setup_logging; "
              "from edge.loop_priority import raise_loop_priority; setup_logging('INFO'); "
              "print(raise_loop_priority(10, call_logger('edge')), os.sched_getscheduler(0) == os.SCHED_OTHER)")
    no_capabilities = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]  # same user: it reads the checkout
    result = subprocess.run([*no_capabilities, sys.executable, "-c", script], cwd=REPO, capture_output=True,
                            text=True, timeout=60, preexec_fn=_no_real_time_allowance)
    assert result.stdout.split() == ["False", "True"], result.stderr
    assert "cannot run the event loop at real-time priority (EDGE_RR_PRIORITY=10)" in result.stderr
    assert "LimitRTPRIO=10" in result.stderr


def test_an_edge_whose_database_is_down_at_start_still_opens(database_url: str, clean_queue: str, tmp_path) -> None:
    """The set-up read's warm-up cannot reach PostgreSQL: it says so, and the edge listens (its calls are
    then served from memory, routed or told goodbye: tests/faults/test_database_outage.py)."""
    down = "postgresql://voice_ai:voice_ai@127.0.0.1:1/voice_ai"  # nothing listens on port 1
    edge = start_edge(down, clean_queue, tmp_path, forked=False, EDGE_WARM_UP="true")
    try:
        log = edge.log()
        assert log.index("set-up read warm-up failed (OperationalError") < log.index("edge listening")
    finally:
        edge.stop()
