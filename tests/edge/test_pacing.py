"""The playback queue the pacing clock drains: what the caller hears, frame by frame."""

from __future__ import annotations

import random

from edge.engines.base import FRAME_BYTES
from edge.pacing import SILENCE, PlaybackStream


def _drain(stream: PlaybackStream, ticks: int) -> list[bytes]:
    frames = []
    for _ in range(ticks):
        frame = stream.next_frame()
        if frame is not None:
            frames.append(frame)
    return frames


def test_audio_comes_out_in_order_in_whole_frames_whatever_the_chunk_sizes():
    rng = random.Random(3)
    audio = bytes(rng.randrange(256) for _ in range(FRAME_BYTES * 37 + 55))
    stream = PlaybackStream(lambda _frame: None)
    offset = 0
    while offset < len(audio):  # deltas of any size, some smaller than a frame, some many frames
        size = rng.choice([1, 7, 80, 160, 161, 800, 1333])
        stream.push(audio[offset : offset + size])
        offset += size
    frames = _drain(stream, 60)
    assert all(len(frame) == FRAME_BYTES for frame in frames)
    # The 55-byte tail waited one tick for more audio, then went out padded with silence.
    assert b"".join(frames) == audio + SILENCE[55:]
    assert stream.queued == 0 and stream.drained.is_set()
    assert stream.utterance_sent == len(audio)


def test_a_partial_frame_waits_one_tick_for_the_rest():
    stream = PlaybackStream(lambda _frame: None)
    stream.push(b"\x01" * 100)
    assert stream.next_frame() is None  # held: the rest of the frame may be on its way
    stream.push(b"\x02" * 60)
    assert stream.next_frame() == b"\x01" * 100 + b"\x02" * 60


def test_flush_drops_everything_and_reports_what_was_heard():
    stream = PlaybackStream(lambda _frame: None)
    stream.begin_utterance()
    stream.push(b"\x05" * FRAME_BYTES * 10)
    _drain(stream, 3)
    assert stream.flush() == 3 * FRAME_BYTES
    assert stream.next_frame() is None and stream.queued == 0 and stream.drained.is_set()
