"""Offline text-to-speech: the espeak-ng binary (Debian package), pt-BR, English and ~100 languages.

espeak-ng runs as a subprocess through ``gevent.subprocess`` (its pipe is read cooperatively, so other
calls keep running); its 22 050 Hz WAV output is converted to 8 kHz PCMU here.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from edge.audio.g711 import samples_to_ulaw
from edge.audio.resample import resample
from edge.services.base import ErrorKind, ServiceError, TextToSpeech
from edge.services.voices import choose_voice
from shared.logging import CallLogger
from shared.providers import ProviderConfig

ESPEAK = "espeak-ng"
DEFAULT_VOICE = {"pt": "pt-br", "en": "en-us", "es": "es", "fr": "fr-fr", "de": "de", "it": "it"}
_VOICE_SHAPE = re.compile(r"^[a-z]{2,3}(-[a-z0-9-]+)?(\+[a-z0-9]+)?$")


@lru_cache(maxsize=1)
def installed_voices() -> frozenset[str]:
    """Voice and language names espeak-ng knows (lower-cased), read once."""
    import subprocess

    try:
        out = subprocess.run([ESPEAK, "--voices"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    names = set()
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 4:
            names.add(parts[1].lower())
            names.add(parts[3].lower())
    return frozenset(names)


def is_espeak_voice(name: str) -> bool:
    """Whether espeak-ng knows ``name`` (with an optional variant, ``en-us+f2``)."""
    candidate = name.strip().lower()
    return bool(_VOICE_SHAPE.match(candidate)) and candidate.split("+", 1)[0] in installed_voices()


def espeak_voice(language: str | None, voice_name: str | None = None, log: CallLogger | None = None) -> str:
    """The espeak-ng voice for a secretary: its ``voice_name`` when espeak knows it, else by language.

    ``voice_name`` may carry a variant (``en-us+f2``); vendor voice names (``marin``, ElevenLabs ids) are
    not espeak voices: where espeak-ng is the secretary's chosen voice (``log`` given) that is one ❌ ERROR
    line, where it is only the edge's fallback voice they are passed over quietly.
    """
    lang = (language or "pt-BR").strip().lower()
    by_language = lang if lang in installed_voices() else DEFAULT_VOICE.get(lang.split("-", 1)[0], "en-us")
    return choose_voice("espeak-ng", [voice_name], is_espeak_voice, by_language, log).strip().lower()


def wav_to_pcmu(wav: bytes) -> bytes:
    """Convert espeak-ng's mono 16-bit WAV to 8 kHz PCMU."""
    if len(wav) < 44 or wav[:4] != b"RIFF":
        raise ValueError("not a WAV stream")
    rate = int.from_bytes(wav[24:28], "little")
    # espeak-ng writes the data chunk right after the 44-byte header (its sizes are left unset on a pipe).
    samples = np.frombuffer(wav[44 : 44 + (len(wav) - 44) // 2 * 2], dtype=np.int16)
    return samples_to_ulaw(resample(samples, rate, 8000))


class OfflineTextToSpeech(TextToSpeech):
    """espeak-ng synthesis to PCMU at 8 kHz."""

    name = "offline"

    def __init__(self, language: str | None = "pt-BR", voice_name: str | None = None,
                 words_per_minute: int = 150, timeout: float = 20.0, log: CallLogger | None = None) -> None:
        self.voice = espeak_voice(language, voice_name, log)
        self.words_per_minute = words_per_minute
        self.timeout = timeout

    @classmethod
    def for_provider(cls, config: ProviderConfig | None, language: str | None,
                     voice_name: str | None, log: CallLogger | None = None) -> OfflineTextToSpeech:
        """The voice of an ``offline`` tts provider row: its ``words_per_minute`` (80-450, default 150)."""
        rate = (config.config if config is not None and config.provider_name == "offline" else {}).get(
            "words_per_minute", 150)
        try:
            words_per_minute = min(450, max(80, int(rate)))
        except (TypeError, ValueError):
            words_per_minute = 150
        return cls(language, voice_name, words_per_minute=words_per_minute, log=log)

    def cache_key(self) -> str:
        """Provider, voice and speed: what changes the audio."""
        return f"offline:espeak-ng:{self.voice}:{self.words_per_minute}"

    def command(self) -> list[str]:
        """The espeak-ng command line: WAV on stdout, the text on stdin — never on the command line
        (length limits, leading dashes)."""
        return [ESPEAK, "-v", self.voice, "-s", str(self.words_per_minute), "--stdout", "--stdin"]

    def synthesize(self, text: str) -> bytes:
        """The whole utterance as PCMU."""
        from gevent import subprocess

        if shutil.which(ESPEAK) is None:
            raise ServiceError("offline-tts", ErrorKind.NETWORK, "espeak-ng is not installed")
        try:
            done = subprocess.run(self.command(), input=text.encode("utf-8"), capture_output=True,
                                  timeout=self.timeout)
        except subprocess.TimeoutExpired as exc:
            raise ServiceError("offline-tts", ErrorKind.TIMEOUT) from exc
        if done.returncode != 0:
            raise ServiceError("offline-tts", ErrorKind.BAD_RESPONSE, f"espeak-ng exit {done.returncode}")
        return wav_to_pcmu(done.stdout)

    def stream(self, text: str) -> Iterator[bytes]:
        """One chunk: espeak-ng synthesizes a sentence in a few tens of milliseconds."""
        if text.strip():
            yield self.synthesize(text)
