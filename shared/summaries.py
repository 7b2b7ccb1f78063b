"""Call summaries: a chat model of the tenant's ``llm`` provider, or an extractive one offline.

Both OpenAI providers write it through the SDK's chat completions with the row's ``api_key`` and
``base_url``: ``openai`` with its ``model``, ``openai_realtime`` (a speech-to-speech model cannot write
it) with a chat model; either takes a ``summary_model`` config key, default ``DEFAULT_MODELS['summary']`` (:mod:`shared.providers`).

The extractive summary needs no model: it states what the caller asked for (their first substantial
turn), what else they said that carries information, and how the call ended. It is short enough for a
CRM note and always in the transcript's own words. Every fall back to it from a vendor is logged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.logging import CallLogger, Tag, call_logger
from shared.providers import ProviderConfig, chat_sampling, default_model

CHAT_PROVIDERS = ("openai", "openai_realtime")
"""``llm`` providers whose ``api_key``/``base_url`` reach a chat-completions API."""

if TYPE_CHECKING:
    import httpx
MAX_SUMMARY_CHARS = 1200
LLM_TIMEOUT_SECONDS = 20.0
"""Default bound on each phase of the summary request; callers with a deadline pass their own."""

OUTCOME_TEXT = {
    "resolved": "The secretary answered the caller.",
    "transferred": "The call was transferred{target}.",
    "message": "The caller left a message.",
    "abandoned": "The caller hung up before the end.",
    "error": "The call ended because of a technical error.",
}

SUMMARY_PROMPT = (
    "You summarise phone calls handled by a virtual secretary for the company's CRM. Write 2 to 4 short "
    "sentences in the language of the transcript: what the caller wanted, what they were told, and how "
    "the call ended (transfer, message, resolved). No greetings, no speculation."
)


@dataclass(frozen=True)
class Turn:
    """One transcript line: ``role`` (user, assistant, tool, system) and its text."""

    role: str
    content: str


@dataclass(frozen=True)
class CallFacts:
    """What is known about the end of the call, besides the transcript."""

    outcome: str | None = None
    transfer_target: str | None = None
    taken_message: dict[str, Any] | None = None


_WORDS = re.compile(r"\w+", re.UNICODE)
_FILLER = {"oi", "olá", "ola", "alô", "alo", "bom", "dia", "boa", "tarde", "noite", "hello", "hi", "sim", "não",
           "nao", "ok", "obrigado", "obrigada", "tchau", "yes", "no", "thanks", "bye"}


def _informative(text: str) -> int:
    words = [w.lower() for w in _WORDS.findall(text)]
    return sum(1 for w in words if w not in _FILLER and len(w) > 2)


def _sentence(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return text if text.endswith((".", "?", "!", "…")) else text + "."


def extractive_summary(turns: Sequence[Turn], facts: CallFacts) -> str:
    """A summary from the transcript's own sentences (the offline engine's, and the fallback)."""
    caller = [t.content for t in turns if t.role == "user" and t.content and _informative(t.content) >= 2]
    parts: list[str] = []
    if caller:
        parts.append(f"Caller: {_sentence(caller[0])}")
        # The next most informative caller turn, if it adds something.
        rest = sorted(caller[1:], key=_informative, reverse=True)[:1]
        parts.extend(f"Also: {_sentence(text)}" for text in rest)
    else:
        parts.append("The caller said nothing the secretary could act on.")
    message = facts.taken_message or {}
    if message.get("message"):
        who = message.get("caller_name") or "The caller"
        callback = f" (callback {message['callback_number']})" if message.get("callback_number") else ""
        parts.append(f"Message from {who}{callback}: {_sentence(str(message['message']))}")
    if facts.outcome in OUTCOME_TEXT and not (facts.outcome == "message" and message.get("message")):
        target = f" to {facts.transfer_target}" if facts.transfer_target else ""
        parts.append(OUTCOME_TEXT[facts.outcome].format(target=target))
    return " ".join(parts)[:MAX_SUMMARY_CHARS]


def summary_model(provider: ProviderConfig) -> str:
    """The chat model that summarises for ``provider``: ``summary_model``, else an ``openai`` row's
    ``model``, else ``DEFAULT_MODELS['summary']`` (:mod:`shared.providers`) (an ``openai_realtime`` row's ``model`` only speaks)."""
    configured = str(provider.config.get("summary_model") or "").strip()
    if configured:
        return configured
    if provider.provider_name == "openai" and provider.model:
        return provider.model
    return default_model("summary")


def llm_summary(
    turns: Sequence[Turn], facts: CallFacts, provider: ProviderConfig, timeout: float = LLM_TIMEOUT_SECONDS,
    http_client: httpx.Client | None = None,
) -> str | None:
    """A summary written by :func:`summary_model` through the provider's key and ``base_url``, or None
    when the model answered with no text.

    One request, no SDK retries: a retry, and the wait a 429's Retry-After asks for, could not be
    bounded by ``timeout``, and the caller has a deadline of its own. ``http_client`` (an
    ``httpx.Client``) lets the caller bound the whole request, not only each phase of it.
    """
    import openai

    client = openai.OpenAI(
        api_key=provider.api_key or "missing-api-key", base_url=provider.base_url, timeout=timeout, max_retries=0,
        http_client=http_client,  # type: ignore[arg-type]  # typed for httpx2's Client; drives httpx's (tests/workers/test_summary_models.py)
    )
    transcript = "\n".join(f"{t.role}: {t.content}" for t in turns if t.content and t.role in {"user", "assistant"})
    ending = f"Outcome: {facts.outcome or 'unknown'}"
    if facts.transfer_target:
        ending += f", transferred to {facts.transfer_target}"
    if facts.taken_message:
        ending += f", message taken: {facts.taken_message}"
    model = summary_model(provider)
    response = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": SUMMARY_PROMPT},
            {"role": "user", "content": f"{transcript}\n\n{ending}"},
        ],
        **chat_sampling(model, temperature=0.2, max_tokens=300),
    )
    text = (response.choices[0].message.content or "").strip()
    return text[:MAX_SUMMARY_CHARS] if text else None


def summarize(
    turns: Sequence[Turn], facts: CallFacts, provider: ProviderConfig | None, timeout: float = LLM_TIMEOUT_SECONDS,
    log: CallLogger | None = None, http_client: httpx.Client | None = None,
) -> str:
    """The call's summary with ``provider`` (an ``llm`` provider): ``openai`` or ``openai_realtime`` → a
    chat model's, offline → extractive.

    ``timeout`` bounds each phase of the vendor request (connect, send, wait for the answer). Whatever
    goes wrong with the vendor — an error, a timeout, an answer that is not a completion or has no text,
    or the caller's own deadline striking meanwhile (Celery's SoftTimeLimitExceeded is an ``Exception``)
    — the call gets the extractive summary rather than none, and ``log`` (bound to the call and domain
    by the caller) says why.
    """
    if provider is None or provider.provider_name not in CHAT_PROVIDERS:
        return extractive_summary(turns, facts)
    log = log or call_logger(__name__)
    model = summary_model(provider)
    try:
        text = llm_summary(turns, facts, provider, timeout, http_client)
    except Exception as exc:  # noqa: BLE001 - any vendor failure falls back to the extractive summary
        log.error(f"summary by {provider.provider_name} model {model} failed ({type(exc).__name__}: {exc}); "
                  "using the extractive summary")
        return extractive_summary(turns, facts)
    if text is None:
        log.warning(Tag.EVENT_BUS, f"summary by {provider.provider_name} model {model} came back empty; "
                    "using the extractive summary")
        return extractive_summary(turns, facts)
    return text
