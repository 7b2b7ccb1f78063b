"""``transfer_call`` for a call: decide where the caller goes, say so, ring it, and come back if nobody answers.

1. **Decision** — a ``voice_ai.transfers.decide`` task on the Celery ``transfers`` queue, awaited for
   ``TRANSFER_DECISION_TIMEOUT_SECONDS`` (default 0.3 s); after that the edge evaluates the same rules in-process
   (:func:`shared.transfer_rules.decide_for_request`). The task is sent by a producer without a result
   backend (no pub/sub subscription per call) and its result is read from the backend's Redis key.
2. **Checks** — the destination must be one of the tenant's own (a plain extension or number, dialled
   in the dialplan context named like the tenant's domain: :func:`destination_problem`); an extension
   with do-not-disturb on (FusionPBX's ``v_extensions``) or a directory user with no registered phone
   is unavailable at once, without ringing.
3. **Ringing** — the secretary says the rule's ``transfer_message``; the caller stays parked in the
   socket application with their audio running and hears ringback (:mod:`edge.call.ringback`) while the
   destination rings as a leg of its own (``bgapi originate {…}<dial string> &park()``). On FreeSWITCH the
   ``bridge`` application would shut the caller's unicast audio down for good, answered or not, so the
   secretary could never speak to a caller whose transfer failed.
4. **Result** — the job answers ``+OK <uuid>``: ``api uuid_bridge`` joins the legs, outcome
   ``transferred``. ``-ERR <cause>``: the ringing stops and the secretary offers the rule's fallback
   (message, voicemail, operator) at once. The caller hanging up while it rings kills the new leg.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, cast

import gevent
import redis
from celery import Celery
from sqlalchemy import select, text

from edge.call.announce import announcement_text
from edge.core.clock import WALL_CLOCK, Clock
from edge.core.context import CallContext
from edge.dialogue.phrases import phrase
from edge.engines.tool_definitions import ToolResult
from shared.logging import Tag
from shared.models import Domain, DomainSettings, TransferRule
from shared.policies import destination_problem as shared_destination_problem
from shared.settings import get_settings
from shared.tasks import DECIDE_TRANSFER, celery_config
from shared.tenancy import system_session, tenant_session
from shared.transfer_rules import OPERATOR_WORDS, TransferDecision, decision_for_request, normalise

_POLL_SECONDS = 0.01
RING_SECONDS = 25
"""How long a destination rings (``originate_timeout``) unless the domain sets its own."""
BUSY = {"USER_BUSY", "CALL_REJECTED", "NORMAL_CIRCUIT_CONGESTION"}
NO_ANSWER = {"NO_ANSWER", "NO_USER_RESPONSE", "ALLOTTED_TIMEOUT", "PROGRESS_TIMEOUT", "RECOVERY_ON_TIMER_EXPIRE"}
UNAVAILABLE = {"USER_NOT_REGISTERED", "SUBSCRIBER_ABSENT", "DO_NOT_DISTURB", "INVALID_DESTINATION"}



# --- the decision --------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def decision_app(redis_url: str) -> Celery:
    """A producer for ``voice_ai.transfers.decide`` without a result backend (results are polled)."""
    settings = get_settings().replace(redis_url=redis_url)
    app = Celery("voice_ai_transfers")
    config = celery_config(settings)
    config["result_backend"] = None
    app.conf.update(config)
    return app


@lru_cache(maxsize=4)
def _redis(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)


def warm_up_decisions(redis_url: str) -> None:
    """Do Celery's lazy set-up for the decision producer before calls arrive (see ``warm_up_celery``)."""
    app = decision_app(redis_url)
    app.finalize(auto=True)
    _ = app.amqp.producer_pool


def ask_workers(request: dict[str, Any], redis_url: str, deadline: float,
                clock: Clock = WALL_CLOCK) -> dict[str, Any] | None:
    """The transfers worker's decision, or None if it did not answer within ``deadline`` seconds of ``clock``
    (Redis commands that hang are given up after ``deadline`` real seconds too)."""
    task_id = str(uuid.uuid4())
    key = f"celery-task-meta-{task_id}"
    with gevent.Timeout(deadline, False):
        started = clock.now()
        app = decision_app(redis_url)
        app.send_task(DECIDE_TRANSFER, args=[request], task_id=task_id, retry=False, expires=10)
        client = _redis(redis_url)
        while clock.now() - started < deadline:
            raw = cast(bytes | None, client.get(key))  # a sync client: never an awaitable
            meta = json.loads(raw) if raw else {}
            status = meta.get("status")
            if status in ("SUCCESS", "FAILURE", "REVOKED"):  # not PENDING/STARTED/RETRY: done
                client.delete(key)
                result = meta.get("result")
                return result if status == "SUCCESS" and isinstance(result, dict) else None
            clock.sleep(_POLL_SECONDS)
    return None


def decide(context: CallContext, destination: str, reason: str, redis_url: str | None = None,
           deadline: float | None = None, clock: Clock = WALL_CLOCK) -> tuple[TransferDecision, str]:
    """The decision for this call's request and who made it (``worker`` or ``edge``); the workers are
    given ``deadline`` seconds (default: the ``TRANSFER_DECISION_TIMEOUT_SECONDS`` setting)."""
    request = {"domain_uuid": str(context.domain_uuid),
               "voice_secretary_uuid": str(context.secretary.voice_secretary_uuid),
               "destination": destination, "caller_text": reason}
    settings = get_settings()
    url = redis_url or settings.redis_url
    if deadline is None:
        deadline = settings.transfer_decision_timeout_seconds
    try:
        decision = ask_workers(request, url, deadline, clock)
    except Exception as exc:  # noqa: BLE001 - Redis down: decide here
        if context.log is not None:
            context.log.error("transfer decision via Celery failed (%s), deciding in-process", type(exc).__name__)
        decision = None
    if decision is not None:
        return TransferDecision.from_dict(decision), "worker"
    return decision_for_request(request), "edge"


# --- the tenant's transfer settings ---------------------------------------------------------------


@dataclass(frozen=True)
class TransferSettings:
    """What a transfer needs of its domain (``v_domains``, ``v_voice_domain_settings``)."""

    domain_name: str
    ring_seconds: int = RING_SECONDS
    ringback: str | None = None
    """``br`` or ``us``; None: by the secretary's language."""
    hold_music: str | None = None
    """A WAV file the edge plays instead of the ringback tone."""


def load_transfer_settings(domain_uuid: uuid.UUID) -> TransferSettings:
    """The domain's name (its dialplan context) and transfer settings."""
    with system_session() as session:
        domain = session.get(Domain, domain_uuid)
        name = domain.domain_name if domain is not None else ""
    with tenant_session(domain_uuid) as session:
        row = session.scalars(select(DomainSettings)).first()
    if row is None:
        return TransferSettings(name)
    ring = row.transfer_ring_seconds if row.transfer_ring_seconds and row.transfer_ring_seconds > 0 else RING_SECONDS
    return TransferSettings(name, int(ring), row.ringback_tone, row.hold_music_file)


def rule_ring_seconds(domain_uuid: uuid.UUID, transfer_rule_uuid: str | None) -> int | None:
    """The matched rule's own ring time (``v_voice_transfer_rules.ring_seconds``, migration 017);
    None: the domain's (:class:`TransferSettings`)."""
    try:
        rule = uuid.UUID(str(transfer_rule_uuid))
    except ValueError:
        return None  # no rule (the operator) or not a rule's uuid
    with tenant_session(domain_uuid) as session:
        value = session.scalar(select(TransferRule.ring_seconds).where(TransferRule.transfer_rule_uuid == rule))
    return int(value) if value and value > 0 else None


def extension_do_not_disturb(domain_uuid: uuid.UUID, extension: str) -> bool:
    """Whether FusionPBX's ``v_extensions`` has do-not-disturb on for this tenant's ``extension``
    (False where the table does not exist: a standalone install has no FusionPBX extensions)."""
    with system_session() as session:
        if session.execute(text("SELECT to_regclass('v_extensions')")).scalar() is None:
            return False
    with tenant_session(domain_uuid) as session:
        value = session.execute(text(
            "SELECT do_not_disturb FROM v_extensions WHERE domain_uuid = :domain_uuid AND extension = :extension "
            "LIMIT 1"), {"extension": extension}).scalar()
    return str(value or "").strip().lower() in ("true", "t", "1", "yes")


# --- the ringing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BridgeResult:
    """How a transfer attempt ended: ``answered``, ``no_answer``, ``busy``, ``unavailable`` (not
    registered, do-not-disturb, refused destination), ``declined`` (an announced transfer the person
    did not take), ``failed`` or ``hangup`` (the caller left);
    ``cause`` is FreeSWITCH's cause or the edge's reason."""

    status: str
    cause: str

    @property
    def answered(self) -> bool:
        """The destination picked up."""
        return self.status == "answered"


def cause_result(cause: str) -> BridgeResult:
    """The result of a failed attempt with this hangup cause."""
    cause = (cause or "UNKNOWN").strip().upper()
    if cause in BUSY:
        return BridgeResult("busy", cause)
    if cause in NO_ANSWER:
        return BridgeResult("no_answer", cause)
    if cause in UNAVAILABLE:
        return BridgeResult("unavailable", cause)
    if cause == "ORIGINATOR_CANCEL":
        return BridgeResult("hangup", cause)
    return BridgeResult("failed", cause)


def job_result(body: str) -> BridgeResult:
    """Read an ``originate`` job's output: ``+OK <uuid>`` (answered) or ``-ERR <cause>``."""
    text = (body or "").strip()
    if text.startswith("+OK"):
        return BridgeResult("answered", "SUCCESS")
    return cause_result(text.removeprefix("-ERR").strip().split(" ")[0] if text.startswith("-ERR") else "")


_DIAL_TOKEN = re.compile(r"[0-9A-Za-z_.+*#-]{1,128}")


def destination_problem(destination: str, context: str, domain_name: str) -> str | None:
    """Why a rule's destination cannot be rung, or None: it must be a plain extension or number dialled
    in the tenant's own context, the one FusionPBX names after the domain. The characters refused (no
    dial string: ``/ @ { } [ ] , | ;``, whitespace) are the shared policy the admin page applies too
    (``shared/policies/transfer_destination.json``); the edge also dials only plain dial tokens."""
    problem = shared_destination_problem(destination)
    if problem is not None:
        return f"destination {destination!r}: {problem}"
    if not _DIAL_TOKEN.fullmatch(destination):
        return f"destination {destination!r} is not a plain extension or number"
    if context != domain_name:
        return f"context {context!r} is not the tenant's own ({domain_name!r})"
    return None


def directory_user_query(destination: str, context: str) -> str | None:
    """The ``api`` command that asks whether ``destination`` is a user of the directory domain named
    like the dialplan context (FusionPBX names each domain's context after the domain), or None when
    either is not a plain dial token."""
    if not (_DIAL_TOKEN.fullmatch(destination) and _DIAL_TOKEN.fullmatch(context)):
        return None
    return f"user_exists id {destination} {context}"


def dial_string(destination: str, context: str, *, directory_user: bool = False) -> str:
    """Where the new leg goes.

    A directory user (an extension) is dialled directly (``user/<ext>@<domain>``): through the dialplan,
    FusionPBX's extension routing would send a busy or unanswered extension to its voicemail, which
    answers — and the caller would never come back to be offered the rule's fallback. Anything else
    (ring groups, queues, voicemail boxes, outside numbers) goes through the domain's dialplan
    (``loopback``).
    """
    if directory_user:
        return f"user/{destination}@{context}"
    return f"loopback/{destination}/{context}"


_CALLER_NUMBER = re.compile(r"[^0-9+*#]")
_CALLER_NAME = re.compile(r"[^0-9A-Za-zÀ-ÿ .-]")


def originate_command(leg_uuid: str, dial: str, ring_seconds: int, caller_id: str | None,
                      caller_name: str | None, *, then: str = "&park()",
                      variables: dict[str, str] | None = None) -> str:
    """``originate`` of the new leg, parked when answered so that ``uuid_bridge`` can join it (or
    ``then`` another application); it shows the caller's number and name to whoever answers
    (stripped of anything that is not one). ``variables`` must be plain tokens."""
    pairs = [f"origination_uuid={leg_uuid}", f"originate_timeout={int(ring_seconds)}", "ignore_early_media=true"]
    number = _CALLER_NUMBER.sub("", caller_id or "")[:32]
    name = _CALLER_NAME.sub("", caller_name or "").strip()[:64]
    if number:
        pairs.append(f"origination_caller_id_number={number}")
    if name:
        pairs.append(f"origination_caller_id_name='{name}'")
    for key, value in (variables or {}).items():
        if not (_DIAL_TOKEN.fullmatch(key) and _DIAL_TOKEN.fullmatch(value)):
            raise ValueError(f"not a plain channel variable: {key}={value!r}")
        pairs.append(f"{key}={value}")
    return f"originate {{{','.join(pairs)}}}{dial} {then}"


# --- the tool ------------------------------------------------------------------------------------


class TransferHost(Protocol):
    """What ``transfer_call`` needs from its call (implemented by :class:`edge.call.bridge.CallBridge`)."""

    @property
    def context(self) -> CallContext:
        """The call's context (tenant, secretary, caller)."""

    @property
    def clock(self) -> Clock:
        """What the wait for the transfers worker's decision reads."""

    def say(self, text: str) -> None:
        """Speak ``text`` to the caller and return once it has been heard."""

    def unavailable(self, destination: str, context: str) -> BridgeResult | None:
        """Why ``destination`` cannot be rung now (refused, do-not-disturb, not registered), or None."""

    def bridge(self, destination: str, context: str, announcement: str | None = None,
               ring_seconds: int | None = None) -> BridgeResult:
        """Ring ``destination`` (the caller hears ringback) for ``ring_seconds`` (None: the domain's) and
        join the caller to it once answered (with ``announcement``: once whoever answered heard it and
        took the call)."""

    def transfer_completed(self, target: str) -> None:
        """The caller was bridged: outcome ``transferred`` with ``target``; end the call."""

    def end_call(self, reason: str) -> None:
        """Say goodbye and hang up."""


def _offer(language: str, action: str, destination: str | None) -> tuple[str, str]:
    """(what the secretary offers, the instruction for the model) for a rule's fallback."""
    if action == "voicemail" and destination:
        return (phrase(language, "transfer.offer_voicemail"),
                "If the caller wants voicemail, call transfer_call with destination 'voicemail'; "
                "if they want to leave a message, collect name, message and callback number and call take_message.")
    if action == "operator" and destination:
        return (phrase(language, "transfer.offer_operator"),
                "If the caller wants the operator, call transfer_call with destination 'operator'; "
                "if they want to leave a message, collect name, message and callback number and call take_message.")
    return (phrase(language, "transfer.offer_message"),
            "If the caller agrees, collect name, message and callback number, read them back and call take_message.")


OFFERED = "offered_transfer_fallback"
"""``context.extra`` key of the :class:`OfferedFallback` last offered."""
VOICEMAIL_WORDS = frozenset({"voicemail", "voice", "mail", "caixa", "postal", "correio", "recado de voz"})


@dataclass(frozen=True)
class OfferedFallback:
    """The voicemail or operator a failed transfer offered the caller, until they answer."""

    action: str
    destination: str
    context: str | None
    department: str


def _accepted_fallback(offered: OfferedFallback | None, destination: str) -> TransferDecision | None:
    """The decision for a caller who accepts the voicemail/operator just offered, else None."""
    if offered is None:
        return None
    words = set(normalise(destination).split())
    wanted = offered.action == "voicemail" and bool(words & VOICEMAIL_WORDS)
    wanted = wanted or (offered.action == "operator" and bool(words & OPERATOR_WORDS))
    if not wanted and normalise(destination) != normalise(offered.destination):
        return None
    operator = offered.action == "operator"
    return TransferDecision(action="operator" if operator else "transfer", reason="operator" if operator else "fallback",
                            destination=offered.destination, context=offered.context, fallback_action="message")


def run_transfer(call: TransferHost, arguments: dict[str, Any], redis_url: str | None = None) -> ToolResult:
    """The whole ``transfer_call(destination, reason)``; the result's payload goes back to the model."""
    context = call.context
    language = context.secretary.language
    destination = str(arguments.get("destination") or "").strip()
    reason = str(arguments.get("reason") or "").strip()
    offered = context.extra.pop(OFFERED, None)
    accepted = _accepted_fallback(offered, destination)
    if accepted is not None:
        decision, decided_by = accepted, "offer"
    else:
        decision, decided_by = decide(context, destination, reason, redis_url, clock=call.clock)
    if context.log is not None:
        context.log.info(Tag.SESSION, "transfer decision by %s: %s (%s) -> %s", decided_by, decision.action,
                         decision.reason, decision.destination or "-")
    action = decision.action or "message"
    department = decision.department or (
        phrase(language, "transfer.operator") if action == "operator" else destination or "?")
    target = decision.destination
    rule_context = decision.context or ""
    # Bridge a matched open rule, or the operator when the operator was asked for; a closed rule's
    # fallback (even "operator") is offered first, and the caller's answer leads to the next tool call.
    if target and (action == "transfer" or (action == "operator" and decision.reason == "operator")):
        result = call.unavailable(target, rule_context)
        if result is None:
            call.say(decision.message or phrase(language, "transfer.transferring", department=department))
            announcement = announcement_text(language, context.caller_name, context.caller_id, reason) \
                if decision.announce else None
            try:
                ring = rule_ring_seconds(context.domain_uuid, decision.transfer_rule_uuid)
            except Exception as exc:  # noqa: BLE001 - the rule's ring time unreadable: the domain's
                if context.log is not None:
                    context.log.error("rule ring time unknown (%s): the domain's", type(exc).__name__)
                ring = None
            result = call.bridge(target, rule_context, announcement, ring_seconds=ring)
        if result.answered:
            call.transfer_completed(target)
            return ToolResult({"ok": True, "transferred": True, "ended": True, "destination": target,
                               "department": department}, ended=True, transferred=True)
        if result.status == "hangup":
            return ToolResult({"ok": False, "transferred": False, "ended": True, "status": "caller_left"}, ended=True)
        said = phrase(language, "transfer." + (result.status if result.status in ("busy", "no_answer", "unavailable",
                                                                        "declined") else "failed"),
                      department=department)
        fallback = decision.fallback_action or "message"
        fallback_target = decision.fallback_destination
        status, cause = result.status, result.cause
    else:
        status = "closed" if decision.reason == "closed" else "not_transferred"
        said = (phrase(language, "transfer.closed", department=department) if status == "closed"
                else phrase(language, "transfer.no_match") if decision.reason == "no_match" else "")
        fallback, fallback_target, cause = action, target, None
    if fallback == "hangup":
        call.say(f"{said} {phrase(language, 'transfer.sorry_goodbye')}".strip())
        call.end_call("transfer not possible")
        return ToolResult({"ok": False, "transferred": False, "ended": True, "status": status, "cause": cause},
                          ended=True)
    offer, instruction = _offer(language, fallback, fallback_target)
    if fallback in ("voicemail", "operator") and fallback_target:
        context.extra[OFFERED] = OfferedFallback(fallback, fallback_target, decision.context, department)
    spoken = f"{said} {offer}".strip()
    call.say(spoken)
    return ToolResult({"ok": False, "transferred": False, "status": status, "cause": cause, "department": department,
                       "fallback": fallback, "spoken": spoken,
                       "message": f"The caller was NOT transferred ({status}) and has just been told: \"{spoken}\". "
                                  f"Do not repeat it; wait for their answer. {instruction}"}, spoken=bool(spoken))
