"""The playback queue and the pacing clock that drains it: what the caller hears, frame by frame, and when."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from edge.core.frames import FRAME_BYTES
from edge.metrics import EdgeMetrics
from edge.pacing import SILENCE, Pacer, PlaybackStream
from simulator.mod_audio_stream import ChannelPlayout
from tests.scripted_clock import ScriptedClock


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


# --- the clock: a scripted one, so what is asserted is when each frame left, not how fast this host is ---


def _paced(lead_frames: int = 1, start: float = 100.0) -> tuple[ScriptedClock, Pacer, PlaybackStream, list]:
    """A pacer on a scripted clock with one call's stream; the list collects (time sent, frame)."""
    clock = ScriptedClock(start)
    pacer = Pacer(EdgeMetrics(), clock)
    sent: list[tuple[float, bytes]] = []
    stream = PlaybackStream(lambda frame: sent.append((clock.now(), frame)), lead_frames)
    pacer.add(stream)
    return clock, pacer, stream, sent


def _frames(*fills: int) -> bytes:
    return b"".join(bytes([fill]) * FRAME_BYTES for fill in fills)


@pytest.mark.parametrize("phase_ms", [0.5, 7, 13, 19.5])
def test_a_reply_to_an_idle_call_goes_out_at_once_then_on_the_clock(phase_ms):
    clock, pacer, stream, sent = _paced()
    pacer.tick(100.0)  # the clock's ticks fall on 100.000, 100.020, ...
    clock.run_until(100.0 + phase_ms / 1000)  # the reply's first audio arrives somewhere between two ticks

    stream.push(_frames(1, 2, 3))

    # The caller gets the first frame the moment the audio arrives, not at the next tick.
    assert sent == [(clock.now(), _frames(1))]
    assert pacer.metrics.playback_start.count == 1 and pacer.metrics.playback_start.total == 0
    # The rest follows on the clock: the next tick, then every 20 ms.
    for due in (100.020, 100.040, 100.060):
        clock.run_until(due)
        pacer.tick(due)
    assert sent[1:] == [(100.020, _frames(2)), (100.040, _frames(3))]
    assert stream.drained.is_set() and pacer.active_streams == 0


def test_audio_arriving_while_the_last_frame_still_plays_waits_for_the_clock():
    clock, pacer, stream, sent = _paced()
    stream.push(_frames(1))  # idle: sent at once, at 100.000
    clock.run_until(100.012)  # the caller is still hearing that frame (until 100.020)

    stream.push(_frames(2))

    assert [frame for _, frame in sent] == [_frames(1)]  # no frame on top of the one playing
    clock.run_until(100.020)
    pacer.tick(100.020)
    assert sent[-1] == (100.020, _frames(2))
    # The second utterance's audio waited 8 ms for the clock, and the histogram says so.
    assert pacer.metrics.playback_start.count == 2
    assert pacer.metrics.playback_start.total == pytest.approx(0.008)


def test_a_transport_with_a_lead_gets_its_lead_at_once():
    clock, pacer, stream, sent = _paced(lead_frames=2)
    stream.push(_frames(1, 2, 3, 4))
    assert [frame for _, frame in sent] == [_frames(1), _frames(2)]
    clock.run_until(100.020)
    pacer.tick(100.020)
    assert [frame for _, frame in sent[2:]] == [_frames(3)]  # then one frame a tick


def test_a_partial_first_frame_waits_for_the_rest_on_the_clock():
    clock, pacer, stream, sent = _paced()
    stream.push(b"\x01" * 100)
    assert sent == []  # less than a frame: not worth a datagram of silence yet
    stream.push(b"\x02" * 60)
    clock.run_until(100.020)
    pacer.tick(100.020)
    assert sent == [(100.020, b"\x01" * 100 + b"\x02" * 60)]


def test_a_dead_transport_drops_the_reply_without_failing_the_engine():
    clock = ScriptedClock(100.0)
    pacer = Pacer(EdgeMetrics(), clock)

    def broken(_frame: bytes) -> None:
        raise OSError("network unreachable")

    stream = PlaybackStream(broken)
    pacer.add(stream)
    stream.push(_frames(1, 2))  # the engine's greenlet must not see the transport's error
    assert stream.queued == 0 and stream.drained.is_set() and pacer.active_streams == 0


def test_the_pacing_histogram_sees_early_frames_as_well_as_late_ones():
    clock, pacer, stream, sent = _paced()
    stream.push(_frames(1, 2, 3))  # frame 1 at once (100.000)
    metrics = pacer.metrics
    clock.run_until(100.017)  # the clock fired 3 ms before the tick was due
    pacer.tick(100.020)
    clock.run_until(100.042)  # and 2 ms after this one
    pacer.tick(100.040)

    assert len(sent) == 3
    assert metrics.frame_pacing.count == 3
    assert metrics.frame_pacing.total == pytest.approx(0.003 + 0.002)  # |sent - scheduled|, either way
    assert metrics.frame_pacing.quantile(1.0) > 0.002  # the early frame is not recorded as punctual
    assert metrics.frame_early.count == 1 and metrics.frame_early.total == pytest.approx(0.003)


# --- a sink that plays from a buffer of its own (the direct mod_audio_stream build) ---


def _module_call(read_phase_ms: float, arrival_ms: float, late_ms: Callable[[float], float] = lambda _due: 0.0,
                 cut_at_ms: float = 1000.0) -> tuple[list[int], int]:
    """A reply of 3 s reaches an idle call at ``arrival_ms``; the edge paces it into a module that reads one
    frame of its buffer every 20 ms at ``read_phase_ms`` past the edge's ticks; the caller barges in at
    ``cut_at_ms``. ``late_ms(due)``: how late the edge's clock greenlet runs the tick due at ``due`` ms
    (ticks run in order: a stall's missed ticks run back to back when it ends, as :meth:`Pacer._run` does).
    Returns the module's buffer depth before each of its reads, and how many frames the caller hears after
    the cut."""
    clock = ScriptedClock(100.0)
    pacer = Pacer(EdgeMetrics(), clock)
    playout = ChannelPlayout()
    stream = PlaybackStream(playout.write)
    stream.sink_buffers = True
    pacer.add(stream)
    events, runs_at = [], 0.0
    for due in (k * 20.0 for k in range(1, 100)):
        runs_at = max(runs_at, due + late_ms(due))  # one greenlet: a tick never runs before the one before it
        events.append((runs_at, "tick", due))
    events += [(k * 20.0 + read_phase_ms, "read", 0.0) for k in range(100)]
    events += [(arrival_ms, "audio", 0.0), (cut_at_ms, "cut", 0.0)]
    depths, heard_after_cut, cut = [], 0, False
    for at_ms, what, due_ms in sorted(events, key=lambda event: (event[0], event[2])):
        clock.run_until(100.0 + at_ms / 1000)
        if what == "tick":
            pacer.tick(100.0 + due_ms / 1000)
        elif what == "audio":
            stream.push(b"\x01" * FRAME_BYTES * 150)
        elif what == "cut":
            stream.flush()
            cut = True
        else:
            depths.append(len(playout.frames))
            if playout.read() is not None and cut:
                heard_after_cut += 1
    return depths, heard_after_cut


@pytest.mark.parametrize("read_phase_ms", [1, 9, 17])
@pytest.mark.parametrize("arrival_ms", [201, 207, 213, 219])
def test_a_module_that_buffers_holds_at_most_the_frame_in_flight_when_the_caller_barges_in(read_phase_ms, arrival_ms):
    depths, heard_after_cut = _module_call(read_phase_ms, arrival_ms)
    # Frames go out on the clock only: the module never holds more than the one it plays next...
    assert max(depths) == 1
    # ... so the caller interrupting the secretary hears at most that frame of the old reply.
    assert heard_after_cut <= 1


@pytest.mark.parametrize("read_phase_ms", [1, 9, 17])
def test_a_stalled_clock_does_not_pile_audio_into_a_module_that_buffers(read_phase_ms):
    # The edge's clock greenlet does not run for 150 ms in the middle of the reply (a GC pause, a busy host).
    depths, heard_after_cut = _module_call(read_phase_ms, 205, lambda due: max(0.0, 650.0 - due) if due > 500 else 0.0)
    # The caller heard a gap meanwhile (the module ran dry). The missed frames sent in a burst afterwards
    # would only have made the rest of the reply later and sat in the module's buffer at the barge-in
    # (up to 8 frames); the last tick of the stall, run less than a frame late, may leave one more there.
    assert max(depths) <= 2
    assert heard_after_cut <= 2


@pytest.mark.parametrize("seed", range(6))
def test_a_jittery_clock_leaves_a_module_that_buffers_at_most_one_frame_more(seed):
    # Every tick runs 0-30 ms late, at random (a loaded host). A tick run later than the module's read
    # leaves that read empty and the reply one frame later from then on; a tick run a frame late or more
    # is skipped, which gives that frame back: the module never holds more than two.
    rng = random.Random(seed)
    lateness = {k * 20.0: rng.uniform(0, 30) for k in range(100)}
    depths, heard_after_cut = _module_call(rng.uniform(0, 20), 205, lambda due: lateness[due])
    assert max(depths) <= 2
    assert heard_after_cut <= 2
