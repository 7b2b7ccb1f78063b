"""Redis SIGKILLed and started again while a call's conversation events wait in its queue, and while a
worker is storing a batch: with the persistence the installer configures (deploy/redis/voice-ai.conf),
every event is still there, and the workers store the whole conversation with its summary."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from shared.models import Conversation, Message
from shared.tenancy import tenant_session
from simulator.audio import noise, silence
from simulator.freeswitch import FakeFreeSwitch
from tests.edge.conftest import start_edge
from tests.edge.harness import REPO, conversation_events
from tests.factories import add_provider, add_secretary
from tests.fakes.openai_realtime import Reply
from tests.faults.worker_life import worker_lives
from tests.polling import wait_until
from tests.run_services import RedisServer
from tests.workers.conftest import wait_for

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")]

INSTALLED_CONFIG = REPO / "deploy" / "redis" / "voice-ai.conf"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own (never the run's or the machine's), with the installer's config;
    no snapshots: only the append-only file keeps data."""
    server = RedisServer(tmp_path, str(INSTALLED_CONFIG), "--save", "")
    yield server
    server.stop()


def test_queued_conversation_events_survive_a_killed_redis(redis_server, database_url, tmp_path, fakes_loop,
                                                           realtime, make_domain, worker_env):
    domain = make_domain()
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime"})
    secretary = add_secretary(domain, llm_provider_uuid=provider, greeting_message="Olá, ACME, em que posso ajudar?")
    realtime.script = [Reply("Abrimos às oito.", 500), Reply("De nada, até logo.", 500)]
    realtime.user_transcripts = ["Que horas abre?", "Obrigado."]
    (tmp_path / "edge").mkdir()
    edge = start_edge(database_url, redis_server.url, tmp_path / "edge", EDGE_WARM_UP="false",
                      GREETING_CACHE_DIR=str(tmp_path / "greetings"))
    fs = FakeFreeSwitch("127.0.0.1", edge.esl_port, fakes_loop)
    try:
        call = fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
        assert call.wait("answered") and wait_until(lambda: call.heard_nonsilent_ms() >= 500)
        for seed in (1, 2):
            heard = call.heard_nonsilent_ms()
            call.speak(noise(500, seed=seed) + silence(700))
            assert wait_until(lambda heard=heard: call.heard_nonsilent_ms() > heard + 300, timeout=15)
        call.hangup()

        # Every event is in Redis, queued: no worker has taken any yet.
        def queued() -> list[dict]:
            return [e for e in conversation_events(redis_server.url) if e["call_uuid"] == call.uuid]
        assert wait_until(lambda: queued() and queued()[-1]["type"] == "call_ended", timeout=15)
        before = queued()
    finally:
        fs.close()
        edge.stop()

    # Redis appends each write to its file before it answers: a killed server keeps what it accepted
    # (everysec bounds the loss to a second only when the whole machine goes down).
    redis_server.kill()
    redis_server.start()
    assert queued() == before  # nothing lost by the kill

    # A worker comes up on the restarted Redis and stores the whole conversation.
    expected = [(e["sequence"], e["content"]) for e in before if e["type"] == "message"]
    with worker_lives({**worker_env, "REDIS_URL": redis_server.url}, tmp_path) as lives:
        lives.start(f"faults-redis-{uuid.uuid4().hex[:6]}@%h", "-Q", "conversations", "-c", "1")

        def summarised() -> Conversation | None:
            with tenant_session(domain) as session:
                row = session.scalars(select(Conversation).where(Conversation.call_uuid == uuid.UUID(call.uuid))).first()
                if row is not None and row.summary:
                    session.expunge(row)
                    return row
                return None
        conversation = wait_for(summarised, timeout=60)
    with tenant_session(domain) as session:
        stored = [(m.sequence, m.content) for m in session.scalars(
            select(Message).where(Message.conversation_uuid == conversation.conversation_uuid)
            .order_by(Message.sequence))]
    assert stored == expected and len(stored) == before[-1]["message_count"] >= 4
    assert "Que horas abre?" in [c for _, c in stored] and "Abrimos às oito." in [c for _, c in stored]
    assert conversation.outcome == before[-1]["outcome"] and conversation.ended_at is not None
    assert conversation.caller_id and conversation.engine == "realtime"  # the call_started event too


def test_a_batch_in_flight_when_redis_is_killed_is_stored_after_the_restart(redis_server, tmp_path, producer,
                                                                            make_domain, worker_env):
    from shared.db import get_engine
    from shared.tasks import CONVERSATION_EVENTS, producer_app
    from tests.faults.test_worker_kills import _event, _message
    from tests.faults.worker_life import wait_locked

    domain, call = make_domain(), uuid.uuid4()
    sender = producer_app(redis_server.url)
    with worker_lives({**worker_env, "REDIS_URL": redis_server.url}, tmp_path) as lives:
        worker = lives.start(f"faults-inflight-{uuid.uuid4().hex[:6]}@%h", "-Q", "conversations", "-c", "1")
        # The worker has taken the batch and is storing it (the messages table is busy) when Redis dies.
        with get_engine().begin() as connection:
            connection.exec_driver_sql("LOCK TABLE v_voice_messages IN EXCLUSIVE MODE")
            sender.send_task(CONVERSATION_EVENTS, ([
                _event(domain, call, "call_started", voice_secretary_uuid=None, caller_id="5511987654321",
                       caller_name=None, destination_number="8000", engine="realtime", started_at=None),
                *[_message(domain, call, n) for n in range(6)]],))
            wait_locked("v_voice_messages")
            redis_server.kill()
            redis_server.start()

        def stored() -> list[int]:
            with tenant_session(domain) as session:
                return [m.sequence for m in session.scalars(
                    select(Message).join(Conversation, Conversation.conversation_uuid == Message.conversation_uuid)
                    .where(Conversation.call_uuid == call).order_by(Message.sequence))]
        assert wait_for(lambda: stored() == list(range(6)), timeout=120)
        # And acknowledged on the restarted Redis: nothing is left to be handed to a worker again.
        client = redis.Redis.from_url(redis_server.url)
        assert wait_for(lambda: client.hlen("unacked") == 0, timeout=30)
        client.close()
        assert worker.log_text().count("succeeded") == 1
