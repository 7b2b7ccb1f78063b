"""Which voice a call's engine asks its vendor for: only one the vendor accepts.

The secretary's ``voice_name`` is free text shared by every engine, and a provider row may name a
``voice`` of its own; a value the vendor does not know would be refused (Realtime answers
``invalid_value`` and never configures the session; the TTS APIs fail every sentence). Each engine picks
the first candidate its vendor accepts — the provider's default otherwise — and says once, with a
❌ ERROR line, which value it refused, so nobody hears a different voice without being told why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from shared.logging import CallLogger

REALTIME_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
"""The built-in voices of the Realtime API (the SDK's ``RealtimeAudioConfigOutput.voice`` literals)."""
ELEVENLABS_VOICE_ID = re.compile(r"^[A-Za-z0-9]{20}$")
"""An ElevenLabs ``voice_id`` (e.g. ``21m00Tcm4TlvDq8ikWAM``): names are not ids."""


def _literals(alias: Any) -> tuple[str, ...]:
    from typing import get_args

    values: list[str] = []
    for arg in get_args(alias):
        values.extend([arg] if isinstance(arg, str) else _literals(arg))
    return tuple(values)


def openai_tts_voices() -> tuple[str, ...]:
    """The built-in voices of ``audio.speech``, read from the installed SDK's request type."""
    from openai.types.audio.speech_create_params import Voice

    return _literals(Voice)


def choose_voice(engine: str, candidates: Iterable[str | None], accepts: Callable[[str], bool], default: str,
                 log: CallLogger | None) -> str:
    """The first of ``candidates`` that ``accepts`` takes, else ``default``; a refused value is one ❌ ERROR."""
    refused: list[str] = []
    for candidate in candidates:
        value = (candidate or "").strip()
        if not value:
            continue
        if accepts(value):
            chosen = value
            break
        refused.append(value)
    else:
        chosen = default
    if refused and log is not None:
        log.error("%s voice %s is not a voice this vendor offers; using %s", engine,
                  ", ".join(repr(v) for v in refused), chosen)
    return chosen


def realtime_voice(candidates: Iterable[str | None], log: CallLogger | None, default: str = "marin") -> str:
    """A built-in Realtime voice."""
    return choose_voice("Realtime", candidates, REALTIME_VOICES.__contains__, default, log)


def openai_tts_voice(candidates: Iterable[str | None], log: CallLogger | None, default: str = "alloy") -> str:
    """A built-in OpenAI TTS voice."""
    return choose_voice("OpenAI TTS", candidates, openai_tts_voices().__contains__, default, log)


def elevenlabs_voice(candidates: Iterable[str | None], log: CallLogger | None, default: str) -> str:
    """Something shaped like an ElevenLabs voice id (the vendor answers 404 for an unknown one)."""
    return choose_voice("ElevenLabs", candidates, lambda v: bool(ELEVENLABS_VOICE_ID.match(v)), default, log)
