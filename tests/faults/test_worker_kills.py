"""A worker SIGKILLed during each kind of task, then started again under its node name (as systemd
restarts it): nothing is lost, nothing is done twice, and what a user sees is complete — every message
of the call stored, the summary and the webhook made from all of them (sent again as an update when
messages came late), the document's chunks once each, the webhook delivered."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.db import get_engine
from shared.models import Conversation, DocumentChunk, Message
from shared.tasks import CONVERSATION_EVENTS, DELIVER_WEBHOOK, INGEST_DOCUMENT, SUMMARIZE_CONVERSATION
from shared.tenancy import tenant_session
from tests.factories import add_conversation, add_message, add_secretary
from tests.faults.worker_life import wait_locked, worker_lives
from tests.workers.conftest import add_upload, wait_document, wait_for
from tests.workers.held_upload import paragraphs
from tests.workers.receiver import WebhookReceiver

pytestmark = pytest.mark.slow

RECOVERY_SECONDS = 120
"""The issue's bound: a task of a dead worker is redone within 2 minutes of a worker being up again."""


def _node(kind: str) -> str:
    return f"faults-{kind}-{uuid.uuid4().hex[:6]}@%h"


def _queue(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:6]}"  # only this test's workers consume it


def _conversation(domain: uuid.UUID, call_uuid: uuid.UUID) -> Conversation | None:
    with tenant_session(domain) as session:
        row = session.scalars(select(Conversation).where(Conversation.call_uuid == call_uuid)).first()
        if row is not None:
            session.expunge(row)
        return row


def _messages(domain: uuid.UUID, conversation: uuid.UUID) -> list[tuple[int, str]]:
    with tenant_session(domain) as session:
        return [(m.sequence, m.content) for m in session.scalars(
            select(Message).where(Message.conversation_uuid == conversation).order_by(Message.sequence))]


def _event(domain: uuid.UUID, call: uuid.UUID, kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "domain_uuid": str(domain), "call_uuid": str(call), **fields}


def _message(domain: uuid.UUID, call: uuid.UUID, sequence: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    role = "assistant" if sequence % 2 == 0 else "user"
    return _event(domain, call, "message", sequence=sequence, role=role, content=f"turn {sequence}",
                  started_at=now, ended_at=now, latency_ms=None, interrupted=False, tool_name=None,
                  tool_arguments=None, tool_result=None)


def test_a_worker_killed_while_storing_a_batch_loses_no_message_and_the_webhook_is_updated(
        worker_env, tmp_path, producer, make_domain):
    domain = make_domain()
    queue = _queue("conversations")
    storing, keeping = _node("store"), _node("keep")
    with WebhookReceiver() as receiver, worker_lives(worker_env, tmp_path) as lives:
        secretary = add_secretary(domain, webhook_enabled=True, webhook_url=receiver.url, webhook_secret="k")
        call = uuid.uuid4()
        worker = lives.start(storing, "-Q", queue, "-c", "1")
        producer.send_task(CONVERSATION_EVENTS, ([
            _event(domain, call, "call_started", voice_secretary_uuid=str(secretary), caller_id="5511987654321",
                   caller_name="Maria", destination_number="8000", engine="realtime",
                   started_at=datetime.now(UTC).isoformat()),
            *[_message(domain, call, n) for n in range(4)],
        ],), queue=queue)
        wait_for(lambda: (row := _conversation(domain, call)) and len(_messages(domain, row.conversation_uuid)) == 4)

        # The next batch reaches the worker while the messages table is busy; the worker dies mid-batch.
        with get_engine().begin() as connection:  # a DBA's lock: plain SQL, outside any tenant
            connection.exec_driver_sql("LOCK TABLE v_voice_messages IN EXCLUSIVE MODE")
            producer.send_task(CONVERSATION_EVENTS, ([_message(domain, call, n) for n in range(4, 8)],), queue=queue)
            wait_locked("v_voice_messages")
            worker.kill()

        # Another worker carries on: the call's end arrives; the summary waits (1 s here), then is written
        # from the 4 messages stored, and the webhook goes out with them.
        keeper = lives.start(keeping, "-Q", f"{queue},conversations,webhooks", "-c", "2",
                             env={"SUMMARY_WAIT_SECONDS": "1"})
        producer.send_task(CONVERSATION_EVENTS, ([_event(
            domain, call, "call_ended", ended_at=datetime.now(UTC).isoformat(), outcome="resolved",
            transfer_target=None, taken_message=None, turn_count=4, message_count=8)],), queue=queue)
        wait_for(lambda: len(receiver.received) == 1, timeout=60)
        first = receiver.received[0].json()
        assert [t["sequence"] for t in first["transcript"]] == [0, 1, 2, 3]
        assert first["revision"] == 0 and first["update"] is False

        # The killed worker is started again: the batch it held goes back to its queue at once, the four
        # late messages are stored, the summary is written again and the webhook is sent again as an update.
        restarted = lives.start(storing, "-Q", queue, "-c", "1")
        wait_for(lambda: len(receiver.received) == 2, timeout=RECOVERY_SECONDS)
        update = receiver.received[1]
        conversation = wait_for(lambda: (row := _conversation(domain, call)) and len(row.webhook_attempts) == 2
                                and row)  # the delivery records its attempt once the receiver answered
        assert _messages(domain, conversation.conversation_uuid) == [(n, f"turn {n}") for n in range(8)]
        assert [t["content"] for t in update.json()["transcript"]] == [f"turn {n}" for n in range(8)]
        assert update.json()["revision"] == 1 and update.json()["update"] is True
        assert update.headers["idempotency-key"] == receiver.received[0].headers["idempotency-key"]
        assert update.headers["x-voice-ai-revision"] == "1"
        assert update.json()["summary"] == conversation.summary
        assert conversation.webhook_status == "delivered" and len(conversation.webhook_attempts) == 2
        # Handed back by its own next life (or, on a slow machine, by the other worker once it fell silent).
        assert "are back in their queues" in restarted.log_text() + keeper.log_text()


def test_a_worker_killed_mid_ingest_and_restarted_leaves_the_document_ready_with_each_chunk_once(
        worker_env, tmp_path, producer, make_domain, held_upload):
    domain = make_domain()
    queue = _queue("documents")
    upload = held_upload("manual.txt", paragraphs(8))  # the worker stays mid-read until the kill
    doc = add_upload(domain, "manual.txt", str(upload.path))
    node = _node("ingest")
    with worker_lives(worker_env, tmp_path) as lives:
        worker = lives.start(node, "-Q", queue, "-c", "1")
        producer.send_task(INGEST_DOCUMENT, (str(domain), str(doc)), queue=queue)
        wait_document(domain, doc, timeout=30, states=("processing",))
        worker.kill()  # the whole worker, pool and all
        upload.release()

        restarted = lives.start(node, "-Q", queue, "-c", "1")
        row = wait_document(domain, doc, timeout=RECOVERY_SECONDS)
        assert row.status == "ready", row.error_message
        with tenant_session(domain) as session:
            total, distinct = session.execute(
                select(func.count(), func.count(func.distinct(DocumentChunk.chunk_index)))
                .where(DocumentChunk.document_uuid == doc)).one()
        assert total == distinct == row.chunk_count > 1
        assert "are back in their queues" in restarted.log_text()


class _HangingFirst:
    """A webhook receiver whose first request never gets an answer (a worker dies waiting on it)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answered: list[dict[str, Any]] = []
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                owner.requests.append(request)
                if len(owner.requests) == 1:
                    owner.release.wait(60)
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                owner.answered.append(request)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_worker_killed_during_a_webhook_delivery_delivers_it_once_after_the_restart(
        worker_env, tmp_path, producer, make_domain):
    domain = make_domain()
    receiver = _HangingFirst()
    queue = _queue("webhooks")
    node = _node("webhook")
    try:
        secretary = add_secretary(domain, webhook_enabled=True, webhook_url=receiver.url, webhook_secret="k")
        conversation = add_conversation(domain, voice_secretary_uuid=secretary, webhook_status="pending",
                                        outcome="resolved", summary="Pediu o horário.")
        add_message(domain, conversation, 0, role="user", content="Qual o horário?")
        with worker_lives({**worker_env, "WEBHOOK_TIMEOUT_SECONDS": "60"}, tmp_path) as lives:
            worker = lives.start(node, "-Q", queue, "-P", "threads", "-c", "2")
            producer.send_task(DELIVER_WEBHOOK, (str(domain), str(conversation)), queue=queue)
            wait_for(lambda: len(receiver.requests) == 1, timeout=30)
            worker.kill()

            lives.start(node, "-Q", queue, "-P", "threads", "-c", "2")

            def delivered() -> Conversation | None:
                with tenant_session(domain) as session:
                    row = session.get(Conversation, conversation)
                    session.expunge(row)
                    return row if row.webhook_status == "delivered" else None
            row = wait_for(delivered, timeout=RECOVERY_SECONDS)
            assert len(row.webhook_attempts) == 1
            assert len(receiver.answered) == 1
            body = receiver.answered[0]["body"]
            assert b"Qual o hor" in body and receiver.answered[0]["headers"]["idempotency-key"] == str(conversation)
    finally:
        receiver.close()


def test_a_worker_killed_while_writing_a_summary_writes_it_and_sends_the_webhook_once_after_the_restart(
        worker_env, tmp_path, producer, make_domain):
    domain = make_domain()
    queue = _queue("conversations")
    node = _node("summary")
    with WebhookReceiver() as receiver, worker_lives(worker_env, tmp_path) as lives:
        secretary = add_secretary(domain, webhook_enabled=True, webhook_url=receiver.url, webhook_secret="k")
        conversation = add_conversation(domain, voice_secretary_uuid=secretary, outcome="resolved")
        add_message(domain, conversation, 0, role="user", content="Quero falar sobre a minha fatura.")
        worker = lives.start(node, "-Q", f"{queue},webhooks", "-c", "1")
        with tenant_session(domain) as session:  # someone holds the row the summary is written to
            session.execute(select(Conversation).where(Conversation.conversation_uuid == conversation)
                            .with_for_update())
            producer.send_task(SUMMARIZE_CONVERSATION, (str(domain), str(conversation)), queue=queue)
            wait_locked("v_voice_conversations")
            worker.kill()

        lives.start(node, "-Q", f"{queue},webhooks", "-c", "1")
        def delivered() -> Conversation | None:
            with tenant_session(domain) as session:
                row = session.get(Conversation, conversation)
                session.expunge(row)
                return row if row.webhook_status == "delivered" else None
        row = wait_for(delivered, timeout=RECOVERY_SECONDS)
        assert row.summary and "fatura" in row.summary
        assert len(receiver.received) == 1 and receiver.received[0].json()["summary"] == row.summary
