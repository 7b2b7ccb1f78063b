"""Caller-bound audio pacing: ONE clock per process sends every call's next 20 ms frame.

FreeSWITCH plays unicast datagrams the moment they arrive and mod_audio_stream buffers whatever it is
given, so the edge keeps the audio itself and releases it at real time. A call's
:class:`PlaybackStream` holds its queued PCMU; the process's :class:`Pacer` wakes every 20 ms and sends
one frame from every stream that has audio (a transport may ask for a small lead, at most
:data:`MAX_LEAD_FRAMES` frames, when an utterance starts). A flush is therefore just "drop the queue":
the caller hears at most the frame already on the wire.

Audio that reaches an idle call (nothing queued, its last frame already played out) does not wait for
the next tick: its first frame (and lead) goes out at once, from the greenlet that queued it, and the
rest on the clock. Waiting for the tick added 0-20 ms to every reply (15-20 ms p50-p99 measured by
bench_edge); now the second frame follows on the next tick, less than 20 ms after the first, which
puts the call at most one frame ahead of real time, as a lead frame does.

A far end that plays from a buffer of its own, at its own pace (the direct mod_audio_stream build), is
sent audio on the clock only: a frame ahead of real time would wait in that buffer for the rest of the
utterance, and a barge-in cannot take it back (nothing clears that buffer), so the caller would hear two
frames of the old reply instead of one. For the same reason a tick the clock missed (a stalled hub) is
not made up for such a stream: the far end ran dry meanwhile, and the missed frames sent in a burst would
only sit in its buffer.

Every frame's deviation from its schedule (the tick it belongs to; for an utterance's first frame, the
moment its audio arrived) is observed, early or late, in ``voice_ai_frame_pacing_seconds``; early frames
also in ``voice_ai_frame_early_seconds``, so an early clock cannot pass for a punctual one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import gevent
from gevent.event import Event

from edge.core.clock import WALL_CLOCK, Clock
from edge.core.frames import FRAME_BYTES, FRAME_MS
from edge.metrics import METRICS, EdgeMetrics

FRAME_SECONDS = FRAME_MS / 1000
MAX_LEAD_FRAMES = 3
"""At most 60 ms of audio ahead of real time."""
SILENCE = b"\xff" * FRAME_BYTES
_RESYNC_SECONDS = 0.2
_TIMER_PRIORITY = 2
"""libev's highest watcher priority: when the tick falls due together with socket readiness (every call's
caller frame arrives in the same 20 ms burst), the pacer runs before the burst is worked through.
Measured (bench_edge, 150 calls, five alternating pairs on a busy 2-core host): pacing p50 0.3 ms instead
of 0.9 ms in four pairs of five; p99 stayed within the host's noise (median 4.6 vs 4.7 ms)."""


class PlaybackStream:
    """The queued caller-bound PCMU of one call, and how much of the current utterance was sent."""

    def __init__(self, send_frame: Callable[[bytes], None], lead_frames: int = 1) -> None:
        self.send_frame = send_frame
        self.lead_frames = max(1, min(lead_frames, MAX_LEAD_FRAMES))
        self._chunks: deque[bytes] = deque()
        self._offset = 0
        self.queued = 0
        self.utterance_sent = 0
        self.total_sent = 0
        self.last_sent_at = -FRAME_SECONDS
        self.audio_at: float | None = None
        """When audio reached this stream while idle, until its first frame is sent."""
        self.flushes = 0
        self.drained = Event()
        self.drained.set()
        self._held = False
        self._burst = self.lead_frames
        self.pacer: Pacer | None = None
        self.sink_buffers = False
        """The far end plays from a buffer of its own at its own pace: frames on the clock only, missed
        ticks not made up (module docstring)."""

    def push(self, pcmu: bytes) -> None:
        """Queue audio (any length) behind what is already queued."""
        if not pcmu:
            return
        self._chunks.append(bytes(pcmu))
        self.queued += len(pcmu)
        if self.drained.is_set():  # nothing was queued: an utterance starts
            self.drained.clear()
            self._burst = self.lead_frames
            if self.pacer is not None:
                self.pacer.start_playback(self)
                return
        if self.pacer is not None:
            self.pacer.wake(self)

    def begin_utterance(self) -> None:
        """A new utterance starts: :attr:`utterance_sent` counts from zero."""
        self.utterance_sent = 0

    def flush(self) -> int:
        """Drop everything queued at once; return the bytes of the current utterance already sent."""
        self._chunks.clear()
        self._offset = 0
        self.queued = 0
        self._held = False
        self.audio_at = None
        self.flushes += 1
        self.drained.set()
        return self.utterance_sent

    def wait_drained(self, timeout: float | None = None) -> bool:
        """Block until the queue has been sent; False on timeout or if a flush dropped it."""
        flushes = self.flushes
        done = self.drained.wait(timeout)
        return bool(done) and self.flushes == flushes

    def _take(self, size: int) -> bytes:
        head = self._chunks[0]
        end = self._offset + size
        if end < len(head):  # the common case: the frame lies inside the oldest chunk
            self._offset = end
            self.queued -= size
            return head[end - size : end]
        parts: list[bytes] = []
        need = size
        while need and self._chunks:
            head = self._chunks[0]
            available = len(head) - self._offset
            if available <= need:
                parts.append(head[self._offset :] if self._offset else head)
                self._chunks.popleft()
                self._offset = 0
                need -= available
            else:
                parts.append(head[self._offset : self._offset + need])
                self._offset += need
                need = 0
        taken = size - need
        self.queued -= taken
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def next_frame(self) -> bytes | None:
        """The next 160-byte frame, or None. A partial tail waits one tick for more, then is padded."""
        if self.queued >= FRAME_BYTES:
            self._held = False
            frame = self._take(FRAME_BYTES)
            real = FRAME_BYTES
        elif self.queued and self._held:
            self._held = False
            real = self.queued
            frame = self._take(real) + SILENCE[real:]
        else:
            if self.queued:
                self._held = True
            return None
        self.utterance_sent += real
        self.total_sent += real
        if not self.queued:
            self.drained.set()
        return frame

    def frames_due(self) -> int:
        """How many frames to send this tick (the lead at the start of an utterance, else one)."""
        burst, self._burst = self._burst, 1
        return burst


class Pacer:
    """The process's single 20 ms clock."""

    def __init__(self, metrics: EdgeMetrics = METRICS, clock: Clock = WALL_CLOCK) -> None:
        self.metrics = metrics
        self.clock = clock.now
        """Seconds, monotonic: the wall clock's (the hub's timers keep the same time, and :meth:`start`'s
        greenlet waits on them); a test's scripted clock drives :meth:`tick` and :meth:`start_playback`
        without waiting."""
        self._active: dict[int, PlaybackStream] = {}
        self._greenlet: gevent.Greenlet | None = None
        self.ticks = 0
        self._observe_pacing = metrics.frame_pacing.observe
        self._observe_early = metrics.frame_early.observe

    def add(self, stream: PlaybackStream) -> None:
        """Attach a call's stream to the clock."""
        stream.pacer = self
        if stream.queued:
            self._active[id(stream)] = stream

    def remove(self, stream: PlaybackStream) -> None:
        """Detach a stream (call ended)."""
        stream.pacer = None
        self._active.pop(id(stream), None)

    def wake(self, stream: PlaybackStream) -> None:
        """A stream has new audio."""
        self._active[id(stream)] = stream

    def start_playback(self, stream: PlaybackStream) -> None:
        """Audio reached an idle stream: send its first frame (and lead) now if it has a whole frame and
        its last frame has played out, else on the next tick; the rest goes on the clock."""
        now = self.clock()
        stream.audio_at = now
        self._active[id(stream)] = stream
        if stream.queued >= FRAME_BYTES and now - stream.last_sent_at >= FRAME_SECONDS and not stream.sink_buffers:
            self._send_due(stream, now)
            if not stream.queued:
                self._active.pop(id(stream), None)

    @property
    def active_streams(self) -> int:
        """Streams with queued audio."""
        return len(self._active)

    def start(self) -> None:
        """Start the clock greenlet (idempotent)."""
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        """Stop the clock."""
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def _run(self) -> None:
        clock = self.clock
        hub = gevent.get_hub()
        make_timer = hub.loop.timer
        due = clock()
        while True:
            due += FRAME_SECONDS
            delay = due - clock()
            if delay > 0:
                timer = make_timer(delay, 0, True, _TIMER_PRIORITY)
                try:
                    hub.wait(timer)
                finally:
                    timer.close()
            elif delay < -_RESYNC_SECONDS:
                due = clock()  # the hub was stalled: skip the missed ticks rather than burst audio
            self.tick(due)

    def tick(self, due: float) -> None:
        """The tick scheduled at ``due``: every stream with audio sends the frames due now."""
        self.ticks += 1
        if not self._active:
            return
        send_due = self._send_due
        missed = self.clock() - due >= FRAME_SECONDS  # run late, after a stall: its moment has passed
        for key, stream in list(self._active.items()):
            if missed and stream.sink_buffers:
                continue
            send_due(stream, due)
            if not stream.queued:
                self._active.pop(key, None)

    def _send_due(self, stream: PlaybackStream, due: float) -> None:
        """Send ``stream``'s frames scheduled at ``due``; observe each one's deviation from it."""
        clock, observe = self.clock, self._observe_pacing
        for _ in range(stream.frames_due()):
            frame = stream.next_frame()
            if frame is None:
                return
            try:
                stream.send_frame(frame)
            except Exception:  # noqa: BLE001 - a dead transport must not stop the clock
                stream.flush()
                return
            now = clock()
            stream.last_sent_at = now
            if now >= due:
                observe(now - due)
            else:
                observe(due - now)
                self._observe_early(due - now)
            if stream.audio_at is not None:  # the utterance's first frame: how long its audio waited
                self.metrics.playback_start.observe(now - stream.audio_at)
                stream.audio_at = None
