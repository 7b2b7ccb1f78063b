"""Streaming voice activity detection on the caller's 8 kHz audio with silero-vad's shipped ONNX model.

One ``onnxruntime`` session is shared by every call in the process (``InferenceSession.run`` is
thread-safe; each call keeps its own recurrent state), with one intra-op thread so hundreds of calls
do not fight over cores. The model reads 256-sample (32 ms) windows plus 32 samples of context at
8 kHz; 20 ms frames are buffered into windows. Frames far below speech level skip the model (an
energy gate): most of a call is silence or the secretary speaking, and those frames then cost a few
microseconds instead of a model run. No torch, no download: the model file ships in ``silero_vad``.

Inference runs inline in the caller's greenlet: a window takes about a tenth of a millisecond (see
``tests/benchmarks/bench_vad.py``), less than a thread hand-off would cost.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from edge.audio.g711 import ulaw_to_samples

SAMPLE_RATE = 8000
WINDOW = 256
CONTEXT = 32
WINDOW_MS = WINDOW * 1000 // SAMPLE_RATE  # 32

_session_lock = threading.Lock()
_session = None


def model_path() -> Path:
    """silero-vad's ONNX file, found without importing the package (its ``__init__`` imports torch,
    which would cost the first call seconds)."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the silero-vad package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"


def model_session():  # noqa: ANN201 - onnxruntime.InferenceSession, imported lazily
    """The process-wide ONNX session for silero-vad (loaded on first use)."""
    global _session
    with _session_lock:
        if _session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            _session = onnxruntime.InferenceSession(
                str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
            )
        return _session


class VadEvent(StrEnum):
    """What :meth:`StreamingVad.feed` reports."""

    SPEECH_START = "speech_start"
    SPEECH_STOP = "speech_stop"


@dataclass(frozen=True)
class VadParams:
    """Tuning: probabilities and the times that turn window decisions into speech start/stop."""

    threshold: float = 0.5
    """Speech probability at or above which a window counts as speech."""
    release: float = 0.35
    """Probability below which a window counts as silence (hysteresis with ``threshold``)."""
    start_ms: int = 96
    """Speech must last this long before SPEECH_START (ignores clicks and coughs)."""
    hangover_ms: int = 600
    """Silence must last this long before SPEECH_STOP (pauses inside a sentence are not turns)."""
    energy_gate_dbfs: float = -55.0
    """Windows quieter than this are silence without running the model."""


class StreamingVad:
    """Per-call speech detector: feed 20 ms PCMU frames, get speech start/stop events."""

    def __init__(self, params: VadParams | None = None) -> None:
        self.params = params or VadParams()
        self._session = model_session()
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self._gate = 10 ** (self.params.energy_gate_dbfs / 20)
        self.speaking = False
        self._run_ms = 0  # consecutive speech (while silent) or silence (while speaking)
        self.last_probability = 0.0
        self.model_runs = 0

    def reset(self) -> None:
        """Forget the recurrent state and any partial window (e.g. after a long pause)."""
        self._state[:] = 0
        self._context[:] = 0
        self._pending = np.zeros(0, dtype=np.float32)
        self.speaking = False
        self._run_ms = 0

    def probability(self, window: np.ndarray) -> float:
        """Speech probability of one 256-sample float window in [-1, 1]."""
        if float(np.sqrt(np.mean(window * window))) < self._gate:
            self._context = window[-CONTEXT:]
            return 0.0
        x = np.concatenate([self._context, window])[None, :]
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._context = window[-CONTEXT:]
        self.model_runs += 1
        return float(out[0, 0])

    def feed(self, pcmu_frame: bytes) -> list[VadEvent]:
        """Add one frame of PCMU; return the events it completes (usually none)."""
        samples = ulaw_to_samples(pcmu_frame).astype(np.float32) / 32768.0
        self._pending = np.concatenate([self._pending, samples])
        events: list[VadEvent] = []
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            p = self.probability(window)
            self.last_probability = p
            event = self._decide(p)
            if event is not None:
                events.append(event)
        return events

    def _decide(self, p: float) -> VadEvent | None:
        params = self.params
        if not self.speaking:
            self._run_ms = self._run_ms + WINDOW_MS if p >= params.threshold else 0
            if self._run_ms >= params.start_ms:
                self.speaking, self._run_ms = True, 0
                return VadEvent.SPEECH_START
        else:
            self._run_ms = self._run_ms + WINDOW_MS if p < params.release else 0
            if self._run_ms >= params.hangover_ms:
                self.speaking, self._run_ms = False, 0
                return VadEvent.SPEECH_STOP
        return None
