"""One webhook delivery attempt for one conversation, recorded on the conversation row.

The request goes to the address that passed :mod:`address_policy` (the host is resolved once and the
connection pinned to that address, with the original ``Host`` header and TLS server name), so a DNS
answer that changes between the check and the request cannot reach the local network. Redirects are
not followed. The attempt ends within ``WEBHOOK_TIMEOUT_SECONDS`` (:mod:`workers.http_deadline`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import func, select

from shared.address_policy import RefusedURL, Resolver, check_url, resolve_host
from shared.logging import Tag, call_logger
from shared.models import Conversation, Message, Secretary
from shared.settings import Settings
from shared.tenancy import tenant_session
from workers.http_deadline import deadline_client
from workers.webhook.payload import (
    EVENT,
    IDEMPOTENCY_HEADER,
    REVISION_HEADER,
    SIGNATURE_HEADER,
    build_payload,
    encode_body,
    sign,
)
from workers.webhook.retry_policy import is_retryable, retry_delay

FINAL_STATES = frozenset({"delivered", "failed", "refused"})
USER_AGENT = "voice-ai-ivr-webhook/1"


@dataclass(frozen=True)
class DeliveryStep:
    """Where a delivery stands after an attempt: final ``status``, or ``retry_in`` seconds."""

    status: str
    retry_in: float | None = None
    attempts: int = 0


@dataclass(frozen=True)
class _Request:
    url: str
    secret: str | None
    body: bytes
    attempt: int
    first_at: datetime | None
    revision: int
    content: tuple[int, str | None]
    """What the body holds (message count, summary), to notice a conversation that changed meanwhile."""


def _revision(attempts: list[dict[str, Any]]) -> tuple[int, datetime | None]:
    """The revision the next attempt sends and when that revision was first attempted.

    A conversation is sent again, as an update, when messages arrive after its webhook ended (delivered,
    or failed for good): an attempt marked ``final`` ends its revision, and the next attempt starts the
    next one, with a new retry window.
    """
    if not attempts:
        return 0, None
    last = attempts[-1]
    revision = int(last.get("revision", 0))
    if last.get("final"):
        return revision + 1, None
    first = next(entry for entry in attempts if int(entry.get("revision", 0)) == revision)
    return revision, datetime.fromisoformat(first["at"])


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``url`` with its host replaced by ``address``, the ``Host`` header, and the TLS server name."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), {"Host": parts.netloc}, extensions


def _load(domain_uuid: uuid.UUID | str, conversation_uuid: uuid.UUID) -> _Request | DeliveryStep:
    with tenant_session(domain_uuid) as session:
        conversation = session.get(Conversation, conversation_uuid)
        if conversation is None:
            return DeliveryStep("missing")
        if conversation.webhook_status in FINAL_STATES:
            return DeliveryStep(conversation.webhook_status, attempts=len(conversation.webhook_attempts))
        secretary = (
            session.get(Secretary, conversation.voice_secretary_uuid) if conversation.voice_secretary_uuid else None
        )
        if secretary is None or not secretary.webhook_enabled or not secretary.webhook_url:
            conversation.webhook_status = "none"
            return DeliveryStep("none")
        messages = session.scalars(
            select(Message).where(Message.conversation_uuid == conversation_uuid).order_by(Message.sequence)
        ).all()
        attempts = list(conversation.webhook_attempts or [])
        revision, first = _revision(attempts)
        body = encode_body(build_payload(conversation, secretary, messages, revision))
        return _Request(secretary.webhook_url, secretary.webhook_secret, body, len(attempts) + 1, first, revision,
                        (len(messages), conversation.summary))


def _content(session: Any, conversation: Conversation) -> tuple[int, str | None]:
    count = session.scalar(select(func.count()).select_from(Message)
                           .where(Message.conversation_uuid == conversation.conversation_uuid))
    return int(count or 0), conversation.summary


def _record(
    domain_uuid: uuid.UUID | str, conversation_uuid: uuid.UUID, entry: dict[str, Any], status: str,
    sent: tuple[int, str | None] | None = None,
) -> tuple[int, str]:
    """Append the attempt and set the status; returns the attempt count and the status.

    A delivered body that the conversation has outgrown meanwhile (late messages, their new summary)
    leaves the webhook ``pending``: the next attempt sends the update.
    """
    with tenant_session(domain_uuid) as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.conversation_uuid == conversation_uuid).with_for_update()
        ).one()
        if status in ("delivered", "failed", "refused"):
            entry["final"] = True
        if status == "delivered" and sent is not None and _content(session, conversation) != sent:
            status = "pending"
        conversation.webhook_attempts = [*(conversation.webhook_attempts or []), entry]
        conversation.webhook_status = status
        if entry.get("status_code") is not None and 200 <= entry["status_code"] < 300:
            conversation.webhook_delivered_at = datetime.now(UTC)
        return len(conversation.webhook_attempts), status


def attempt_delivery(
    domain_uuid: uuid.UUID | str,
    conversation_uuid: uuid.UUID | str,
    settings: Settings,
    resolver: Resolver = resolve_host,
) -> DeliveryStep:
    """POST the conversation's payload once; record the attempt; say whether and when to retry."""
    conv_id = uuid.UUID(str(conversation_uuid))
    log = call_logger(__name__, domain_uuid=str(domain_uuid)).bind(conversation=str(conv_id))
    loaded = _load(domain_uuid, conv_id)
    if isinstance(loaded, DeliveryStep):
        return loaded
    now = datetime.now(UTC)
    entry: dict[str, Any] = {"attempt": loaded.attempt, "at": now.isoformat(), "status_code": None, "error": None,
                             "revision": loaded.revision}

    if not loaded.secret:
        entry["error"] = "the secretary has no webhook secret, so the request cannot be signed; set one"
        log.error(f"webhook not sent: {entry['error']}")
        return DeliveryStep("failed", attempts=_record(domain_uuid, conv_id, entry, "failed")[0])
    try:
        addresses = check_url(loaded.url, settings.webhook_allow_private, resolver)
    except RefusedURL as exc:
        entry["error"] = f"refused: {exc}"
        log.error(f"webhook refused: {exc}")
        return DeliveryStep("refused", attempts=_record(domain_uuid, conv_id, entry, "refused")[0])
    except OSError as exc:
        addresses = []
        entry["error"] = str(exc)

    if addresses:
        url, headers, extensions = _pinned(loaded.url, addresses[0])
        headers.update({
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(loaded.body, loaded.secret),
            IDEMPOTENCY_HEADER: str(conv_id),
            REVISION_HEADER: str(loaded.revision),
            "X-Voice-AI-Event": EVENT,
            "X-Voice-AI-Delivery-Attempt": str(loaded.attempt),
        })
        started = time.monotonic()
        try:
            # The whole attempt, not only each phase of it, ends within the timeout (a receiver that answers
            # a byte at a time would otherwise hold the worker's thread), and the status is all it needs:
            # the body is never read.
            with (
                deadline_client(settings.webhook_timeout_seconds, follow_redirects=False) as client,
                client.stream("POST", url, content=loaded.body, headers=headers, extensions=extensions) as response,
            ):
                entry["status_code"] = response.status_code
            if not response.is_success:
                entry["error"] = f"HTTP {response.status_code}"
                if response.is_redirect:
                    entry["error"] += " (redirects are not followed: configure the final URL)"
        except httpx.TimeoutException:
            entry["error"] = f"timed out after {settings.webhook_timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        entry["duration_ms"] = int((time.monotonic() - started) * 1000)

    code = entry["status_code"]
    if code is not None and 200 <= code < 300:
        count, status = _record(domain_uuid, conv_id, entry, "delivered", loaded.content)
        if status == "pending":
            log.info(Tag.EVENT_BUS, f"webhook delivered (attempt {loaded.attempt}, HTTP {code}); the "
                     "conversation changed meanwhile: sending the update")
            return DeliveryStep("pending", 0.0, count)
        log.info(Tag.EVENT_BUS, f"webhook delivered (attempt {loaded.attempt}, revision {loaded.revision}, HTTP {code})")
        return DeliveryStep("delivered", attempts=count)
    delay = None
    if is_retryable(code):
        delay = retry_delay(loaded.attempt, loaded.first_at or now, now, settings.webhook_retry_base_seconds,
                            settings.webhook_retry_max_seconds)
    status = "pending" if delay is not None else "failed"
    if delay is not None:
        # When the retry is due: until then the webhook sweep leaves this conversation alone.
        entry["next_at"] = (datetime.now(UTC) + timedelta(seconds=delay)).isoformat()
    count, _ = _record(domain_uuid, conv_id, entry, status)
    if delay is None:
        log.error(f"webhook failed for good after {count} attempt(s): {entry['error']}")
    else:
        log.warning(Tag.EVENT_BUS, f"webhook attempt {loaded.attempt} failed ({entry['error']}); retry in {delay:.1f} s")
    return DeliveryStep(status, delay, count)
