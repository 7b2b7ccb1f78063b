"""Conversation events through a worker: exactly once, in order, summarised; the signed webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import signal
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select

from shared.address_policy import RefusedURL, check_url
from shared.models import Conversation, Message
from shared.settings import Settings, SettingsError, get_settings
from shared.tasks import CONVERSATION_EVENT, CONVERSATION_EVENTS
from shared.tenancy import tenant_session
from tests.factories import add_conversation, add_message, add_provider, add_secretary
from tests.workers.conftest import wait_for
from tests.workers.receiver import WebhookReceiver
from workers.webhook.delivery import attempt_delivery
from workers.webhook.retry_policy import retry_delay
from workers.webhook.stalled import STALLED_AFTER

T0 = datetime(2024, 5, 15, 14, 0, tzinfo=UTC)


def call_events(domain, secretary, call_uuid, turns, outcome="transferred", **ended):
    """The events the edge publishes for one call."""
    events = [{
        "type": "call_started", "domain_uuid": str(domain), "call_uuid": call_uuid,
        "voice_secretary_uuid": str(secretary), "caller_id": "5511988887777", "caller_name": "Maria",
        "destination_number": "8000", "engine": "offline", "started_at": T0.isoformat(),
    }]
    for i, (role, text) in enumerate(turns):
        events.append({
            "type": "message", "domain_uuid": str(domain), "call_uuid": call_uuid, "sequence": i, "role": role,
            "content": text, "started_at": (T0 + timedelta(seconds=5 * i)).isoformat(),
            "ended_at": (T0 + timedelta(seconds=5 * i + 3)).isoformat(), "latency_ms": 420 if role == "assistant" else None,
            "interrupted": False, "tool_name": None, "tool_arguments": None, "tool_result": None,
        })
    events.append({
        "type": "call_ended", "domain_uuid": str(domain), "call_uuid": call_uuid,
        "ended_at": (T0 + timedelta(seconds=65)).isoformat(), "outcome": outcome,
        "transfer_target": ended.get("transfer_target", "2002" if outcome == "transferred" else None),
        "taken_message": ended.get("taken_message"), "turn_count": len(turns) // 2, "message_count": len(turns),
    })
    return events


TURNS = [
    ("assistant", "Olá, clínica Sorriso, em que posso ajudar?"),
    ("user", "Oi, eu queria marcar uma limpeza para a próxima semana"),
    ("assistant", "Claro, vou transferir para o agendamento."),
    ("user", "Obrigada"),
]


def conversation(domain, call_uuid):
    with tenant_session(domain) as session:
        row = session.scalars(select(Conversation).where(Conversation.call_uuid == uuid.UUID(call_uuid))).first()
        if row is not None:
            session.expunge(row)
        return row


def messages(domain, conversation_uuid):
    """The stored transcript in the order every reader uses (the summary, the webhook): by sequence."""
    with tenant_session(domain) as session:
        return [(m.sequence, m.role, m.content) for m in session.scalars(
            select(Message).where(Message.conversation_uuid == conversation_uuid).order_by(Message.sequence))]


@pytest.mark.slow
def test_events_stored_exactly_once_in_order_under_redelivery_and_summarised(worker, producer, make_domain):
    domain = make_domain()
    secretary = add_secretary(domain)
    call_uuid = str(uuid.uuid4())
    events = call_events(domain, secretary, call_uuid, TURNS)
    # Redelivery: every event twice, the messages shuffled and some after call_ended.
    delivered = events + events[1:-1]
    random.Random(7).shuffle(delivered)
    # The edge sends batches (CONVERSATION_EVENTS); a single event (CONVERSATION_EVENT) is stored too.
    batched, alone = delivered[:-1], delivered[-1]
    for start in range(0, len(batched), 3):
        producer.send_task(CONVERSATION_EVENTS, (batched[start : start + 3],))
    producer.send_task(CONVERSATION_EVENT, (alone,))

    row = wait_for(lambda: (c := conversation(domain, call_uuid)) is not None and c.summary and c, timeout=30)
    stored = messages(domain, row.conversation_uuid)
    # Each message once, numbered as the edge numbered it, whatever order the events arrived in.
    assert stored == [(i, role, text) for i, (role, text) in enumerate(TURNS)]
    assert (row.caller_id, row.caller_name, row.outcome, row.transfer_target) == ("5511988887777", "Maria",
                                                                                  "transferred", "2002")
    assert float(row.duration_seconds) == 65.0
    assert "limpeza" in row.summary and "transferred to 2002" in row.summary
    assert row.webhook_status == "none"  # the secretary has no webhook


def stored_but_call_started(make_domain):
    """A call's events stored without its ``call_started``: (domain, secretary, call_uuid, that event, what
    storing ``call_ended`` returned)."""
    from workers.conversation_store import apply_event

    domain = make_domain()
    secretary = add_secretary(domain)
    call_uuid = str(uuid.uuid4())
    started, *rest = call_events(domain, secretary, call_uuid, TURNS)
    for event in rest:
        stored = apply_event(event)
    return domain, secretary, call_uuid, started, stored


class LooksAgain(Exception):
    """What a task's ``retry`` raised instead (the test sees that it would look again, and when)."""


def test_the_summary_waits_for_call_started_whose_secretary_and_caller_it_needs(make_domain, monkeypatch):
    """Two workers, or a redelivery, can store ``call_ended`` and every message before ``call_started``: the
    summary scheduled by ``call_ended`` must not be written without the secretary (its webhook, its LLM)
    and the caller (seen beside a second run of the suite: a summary with no caller)."""
    from workers.conversation_store import apply_event
    from workers.tasks.conversations import summarize_conversation

    def retry(countdown: float, max_retries: int) -> None:
        raise LooksAgain(countdown)

    monkeypatch.setattr(summarize_conversation, "retry", retry)
    domain, secretary, call_uuid, started, stored = stored_but_call_started(make_domain)
    assert stored["expected_messages"] == len(TURNS)

    with pytest.raises(LooksAgain):  # looks again shortly, as for a message still on its way
        summarize_conversation(str(domain), stored["conversation_uuid"], expected_messages=len(TURNS))
    assert conversation(domain, call_uuid).summary is None

    apply_event(started)
    summarize_conversation(str(domain), stored["conversation_uuid"], expected_messages=len(TURNS))
    row = conversation(domain, call_uuid)
    assert row.summary and "limpeza" in row.summary
    assert (row.caller_id, row.voice_secretary_uuid) == ("5511988887777", secretary)


def test_a_call_started_stored_after_the_summary_makes_it_again(make_domain):
    """When ``call_started`` comes only after the summary gave up waiting, it is late like a late message:
    the summary is written again (and its webhook sent again) with the caller and the secretary."""
    from workers.conversation_store import apply_event

    domain, secretary, call_uuid, started, stored = stored_but_call_started(make_domain)
    with tenant_session(domain) as session:
        session.get(Conversation, uuid.UUID(stored["conversation_uuid"])).summary = "written without the caller"
    assert apply_event(started)["late"] is True
    assert apply_event(started)["late"] is False  # a redelivery changes nothing: no second update


@pytest.mark.slow
def test_webhook_is_signed_retried_after_failures_and_recorded(worker, producer, make_domain):
    domain = make_domain()
    secret = "s3cr3t-" + uuid.uuid4().hex
    with WebhookReceiver([503, 500]) as receiver:
        secretary = add_secretary(domain, webhook_enabled=True, webhook_url=receiver.url, webhook_secret=secret)
        call_uuid = str(uuid.uuid4())
        for event in call_events(domain, secretary, call_uuid, TURNS, outcome="message",
                                 taken_message={"caller_name": "Maria", "message": "Ligar sobre a limpeza",
                                                "callback_number": "11988887777"}):
            producer.send_task(CONVERSATION_EVENT, (event,))
        row = wait_for(lambda: (c := conversation(domain, call_uuid)) and c.webhook_status == "delivered" and c,
                       timeout=30)

    assert [a["status_code"] for a in row.webhook_attempts] == [503, 500, 200]
    assert [a["attempt"] for a in row.webhook_attempts] == [1, 2, 3]
    assert row.webhook_delivered_at is not None
    assert len(receiver.received) == 3
    bodies = {r.body for r in receiver.received}
    assert len(bodies) == 1  # every retry sends the same bytes
    last = receiver.received[-1]
    expected = "sha256=" + hmac.new(secret.encode(), last.body, hashlib.sha256).hexdigest()
    assert last.headers["x-voice-ai-signature"] == expected
    assert {r.headers["idempotency-key"] for r in receiver.received} == {str(row.conversation_uuid)}
    payload = last.json()
    assert payload["event"] == "conversation.ended" and payload["outcome"] == "message"
    assert payload["caller"]["caller_id"] == "5511988887777"
    assert payload["taken_message"]["callback_number"] == "11988887777"
    assert [t["content"] for t in payload["transcript"]] == [t for _, t in TURNS]
    assert payload["summary"] == row.summary and "Ligar sobre a limpeza" in payload["summary"]


def test_a_client_error_is_not_retried(make_domain):
    domain = make_domain()
    with WebhookReceiver([400]) as receiver:
        secretary = add_secretary(domain, webhook_enabled=True, webhook_url=receiver.url, webhook_secret="k")
        conv = add_conversation(domain, voice_secretary_uuid=secretary, webhook_status="pending", outcome="resolved")
        step = attempt_delivery(domain, conv, get_settings().replace(webhook_allow_private=True))
    assert (step.status, step.retry_in) == ("failed", None)
    assert len(receiver.received) == 1
    # Running the task again (a redelivery) sends nothing more.
    assert attempt_delivery(domain, conv, get_settings().replace(webhook_allow_private=True)).status == "failed"
    assert len(receiver.received) == 1


def test_a_receiver_that_answers_a_byte_at_a_time_gets_a_timed_out_attempt_and_a_retry(make_domain):
    domain = make_domain()
    settings = get_settings().replace(webhook_allow_private=True, webhook_timeout_seconds=1.0)
    with WebhookReceiver(trickle=0.25) as receiver:  # every byte well inside the 1 s read timeout
        secretary = add_secretary(domain, webhook_enabled=True, webhook_url=receiver.url, webhook_secret="k")
        conv = add_conversation(domain, voice_secretary_uuid=secretary, webhook_status="pending", outcome="resolved")
        step = attempt_delivery(domain, conv, settings)
    assert step.status == "pending" and step.retry_in is not None
    (attempt,) = webhook_row(domain, conv).webhook_attempts
    assert attempt["status_code"] is None and attempt["error"] == "timed out after 1 s"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/hook", "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3/hook", "http://192.168.0.10/hook", "http://172.16.5.4/hook", "http://100.64.0.1/hook",
    "http://0.0.0.0/hook", "http://[::ffff:127.0.0.1]/hook", "file:///etc/passwd", "gopher://example.com/",
    "http://user:pw@example.com/hook",
])
def test_ssrf_targets_are_refused(url):
    with pytest.raises(RefusedURL):
        check_url(url, allow_private=False)


def test_a_public_name_resolving_to_a_private_address_is_refused_and_recorded(make_domain):
    with pytest.raises(RefusedURL, match="10.0.0.5"):
        check_url("https://hooks.example.com/x", False, resolver=lambda host, port: ["93.184.216.34", "10.0.0.5"])
    assert check_url("https://hooks.example.com/x", False, resolver=lambda h, p: ["8.8.8.8"]) == ["8.8.8.8"]
    assert check_url("http://127.0.0.1:8080/x", True) == ["127.0.0.1"]

    domain = make_domain()
    with WebhookReceiver() as receiver:
        secretary = add_secretary(domain, webhook_enabled=True, webhook_url=receiver.url, webhook_secret="k")
        conv = add_conversation(domain, voice_secretary_uuid=secretary, webhook_status="pending")
        step = attempt_delivery(domain, conv, get_settings().replace(webhook_allow_private=False))
    assert step.status == "refused" and receiver.received == []
    with tenant_session(domain) as session:
        row = session.get(Conversation, conv)
        assert row.webhook_status == "refused" and "WEBHOOK_ALLOW_PRIVATE" in row.webhook_attempts[0]["error"]


def test_retries_back_off_exponentially_with_jitter_and_stop_after_24_hours():
    rng = random.Random(1)
    delays = [retry_delay(n, T0, T0, 10.0, 1800.0, rng=rng) for n in range(1, 9)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(10.0 * 2 ** (n - 1), 1800.0)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 3) for d in delays}) == len(delays)
    assert retry_delay(30, T0, T0 + timedelta(hours=23, minutes=59, seconds=50), 10.0, 1800.0) <= 10.0
    assert retry_delay(30, T0, T0 + timedelta(hours=24), 10.0, 1800.0) is None


def test_a_visibility_timeout_shorter_than_the_longest_retry_wait_is_refused():
    no_file = Path("/dev/null")
    # Redis would hand a retry still waiting out its backoff to a second worker: the webhook goes twice.
    with pytest.raises(SettingsError, match="BROKER_VISIBILITY_TIMEOUT .1200 s. must be above"):
        Settings.load({"BROKER_VISIBILITY_TIMEOUT": "1200"}, no_file)
    with pytest.raises(SettingsError, match="BROKER_VISIBILITY_TIMEOUT"):
        Settings.load({"BROKER_VISIBILITY_TIMEOUT": "1800"}, no_file)
    settings = Settings.load({"BROKER_VISIBILITY_TIMEOUT": "1200", "WEBHOOK_RETRY_MAX_SECONDS": "600"}, no_file)
    waits = [retry_delay(n, T0, T0, settings.webhook_retry_base_seconds, settings.webhook_retry_max_seconds)
             for n in range(1, 20)]
    assert 300 <= max(waits) <= 600 < settings.broker_visibility_timeout


def test_summary_with_the_openai_llm_provider():
    from shared.providers import ProviderConfig
    from shared.summaries import CallFacts, Turn, summarize
    from tests.fakes.openai_http import DEFAULT_KEY, ChatReply, FakeOpenAI

    turns = [Turn(role, text) for role, text in TURNS]
    with FakeOpenAI() as fake:
        fake.script_chat(ChatReply(text="Caller wanted a cleaning appointment; transferred to scheduling."))
        provider = ProviderConfig("llm", "openai", {"api_key": DEFAULT_KEY, "base_url": fake.base_url,
                                                   "model": "gpt-4o-mini"})
        assert summarize(turns, CallFacts("transferred", "2002"), provider).startswith("Caller wanted a cleaning")
        fake.fail_next(500, count=5)
        fallback = summarize(turns, CallFacts("transferred", "2002"), provider)
    assert "limpeza" in fallback  # a vendor outage still leaves an (extractive) summary


def _call_to_summarise(domain, llm_name: str, config: dict) -> tuple[uuid.UUID, uuid.UUID]:
    """(conversation, call) of an ended call with the TURNS transcript, its secretary on this llm provider."""
    secretary = add_secretary(domain, llm_provider_uuid=add_provider(domain, "llm", llm_name, config=config))
    call_uuid = uuid.uuid4()
    conversation_uuid = add_conversation(domain, voice_secretary_uuid=secretary, call_uuid=call_uuid,
                                         outcome="transferred", transfer_target="2002")
    for sequence, (role, text) in enumerate(TURNS):
        add_message(domain, conversation_uuid, sequence, role=role, content=text)
    return conversation_uuid, call_uuid


@pytest.mark.parametrize(("config", "chat_model"), [
    ({"model": "gpt-realtime"}, "gpt-4o-mini"),  # the speech model cannot write it: a chat model by default
    ({"model": "gpt-realtime", "summary_model": "gpt-4.1-mini"}, "gpt-4.1-mini"),
])
def test_a_realtime_tenant_gets_a_chat_model_summary_through_its_key_and_base_url(make_domain, config, chat_model):
    from tests.fakes.openai_http import DEFAULT_KEY, ChatReply, FakeOpenAI
    from workers.tasks.conversations import summarize_conversation

    domain = make_domain()
    with FakeOpenAI() as fake:
        fake.script_chat(ChatReply(text="Caller wanted a cleaning appointment; transferred to scheduling."))
        conversation_uuid, call_uuid = _call_to_summarise(
            domain, "openai_realtime", {"api_key": DEFAULT_KEY, "base_url": fake.base_url, **config})
        summarize_conversation(str(domain), str(conversation_uuid))
    (request,) = fake.requests
    assert request.path == "/v1/chat/completions" and request.body["model"] == chat_model
    assert request.headers["authorization"] == f"Bearer {DEFAULT_KEY}"
    assert "limpeza" in request.body["messages"][-1]["content"]
    row = conversation(domain, str(call_uuid))
    assert row.summary == "Caller wanted a cleaning appointment; transferred to scheduling."


def test_a_summary_that_falls_back_says_why_with_the_call_and_domain(make_domain, caplog):
    from tests.fakes.openai_http import DEFAULT_KEY, ChatReply, FakeOpenAI
    from workers.tasks.conversations import summarize_conversation

    caplog.set_level(logging.INFO, logger="workers.tasks.conversations")  # whatever an earlier test set
    domain = make_domain()
    with FakeOpenAI() as fake:
        conversation_uuid, call_uuid = _call_to_summarise(
            domain, "openai", {"api_key": DEFAULT_KEY, "base_url": fake.base_url, "model": "gpt-4o-mini"})
        fake.fail_next(500, count=1)  # one request: no SDK retries
        summarize_conversation(str(domain), str(conversation_uuid))
        failed = conversation(domain, str(call_uuid)).summary
        fake.script_chat(ChatReply(text=""))  # an answer with no text
        summarize_conversation(str(domain), str(conversation_uuid))
        empty = conversation(domain, str(call_uuid)).summary
    assert "limpeza" in failed and "limpeza" in empty  # the extractive summary, both times

    lines = [r for r in caplog.records if "using the extractive summary" in r.getMessage()]
    assert [r.levelname for r in lines] == ["ERROR", "WARNING"]
    assert "InternalServerError" in lines[0].getMessage() and "came back empty" in lines[1].getMessage()
    for record in lines:
        assert f"call={call_uuid}" in record.context and f"domain={domain}" in record.context


SLOW_COMPLETION = json.dumps({
    "id": "chatcmpl-slow", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "A summary from a slow vendor."},
                 "finish_reason": "stop"}],
}).encode()


def test_an_llm_that_answers_a_byte_at_a_time_leaves_the_extractive_summary(make_domain, monkeypatch, caplog):
    from workers.tasks import conversations as conversation_tasks

    monkeypatch.setattr(conversation_tasks, "SUMMARY_LLM_SECONDS", 1.0)
    domain = make_domain()
    with WebhookReceiver(reply=SLOW_COMPLETION, trickle=0.25) as slow:  # each byte inside the read timeout
        base_url = slow.url.rsplit("/omniplay", 1)[0] + "/v1"
        conversation_uuid, call_uuid = _call_to_summarise(domain, "openai", {"api_key": "sk-test", "base_url": base_url})
        conversation_tasks.summarize_conversation(str(domain), str(conversation_uuid))
    assert [r.path for r in slow.received] == ["/v1/chat/completions"]
    assert "limpeza" in conversation(domain, str(call_uuid)).summary  # not the vendor's, which never finished
    (line,) = [r for r in caplog.records if "using the extractive summary" in r.getMessage()]
    assert "APITimeoutError" in line.getMessage() and f"call={call_uuid}" in line.context


def webhook_row(domain, conversation_uuid) -> Conversation:
    with tenant_session(domain) as session:
        row = session.get(Conversation, conversation_uuid)
        session.expunge(row)
        return row


@pytest.mark.slow
def test_a_lost_webhook_delivery_is_queued_again_but_not_one_waiting_for_its_retry(worker, make_domain, redis_url):
    import redis

    from workers.tasks.webhooks import sweep

    domain = make_domain()
    now = datetime.now(UTC)
    overdue = now - STALLED_AFTER - timedelta(minutes=1)
    with WebhookReceiver() as receiver:
        secretary = add_secretary(domain, webhook_enabled=True, webhook_url=receiver.url, webhook_secret="k")
        # The summary committed 'pending' long ago, and the worker died before it queued the delivery.
        lost = add_conversation(domain, voice_secretary_uuid=secretary, outcome="resolved",
                                webhook_status="pending", updated_at=overdue)
        # A retry was lost with its worker: it was due long ago and never ran.
        lost_retry = add_conversation(
            domain, voice_secretary_uuid=secretary, outcome="resolved", webhook_status="pending",
            updated_at=overdue - timedelta(minutes=5),
            webhook_attempts=[{"attempt": 1, "at": (overdue - timedelta(minutes=5)).isoformat(),
                               "status_code": 503, "error": "HTTP 503", "next_at": overdue.isoformat()}],
        )
        # Failed an hour ago and waits out its backoff: the retry message is held by a worker until next_at.
        waiting = add_conversation(
            domain, voice_secretary_uuid=secretary, outcome="resolved", webhook_status="pending",
            updated_at=now - timedelta(hours=1),
            webhook_attempts=[{"attempt": 7, "at": (now - timedelta(hours=1)).isoformat(), "status_code": 503,
                               "error": "HTTP 503", "next_at": (now + timedelta(minutes=20)).isoformat()}],
        )
        # Queued a moment ago: its delivery is on its way.
        fresh = add_conversation(domain, voice_secretary_uuid=secretary, outcome="resolved",
                                 webhook_status="pending")

        assert sweep() >= 2  # (other tests' lost webhooks may share the database)
        for conversation in (lost, lost_retry):
            wait_for(lambda c=conversation: webhook_row(domain, c).webhook_status == "delivered", timeout=30)
        sweep()  # a second sweep finds nothing more to send for this domain
        # What the sweeps queued, each claimed once: the lost deliveries, never the waiting or the fresh one.
        client = redis.Redis.from_url(redis_url)
        claimed = {c for c in (lost, lost_retry, waiting, fresh) if client.exists(f"voice_ai:sweep:webhook:{c}")}
        client.close()
        assert claimed == {lost, lost_retry}

    keys = sorted(r.headers["idempotency-key"] for r in receiver.received)
    assert keys == sorted([str(lost), str(lost_retry)])
    for conversation in (waiting, fresh):
        row = webhook_row(domain, conversation)
        assert row.webhook_status == "pending" and len(row.webhook_attempts) == (1 if conversation == waiting else 0)


@contextmanager
def silent_llm() -> Iterator[tuple[str, Callable[[], int]]]:
    """The base URL of an LLM vendor that accepts connections and never answers, and a function that
    counts the connections made so far."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.2)
        accepted: list[socket.socket] = []

        def connections() -> int:
            while True:
                try:
                    accepted.append(listener.accept()[0])
                except TimeoutError:
                    return len(accepted)

        try:
            yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1", connections
        finally:
            for conn in accepted:
                conn.close()


@contextmanager
def soft_time_limit_in(seconds: float) -> Iterator[None]:
    """Raise SoftTimeLimitExceeded in this thread after ``seconds``, as Celery's pool does to a task."""
    def strike(_signum, _frame):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, strike)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_silent_llm_still_leaves_the_extractive_summary_in_time():
    from shared.providers import ProviderConfig
    from shared.summaries import CallFacts, Turn, summarize

    turns = [Turn(role, text) for role, text in TURNS]
    with silent_llm() as (base_url, connections):
        provider = ProviderConfig("llm", "openai", {"api_key": "sk-test", "base_url": base_url})
        assert "limpeza" in summarize(turns, CallFacts("transferred", "2002"), provider, timeout=0.5)
        assert connections() == 1  # one request, given up at its deadline: no retries

        # The task's soft time limit strikes while the vendor keeps it waiting.
        with soft_time_limit_in(0.3):
            assert "limpeza" in summarize(turns, CallFacts("transferred", "2002"), provider)


@pytest.mark.slow
def test_an_answer_that_is_no_completion_still_gives_the_summary_and_the_webhook(worker, producer, make_domain):
    domain = make_domain()
    # The provider's base_url answers 200 with something else than a chat completion (a wrong URL, a proxy).
    with WebhookReceiver() as not_an_llm, WebhookReceiver() as receiver:
        add_provider(domain, "llm", "openai", is_default=True,
                     config={"api_key": "sk-test", "base_url": not_an_llm.url.rsplit("/omniplay", 1)[0] + "/v1"})
        secretary = add_secretary(domain, webhook_enabled=True, webhook_url=receiver.url, webhook_secret="k")
        call_uuid = str(uuid.uuid4())
        producer.send_task(CONVERSATION_EVENTS, (call_events(domain, secretary, call_uuid, TURNS),))
        row = wait_for(lambda: (c := conversation(domain, call_uuid)) and c.webhook_status == "delivered" and c,
                       timeout=30)
    assert [r.path for r in not_an_llm.received] == ["/v1/chat/completions"]  # the vendor was asked
    assert "limpeza" in row.summary  # the extractive summary
    assert receiver.received[0].json()["summary"] == row.summary
