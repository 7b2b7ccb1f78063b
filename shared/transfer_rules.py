"""Transfer-rule evaluation: where a caller who asks for someone is sent, and what happens after hours.

:func:`decide_transfer` is a pure function of the rules, the request and the time; the
``voice_ai.transfers.decide`` task and the edge (when the workers do not answer within its deadline)
both call it through :func:`decide_for_request`, which loads the rules with ``tenant_session``.

How a rule is chosen:

1. Only enabled rules of the secretary, and domain-wide ones (no secretary), are candidates.
2. A rule matches when the requested destination names its department or its extension, or when one of
   its keywords (or its department name) appears in the destination text or the caller's words.
   Matching ignores case and accents and works on whole words.
3. Among matching rules the lowest ``priority`` wins (ties: the secretary's own rule before a
   domain-wide one, then the department name). The winner must be open at that moment in its
   business-hours timezone; when it is closed, the next matching rule that is open is taken.
4. When every matching rule is closed, the best one's ``fallback_action`` applies (``message``,
   ``voicemail``, ``operator``, ``hangup``). When nothing matches, the caller is offered to leave a
   message, or sent to the domain's operator if they asked for the operator.

``business_hours`` (migration 005): ``{"timezone": "America/Sao_Paulo", "weekdays": {"mon": [["08:00",
"18:00"]], ..., "sun": []}}``. NULL or ``{}`` means always open; a day missing from ``weekdays`` is
closed; ``"24:00"`` may only end an interval; an interval whose end is before its start runs past
midnight; a missing or empty timezone is UTC. The rules are the FusionPBX page's too: both are run
against ``shared/policies/business_hours_cases.json``. A value that does not have this shape
(``"09:00:00"``, ``"9h"``, ``["09:00-18:00"]``, a day named ``"monday"``, an unknown timezone, an
interval that starts where it ends) makes the rule closed, so its fallback applies, and is logged once
as an ❌ ERROR: a bad rule never breaks the decision of the rules around it.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, or_, select

from shared.logging import call_logger
from shared.models import DomainSettings, TransferRule
from shared.tenancy import tenant_session

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPERATOR_WORDS = frozenset({"operator", "operador", "operadora", "atendente", "telefonista", "recepcao",
                            "recepcionista", "0"})


@dataclass(frozen=True)
class Rule:
    """A transfer rule as the decision needs it (built from a ``TransferRule`` row or by hand)."""

    department_name: str
    transfer_extension: str
    keywords: tuple[str, ...] = ()
    priority: int = 100
    transfer_context: str | None = None
    transfer_message: str | None = None
    business_hours: Any = None  # as stored (see the module doc); a malformed value closes the rule
    fallback_action: str = "message"
    fallback_destination: str | None = None
    enabled: bool = True
    voice_secretary_uuid: uuid.UUID | None = None
    transfer_rule_uuid: uuid.UUID | None = None
    announce: bool = False
    """Announced (warm) transfer: whoever answers hears who is calling first and accepts or declines."""

    @classmethod
    def from_row(cls, row: TransferRule) -> Rule:
        """Copy a database row into a plain value."""
        return cls(
            department_name=row.department_name,
            transfer_extension=row.transfer_extension,
            keywords=tuple(row.keywords or ()),
            priority=row.priority,
            transfer_context=row.transfer_context,
            transfer_message=row.transfer_message,
            business_hours=row.business_hours or None,
            fallback_action=row.fallback_action,
            fallback_destination=row.fallback_destination,
            enabled=row.enabled,
            voice_secretary_uuid=row.voice_secretary_uuid,
            transfer_rule_uuid=row.transfer_rule_uuid,
            announce=bool(row.announce),
        )


@dataclass(frozen=True)
class DomainDefaults:
    """The domain's settings that a decision falls back on (``v_voice_domain_settings``)."""

    operator_destination: str | None = None
    fallback_destination: str | None = None
    transfer_context: str | None = None


@dataclass(frozen=True)
class TransferRequest:
    """What the conversation asked for: a destination or department, and what the caller said."""

    destination: str = ""
    caller_text: str = ""
    voice_secretary_uuid: uuid.UUID | None = None


@dataclass(frozen=True)
class TransferDecision:
    """The outcome: bridge to ``destination`` (``transfer``) or apply ``fallback_action``.

    ``action`` is ``transfer`` or one of ``message``, ``voicemail``, ``operator``, ``hangup``.
    ``destination`` is set for ``transfer``, ``operator`` and ``voicemail`` (when known); ``reason`` is
    ``matched``, ``closed`` (outside business hours), ``no_match`` or ``operator``. For a ``transfer``,
    ``fallback_action``/``fallback_destination`` say what the caller is offered if nobody answers.
    """

    action: str
    reason: str
    destination: str | None = None
    context: str | None = None
    message: str | None = None
    department: str | None = None
    transfer_rule_uuid: str | None = None
    matched_keywords: list[str] = field(default_factory=list)
    fallback_action: str | None = None
    fallback_destination: str | None = None
    announce: bool = False

    @property
    def transfers(self) -> bool:
        """True when the caller is to be bridged (to a rule's extension or the operator)."""
        return self.action in {"transfer", "operator"} and bool(self.destination)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the task's return value)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransferDecision:
        """The decision a worker returned (:meth:`as_dict`); unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation turned into spaces: ``"Suporte Técnico!"`` → ``"suporte tecnico"``."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in stripped).split())


def _contains_phrase(haystack: str, phrase: str) -> bool:
    """Whole-word containment of a normalised ``phrase`` in a normalised ``haystack``."""
    return bool(phrase) and f" {phrase} " in f" {haystack} "


class MalformedHours(ValueError):
    """A ``business_hours`` value without the documented shape; the message says what is wrong."""


_CLOCK = re.compile(r"(\d{2}):(\d{2})")
Interval = tuple[time, time | None]
"""Start and end of an opening interval; an end of None is midnight at the end of the day."""


def _parse_clock(text: object) -> time | None:
    """``"HH:MM"`` as a time, ``"24:00"`` as None (end of day); anything else is :class:`MalformedHours`."""
    match = _CLOCK.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise MalformedHours(f"{text!r} is not a HH:MM time")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if (hours, minutes) == (24, 0):
        return None
    if hours > 23 or minutes > 59:
        raise MalformedHours(f"{text!r} is not a time of day")
    return time(hours, minutes)


def _zone(business_hours: Mapping[str, Any]) -> ZoneInfo:
    name = business_hours.get("timezone") or "UTC"
    if not isinstance(name, str):
        raise MalformedHours(f"timezone {name!r} is not a zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise MalformedHours(f"unknown timezone {name!r}") from exc


def _parse_week(business_hours: object) -> tuple[ZoneInfo, dict[str, list[Interval]]] | None:
    """The timezone and opening intervals per day, None for "always open", or :class:`MalformedHours`."""
    if not business_hours:
        return None
    if not isinstance(business_hours, Mapping):
        raise MalformedHours("not an object with timezone and weekdays")
    weekdays = business_hours.get("weekdays")
    if not weekdays:
        return None
    if not isinstance(weekdays, Mapping):
        raise MalformedHours("weekdays is not an object of days")
    week: dict[str, list[Interval]] = {}
    for day, intervals in weekdays.items():
        if day not in WEEKDAYS:
            raise MalformedHours(f"{day!r} is not one of {', '.join(WEEKDAYS)}")
        intervals = [] if intervals is None else intervals  # a day with null is a day with no hours
        if not isinstance(intervals, list | tuple):
            raise MalformedHours(f"{day}: {intervals!r} is not a list of [start, end] pairs")
        week[day] = []
        for interval in intervals:
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                raise MalformedHours(f"{day}: {interval!r} is not a [start, end] pair")
            start, end = _parse_clock(interval[0]), _parse_clock(interval[1])
            if start is None or start == end:
                raise MalformedHours(f"{day}: {interval!r} is not an interval (24:00 only ends one)")
            week[day].append((start, end))
    return _zone(business_hours), week


def check_business_hours(business_hours: object) -> None:
    """Raise :class:`MalformedHours` when ``business_hours`` does not have the documented shape."""
    _parse_week(business_hours)


_reported: set[str] = set()
"""Bad ``business_hours`` already logged by this process (a rule is evaluated on every call)."""


def _report_once(rule_label: str, business_hours: object, problem: MalformedHours) -> None:
    key = f"{rule_label}:{json.dumps(business_hours, sort_keys=True, default=str)}"
    if key in _reported:
        return
    if len(_reported) >= 10_000:
        _reported.clear()  # bounded; a rule may then be reported once more
    _reported.add(key)
    call_logger(__name__).error(
        f"{rule_label} has malformed business_hours ({problem}): {json.dumps(business_hours, default=str)}; "
        "it is treated as closed, so its fallback applies. Fix its business hours on the admin page."
    )


def is_open(business_hours: object, at: datetime, rule_label: str = "a transfer rule") -> bool:
    """Whether a rule with ``business_hours`` takes calls at ``at`` (an aware datetime).

    Malformed hours never raise: the rule is closed, and ``rule_label`` names it in the ❌ ERROR line.
    """
    try:
        parsed = _parse_week(business_hours)
    except MalformedHours as problem:
        _report_once(rule_label, business_hours, problem)
        return False
    if parsed is None:
        return True
    zone, week = parsed
    local = at.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    for start, end in week.get(WEEKDAYS[local.weekday()], ()):
        if end is None or end > start:
            if start <= now and (end is None or now < end):
                return True
        elif now >= start:  # overnight interval, evening part
            return True
    for start, end in week.get(WEEKDAYS[(local.weekday() - 1) % 7], ()):
        if end is not None and end <= start and now < end:  # overnight interval, morning part
            return True
    return False


def _label(rule: Rule) -> str:
    return f"transfer rule {rule.department_name!r} ({rule.transfer_rule_uuid or 'unsaved'})"


def _match(rule: Rule, destination: str, words: str) -> list[str]:
    """The terms of ``rule`` that the request mentions (empty: no match)."""
    hits: list[str] = []
    department = normalise(rule.department_name)
    if destination and (destination == department or destination == normalise(rule.transfer_extension)):
        hits.append(rule.department_name)
    for term in (rule.department_name, *rule.keywords):
        phrase = normalise(term)
        if phrase and (_contains_phrase(destination, phrase) or _contains_phrase(words, phrase)):
            if term not in hits:
                hits.append(term)
    return hits


def _fallback_target(rule: Rule, defaults: DomainDefaults) -> str | None:
    """Where the rule's fallback sends the caller (operator or voicemail), when it sends them anywhere."""
    if rule.fallback_action == "operator":
        return rule.fallback_destination or defaults.operator_destination
    if rule.fallback_action == "voicemail":
        return rule.fallback_destination
    return None


def decide_transfer(
    rules: Iterable[Rule],
    request: TransferRequest,
    at: datetime,
    defaults: DomainDefaults | None = None,
) -> TransferDecision:
    """Choose the rule for ``request`` at ``at`` (see the module doc); pure, no I/O."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    defaults = defaults or DomainDefaults()
    destination = normalise(request.destination)
    words = normalise(request.caller_text)
    candidates: list[tuple[tuple[int, int, str], Rule, list[str]]] = []
    for rule in rules:
        if not rule.enabled:
            continue
        if rule.voice_secretary_uuid is not None and rule.voice_secretary_uuid != request.voice_secretary_uuid:
            continue
        terms = _match(rule, destination, words)
        if terms:
            own = 0 if rule.voice_secretary_uuid is not None else 1
            candidates.append(((rule.priority, own, normalise(rule.department_name)), rule, terms))
    candidates.sort(key=lambda item: item[0])

    for _, rule, terms in candidates:
        if is_open(rule.business_hours, at, _label(rule)):
            return TransferDecision(
                action="transfer",
                reason="matched",
                destination=rule.transfer_extension,
                context=rule.transfer_context or defaults.transfer_context,
                message=rule.transfer_message,
                department=rule.department_name,
                transfer_rule_uuid=str(rule.transfer_rule_uuid) if rule.transfer_rule_uuid else None,
                matched_keywords=terms,
                fallback_action=rule.fallback_action,
                fallback_destination=_fallback_target(rule, defaults),
                announce=rule.announce,
            )

    if candidates:
        _, rule, terms = candidates[0]
        action = rule.fallback_action
        target = None
        if action == "operator":
            target = rule.fallback_destination or defaults.operator_destination
            if not target:
                action = "message"  # nowhere to send them: take a message rather than drop the call
        elif action == "voicemail":
            target = rule.fallback_destination
        return TransferDecision(
            action=action,
            reason="closed",
            destination=target,
            context=rule.transfer_context or defaults.transfer_context,
            department=rule.department_name,
            transfer_rule_uuid=str(rule.transfer_rule_uuid) if rule.transfer_rule_uuid else None,
            matched_keywords=terms,
        )

    asked_operator = bool(set(destination.split()) & OPERATOR_WORDS)
    if asked_operator and defaults.operator_destination:
        return TransferDecision(
            action="operator", reason="operator", destination=defaults.operator_destination,
            context=defaults.transfer_context,
        )
    return TransferDecision(action="message", reason="no_match")


def load_rules(
    domain_uuid: uuid.UUID | str, voice_secretary_uuid: uuid.UUID | str | None, database_url: str | None = None
) -> tuple[list[Rule], DomainDefaults]:
    """The enabled rules that apply to the secretary (its own and domain-wide), and the domain defaults."""
    secretary = uuid.UUID(str(voice_secretary_uuid)) if voice_secretary_uuid else None
    with tenant_session(domain_uuid, database_url) as session:
        scope: ColumnElement[bool] = TransferRule.voice_secretary_uuid.is_(None)
        if secretary is not None:
            scope = or_(scope, TransferRule.voice_secretary_uuid == secretary)
        rows = session.scalars(select(TransferRule).where(TransferRule.enabled.is_(True), scope)).all()
        settings = session.scalars(select(DomainSettings)).first()
        defaults = DomainDefaults(
            settings.operator_destination, settings.fallback_destination, settings.transfer_context
        ) if settings else DomainDefaults()
        return [Rule.from_row(r) for r in rows], defaults


def parse_time(value: str | None) -> datetime:
    """An ISO-8601 time (naive means UTC), or now."""
    if not value:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def decide_for_request(request: Mapping[str, Any], database_url: str | None = None) -> dict[str, Any]:
    """The body of the ``voice_ai.transfers.decide`` task: :func:`decision_for_request` as a dict."""
    return decision_for_request(request, database_url).as_dict()


def decision_for_request(request: Mapping[str, Any], database_url: str | None = None) -> TransferDecision:
    """Evaluate a transfer request dict against the tenant's rules (what the edge does in-process when
    the workers did not answer within its deadline).

    ``request``: ``{"domain_uuid", "voice_secretary_uuid"?, "destination"?, "caller_text"?, "at"?}``
    (``at`` ISO-8601, default now).
    """
    secretary = request.get("voice_secretary_uuid")
    rules, defaults = load_rules(request["domain_uuid"], secretary, database_url)
    return decide_transfer(
        rules,
        TransferRequest(
            destination=str(request.get("destination") or ""),
            caller_text=str(request.get("caller_text") or request.get("reason") or ""),
            voice_secretary_uuid=uuid.UUID(str(secretary)) if secretary else None,
        ),
        parse_time(request.get("at")),
        defaults,
    )

