"""Cost of the streaming VAD per 20 ms caller frame (prints figures; not a test).

Run from the repository root: ``python -m tests.benchmarks.bench_vad``.
"""

from __future__ import annotations

import time

import numpy as np

from edge.audio.g711 import samples_to_ulaw
from edge.audio.vad import StreamingVad
from simulator.voice import caller_says


def main() -> None:
    """Feed one minute of speech-and-silence call audio and print microseconds per frame."""
    speech = caller_says("What are your opening hours on Saturday? I would like to talk to sales.")
    silence = samples_to_ulaw(np.zeros(16000, dtype=np.int16))
    audio = (speech + silence) * 6
    vad = StreamingVad()
    frames = [audio[i : i + 160] for i in range(0, len(audio) - 159, 160)]
    start = time.perf_counter()
    for frame in frames:
        vad.feed(frame)
    elapsed = time.perf_counter() - start
    print(f"{len(frames)} frames ({len(frames) / 50:.0f} s of audio): {elapsed / len(frames) * 1e6:.1f} µs/frame, "
          f"{vad.model_runs} model runs at {elapsed / max(1, vad.model_runs) * 1e6:.1f} µs/run; "
          f"one core serves ~{0.020 / (elapsed / len(frames)):.0f} calls' VAD")


if __name__ == "__main__":
    main()
