"""What the caller hears while a transfer rings: a ringback tone or the domain's hold music, played by
the edge over the call's own audio path.

FreeSWITCH sends the parked caller nothing while the destination rings as its own leg, so the edge
plays it: the tone's cadence (silent parts included, so the caller's line keeps carrying audio) or a
hold-music file, looped, into the call's :class:`~edge.pacing.PlaybackStream`. Stopping is a flush of
that stream, so the ringing ends the instant the transfer is answered or fails.

Tones (ITU-T E.180 national ringing tones): Brazil 425 Hz, 1 s on / 4 s off; North America 440 + 480 Hz,
2 s on / 4 s off.
"""

from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path

import gevent
import numpy as np

from edge.audio.g711 import samples_to_ulaw
from edge.audio.resample import resample
from edge.core.frames import FRAME_BYTES
from edge.pacing import PlaybackStream

RATE = 8000
TONES: dict[str, tuple[tuple[float, ...], float, float]] = {
    "br": ((425.0,), 1.0, 4.0),
    "us": ((440.0, 480.0), 2.0, 4.0),
}
"""Country → (frequencies in Hz, seconds on, seconds off)."""
AMPLITUDE = 4000
"""Peak of each tone component (about -19 dBm0 each: a ringback, not a shout)."""
AHEAD_BYTES = 10 * FRAME_BYTES
"""Keep 200 ms queued: enough to ride out a late wake-up, little to drop when the ringing stops."""
CHUNK_BYTES = 20 * FRAME_BYTES


def country_for(setting: str | None, language: str | None) -> str:
    """The ringback country: the domain's setting (``br``/``us``), else by the secretary's language
    (Portuguese callers hear the Brazilian tone, everyone else the North American one)."""
    value = (setting or "").strip().lower()
    if value in TONES:
        return value
    return "br" if (language or "").lower().startswith("pt") else "us"


@lru_cache(maxsize=4)
def ringback_cadence(country: str) -> bytes:
    """One period of the country's ringback (tone then silence) as PCMU."""
    frequencies, on, off = TONES[country]
    t = np.arange(int(RATE * on)) / RATE
    tone = sum(AMPLITUDE * np.sin(2 * np.pi * f * t) for f in frequencies)
    return samples_to_ulaw(np.asarray(tone, dtype=np.int16)) + b"\xff" * int(RATE * off)


def hold_music(path: str) -> bytes:
    """A 16-bit PCM WAV file (any rate, mono or stereo) as 8 kHz PCMU; raises ValueError if unusable."""
    try:
        with wave.open(str(Path(path)), "rb") as wav:
            if wav.getsampwidth() != 2:
                raise ValueError(f"{path}: {8 * wav.getsampwidth()}-bit audio (16-bit PCM expected)")
            rate, channels = wav.getframerate(), wav.getnchannels()
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    except (OSError, EOFError, wave.Error) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    audio = samples_to_ulaw(resample(samples, rate, RATE))
    if len(audio) < FRAME_BYTES:
        raise ValueError(f"{path}: no audio")
    return audio


class Ringback:
    """Loops ``audio`` into ``stream`` at real time until :meth:`stop`."""

    def __init__(self, stream: PlaybackStream, audio: bytes) -> None:
        self.stream = stream
        self.audio = audio
        self._offset = 0
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        """Start ringing now."""
        self.stream.flush()
        self._greenlet = gevent.spawn(self._run)

    def _next_chunk(self) -> bytes:
        end = self._offset + CHUNK_BYTES
        chunk = self.audio[self._offset:end]
        if end >= len(self.audio):
            chunk += self.audio[: end - len(self.audio)]
        self._offset = end % len(self.audio)
        return chunk

    def _run(self) -> None:
        while True:
            if self.stream.queued < AHEAD_BYTES:
                self.stream.push(self._next_chunk())
            gevent.sleep(0.1)

    def stop(self) -> None:
        """Stop at once: nothing more of the ringing reaches the caller."""
        if self._greenlet is not None:
            self._greenlet.kill(block=True)
            self._greenlet = None
        self.stream.flush()
