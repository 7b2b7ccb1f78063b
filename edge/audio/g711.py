"""ITU-T G.711 µ-law, exactly as CPython's ``audioop`` (``lin2ulaw``/``ulaw2lin``), with numpy tables.

A 256-entry decode table and a 65536-entry encode table (indexed by the 16-bit sample's unsigned bit
pattern) make conversion one ``take`` per frame, on every Python version (``audioop`` is gone in 3.13).
"""

from __future__ import annotations

import numpy as np

BIAS = 0x84
CLIP = 8159  # the 14-bit magnitude clip of audioop's st_14linear2ulaw (= 32635 >> 2)
SILENCE = 0xFF
_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)


def _build_decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = ((u & 0x0F) << 3) + BIAS
    t = t << ((u & 0x70) >> 4)
    return np.where(u & 0x80, BIAS - t, t - BIAS).astype("<i2")


def _build_encode_table() -> np.ndarray:
    pcm16 = np.arange(65536, dtype=np.int32)
    pcm16 = np.where(pcm16 >= 32768, pcm16 - 65536, pcm16)
    pcm14 = pcm16 >> 2  # arithmetic shift, as audioop does before st_14linear2ulaw
    negative = pcm14 < 0
    magnitude = np.minimum(np.where(negative, -pcm14, pcm14), CLIP) + (BIAS >> 2)
    mask = np.where(negative, 0x7F, 0xFF)
    seg = np.searchsorted(_SEG_END, magnitude, side="left")
    uval = (np.minimum(seg, 7) << 4) | ((magnitude >> (np.minimum(seg, 7) + 1)) & 0x0F)
    uval = np.where(seg >= 8, 0x7F, uval)
    return ((uval ^ mask) & 0xFF).astype(np.uint8)


ULAW_TO_LINEAR = _build_decode_table()
"""µ-law byte → 16-bit sample."""
LINEAR_TO_ULAW = _build_encode_table()
"""16-bit sample (as uint16 bit pattern) → µ-law byte."""


def ulaw_to_l16(data: bytes) -> bytes:
    """µ-law bytes → little-endian signed 16-bit PCM (two bytes per sample)."""
    return ULAW_TO_LINEAR[np.frombuffer(data, dtype=np.uint8)].tobytes()


def l16_to_ulaw(data: bytes) -> bytes:
    """Little-endian signed 16-bit PCM → µ-law bytes (a trailing odd byte is ignored)."""
    samples = np.frombuffer(data[: len(data) & ~1], dtype="<u2")
    return LINEAR_TO_ULAW[samples].tobytes()


def ulaw_to_samples(data: bytes) -> np.ndarray:
    """µ-law bytes → int16 numpy samples (for energy measurements)."""
    return ULAW_TO_LINEAR[np.frombuffer(data, dtype=np.uint8)]


def samples_to_ulaw(samples: np.ndarray) -> bytes:
    """int16 numpy samples → µ-law bytes."""
    return LINEAR_TO_ULAW[samples.astype("<i2").view("<u2")].tobytes()


LOUD_SAMPLE = 300
"""A sample above this magnitude (about -40 dBFS, far below speech) makes a frame :func:`has_sound`."""
_QUIET_BYTES = bytes(b for b in range(256) if abs(int(ULAW_TO_LINEAR[b])) <= LOUD_SAMPLE)


def has_sound(data: bytes) -> bool:
    """True when any µ-law sample in ``data`` is louder than :data:`LOUD_SAMPLE` (one C-speed pass)."""
    return bool(data.translate(None, _QUIET_BYTES))
