"""Edge benchmark: N simultaneous simulated calls against ONE real ``voice-ai edge`` process (prints figures).

    python -m tests.benchmarks.bench_edge [--calls 50 200 500] [--seconds 20] [--find-max]
                                          [--arrival-rate 40] [--burst] [--cold]
                                          [--nice -10] [--edge-nice -15] [--pin-edge 1]
                                          [--silence-chunk-ms 100]

Calls arrive at ``--arrival-rate`` per second until N are up. By default the figures cover a window once
every call is up and has settled; ``--burst`` measures the arrivals themselves instead (50 calls/s is a
campaign, an outage ending, 9:00 on Monday): from the first call placed until every call has been
greeted, plus a second. ``--cold`` places the first call the moment the edge says it is ready (no
warm-up call), as when a restarted edge takes the traffic of a failed one.

Each call is a real ``voice-ai edge`` call over unicast (PCMU native) from the fake FreeSWITCH (real 20 ms
UDP pacing) to the fake OpenAI Realtime server (GA events, energy VAD, scripted replies). The caller
speaks every ``--period`` seconds; the secretary answers with a long reply, so most of the time every call
is speaking and the caller's next utterance interrupts it (a barge-in every period).

How the processes are laid out (2 cores are shared by all of them):

* the edge — one ``voice-ai edge`` process (:class:`tests.edge.harness.EdgeProcess`);
* the fake OpenAI Realtime server — its own process (``--realtime inline`` runs it in the driver);
* the fake FreeSWITCH, the callers and this driver — the driver process (one asyncio thread). The caller's
  unicast socket is read with ``recvmsg`` and ``SO_TIMESTAMPNS``: a frame's arrival time is the kernel's,
  so a busy driver delays when a frame is counted, not when it is said to have arrived.

On a shared host, ``--nice -10`` (root) ranks the benchmark's session above other work (with autogroup
scheduling a process nice value only ranks processes of one session, so the session's autogroup is
reniced too), and ``--edge-nice`` ranks the edge's gevent hub above the load generator. The report
says how long the edge waited for a CPU: when that is high, the pacing figures measure the host, not
the edge. ``--pin-edge CPU`` gives the edge a core of its own: every thread of the edge on that CPU, the
driver and the fake Realtime on the others (as a second host for the load generator would).

Figures (measured over the window):

* greeting — ESL connect (the fake FreeSWITCH connecting to the edge) → the caller's first frame (in any
  mode; every call), and the setup steps seen on the way (:data:`PHASES`): when the edge sent
  ``connect``, ``answer`` and ``unicast`` (fake FreeSWITCH), opened its Realtime WebSocket and sent
  ``session.update`` and, for a greeting not yet cached, ``response.create`` (fake Realtime) and the first
  audio delta was sent, or for a cached greeting (the warm-up call's, played at once while the socket opens;
  ``--no-greeting-cache`` turns it off) the assistant item telling the session it greeted;
  ``--trace-setup`` times each step of the set-up and of the WebSocket opening on both sides;
* pacing p50/p99 — the edge's own ``voice_ai_frame_pacing_seconds`` histogram (window delta; each frame's
  |sent − scheduled|, early or late), and the fake FreeSWITCH's receive-side jitter (|inter-arrival − 20 ms|
  of consecutive frames, kernel receive times; not the gap after an utterance's first frame, which leaves
  at once and is followed by the next on the clock's next tick);
* barge-in — the edge's ``voice_ai_bargein_seconds`` (speech_started handled → playback flushed), and end to
  end: the fake server sending ``speech_started`` → the last frame of that reply reaching the caller;
* edge-added latency per direction — marked probe frames: the first frame of each caller utterance
  sent by the fake FreeSWITCH → received by the fake server in ``input_audio_buffer.append`` (speech in),
  the same for a near-silent frame every 0.5 s (silence in: includes the edge's batching of silence,
  ``--silence-chunk-ms``), and first audio delta of a reply sent by the fake server → its first frame
  reaching the caller (out: edge-added downlink; the edge sends it at once when the call is not already
  playing), and inside the edge, ``voice_ai_playback_start_seconds`` (reply audio queued → first frame
  sent);
* CPU seconds per call-second — the edge's utime+stime (``/proc/<pid>/stat``) over the window ÷ (N × s);
* RSS per call — (edge RSS with N calls − RSS after a warm-up call) ÷ N;
* garbage collections — the edge's ``voice_ai_gc_pause_seconds`` (window delta): every call waits for them
  (see ``edge/gc_pauses.py``).

Probe frames carry a 32-bit key after a 4-byte marker; silence probes are otherwise near-silent PCMU
(µ-law 0xF0..0xFF, |sample| < 32), so the VAD ignores them, and speech probes are otherwise loud.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FRAME = 160
PROBE_EVERY = 25
"""Every 25th silent caller frame (every 0.5 s) is an inbound probe."""
MAGIC = b"\xfe\xf1\xfe\xf1"
OUT_KEY_BIT = 0x8000_0000
SPEECH_KEY_BIT = 0x4000_0000
BARGE_WINDOW = 0.5
UTTERANCE_GAP = 0.1
"""Consecutive frames of one call further apart than this belong to different utterances."""
"""A reply frame arriving this long after speech_started still counts as 'not yet stopped'."""
PACING_TARGET = 0.005
_QUIET_AFTER_CLOSE = {"response.output_audio.delta", "response.output_audio.done",
                      "response.output_audio_transcript.done", "response.done"}
"""A reply still streaming when the edge hangs up: its socket is closed, which is normal here."""
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
"""Linux's option (Python 3.11 does not name it): the kernel stamps every datagram it receives."""
_TIMESPEC = struct.Struct("@ll")
"""``struct timespec`` (seconds, nanoseconds) of the ``SCM_TIMESTAMPNS`` ancillary data."""
_CMSG_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# --- probes ---------------------------------------------------------------------------------------


def probe_frame(key: int, loud: bool = False) -> bytes:
    """A 160-byte PCMU frame carrying ``key`` (32 bits): near-silent, or ``loud`` (speech level)."""
    nibbles = bytes(0xF0 | ((key >> (4 * i)) & 0xF) for i in range(8))
    return MAGIC + nibbles + (b"\x10" if loud else b"\xff") * (FRAME - len(MAGIC) - 8)


def probe_key(frame: bytes) -> int | None:
    """The key of a probe frame, or None."""
    if frame[:4] != MAGIC:
        return None
    key = 0
    for i in range(8):
        key |= (frame[4 + i] & 0xF) << (4 * i)
    return key


# --- process figures ------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid``."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def _pin(pid: int, cpus: set[int]) -> None:
    """Every thread of process ``pid`` on ``cpus`` (threads it starts later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)


def _autogroup() -> str:
    try:
        return Path("/proc/self/autogroup").read_text().strip().lstrip("/")
    except OSError:
        return "no autogroup"


def run_queue_wait(pid: int) -> float:
    """Seconds the main thread of ``pid`` spent runnable but waiting for a CPU (``/proc/<pid>/schedstat``)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank ``q`` percentile (0..100), or None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def parse_histogram(text: str, name: str) -> tuple[list[float], list[int]]:
    """(bucket bounds, cumulative counts incl. +Inf) of a Prometheus histogram in ``text``."""
    bounds: list[float] = []
    counts: list[int] = []
    prefix = f'{name}_bucket{{le="'
    for line in text.splitlines():
        if line.startswith(prefix):
            le, value = line[len(prefix):].split('"}')
            bounds.append(float("inf") if le == "+Inf" else float(le))
            counts.append(int(float(value)))
    return bounds, counts


def histogram_window(before: str, after: str, name: str) -> tuple[int, float | None, float | None, float]:
    """(count, p50, p99, share above 5 ms) of ``name`` observed between two ``/metrics`` scrapes."""
    bounds, end = parse_histogram(after, name)
    _, start = parse_histogram(before, name)
    if not bounds:
        return 0, None, None, 0.0
    cumulative = [b - a for a, b in zip(start or [0] * len(end), end, strict=True)]
    per_bucket = [cumulative[0]] + [cumulative[i] - cumulative[i - 1] for i in range(1, len(cumulative))]
    total = cumulative[-1]
    if not total:
        return 0, None, None, 0.0

    def quantile(q: float) -> float:
        target, seen, low = q * total, 0, 0.0
        for i, n in enumerate(per_bucket):
            high = bounds[i] if bounds[i] != float("inf") else bounds[i - 1] * 2
            if n and seen + n >= target:
                return low + (high - low) * (target - seen) / n
            seen, low = seen + n, high
        return bounds[-2]

    over = total - next((c for b, c in zip(bounds, cumulative, strict=True) if b >= PACING_TARGET), total)
    return total, quantile(0.5), quantile(0.99), over / total


# --- the fake OpenAI Realtime server, instrumented -------------------------------------------------


def _realtime_classes() -> tuple[type, type]:
    from websockets.exceptions import ConnectionClosed

    from tests.fakes.openai_realtime import FakeRealtimeServer, FakeRealtimeSession, Reply

    class BenchSession(FakeRealtimeSession):
        """A session that always answers with a long reply and timestamps probe frames."""

        def __init__(self, server: Any, ws: Any) -> None:
            super().__init__(server, ws)
            self.call_index: int | None = None
            self._probed: set[str] = set()
            self.phases: dict[str, float] = {"realtime_open": time.monotonic()}
            self.port: int = ws.remote_address[1]
            """When this connection reached each setup step (first occurrence; see :data:`PHASES`)."""
            self.first_out_key: int | None = None

        def next_reply(self) -> Any:
            return Reply("Claro, vou explicar com calma todos os detalhes do plano.", self.server.reply_ms)

        async def on_client_event(self, event: dict[str, Any]) -> None:
            kind = event.get("type")
            if kind in ("session.update", "response.create"):
                self.phases.setdefault(kind.replace(".", "_"), time.monotonic())
            elif kind == "conversation.item.create" and (event.get("item") or {}).get("role") == "assistant":
                self.phases.setdefault("greeting_told", time.monotonic())
            await super().on_client_event(event)

        async def on_audio(self, pcmu: bytes) -> None:
            if MAGIC in pcmu:
                now = time.monotonic()
                for offset in range(0, len(pcmu), FRAME):
                    key = probe_key(pcmu[offset : offset + FRAME])
                    if key is not None:
                        self.server.inbound[key] = now
                        if self.call_index is None:
                            self.call_index = key >> 16
            await super().on_audio(pcmu)

        async def send(self, event: dict[str, Any]) -> None:
            if event.get("type") == "response.output_audio.delta" and event["item_id"] not in self._probed:
                import base64

                self._probed.add(event["item_id"])
                server = self.server
                key = OUT_KEY_BIT | server.next_out_key
                server.next_out_key += 1
                audio = base64.b64decode(event["delta"])
                event["delta"] = base64.b64encode(probe_frame(key) + audio[FRAME:]).decode()
                server.outbound[key] = time.monotonic()
                if self.first_out_key is None:  # the first reply's first frame: ties this session to its call
                    self.first_out_key = key
                    if "response_create" in self.phases:  # the greeting asked of the vendor, not cached
                        self.phases["first_delta"] = server.outbound[key]
            try:
                await super().send(event)
            except ConnectionClosed:
                if event.get("type") not in _QUIET_AFTER_CLOSE:
                    raise

    from websockets.asyncio.server import ServerConnection

    opening: dict[int, dict[str, float]] = {}
    """Client port -> when its connection was accepted and its handshake request read (one server a process)."""

    class BenchConnection(ServerConnection):
        """Records when the fake server accepted each TCP connection (by the client's port)."""

        def connection_made(self, transport: Any) -> None:
            peer = transport.get_extra_info("peername")
            if peer:
                opening[peer[1]] = {"accepted": time.monotonic()}
            super().connection_made(transport)

    class BenchServer(FakeRealtimeServer):
        """The fake server with probe bookkeeping and a loop-lag monitor."""

        session_class = BenchSession
        connection_class = BenchConnection

        def _check(self, connection: Any, request: Any) -> Any:
            steps = self.opening.setdefault(connection.remote_address[1], {})
            steps["request_read"] = time.monotonic()
            return super()._check(connection, request)

        def __init__(self, loop: Any, reply_ms: int) -> None:
            self.reply_ms = reply_ms
            self.inbound: dict[int, float] = {}
            self.outbound: dict[int, float] = {}
            self.next_out_key = 0
            self.lag: list[tuple[float, float]] = []
            self.opening = opening
            super().__init__(loop, speed=4.0)
            loop.call(lambda: asyncio.get_running_loop().create_task(_watch_lag(self.lag)))

        def records(self) -> dict[str, Any]:
            """Everything measured so far (call on the loop)."""
            return {
                "inbound": list(self.inbound.items()), "outbound": list(self.outbound.items()),
                "sessions": [{"call": s.call_index, "speech_started": s.speech_started_at,
                              "first_out_key": s.first_out_key, "phases": s.phases, "port": s.port}
                             for s in self.sessions],
                "lag": self.lag, "opening": list(self.opening.items()),
            }

    return BenchSession, BenchServer


def _memoize_fake_vad() -> None:
    """Give the fake server's energy VAD a memo of frame -> RMS (same values, a dict lookup instead of numpy).

    Callers send the same silence and speech frames over and over, so nearly every frame is a hit; this
    keeps the load generator's CPU for the websocket traffic that is being measured. Only ever called in
    a process that runs the benchmark's fake server."""
    import tests.fakes.openai_realtime as fake

    if getattr(fake.rms, "memoized", False):
        return
    exact = fake.rms
    memo: dict[bytes, float] = {}

    def rms(pcmu: bytes) -> float:
        value = memo.get(pcmu)
        if value is None:
            if len(memo) > 4096:
                memo.clear()
            value = memo[pcmu] = exact(pcmu)
        return value

    rms.memoized = True  # type: ignore[attr-defined]  # a mark on the function object, which mypy does not model
    fake.rms = rms


async def _watch_lag(out: list[tuple[float, float]], step: float = 0.01) -> None:
    """Record (time, lateness) of an asyncio sleep every ``step``: how busy this process's loop is."""
    while True:
        due = time.monotonic() + step
        await asyncio.sleep(step)
        now = time.monotonic()
        out.append((now, now - due))


class RealtimeHandle:
    """The fake OpenAI Realtime server, in its own process (default) or on the driver's loop."""

    def __init__(self, mode: str, reply_ms: int, loop: Any) -> None:
        self.mode = mode
        self.proc: subprocess.Popen | None = None
        self.server: Any = None
        if mode == "process":
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.benchmarks.bench_edge", "--serve-realtime", "--reply-ms",
                 str(reply_ms)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            line = self.proc.stdout.readline().split()
            if not line or line[0] != "REALTIME_READY":
                raise RuntimeError(f"fake realtime server did not start: {line}")
            fields = dict(part.split("=", 1) for part in line[1:])
            self.port, self.api_key, self.pid = int(fields["port"]), fields["key"], self.proc.pid
        else:
            _memoize_fake_vad()
            _, server_class = _realtime_classes()
            self.server = server_class(loop, reply_ms)
            self.port, self.api_key, self.pid = self.server.port, self.server.api_key, os.getpid()

    @property
    def base_url(self) -> str:
        """The provider's ``base_url``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def records(self) -> dict[str, Any]:
        """Probe times, sessions and loop lag."""
        if self.proc is not None:
            self.proc.stdin.write("dump\n")
            self.proc.stdin.flush()
            return json.loads(self.proc.stdout.readline())

        async def _records() -> dict[str, Any]:
            return self.server.records()

        return self.server.loop.run(_records())

    def close(self) -> None:
        """Stop the server."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
        elif self.server is not None:
            self.server.close()


def serve_realtime(reply_ms: int) -> int:
    """``--serve-realtime``: run the instrumented fake server until stdin closes."""
    from simulator.loop import BackgroundLoop

    loop = BackgroundLoop()
    _memoize_fake_vad()
    _, server_class = _realtime_classes()
    server = server_class(loop, reply_ms)
    print(f"REALTIME_READY port={server.port} key={server.api_key}", flush=True)

    async def _records() -> dict[str, Any]:
        return server.records()

    for line in sys.stdin:
        if line.strip() == "dump":
            print(json.dumps(loop.run(_records())), flush=True)
    server.close()
    loop.close()
    return 0


# --- the callers ------------------------------------------------------------------------------------


def kernel_arrival(ancdata: list[tuple[int, int, bytes]], realtime_minus_monotonic: float) -> float | None:
    """The kernel's receive time of a datagram (``SO_TIMESTAMPNS`` ancillary data, CLOCK_REALTIME) on the
    monotonic clock every other figure uses, or None when the kernel gave none."""
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(payload)
            return seconds - realtime_minus_monotonic + nanoseconds / 1e9
    return None


def _call_class() -> type:
    from edge.audio.g711 import l16_to_ulaw
    from simulator.freeswitch import SILENCE, FakeCall, Heard

    class BenchCall(FakeCall):
        """A fake call whose silent frames include a probe every :data:`PROBE_EVERY` frames, whose unicast
        receiver dates each frame with the kernel's receive time, and which notes when the edge reached each
        setup step it can see (:data:`PHASES`)."""

        index = 0
        probes_sent: dict[int, float]

        speech_probe_due = False
        phases: dict[str, float]

        async def run(self, host: str, port: int) -> None:
            self.phases = {"esl_connect": time.monotonic()}
            await super().run(host, port)

        async def _on_command(self, command: str, headers: dict[str, str]) -> None:
            if command == "connect":
                self.phases.setdefault("connect", time.monotonic())
            elif command == "sendmsg":
                step = headers.get("execute-app-name") if headers.get("call-command") == "execute" else \
                    headers.get("call-command")
                if step in ("answer", "unicast"):
                    self.phases.setdefault(step, time.monotonic())
            await super()._on_command(command, headers)

        def _start_unicast(self, headers: dict[str, str]) -> None:
            """As FreeSWITCH's side of ``unicast`` (the fake's), but read with ``recvmsg``: an arrival time
            is when the kernel received the datagram, not when this busy process got round to reading it."""
            self._native = headers.get("flags") == "native"
            self._udp_peer = (headers["remote-ip"], int(headers["remote-port"]))
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self.udp.bind((headers["local-ip"], int(headers["local-port"])))
            self.udp.setblocking(False)
            asyncio.get_running_loop().add_reader(self.udp.fileno(), self._read_stamped, self.udp)
            self.fs.streaming.add(self)
            self.audio_started.set()

        def _read_stamped(self, sock: socket.socket) -> None:
            offset = time.time() - time.monotonic()
            while True:
                try:
                    data, ancdata, _flags, _addr = sock.recvmsg(2048, _CMSG_SPACE)
                except BlockingIOError:
                    return
                except OSError as exc:  # ICMP: the edge's port closed
                    self.protocol_errors.append(f"udp: {exc}")
                    return
                at = kernel_arrival(ancdata, offset) or time.monotonic()
                self.heard.append(Heard(at, data if self._native else l16_to_ulaw(data)))

        def _stop_unicast(self) -> None:
            if self.udp is not None:
                asyncio.get_running_loop().remove_reader(self.udp.fileno())
            super()._stop_unicast()

        def next_caller_frame(self) -> bytes:
            if self.speech_probe_due and self.caller_audio:
                # The first frame of an utterance: a loud probe (how soon the model hears speech).
                self.speech_probe_due = False
                self.caller_audio.popleft()
                self.sent_frames += 1
                key = SPEECH_KEY_BIT | (self.index << 16) | (self.sent_frames & 0xFFFF)
                self.probes_sent[key] = time.monotonic()
                return probe_frame(key, loud=True)
            frame = super().next_caller_frame()
            if frame is SILENCE and self.sent_frames % PROBE_EVERY == 0:
                key = (self.index << 16) | ((self.sent_frames // PROBE_EVERY) & 0xFFFF)
                self.probes_sent[key] = time.monotonic()
                return probe_frame(key)
            return frame

    return BenchCall


@dataclass
class CallerSide:
    """What the fake FreeSWITCH side measured."""

    arrivals: dict[int, array] = field(default_factory=dict)
    probes_sent: dict[int, float] = field(default_factory=dict)
    probes_heard: dict[int, float] = field(default_factory=dict)
    probe_call: dict[int, int] = field(default_factory=dict)
    """Which call heard each reply probe (a Realtime session's first one names its call)."""
    lag: list[tuple[float, float]] = field(default_factory=list)


async def _caller(call: Any, speech: list[bytes], phase: float, period: float) -> None:
    """The caller: after the greeting, speaks every ``period`` seconds until the call ends."""
    await call.answered.wait()
    await asyncio.sleep(phase)
    while not call.hung_up.is_set() and not call.closed.is_set():
        call.caller_audio.extend(speech)
        call.speech_probe_due = True
        await asyncio.sleep(period)


async def _collect(calls: list[Any], side: CallerSide, stop: asyncio.Event) -> None:
    """Drain every call's heard frames into arrival times and probe times (keeps memory flat)."""
    while True:
        for call in calls:
            batch, call.heard = call.heard, []
            if not batch:
                continue
            times = side.arrivals.setdefault(call.index, array("d"))
            for heard in batch:
                times.append(heard.at)
                if heard.pcmu[:4] == MAGIC:
                    key = probe_key(heard.pcmu)
                    if key is not None:  # the first call to hear it is the one it was sent to (a cached
                        side.probes_heard.setdefault(key, heard.at)  # greeting replays the warm-up's probe)
                        side.probe_call.setdefault(key, call.index)
        if stop.is_set():
            return
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except TimeoutError:
            pass


# --- one run ------------------------------------------------------------------------------------------


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read().decode()


def _secretary(database_url: str, realtime: RealtimeHandle, silence_chunk_ms: int = 100,
               greeting_cache: bool = True) -> tuple[uuid.UUID, uuid.UUID]:
    from shared.models import Domain
    from shared.tenancy import system_session
    from tests.factories import add_provider, add_secretary

    domain = uuid.uuid4()
    with system_session(database_url) as session:
        session.add(Domain(domain_uuid=domain, domain_name=f"bench-{domain.hex[:8]}.test"))
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime",
        "silence_chunk_ms": silence_chunk_ms, "greeting_cache": greeting_cache})
    secretary = add_secretary(domain, llm_provider_uuid=provider, system_prompt="Você é a secretária da ACME.",
                              greeting_message="Olá, ACME, em que posso ajudar?", goodbye_message="Até logo!",
                              max_call_seconds=3600)
    return domain, secretary


def _drop_domain(database_url: str, domain: uuid.UUID) -> None:
    from shared.models import Domain
    from shared.tenancy import system_session

    with system_session(database_url) as session:
        row = session.get(Domain, domain)
        if row is not None:
            session.delete(row)


HUB_SLICES = Path(__file__).resolve().parent / "hub_slices"
"""A ``sitecustomize`` that times the edge's greenlets on its event loop (``--hub-slices``)."""


def _hub_slices_env(folder: str) -> dict[str, str]:
    """The edge's environment for ``--hub-slices``: the tracer on its path, its report in ``folder``."""
    path = os.pathsep.join(p for p in (str(HUB_SLICES), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "HUB_SLICES_OUT": str(Path(folder) / "hub-slices")}


SETUP_TRACE = Path(__file__).resolve().parent / "setup_trace"
"""A ``sitecustomize`` that timestamps the steps of each call's set-up on the edge (``--trace-setup``)."""

WS_STEPS: list[tuple[str, str, str, str]] = [
    ("esl", "esl_connect", "entered", "ESL connect -> edge starts opening (setup, engine created)"),
    ("edge", "entered", "tcp_up", "edge: connect() entered -> TCP up (address, proxy lookup, connect)"),
    ("server", "tcp_up", "accepted", "fake server: TCP up (edge) -> accepted (its loop)"),
    ("edge", "tcp_up", "request_sending", "edge: TCP up -> handshake request written"),
    ("server", "request_sending", "request_read", "fake server: request written -> request read"),
    ("server", "request_read", "realtime_open", "fake server: request read -> response written, session up"),
    ("edge", "realtime_open", "response_read", "edge: response written -> read by the edge's reader greenlet"),
    ("edge", "response_read", "response_back", "edge: response read -> handshake call resumed"),
    ("edge", "response_back", "returned", "edge: handshake done -> connect() returned"),
    ("edge", "returned", "session_update", "edge -> fake: connect() returned -> session.update read by fake"),
]
"""The steps of a Realtime WebSocket opening, (side whose time it is, from, to, label)."""

ESL_STEPS: list[tuple[str, str, str]] = [
    ("esl_connect", "handler", "edge: ESL connect (driver) -> the edge's handler runs (accept, greenlet)"),
    ("handler", "connect_sent", "edge: handler -> connect sent"),
    ("connect_sent", "connect", "fake FS: connect sent (edge) -> read by the fake FS"),
    ("connect", "connect_reply", "edge: fake FS replied to connect -> the edge has the reply"),
    ("connect_reply", "answer_sent", "edge: connect reply -> answer sent (set-up commands, set-up, engine)"),
    ("answer_sent", "answer", "fake FS: answer sent (edge) -> read by the fake FS"),
    ("answer", "answer_done", "fake FS + edge: answer read -> its completion read by the edge (incl. the fake's "
                              "answer time)"),
    ("answer_done", "unicast_sent", "edge: answer done -> unicast sent (timers, recorder, transport)"),
    ("unicast_sent", "unicast", "fake FS: unicast sent (edge) -> read by the fake FS"),
    ("unicast", "unicast_reply", "edge: fake FS replied to unicast -> the edge has the reply"),
    ("unicast_reply", "first_frame", "edge: unicast reply -> first greeting frame sent"),
    ("first_frame", "heard", "kernel: first frame sent -> received by the caller (kernel time stamp)"),
]
"""The steps of a call's set-up up to its greeting, (from, to, label); whose time each is, is a guess by
where the work happens (a step that waits for the fake FreeSWITCH also waits for the edge to read its reply)."""


def _trace_env(folder: str) -> dict[str, str]:
    """The edge's environment for ``--trace-setup``: the tracer on its path, its report in ``folder``."""
    path = os.pathsep.join(p for p in (str(SETUP_TRACE), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "SETUP_TRACE_OUT": str(Path(folder) / "setup-trace")}


def esl_breakdown(esl_traces: list[dict[str, Any]], calls: list[Any],
                  steps: dict[int, dict[str, float]]) -> dict[str, str | None]:
    """Per step of a call's set-up (:data:`ESL_STEPS`), ``"p50 / p99"`` ms over the calls that had it."""
    by_uuid = {trace.get("uuid"): trace for trace in esl_traces}
    joined = []
    for call in calls:
        trace = by_uuid.get(call.uuid)
        if trace is not None and call.index in steps:
            joined.append({**trace, **{k: steps[call.index][k]
                                       for k in ("esl_connect", "connect", "answer", "unicast", "heard")
                                       if k in steps[call.index]}})
    return {label: _p50_p99([t[end] - t[start] for t in joined if start in t and end in t])
            for start, end, label in ESL_STEPS}


def ws_open_breakdown(edge_traces: list[dict[str, Any]], opening: dict[int, dict[str, float]],
                      sessions: list[dict[str, Any]], steps: dict[int, dict[str, float]]) -> dict[str, str | None]:
    """Per step of the Realtime WebSocket opening (:data:`WS_STEPS`), ``"p50 / p99"`` ms over the calls
    whose every timestamp was seen (edge tracer, fake server, driver: one monotonic clock)."""
    by_port = {trace["port"]: dict(trace) for trace in edge_traces if "port" in trace}
    for port, seen in opening.items():
        if port in by_port:
            by_port[port].update(seen)
    for session in sessions:
        trace = by_port.get(session.get("port"))
        if trace is None:
            continue
        trace.update(session["phases"])
        if session.get("call") in steps:
            trace["esl_connect"] = steps[session["call"]]["esl_connect"]
    found: dict[str, str | None] = {}
    for _, start, end, label in WS_STEPS:
        values = [t[end] - t[start] for t in by_port.values() if start in t and end in t]
        found[label] = _p50_p99(values)
    values = [t["returned"] - t["entered"] for t in by_port.values() if "returned" in t]
    found["edge: connect() entered -> returned (whole opening)"] = _p50_p99(values)
    return found


def _print_hub_slices(report: Path, calls: int, rows: int = 15) -> None:
    """Print (stderr) the greenlets that held the edge's loop longest, where they gave it back."""
    if not report.exists():
        print(f"N={calls}: no hub-slices report (the edge did not exit normally)", file=sys.stderr)
        return
    found = json.loads(report.read_text())
    print(f"N={calls}: loop held >= {found['slice_seconds'] * 1000:g} ms, by greenlet and where it gave the "
          "loop back (count, longest ms, total ms; of it on the CPU: longest ms, total ms):", file=sys.stderr)
    for kind, where, count, longest, total, longest_cpu, total_cpu in found["rows"][:rows]:
        print(f"  {count:6d} {longest * 1000:8.1f} {total * 1000:9.0f} {longest_cpu * 1000:8.1f} {total_cpu * 1000:9.0f}"
              f"  {kind}  {where[:120]}", file=sys.stderr)


def run_benchmark(calls: int, *, seconds: float = 20.0, settle: float = 3.0, period: float = 4.0,
                  reply_ms: int = 4000, arrival_rate: float = 40.0, realtime_mode: str = "process",
                  log_level: str = "INFO", database_url: str | None = None, redis_url: str | None = None,
                  seed: int = 7, edge_log: str | None = None, warmup: float = 1.5,
                  edge_nice: int | None = None, edge_rr: int = 0, pin_edge: int | None = None,
                  silence_chunk_ms: int = 100,
                  burst: bool = False,
                  cold: bool = False, hub_slices: bool = False, trace_setup: bool = False,
                  greeting_cache: bool = True) -> dict[str, Any]:
    """Run ``calls`` calls arriving at ``arrival_rate`` per second against a fresh edge; return the report
    (see :data:`FIELDS`). The figures cover a window of ``seconds`` once every call is up, or with
    ``burst`` the arrivals themselves (first call placed → every call greeted, + 1 s). ``cold``: no
    warm-up call, the first call arrives the moment the edge says it is ready."""
    import tests.conftest as conf
    from edge.audio.g711 import samples_to_ulaw  # noqa: F401 - warm numpy before timing
    from simulator.audio import frames, noise, silence
    from simulator.freeswitch import FakeFreeSwitch
    from simulator.loop import BackgroundLoop
    from tests.edge.harness import EdgeProcess

    if database_url is None:  # the run's own database (tests/conftest.py) starts empty
        from shared.migrate import migrate

        database_url = conf.TEST_DATABASE_URL
        migrate(database_url)
    redis_url = redis_url or conf.TEST_REDIS_URL
    rng = random.Random(seed)
    speech = frames(noise(400, seed=3) + silence(100))
    loop = BackgroundLoop()
    side = CallerSide()
    loop.call(lambda: asyncio.get_running_loop().create_task(_watch_lag(side.lag)))
    realtime = RealtimeHandle(realtime_mode, reply_ms, loop)
    domain, secretary = _secretary(database_url, realtime, silence_chunk_ms, greeting_cache)
    call_class = _call_class()
    spool = tempfile.TemporaryDirectory(prefix="bench-edge-")
    low = rng.randrange(20000, 56000, 2)
    spawned = time.monotonic()
    edge = EdgeProcess(database_url, redis_url, spool.name, LOG_LEVEL=log_level,
                       EDGE_UNICAST_PORTS=f"{low}-{low + 2 * calls + 200}",
                       GREETING_CACHE_DIR=str(Path(spool.name) / "greetings"), EDGE_RR_PRIORITY=str(edge_rr),
                       **(_hub_slices_env(spool.name) if hub_slices else {}),
                       **(_trace_env(spool.name) if trace_setup else {}))
    edge_ready_seconds = time.monotonic() - spawned
    if edge_nice is not None:
        os.setpriority(os.PRIO_PROCESS, edge.proc.pid, edge_nice)  # its main thread: the gevent hub
    if pin_edge is not None:
        _pin(edge.proc.pid, {pin_edge})
    print(f"N={calls}: edge pid {edge.proc.pid}, fake Realtime pid {realtime.pid}, driver pid {os.getpid()}",
          file=sys.stderr, flush=True)
    fs = FakeFreeSwitch("127.0.0.1", edge.esl_port, loop)
    variables = {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)}
    placed: list[Any] = []
    stop_collect = asyncio.Event()

    def place(index: int) -> Any:
        call = call_class(fs, dict(variables))
        call.index = index
        call.probes_sent = side.probes_sent
        fs.calls.append(call)
        placed.append(call)
        asyncio.get_running_loop().create_task(call.run(fs.esl_host, fs.esl_port))
        return call

    async def _start_collector() -> None:
        asyncio.get_running_loop().create_task(_collect(placed, side, stop_collect))

    def snapshot() -> dict[str, Any]:
        """The edge's metrics, CPU and run-queue wait, and the load generator's CPU, now."""
        cpu = {"edge": cpu_seconds(edge.proc.pid), "driver": cpu_seconds(os.getpid())}
        if realtime.proc is not None:
            cpu["realtime"] = cpu_seconds(realtime.pid)
        return {"metrics": _fetch(f"http://127.0.0.1:{edge.metrics_port}/metrics"), "at": time.monotonic(),
                "wait": run_queue_wait(edge.proc.pid), "cpu": cpu}

    try:
        loop.run(_start_collector())
        if not cold:
            # Warm-up: one call through the whole path (imports, pools), then the RSS baseline.
            async def _warm() -> Any:
                return place(0)

            warm = loop.run(_warm())
            warm.wait("answered", timeout=15)
            time.sleep(warmup)
            warm.hangup()
            edge.wait_idle(timeout=5)
            time.sleep(0.5)
        rss_base = rss_bytes(edge.proc.pid)

        async def _arrive() -> None:
            started = time.monotonic()
            for i in range(1, calls + 1):  # on a schedule, so a busy driver does not slow the arrivals
                delay = started + (i - 1) / arrival_rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                call = place(i)
                asyncio.get_running_loop().create_task(
                    _caller(call, speech, 1.5 + rng.uniform(0, period), period))

        start = snapshot() if burst else None
        arrivals_started = time.monotonic()
        loop.run(_arrive(), timeout=calls / arrival_rate + 60)
        deadline = time.monotonic() + 30 + calls / 20
        active = [c for c in placed if c.index > 0]
        while time.monotonic() < deadline and not all(
                c.answered.is_set() and c.index in side.arrivals for c in active):
            time.sleep(0.05)
        answered = sum(c.answered.is_set() for c in active)
        ramp_seconds = time.monotonic() - arrivals_started
        if burst:
            time.sleep(1.0)  # the last greetings play on
        else:
            time.sleep(settle + period)
            start = snapshot()
            time.sleep(seconds)
        end = snapshot()
        assert start is not None
        before, after, t0, t1 = start["metrics"], end["metrics"], start["at"], end["at"]
        wait0, wait1, cpu0, cpu1 = start["wait"], end["wait"], start["cpu"], end["cpu"]
        rss_loaded = rss_bytes(edge.proc.pid)
        health = edge.health()
        load = os.getloadavg()[0]

        for call in active:
            call.hangup()
        hung_up = time.monotonic()
        idle = edge.wait_idle(timeout=10)
        cleanup_seconds = time.monotonic() - hung_up
        loop.call(stop_collect.set)
        time.sleep(0.4)
        remote = realtime.records()
    finally:
        fs.close()
        edge.stop()
        if edge_log:
            Path(edge_log).write_bytes(edge.log_path.read_bytes())
        if hub_slices:
            _print_hub_slices(Path(spool.name) / f"hub-slices.{edge.proc.pid}", calls)
        trace_file = Path(spool.name) / f"setup-trace.{edge.proc.pid}"
        traces = json.loads(trace_file.read_text()) if trace_setup and trace_file.exists() else {}
        realtime.close()
        loop.close()
        _drop_domain(database_url, domain)
        spool.cleanup()
        try:
            import redis

            redis.Redis.from_url(redis_url).delete("conversations")
        except Exception:  # noqa: BLE001 - only tidying
            pass

    window = t1 - t0
    in_window = lambda t: t0 <= t <= t1  # noqa: E731

    # Pacing, as the edge measures it, and as the caller receives it. An utterance's first frame leaves
    # the moment its audio reaches an idle call and the next one on the clock's next tick, less than 20 ms
    # later by design: that one gap per utterance is not jitter.
    pacing_n, pacing_p50, pacing_p99, pacing_over = histogram_window(before, after, "voice_ai_frame_pacing_seconds")
    jitter: list[float] = []
    for times in side.arrivals.values():
        previous, starting = None, True
        for at in times:
            if previous is not None and at - previous < UTTERANCE_GAP:
                if in_window(at) and not starting:
                    jitter.append(abs(at - previous - 0.02))
                starting = False
            else:
                starting = True
            previous = at

    # The greeting: ESL connect -> first frame heard, and each setup step seen on the way (driver's and
    # fake Realtime's clocks: both monotonic, one host). A session names its call by its first probe.
    steps: dict[int, dict[str, float]] = {c.index: dict(c.phases) for c in active if getattr(c, "phases", None)}
    for session in remote["sessions"]:
        index = side.probe_call.get(session["first_out_key"]) if session["first_out_key"] is not None else None
        if session["call"] is None:
            session["call"] = index
        if index in steps:
            for name, at in session["phases"].items():
                steps[index].setdefault(name, at)
    for index, times in side.arrivals.items():
        if index in steps and len(times):
            steps[index]["heard"] = times[0]
    setup: dict[str, list[float]] = {name: [] for name, _ in PHASES}
    for phases in steps.values():
        for name, values in setup.items():
            if name in phases:
                values.append(phases[name] - phases["esl_connect"])
    greetings = setup["heard"]
    ws_open = (ws_open_breakdown(traces.get("ws", []), {int(k): v for k, v in remote["opening"]}, remote["sessions"],
                                 steps) if trace_setup else {})
    esl_setup = esl_breakdown(traces.get("esl", []), active, steps) if trace_setup else {}

    # Barge-in: the edge's histogram, and end to end.
    barge_n, barge_p50, barge_p99, _ = histogram_window(before, after, "voice_ai_bargein_seconds")
    gc_n, _, gc_p99, gc_over = histogram_window(before, after, "voice_ai_gc_pause_seconds")
    _, start_p50, start_p99, _ = histogram_window(before, after, "voice_ai_playback_start_seconds")
    e2e: list[float] = []
    for session in remote["sessions"]:
        times = side.arrivals.get(session["call"]) if session["call"] is not None else None
        if not times:
            continue
        ordered = sorted(times)
        for started in session["speech_started"]:
            if not in_window(started):
                continue
            first_after = bisect_right(ordered, started)
            if not first_after or ordered[first_after - 1] < started - 0.06:
                continue  # nothing was playing: a question, not a barge-in
            last = bisect_right(ordered, started + BARGE_WINDOW)
            e2e.append(ordered[last - 1] - started if last > first_after else 0.0)

    # Edge-added latency per direction, from the probes.
    inbound_recv = dict((int(k), v) for k, v in remote["inbound"])
    latency_in = [inbound_recv[k] - sent for k, sent in side.probes_sent.items()
                  if k in inbound_recv and in_window(sent) and not k & SPEECH_KEY_BIT]
    latency_speech = [inbound_recv[k] - sent for k, sent in side.probes_sent.items()
                      if k in inbound_recv and in_window(sent) and k & SPEECH_KEY_BIT]
    outbound_sent = dict((int(k), v) for k, v in remote["outbound"])
    latency_out = [heard - outbound_sent[k] for k, heard in side.probes_heard.items()
                   if k in outbound_sent and in_window(outbound_sent[k])]

    edge_cpu = cpu1["edge"] - cpu0["edge"]
    lag_fs = [lag for at, lag in side.lag if in_window(at)]
    lag_rt = [lag for at, lag in remote["lag"] if in_window(at)]
    loadgen_cpu = sum(cpu1[k] - cpu0[k] for k in cpu1 if k != "edge")
    ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
    return {
        "calls": calls,
        "answered": answered,
        "greeted": len(greetings),
        "edge_ready_s": round(edge_ready_seconds, 2),
        "arrival_rate": arrival_rate,
        "greeting_p50_ms": ms(percentile(greetings, 50)),
        "greeting_p99_ms": ms(percentile(greetings, 99)),
        "greeting_max_ms": ms(max(greetings) if greetings else None),
        **{f"setup_{name}_ms": _p50_p99(values) for name, values in setup.items()},
        "ramp_s": round(ramp_seconds, 1),
        "window_s": round(t1 - t0, 1),
        "frames_paced": pacing_n,
        "pacing_p50_ms": ms(pacing_p50),
        "pacing_p99_ms": ms(pacing_p99),
        "pacing_over_5ms_pct": round(100 * pacing_over, 3),
        "rx_jitter_p50_ms": ms(percentile(jitter, 50)),
        "rx_jitter_p99_ms": ms(percentile(jitter, 99)),
        "bargeins": barge_n,
        "bargein_edge_p99_ms": ms(barge_p99),
        "bargein_e2e_n": len(e2e),
        "bargein_e2e_p50_ms": ms(percentile(e2e, 50)),
        "bargein_e2e_p99_ms": ms(percentile(e2e, 99)),
        "bargein_e2e_max_ms": ms(max(e2e) if e2e else None),
        "latency_speech_p50_ms": ms(percentile(latency_speech, 50)),
        "latency_speech_p99_ms": ms(percentile(latency_speech, 99)),
        "latency_in_p50_ms": ms(percentile(latency_in, 50)),
        "latency_in_p99_ms": ms(percentile(latency_in, 99)),
        "latency_out_p50_ms": ms(percentile(latency_out, 50)),
        "latency_out_p99_ms": ms(percentile(latency_out, 99)),
        "playback_start_p50_ms": ms(start_p50),
        "playback_start_p99_ms": ms(start_p99),
        "gc_pauses": gc_n,
        "gc_pause_p99_ms": ms(gc_p99),
        "gc_pauses_over_5ms": round(gc_n * gc_over),
        "edge_cpu_pct": round(100 * edge_cpu / window, 1),
        "edge_runq_wait_pct": round(100 * (wait1 - wait0) / window, 1),
        "cpu_s_per_call_s": round(edge_cpu / (calls * window), 5),
        "rss_base_mb": round(rss_base / 2**20, 1),
        "rss_loaded_mb": round(rss_loaded / 2**20, 1),
        "rss_per_call_mb": round((rss_loaded - rss_base) / calls / 2**20, 3),
        "loadgen_cpu_pct": round(100 * loadgen_cpu / window, 1),
        "loadgen_lag_p99_ms": ms(percentile(lag_fs + lag_rt, 99)),
        "driver_lag_p99_ms": ms(percentile(lag_fs, 99)),
        "realtime_lag_p99_ms": ms(percentile(lag_rt, 99)),
        "realtime_cpu_pct": round(100 * (cpu1["realtime"] - cpu0["realtime"]) / window, 1) if "realtime" in cpu1 else None,
        "host_load_1m": round(load, 2),
        "calls_active_in_window": health.get("calls_active"),
        "cleanup_s": round(cleanup_seconds, 2),
        "left_over": {k: idle[k] for k in ("calls_active", "udp_ports_in_use", "paced_streams")},
        "realtime": realtime_mode,
        "mode": "burst" if burst else "steady",
        "edge_cpu_ms_per_call": round(1000 * edge_cpu / calls, 2),
        "ws_open": ws_open,
        "esl_setup": esl_setup,
    }


def _p50_p99(values: list[float]) -> str | None:
    """``"p50 / p99"`` in ms, for a table cell."""
    if not values:
        return None
    return f"{percentile(values, 50) * 1000:.0f} / {percentile(values, 99) * 1000:.0f}"


PHASES: list[tuple[str, str]] = [
    ("connect", "edge sent connect"),
    ("answer", "edge sent answer"),
    ("unicast", "edge started audio (unicast)"),
    ("realtime_open", "Realtime WebSocket open"),
    ("session_update", "session.update received"),
    ("response_create", "response.create received (greeting not cached)"),
    ("first_delta", "first audio delta sent (greeting not cached)"),
    ("greeting_told", "cached greeting told (assistant item received)"),
    ("heard", "first frame heard (greeting)"),
]
"""The setup steps of a call the load generator sees, each timed from ESL connect (the Realtime socket opens
while the call is answered and its audio starts, so its steps may come before ``answer``)."""

FIELDS: list[tuple[str, str]] = [
    ("answered", "calls answered"),
    ("greeted", "calls greeted (first frame heard)"),
    ("edge_ready_s", "edge start -> ready to answer (s)"),
    ("greeting_p50_ms", "greeting p50 (ms, ESL connect -> first frame)"),
    ("greeting_p99_ms", "greeting p99 (ms, ESL connect -> first frame)"),
    ("greeting_max_ms", "greeting max (ms)"),
    *[(f"setup_{name}_ms", f"  -> {label} p50 / p99 (ms)") for name, label in PHASES],
    ("calls_active_in_window", "calls active (edge /healthz)"),
    ("ramp_s", "ramp-up (s)"),
    ("window_s", "measured window (s)"),
    ("frames_paced", "frames paced in window"),
    ("pacing_p50_ms", "pacing |sent - scheduled| p50 (ms, edge)"),
    ("pacing_p99_ms", "pacing |sent - scheduled| p99 (ms, edge)"),
    ("pacing_over_5ms_pct", "frames off the clock by over 5 ms (%)"),
    ("rx_jitter_p50_ms", "receive jitter p50 (ms, fake FS)"),
    ("rx_jitter_p99_ms", "receive jitter p99 (ms, fake FS)"),
    ("bargeins", "barge-ins (edge)"),
    ("bargein_edge_p99_ms", "barge-in p99 (ms, edge histogram)"),
    ("bargein_e2e_n", "barge-ins seen end to end"),
    ("bargein_e2e_p50_ms", "barge-in e2e p50 (ms)"),
    ("bargein_e2e_p99_ms", "barge-in e2e p99 (ms)"),
    ("bargein_e2e_max_ms", "barge-in e2e max (ms)"),
    ("latency_speech_p50_ms", "caller speech->model p50 (ms)"),
    ("latency_speech_p99_ms", "caller speech->model p99 (ms)"),
    ("latency_in_p50_ms", "caller silence->model p50 (ms)"),
    ("latency_in_p99_ms", "caller silence->model p99 (ms)"),
    ("latency_out_p50_ms", "model->caller p50 (ms, edge-added downlink)"),
    ("latency_out_p99_ms", "model->caller p99 (ms, edge-added downlink)"),
    ("playback_start_p50_ms", "reply audio queued -> first frame p50 (ms, edge)"),
    ("playback_start_p99_ms", "reply audio queued -> first frame p99 (ms, edge)"),
    ("gc_pauses", "garbage collections in window (edge)"),
    ("gc_pause_p99_ms", "garbage collection p99 (ms)"),
    ("gc_pauses_over_5ms", "garbage collections over 5 ms"),
    ("edge_cpu_pct", "edge CPU (% of one core)"),
    ("edge_runq_wait_pct", "edge waiting for a CPU (% of window)"),
    ("cpu_s_per_call_s", "edge CPU s per call-second"),
    ("edge_cpu_ms_per_call", "edge CPU in window per call (ms)"),
    ("rss_base_mb", "edge RSS after warm-up (MB)"),
    ("rss_loaded_mb", "edge RSS with N calls (MB)"),
    ("rss_per_call_mb", "edge RSS per call (MB)"),
    ("loadgen_cpu_pct", "load generator CPU (% of one core)"),
    ("loadgen_lag_p99_ms", "load generator loop lag p99 (ms)"),
    ("driver_lag_p99_ms", "  -> fake FreeSWITCH + callers loop lag p99 (ms)"),
    ("realtime_lag_p99_ms", "  -> fake Realtime loop lag p99 (ms)"),
    ("realtime_cpu_pct", "  fake Realtime CPU (% of one core)"),
    ("host_load_1m", "host load average (1 min)"),
    ("cleanup_s", "all calls released after hangup (s)"),
]
"""The report's figures, in print order (``calls``, ``left_over`` and ``realtime`` are also present)."""


def format_table(reports: list[dict[str, Any]]) -> str:
    """Figures as rows, one column per N."""
    width = max(len(label) for _, label in FIELDS)
    head = f"{'N calls':<{width}} | " + " | ".join(f"{r['calls']:>9}" for r in reports)
    lines = [head, "-" * len(head)]
    for key, label in FIELDS:
        cells = []
        for report in reports:
            value = report[key]
            cells.append(f"{'-' if value is None else value:>9}")
        lines.append(f"{label:<{width}} | " + " | ".join(cells))
    return "\n".join(lines)


def holds_target(report: dict[str, Any]) -> bool:
    """Pacing p99 ≤ 5 ms with every call answered."""
    return (report["answered"] == report["calls"] and report["pacing_p99_ms"] is not None
            and report["pacing_p99_ms"] <= PACING_TARGET * 1000)


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--period", type=float, default=4.0, help="the caller speaks (and barges in) this often")
    parser.add_argument("--reply-ms", type=int, default=4000, help="length of every scripted reply")
    parser.add_argument("--arrival-rate", type=float, default=40.0, help="calls placed per second, up to N")
    parser.add_argument("--burst", action="store_true",
                        help="measure the arrivals themselves (first call placed -> every call greeted, + 1 s) "
                             "instead of a window once every call is up")
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up call: the first call arrives the moment the edge says it is ready")
    parser.add_argument("--realtime", choices=("process", "inline"), default="process",
                        help="fake Realtime server in its own process, or on the driver's loop")
    parser.add_argument("--log-level", default="INFO", help="the edge's LOG_LEVEL")
    parser.add_argument("--find-max", action="store_true",
                        help="after --calls, raise N by --step until pacing p99 > 5 ms")
    parser.add_argument("--edge-nice", type=int, default=None,
                        help="nice value of the edge's main thread (the gevent hub), e.g. below --nice to rank it "
                             "above the load generator")
    parser.add_argument("--edge-rr", type=int, default=0, metavar="PRIORITY",
                        help="the edge's EDGE_RR_PRIORITY: its event loop at SCHED_RR (as the systemd unit runs it; "
                             "the load generator then gets the CPU after it)")
    parser.add_argument("--pin-edge", type=int, default=None, metavar="CPU",
                        help="run the edge alone on this CPU, the driver and the fake Realtime on the others")
    parser.add_argument("--silence-chunk-ms", type=int, default=100,
                        help="the provider's silence_chunk_ms: silent caller audio per input_audio_buffer.append")
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="also print each report as JSON")
    parser.add_argument("--edge-log", help="copy the (last) edge process's log here")
    parser.add_argument("--hub-slices", action="store_true",
                        help="print which greenlets held the edge's event loop >= 2 ms, and where "
                             "(tests/benchmarks/hub_slices; the tracing costs CPU: not for the figures)")
    parser.add_argument("--no-greeting-cache", action="store_true",
                        help="the Realtime provider's greeting_cache off: the vendor speaks every call's greeting "
                             "(by default the warm-up call's greeting is cached and the burst's calls play it)")
    parser.add_argument("--trace-setup", action="store_true",
                        help="print when each step of the calls' set-up (Event Socket) and Realtime WebSocket "
                             "openings happened, edge and fake side (tests/benchmarks/setup_trace; not with "
                             "--hub-slices: one sitecustomize)")
    parser.add_argument("--nice", type=int, default=0,
                        help="nice value for every benchmark process (edge, fakes, driver; below 0 needs root): "
                             "shields the figures from other work on a shared host")
    parser.add_argument("--serve-realtime", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_realtime:
        return serve_realtime(args.reply_ms)
    if args.trace_setup and args.hub_slices:
        parser.error("--trace-setup and --hub-slices each put a sitecustomize on the edge's path: one at a time")

    if args.pin_edge is not None:  # before any thread or child: the driver's and the fake Realtime's CPUs
        others = set(range(os.cpu_count() or 1)) - {args.pin_edge}
        if args.pin_edge not in os.sched_getaffinity(0) or not others:
            parser.error(f"--pin-edge {args.pin_edge}: needs that CPU and at least one other")
        os.sched_setaffinity(0, others)
    group_nice = None
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # before any thread or child: they inherit it
        try:  # with autogroup scheduling, nice only ranks processes of one session: rank the session too
            group_nice = _autogroup().rsplit(" ", 1)[-1]
            Path("/proc/self/autogroup").write_text(str(args.nice))
        except (OSError, ValueError):
            group_nice = None
    try:
        return _run(args)
    finally:
        if group_nice is not None:  # the session outlives the benchmark: give its rank back
            try:
                Path("/proc/self/autogroup").write_text(group_nice)
            except OSError:
                pass


def host_speed_us(rounds: int = 5, frames: int = 20000) -> float:
    """This host's speed at the edge's typical per-frame work: the median over ``rounds`` of the
    microseconds one caller frame's ``input_audio_buffer.append`` takes to build (base64 and JSON of 20 ms
    of PCMU). Machines of one kind differ, and so does one machine from hour to hour (seen here: 4.3-5.2
    us, on a machine where the edge took 0.0044-0.0050 CPU s per call-second at 100-200 calls; an earlier
    machine of the same kind measured 0.0012 at 200), and every figure of this benchmark scales with it:
    compare runs of different hosts by it, not as they are."""
    import base64

    frame = bytes(range(160))
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(frames):
            json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(frame).decode()})
        times.append((time.perf_counter() - started) / frames * 1e6)
    return sorted(times)[rounds // 2]


def _run(args: argparse.Namespace) -> int:
    """Run the requested benchmarks and print the table."""
    print(f"host speed: {host_speed_us():.2f} us per caller frame's append event built (json + base64; "
          "lower is faster, see host_speed_us)", flush=True)
    print(f"bench_edge: one `voice-ai edge` process; fake Realtime server: "
          f"{'own process' if args.realtime == 'process' else 'driver process'}; fake FreeSWITCH + callers: "
          f"driver process; {os.cpu_count()} cores shared by all. Caller speaks every {args.period:g} s, "
          f"replies {args.reply_ms} ms (sent at 4x real time), unicast PCMU native, caller speech "
          f"to the model every 20 ms and silence in {args.silence_chunk_ms} ms chunks, window {args.seconds:g} s, "
          f"nice {os.getpriority(os.PRIO_PROCESS, 0)} ({_autogroup()}), edge nice "
          f"{os.getpriority(os.PRIO_PROCESS, 0) if args.edge_nice is None else args.edge_nice}"
          f"{f', edge loop at SCHED_RR {args.edge_rr}' if args.edge_rr else ''}"
          f"{'' if args.pin_edge is None else f', edge alone on CPU {args.pin_edge}, the rest on the others'}.",
          flush=True)
    options = dict(seconds=args.seconds, settle=args.settle, period=args.period, reply_ms=args.reply_ms,
                   arrival_rate=args.arrival_rate, burst=args.burst, cold=args.cold,
                   realtime_mode=args.realtime, log_level=args.log_level,
                   edge_log=args.edge_log, edge_nice=args.edge_nice, edge_rr=args.edge_rr, pin_edge=args.pin_edge,
                   silence_chunk_ms=args.silence_chunk_ms, hub_slices=args.hub_slices, trace_setup=args.trace_setup,
                   greeting_cache=not args.no_greeting_cache)
    reports = []
    for n in args.calls:
        report = run_benchmark(n, **options)
        reports.append(report)
        print(f"N={n}: pacing p99 {report['pacing_p99_ms']} ms, left over after hangup {report['left_over']}",
              flush=True)
        if args.json:
            print(json.dumps(report), flush=True)
        for label, value in report["esl_setup"].items():
            print(f"N={n}: call set-up, {label}: p50 / p99 {value} ms", flush=True)
        for label, value in report["ws_open"].items():
            print(f"N={n}: Realtime WebSocket opening, {label}: p50 / p99 {value} ms", flush=True)
    if args.find_max:
        passing = [r["calls"] for r in reports if holds_target(r)]
        n = (max(passing) if passing else 0) + args.step
        while True:
            report = run_benchmark(n, **options)
            reports.append(report)
            print(f"N={n}: pacing p99 {report['pacing_p99_ms']} ms", flush=True)
            if args.json:
                print(json.dumps(report), flush=True)
            if not holds_target(report):
                break
            n += args.step
        passing = [r["calls"] for r in reports if holds_target(r)]
        print(f"largest N holding pacing p99 <= 5 ms: {max(passing) if passing else 'none'}")
    print(format_table(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
