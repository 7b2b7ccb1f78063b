"""Two edge processes behind FreeSWITCH's ``socket`` failover list (``host1:port|host2:port``).

FreeSWITCH's socket application connects to the first host of the list and, when that connect fails,
tries the next. Killing the first edge mid-traffic must send the calls that arrive afterwards to the
second one, and they must be served there as usual (answered, greeted).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.freeswitch import FakeCall, FakeFreeSwitch
from simulator.loop import BackgroundLoop
from tests.edge.conftest import start_edge
from tests.edge.harness import EdgeProcess
from tests.polling import wait_until


@pytest.fixture
def two_edges(database_url: str, clean_queue: str, tmp_path) -> Iterator[tuple[EdgeProcess, EdgeProcess]]:
    """Two edge processes on one host (as the installer's voice-ai-edge@ instances run, one per core)."""
    edges = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        edges.append(start_edge(database_url, clean_queue, tmp_path / name, EDGE_WARM_UP="false",
                                GREETING_CACHE_DIR=str(tmp_path / name / "greetings"), EDGE_AUDIO_TRANSPORT="unicast"))
    yield edges[0], edges[1]
    for edge in edges:
        edge.stop()


def _greeted(fs: FakeFreeSwitch, variables: dict[str, str]) -> FakeCall:
    call = fs.place_call(variables)
    assert call.wait("answered", timeout=30), call.connect_error
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 400, timeout=30)  # the greeting
    return call


def test_killing_the_first_edge_sends_new_calls_to_the_second(two_edges, fakes_loop: BackgroundLoop, realtime,
                                                              realtime_secretary):
    first, second = two_edges
    domain, secretary = realtime_secretary
    variables = {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)}
    fs = FakeFreeSwitch("127.0.0.1", first.esl_port, fakes_loop)  # socket 127.0.0.1:<first>|127.0.0.1:<second>
    fs.failover = [("127.0.0.1", second.esl_port)]
    try:
        # While the first edge runs, it takes every call (the list is an order, not a balance).
        before = [_greeted(fs, variables) for _ in range(2)]
        assert {call.esl_target for call in before} == {("127.0.0.1", first.esl_port)}
        assert second.health()["calls_active"] == 0

        first.proc.kill()  # mid-traffic: two calls in progress on it
        first.proc.wait(10)
        assert all(call.wait("closed", timeout=30) for call in before)

        after = [_greeted(fs, variables) for _ in range(2)]
        assert {call.esl_target for call in after} == {("127.0.0.1", second.esl_port)}
        assert wait_until(lambda: second.health()["calls_active"] == 2, timeout=15)
        for call in after:
            call.hangup()
        assert all(call.wait("closed", timeout=30) for call in after)
        assert second.wait_idle(30)["calls_active"] == 0
    finally:
        fs.close()
