"""Which AI vendor a secretary uses for each kind of work (the provider registry's data side).

A secretary names a provider per type (``stt``, ``tts``, ``llm``, ``embeddings``); when it names none,
or the named one is disabled, the domain's default of that type (``is_default``) is used, else the
built-in ``offline`` provider. The engine follows from the LLM provider: ``openai_realtime`` →
``realtime`` (speech to speech, no STT/TTS), ``openai`` → ``pipeline``, ``offline`` → ``offline``.
The code that builds vendor clients from a :class:`ProviderConfig` lives with its users (the edge's
engines, the workers' embedders); this module only decides which configuration applies.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.address_policy import checked_base_url
from shared.models import PROVIDER_TYPES, Provider, Secretary

ENGINE_BY_LLM = {"openai_realtime": "realtime", "openai": "pipeline", "offline": "offline"}

DEFAULT_MODELS: dict[str, str] = {
    "realtime": "gpt-realtime",
    "realtime_transcription": "gpt-4o-mini-transcribe",
    "chat": "gpt-4o-mini",
    "summary": "gpt-4o-mini",
    "transcription": "whisper-1",
    "speech": "gpt-4o-mini-tts",
    "elevenlabs": "eleven_flash_v2_5",
}
"""The one table of the model each kind of vendor work uses when a provider row names none (``model``,
``transcription_model``, ``summary_model``). Names the SDK marks deprecated (``gpt-realtime``,
``gpt-4o-mini-transcribe``) still work and stay the defaults until changed here; a row naming any other
model is sent that name as is."""


def default_model(kind: str) -> str:
    """The default model for ``kind`` (a key of :data:`DEFAULT_MODELS`)."""
    return DEFAULT_MODELS[kind]


REASONING_MODEL_PREFIXES = ("o1", "o3", "o4", "gpt-5")
"""Chat models of the reasoning family: they refuse ``max_tokens`` (``max_completion_tokens`` instead)
and any ``temperature`` but the default."""


def chat_sampling(model: str, temperature: float | None = None, max_tokens: int | None = None) -> dict[str, Any]:
    """The length and sampling arguments of a chat completion that ``model``'s family accepts."""
    if model.startswith(REASONING_MODEL_PREFIXES):
        return {} if max_tokens is None else {"max_completion_tokens": max_tokens}
    params: dict[str, Any] = {}
    if temperature is not None:
        params["temperature"] = temperature
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    return params

_SECRET_KEYS = {"api_key", "xi_api_key", "credentials", "credentials_json", "secret", "password", "token"}


@dataclass(frozen=True)
class ProviderConfig:
    """A resolved provider: its type, name and ``config`` JSON (which may hold an API key)."""

    provider_type: str
    provider_name: str
    config: dict[str, Any] = field(default_factory=dict)
    provider_uuid: uuid.UUID | None = None

    @property
    def api_key(self) -> str | None:
        """The vendor API key, if configured."""
        return self.config.get("api_key") or None

    @property
    def base_url(self) -> str | None:
        """The vendor API base URL (a test points it at a local fake); refused on internal addresses."""
        return checked_base_url(self.config.get("base_url"))

    @property
    def model(self) -> str | None:
        """The vendor model name, if configured."""
        return self.config.get("model") or None

    def public_config(self) -> dict[str, Any]:
        """``config`` with secrets masked: safe for logs and pages."""
        return {k: ("***" if k in _SECRET_KEYS and v else v) for k, v in self.config.items()}

    def __repr__(self) -> str:
        return f"ProviderConfig({self.provider_type}:{self.provider_name} {self.public_config()})"

    __str__ = __repr__


OFFLINE = {t: ProviderConfig(t, "offline") for t in PROVIDER_TYPES}


def _to_config(row: Provider) -> ProviderConfig:
    return ProviderConfig(row.provider_type, row.provider_name, dict(row.config or {}), row.provider_uuid)


def resolve_provider(session: Session, secretary: Secretary | None, provider_type: str) -> ProviderConfig:
    """The provider ``secretary`` uses for ``provider_type`` (its own, the domain default, or offline).

    ``session`` must be a tenant session (``shared.tenancy.tenant_session``); ``secretary`` None asks
    for the domain default.
    """
    if provider_type not in PROVIDER_TYPES:
        raise ValueError(f"unknown provider type {provider_type!r}")
    return resolve_all(session, secretary, (provider_type,))[provider_type]


def resolve_all(session: Session, secretary: Secretary | None,
                types: tuple[str, ...] = PROVIDER_TYPES) -> dict[str, ProviderConfig]:
    """``{type: ProviderConfig}`` for every provider type (or those of ``types``), in one query: the
    enabled providers the secretary names and the domain's enabled defaults of those types."""
    chosen = {t: secretary.provider_uuid_for(t) if secretary is not None else None for t in types}
    named = [value for value in chosen.values() if value is not None]
    candidates = session.scalars(
        select(Provider).where(
            Provider.enabled.is_(True), Provider.provider_type.in_(types),
            or_(Provider.is_default.is_(True), Provider.provider_uuid.in_(named)) if named else Provider.is_default.is_(True),
        )
    ).all()
    return {t: _pick(candidates, t, chosen[t]) for t in types}


def _pick(candidates: Sequence[Provider], provider_type: str, chosen: uuid.UUID | None) -> ProviderConfig:
    """The named provider of ``provider_type`` among ``candidates`` (enabled rows), else the default."""
    of_type = [row for row in candidates if row.provider_type == provider_type]
    row = next((row for row in of_type if chosen is not None and row.provider_uuid == chosen), None)
    row = row or next((row for row in of_type if row.is_default), None)
    return _to_config(row) if row is not None else OFFLINE[provider_type]


def embeddings_providers_for_document(
    session: Session, voice_secretary_uuid: uuid.UUID | None
) -> list[ProviderConfig]:
    """The ``embeddings`` providers a document must be embedded with, the one that decides first.

    A secretary's own document: that secretary's provider. A domain-wide document (no secretary) is
    searched by every secretary of the domain, each with its own model: the domain default first, then
    the provider of each enabled secretary with RAG on, without repeats. ``session`` is a tenant session.
    """
    if voice_secretary_uuid is not None:
        return [resolve_provider(session, session.get(Secretary, voice_secretary_uuid), "embeddings")]
    chosen = [resolve_provider(session, None, "embeddings")]
    secretaries = session.scalars(
        select(Secretary).where(Secretary.enabled.is_not(False), Secretary.rag_enabled.is_not(False))
        .order_by(Secretary.name, Secretary.voice_secretary_uuid)
    )
    seen = {_identity(chosen[0])}
    for secretary in secretaries:
        config = resolve_provider(session, secretary, "embeddings")
        if _identity(config) not in seen:
            seen.add(_identity(config))
            chosen.append(config)
    return chosen


def _identity(config: ProviderConfig) -> tuple[str, str]:
    return config.provider_name, repr(sorted(config.config.items()))


def engine_for(providers: dict[str, ProviderConfig]) -> str:
    """``realtime``, ``pipeline`` or ``offline``, from the LLM provider."""
    return ENGINE_BY_LLM.get(providers["llm"].provider_name, "offline")
