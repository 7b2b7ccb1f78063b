"""Fixtures for the edge's end-to-end tests: a real edge process, the fake FreeSWITCH and fake OpenAI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from simulator.freeswitch import FakeFreeSwitch
from simulator.loop import BackgroundLoop
from tests.conftest import CALLS_REDIS_URL
from tests.edge.harness import EdgeProcess
from tests.factories import add_provider, add_secretary
from tests.fakes.openai_realtime import FakeRealtimeServer
from tests.polling import wait_until


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Here, this process's Redis is its calls database: a worker that a test module elsewhere leaves
    running for the session (on the main database) would take the calls' conversation events off the
    queue before a test reads them. Only the workers an edge test starts itself listen here."""
    return CALLS_REDIS_URL


@pytest.fixture
def clean_queue(redis_url: str) -> str:
    """The conversations queue, emptied."""
    redis.Redis.from_url(redis_url).delete("conversations")
    return redis_url


@pytest.fixture
def fakes_loop() -> Iterator[BackgroundLoop]:
    """The asyncio loop the fakes run on."""
    loop = BackgroundLoop()
    yield loop
    loop.close()


@pytest.fixture
def realtime(fakes_loop: BackgroundLoop) -> Iterator[FakeRealtimeServer]:
    """A fake OpenAI Realtime server."""
    server = FakeRealtimeServer(fakes_loop)
    yield server
    server.close()


def start_edge(database_url: str, redis_url: str, tmp_path, forked: bool = True, **env: str) -> EdgeProcess:
    """A running edge process, forked from the test process's zygote (:mod:`tests.edge.zygote`); with
    ``forked=False`` a new interpreter, where the edge's own start is what a test looks at."""
    return EdgeProcess(database_url, redis_url, str(tmp_path), forked=forked, **env)


def own_edge_env(request: pytest.FixtureRequest) -> dict[str, str] | None:
    """The transport (indirect parametrization) and settings (``@pytest.mark.edge_env``) a test names for
    its edge, or None when it names neither."""
    transport = getattr(request, "param", None)
    marker = request.node.get_closest_marker("edge_env")
    if transport is None and marker is None:
        return None
    return {"EDGE_AUDIO_TRANSPORT": transport or os.environ.get("EDGE_TEST_TRANSPORT", "unicast"),
            **(marker.kwargs if marker else {})}


@pytest.fixture
def edge(request: pytest.FixtureRequest, database_url: str, clean_queue: str, tmp_path) -> Iterator[EdgeProcess]:
    """An edge on the unicast transport, or on the one named by indirect parametrization
    (``@pytest.mark.parametrize("edge", ["unicast", "audio_stream"], indirect=True)``; with
    ``EDGE_TEST_TRANSPORT=audio_stream`` every other edge test runs over mod_audio_stream), with the
    settings of the test's ``@pytest.mark.edge_env(NAME="value")``; its greeting
    cache in the test's directory; no engine warm-up thread competing with the call for the CPU (these
    tests time pacing and barge-in). It is forked from the test process's zygote (the edge's own start is
    tested in test_edge_startup.py)."""
    env = own_edge_env(request) or {"EDGE_AUDIO_TRANSPORT": os.environ.get("EDGE_TEST_TRANSPORT", "unicast")}
    process = start_edge(database_url, clean_queue, tmp_path,
                         GREETING_CACHE_DIR=str(tmp_path / "greetings"), EDGE_WARM_UP="false", **env)
    yield process
    process.stop()


@pytest.fixture
def fake_fs(edge: EdgeProcess, fakes_loop: BackgroundLoop) -> Iterator[FakeFreeSwitch]:
    """A fake FreeSWITCH pointed at the edge."""
    fs = FakeFreeSwitch("127.0.0.1", edge.esl_port, fakes_loop)
    yield fs
    fs.close()


@pytest.fixture
def realtime_secretary(make_domain: Callable[..., uuid.UUID],
                       realtime: FakeRealtimeServer) -> tuple[uuid.UUID, uuid.UUID]:
    """(domain, secretary) whose LLM provider is openai_realtime at the fake server."""
    domain = make_domain()
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime"})
    secretary = add_secretary(domain, llm_provider_uuid=provider, system_prompt="Você é a secretária da ACME.",
                              greeting_message="Olá, ACME, em que posso ajudar?", goodbye_message="Até logo!")
    return domain, secretary


# --- one warm edge per test module (for modules of many short calls) --------------------------------


@pytest.fixture(scope="module")
def warm_loop() -> Iterator[BackgroundLoop]:
    """An asyncio loop for the module's fakes."""
    loop = BackgroundLoop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def warm_edge(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeProcess]:
    """An edge shared by a module's calls, started once and past its engine warm-up (so every call of
    the module sees an edge as it runs in production, not one still importing its engines)."""
    tmp = tmp_path_factory.mktemp("warm_edge")
    process = start_edge(database_url, redis_url, tmp, GREETING_CACHE_DIR=str(tmp / "greetings"))
    wait_until(lambda: "engines warmed up" in process.log(), timeout=30)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def warm_fs(warm_edge: EdgeProcess, warm_loop: BackgroundLoop) -> Iterator[FakeFreeSwitch]:
    """A fake FreeSWITCH pointed at the module's edge."""
    fs = FakeFreeSwitch("127.0.0.1", warm_edge.esl_port, warm_loop)
    yield fs
    fs.close()


@pytest.fixture(scope="module")
def warm_realtime(warm_loop: BackgroundLoop) -> Iterator[FakeRealtimeServer]:
    """A fake Realtime server for the module (tests reset its script)."""
    server = FakeRealtimeServer(warm_loop)
    yield server
    server.close()
