"""What a call needs before it can start: its secretary, providers and the domain's fallback — read
tenant-bound in one transaction, and kept in memory (:mod:`edge.call.setup_cache`): a call whose
secretary's set-up has not changed since it was last read starts without touching the database.

A caller must never be left ringing: the read has a deadline (``CALL_SETUP_TIMEOUT_SECONDS``), and the
edge keeps each secretary's last good set-up. When the database is down, refuses, resets or does not
answer in time, the call is served from that copy (the log says so); with no copy, it goes to the
domain's fallback destination when one was seen, else the caller hears a goodbye prompt.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import gevent
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from edge.call.setup_cache import SetupCache, SetupListener, first_line
from edge.core.context import SecretaryProfile
from shared.logging import CallLogger, Tag, call_logger
from shared.models import Document, DocumentChunk, Domain, DomainSettings, Secretary, TransferRule
from shared.providers import ProviderConfig, engine_for, resolve_all
from shared.settings import Settings, get_settings
from shared.tenancy import tenant_session
from shared.vectors import SEARCHABLE_STATUSES


class CallRejected(Exception):
    """The call cannot be served (unknown/disabled secretary, bad variables, no database); ``reason``
    says why. ``fallback`` is where to send the caller; without one, ``goodbye`` asks for a spoken
    goodbye before the hangup (the caller must learn that nobody will answer)."""

    def __init__(self, reason: str, fallback: FallbackRoute | None = None, goodbye: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fallback = fallback
        self.goodbye = goodbye


@dataclass(frozen=True)
class FallbackRoute:
    """Where a caller goes when the secretary cannot serve: ``destination`` in dialplan ``context``."""

    destination: str
    context: str


@dataclass(frozen=True)
class CallSetup:
    """Everything loaded for a call."""

    domain_uuid: uuid.UUID
    secretary: SecretaryProfile
    providers: dict[str, ProviderConfig]
    engine: str
    fallback: FallbackRoute | None
    operator_destination: str | None
    transfer_context: str | None = None
    """Dialplan context for transfers: the domain's ``transfer_context``, else the domain name."""
    transfer_targets: tuple[dict[str, object], ...] = ()
    """The enabled rules' ``department_name`` and ``keywords`` (the offline dialogue recognizes them)."""
    vocabulary: tuple[str, ...] = ()
    """Text of the secretary's knowledge, when speech is recognized offline: its words go into the
    recognizer's language model, so a caller asking about "Saturday" is not heard as "want acme"."""
    searchable: bool = False
    """The secretary answers from documents and has some (its own or domain-wide, in a searchable state):
    only then does a call load the offline embedding model while its greeting plays."""


VOCABULARY_CHARS = 20_000
"""At most this much knowledge text goes into an offline recognizer's language model."""


def _as_uuid(value: str | None, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise CallRejected(f"channel variable {what} is missing or not a UUID ({value!r})") from None


def profile_of(row: Secretary) -> SecretaryProfile:
    """A plain snapshot of a secretary row."""
    return SecretaryProfile(
        voice_secretary_uuid=row.voice_secretary_uuid, name=row.name,
        system_prompt=row.system_prompt or "", greeting_message=row.greeting_message or "",
        goodbye_message=row.goodbye_message or "", language=row.language or "pt-BR",
        voice_name=row.voice_name, rag_enabled=bool(row.rag_enabled),
        rag_similarity_threshold=float(row.rag_similarity_threshold or 0.5), rag_top_k=row.rag_top_k,
        max_conversation_turns=row.max_conversation_turns or 10,
        silence_timeout_seconds=row.silence_timeout_seconds, silence_hangup_seconds=row.silence_hangup_seconds,
        max_call_seconds=row.max_call_seconds,
    )


CACHE: SetupCache[CallSetup] = SetupCache(CallSetup, gone=CallRejected)
"""Every secretary's set-up as last read, current while the set-up listener runs (:mod:`edge.call.setup_cache`);
the last one read serves calls while the database is down."""
_domain_fallbacks: dict[uuid.UUID, FallbackRoute] = {}
"""Each domain's fallback destination as last read, for a secretary never read before an outage."""


def start_setup_cache(settings: Settings, health: dict[str, Callable[[], object]]) -> SetupListener:
    """Serve set-ups from memory from now on: listen for their changes (``settings.database_url``), keep
    copies for ``CALL_SETUP_CACHE_SECONDS`` at most, and report on ``/healthz`` (``health``)."""
    CACHE.ttl = settings.call_setup_cache_seconds
    listener = SetupListener(CACHE, settings.database_url)
    listener.start()
    health.update(CACHE.health())
    return listener


WARM_UP_DOMAIN = uuid.UUID(int=0)
"""A domain no tenant has: the warm-up's read finds nothing (and so reads no tenant's rows)."""
WARM_UP_READ_SECONDS = 10.0
"""How long the start waits for the warm-up's read. Longer than a call's set-up timeout: on a busy host the
cold read took more than 1.5 s, and cut short it leaves the first call to do it all again; a database that
does not answer at all delays the ESL port by this much (one refusing connections, not at all)."""


def warm_up_reads(log: CallLogger, timeout: float = WARM_UP_READ_SECONDS) -> None:
    """Do before the first call what its set-up read would otherwise do on the hub: open the pool's first
    connection (SQLAlchemy's first-connect queries), configure the ORM's mappers and compile the read's
    first query. Cold, that read held the hub 162 ms of CPU on this host (warm: 3-4 ms), and on a busy host
    the first calls after a restart waited past ``CALL_SETUP_TIMEOUT_SECONDS`` and were told goodbye (seen
    in a test run: "database unavailable (no answer within 1.5 s)"). A database not answering within
    ``timeout`` is logged, and the first call reads it as before."""
    try:
        with gevent.Timeout(timeout, TimeoutError(f"no answer within {timeout:g} s")):
            read_call_setup(WARM_UP_DOMAIN, str(WARM_UP_DOMAIN))
    except CallRejected:  # the domain does not exist: read as a call's would be
        log.info(Tag.SESSION, "set-up reads warmed up")
    except Exception as exc:  # noqa: BLE001 - warming is an optimisation; the calls report the real error
        log.error("set-up read warm-up failed (%s: %s): the first call reads the database cold",
                  type(exc).__name__, first_line(exc))


def load_call_setup(domain_value: str | None, secretary_value: str | None, log: CallLogger | None = None,
                    timeout: float | None = None) -> CallSetup:
    """The call's set-up: the current copy in memory, else read from the database within ``timeout``
    (default ``CALL_SETUP_TIMEOUT_SECONDS``), else the secretary's last good one; raise
    :class:`CallRejected` when it cannot be served."""
    domain_uuid = _as_uuid(domain_value, "domain_uuid")
    key = (domain_uuid, str(secretary_value).strip().lower())

    def reader() -> CallSetup | Exception:
        return _read_or_error(domain_uuid, secretary_value)

    current = CACHE.current(key, reader)
    if current is not None:
        return current
    log = log or call_logger(__name__, domain_uuid=domain_uuid)
    seconds = timeout or get_settings().call_setup_timeout_seconds
    # In a greenlet of its own, shared by the calls for this secretary that arrive within the deadline (a
    # burst reads it once): the caller's wait ends at the deadline even if the read (or unwinding it on a
    # connection that no longer answers) takes longer; it finishes in the background, a set-up it reads
    # late is kept, and the calls arriving after the deadline start a read of their own.
    reading = CACHE.read(key, reader, within=seconds)
    reading.join(seconds)
    if not reading.ready():
        return _without_database(key, log, f"no answer within {seconds:g} s")
    setup = reading.value
    if isinstance(setup, CallRejected):
        if setup.fallback is not None:
            _domain_fallbacks[domain_uuid] = setup.fallback
        raise setup
    if isinstance(setup, SQLAlchemyError | OSError):
        problem = first_line(setup)
        return _without_database(key, log, f"{type(setup).__name__}: {problem}")
    if isinstance(setup, BaseException):
        raise setup  # a bug, not an outage: the call fails as before
    if setup.fallback is not None:
        _domain_fallbacks[domain_uuid] = setup.fallback
    else:
        _domain_fallbacks.pop(domain_uuid, None)
    return setup


def _without_database(key: tuple[uuid.UUID, str], log: CallLogger, problem: str) -> CallSetup:
    """The set-up when the database cannot give it: the last good copy, else a rejection that routes."""
    kept = CACHE.last(key)
    if kept is not None:
        log.warning(Tag.SESSION, "database unavailable (%s): serving the call from the set-up read %.0f s ago",
                    problem, time.monotonic() - kept.read_at)
        return kept.value
    fallback = _domain_fallbacks.get(key[0])
    raise CallRejected(f"database unavailable ({problem}) and no set-up of this secretary in memory; "
                       + ("routing to the domain's fallback destination" if fallback else "saying goodbye"),
                       fallback, goodbye=fallback is None)


def _read_or_error(domain_uuid: uuid.UUID, secretary_value: str | None) -> CallSetup | Exception:
    """:func:`read_call_setup`, its error returned rather than raised (a greenlet dying of it would be
    reported by the hub as an uncaught traceback)."""
    try:
        return read_call_setup(domain_uuid, secretary_value)
    except Exception as exc:  # noqa: BLE001 - sorted out by the caller
        return exc


def read_call_setup(domain_uuid: uuid.UUID, secretary_value: str | None) -> CallSetup:
    """Read the call's secretary (of this domain only) and providers in one transaction of three
    queries; raise :class:`CallRejected`."""
    invalid: CallRejected | None = None
    secretary_uuid: uuid.UUID | None = None
    try:
        secretary_uuid = _as_uuid(secretary_value, "voice_secretary_uuid")
    except CallRejected as exc:
        invalid = exc
    with tenant_session(domain_uuid) as session:
        # The domain, its settings and the secretary in one query. The tenant session filters by domain:
        # another tenant's secretary is simply not found.
        found = session.execute(
            select(Domain.domain_name, DomainSettings, Secretary).select_from(Domain)
            .outerjoin(DomainSettings, DomainSettings.domain_uuid == Domain.domain_uuid)
            .outerjoin(Secretary, and_(Secretary.domain_uuid == Domain.domain_uuid,
                                       Secretary.voice_secretary_uuid == secretary_uuid))
            .where(Domain.domain_uuid == domain_uuid)
        ).first()
        if found is None:
            raise CallRejected(f"domain {domain_uuid} does not exist")
        domain_name, settings, row = found
        fallback = None
        if settings is not None and settings.fallback_destination:
            fallback = FallbackRoute(settings.fallback_destination, settings.transfer_context or domain_name)
        operator = settings.operator_destination if settings is not None else None
        if invalid is not None or secretary_uuid is None:
            raise CallRejected(invalid.reason if invalid else "no voice_secretary_uuid", fallback)
        if row is None:
            raise CallRejected(f"secretary {secretary_uuid} not found in this domain", fallback)
        if not row.enabled:
            raise CallRejected(f"secretary {secretary_uuid} is disabled", fallback)
        providers = resolve_all(session, row)
        profile = profile_of(row)
        scope = or_(TransferRule.voice_secretary_uuid.is_(None), TransferRule.voice_secretary_uuid == secretary_uuid)
        targets: tuple[dict[str, object], ...] = tuple(
            {"department_name": r.department_name, "keywords": list(r.keywords or [])}
            for r in session.scalars(select(TransferRule).where(TransferRule.enabled.is_(True), scope)
                                     .order_by(TransferRule.priority)))
        context = (settings.transfer_context if settings is not None else None) or domain_name
        engine = engine_for(providers)
        stt = providers.get("stt")
        offline_stt = engine == "offline" or (engine == "pipeline" and stt is not None and stt.provider_name == "offline")
        vocabulary = knowledge_vocabulary(session, secretary_uuid) if offline_stt else ()
        searchable = profile.rag_enabled and has_documents(session, secretary_uuid)
    return CallSetup(domain_uuid, profile, providers, engine, fallback, operator, context, targets, vocabulary,
                     searchable)


def _in_scope(secretary_uuid: uuid.UUID) -> ColumnElement[bool]:
    """Searchable documents of the secretary or of no secretary (domain-wide)."""
    return and_(Document.status.in_(SEARCHABLE_STATUSES),
                or_(Document.voice_secretary_uuid == secretary_uuid, Document.voice_secretary_uuid.is_(None)))


def has_documents(session: Session, secretary_uuid: uuid.UUID) -> bool:
    """Whether a search for this secretary has any document to look in (a tenant session)."""
    found = session.execute(select(Document.document_uuid).where(_in_scope(secretary_uuid)).limit(1))
    return found.first() is not None


def knowledge_vocabulary(session: Session, secretary_uuid: uuid.UUID) -> tuple[str, ...]:
    """The text of the secretary's searchable documents (its own, then domain-wide), up to
    :data:`VOCABULARY_CHARS`, in a tenant session."""
    rows = session.execute(
        select(DocumentChunk.content)
        .join(Document, Document.document_uuid == DocumentChunk.document_uuid)
        .where(_in_scope(secretary_uuid))
        .order_by(Document.voice_secretary_uuid.is_(None), DocumentChunk.chunk_index)
        .limit(200)
    ).scalars()
    texts, size = [], 0
    for text in rows:
        if size + len(text) > VOCABULARY_CHARS:
            break
        texts.append(text)
        size += len(text)
    return tuple(texts)
