"""Sample-rate conversion in plain numpy (no scipy at call time).

Telephone audio needs nothing finer than a windowed-sinc low-pass filter before decimation and after
interpolation: :func:`resample` handles any ratio (espeak-ng's 22 050 Hz, pocketsphinx's 16 kHz), and
:class:`Decimator` converts a stream chunk by chunk for integer ratios (OpenAI's 24 kHz PCM → 8 kHz)
keeping filter history between chunks so there are no clicks at chunk joins.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_TAPS = 63


@lru_cache(maxsize=16)
def lowpass_kernel(cutoff: float, taps: int = _TAPS) -> np.ndarray:
    """A windowed-sinc low-pass FIR; ``cutoff`` is a fraction of the sample rate (0 < cutoff < 0.5)."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(taps)
    return (kernel / kernel.sum()).astype(np.float32)


def _to_int16(samples: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(samples), -32768, 32767).astype(np.int16)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Convert int16 ``samples`` from ``src_rate`` to ``dst_rate`` (whole buffer); returns int16."""
    if src_rate == dst_rate or len(samples) == 0:
        return np.asarray(samples, dtype=np.int16)
    x = np.asarray(samples, dtype=np.float32)
    if dst_rate < src_rate:
        # Band-limit below the new Nyquist before picking new sample times.
        x = np.convolve(x, lowpass_kernel(0.45 * dst_rate / src_rate), mode="same")
    count = int(len(x) * dst_rate / src_rate)
    positions = np.arange(count) * (src_rate / dst_rate)
    y = np.interp(positions, np.arange(len(x)), x).astype(np.float32)
    if dst_rate > src_rate:
        # Interpolation leaves images above the old Nyquist: remove them.
        y = np.convolve(y, lowpass_kernel(0.45 * src_rate / dst_rate), mode="same")
    return _to_int16(y)


class Decimator:
    """Streaming integer-ratio down-sampler (e.g. 24 kHz → 8 kHz, ``factor=3``) for int16 chunks."""

    def __init__(self, factor: int) -> None:
        self.factor = factor
        self._kernel = lowpass_kernel(0.45 / factor)
        self._history = np.zeros(len(self._kernel) - 1, dtype=np.float32)
        self._phase = 0  # input samples to skip before the next kept one

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Filter and decimate one chunk; returns the int16 output samples it yields."""
        x = np.concatenate([self._history, np.asarray(samples, dtype=np.float32)])
        filtered = np.convolve(x, self._kernel, mode="valid")
        self._history = x[len(x) - (len(self._kernel) - 1):]
        out = filtered[self._phase :: self.factor]
        self._phase = (self._phase - len(filtered)) % self.factor
        return _to_int16(out)
