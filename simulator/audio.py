"""Simulated audio: PCMU tones, noise and silence of known lengths, 20 ms frames, and energy measurement."""

from __future__ import annotations

import numpy as np

from edge.audio.g711 import samples_to_ulaw, ulaw_to_samples

RATE = 8000
FRAME = 160


def tone(ms: int, freq: float = 440.0, amplitude: int = 8000) -> bytes:
    """A sine tone of ``ms`` milliseconds as PCMU."""
    n = RATE * ms // 1000
    t = np.arange(n) / RATE
    return samples_to_ulaw((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16))


def noise(ms: int, amplitude: int = 6000, seed: int = 1) -> bytes:
    """Speech-like noise of ``ms`` milliseconds as PCMU."""
    rng = np.random.default_rng(seed)
    return samples_to_ulaw(rng.integers(-amplitude, amplitude, RATE * ms // 1000).astype(np.int16))


def silence(ms: int) -> bytes:
    """PCMU silence."""
    return b"\xff" * (RATE * ms // 1000)


def rms(pcmu: bytes) -> float:
    """Root-mean-square energy of PCMU audio."""
    if not pcmu:
        return 0.0
    samples = ulaw_to_samples(pcmu).astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples)))


def frames(pcmu: bytes) -> list[bytes]:
    """Split PCMU into 160-byte frames (the last padded with silence)."""
    out = [pcmu[i : i + FRAME] for i in range(0, len(pcmu), FRAME)]
    if out and len(out[-1]) < FRAME:
        out[-1] = out[-1] + b"\xff" * (FRAME - len(out[-1]))
    return out
