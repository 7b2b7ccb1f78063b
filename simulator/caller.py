"""``voice-ai simulate-call``: place one test call against a running edge through the fake FreeSWITCH.

The caller is scripted as a list of :class:`CallerTurn` (sentences spoken by an espeak-ng English voice,
DTMF keys, pauses). After the secretary's greeting, each turn is played once the secretary has been
quiet for a moment, the way a polite caller waits; the call ends when the edge hangs up (transfer,
goodbye) or, after the last turn, when the caller hangs up.

What comes back (:class:`SimulatedCallResult`) is what the caller experienced: when the secretary
spoke and for how long, how long each answer took to start after the caller stopped speaking, what
FreeSWITCH was asked to do (ring a destination, bridge the caller to it …), and how the call ended. With a database URL, the
transcript the workers stored for the call is added to the report.
"""

from __future__ import annotations

import argparse
import time
import uuid
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge.audio.g711 import ulaw_to_samples
from simulator.audio import FRAME, rms
from simulator.freeswitch import FakeCall, FakeFreeSwitch
from simulator.transcript import transcript_lines, wait_for_conversation
from simulator.voice import caller_says

SPEECH_RMS = 150.0
"""A heard frame louder than this counts as the secretary speaking."""
QUIET_SECONDS = 1.2
"""The secretary has finished speaking once nothing louder than :data:`SPEECH_RMS` came for this long."""


@dataclass(frozen=True)
class CallerTurn:
    """One thing the simulated caller does."""

    kind: str  # "say" | "dtmf" | "pause"
    value: str = ""
    seconds: float = 0.0

    @classmethod
    def say(cls, text: str) -> CallerTurn:
        """Speak ``text`` (espeak-ng, American English voice)."""
        return cls("say", text)

    @classmethod
    def press(cls, digit: str) -> CallerTurn:
        """Press a DTMF key."""
        return cls("dtmf", digit)

    @classmethod
    def pause(cls, seconds: float) -> CallerTurn:
        """Stay silent for ``seconds``."""
        return cls("pause", seconds=seconds)

    def describe(self) -> str:
        """One line for the report."""
        if self.kind == "say":
            return f'says "{self.value}"'
        if self.kind == "dtmf":
            return f"presses {self.value}"
        return f"stays silent for {self.seconds:.1f} s"


@dataclass
class Span:
    """A stretch of one party's audio, in seconds from the answer."""

    start: float
    end: float


@dataclass
class TurnTiming:
    """One caller turn and the answer it got."""

    turn: CallerTurn
    started: float
    ended: float
    answer: Span | None = None

    @property
    def response_ms(self) -> int | None:
        """Caller stopped → first secretary audio, as the caller experienced it."""
        return None if self.answer is None else round(1000 * (self.answer.start - self.ended))


@dataclass
class SimulatedCallResult:
    """What the caller experienced, plus what FreeSWITCH was asked to do."""

    call_uuid: str
    answered: bool
    greeting: Span | None
    turns: list[TurnTiming]
    secretary_speech: list[Span]
    executed: list[tuple[str, str]]
    hangup_cause: str | None
    hung_up_by: str
    duration: float
    caller_frames: list[tuple[float, bytes]] = field(repr=False, default_factory=list)
    heard_frames: list[tuple[float, bytes]] = field(repr=False, default_factory=list)
    transcript: list[str] = field(default_factory=list)
    reached: bool = True
    rung: list[str] = field(default_factory=list)
    """Dial strings of the legs the edge had FreeSWITCH ring (``bgapi originate``)."""
    joined: list[str] = field(default_factory=list)
    """Dial strings of the answered legs the caller was bridged to (``uuid_bridge``)."""

    def bridges(self) -> list[str]:
        """Destinations the caller was bridged to."""
        return list(self.joined)

    def report(self) -> str:
        """The call as a human-readable timeline."""
        lines = [f"=== Simulated call {self.call_uuid} ==="]
        if not self.answered:
            lines.append("  the edge never answered")
        if self.greeting:
            lines.append(f"  {self.greeting.start:6.2f}s  secretary greets ({self.greeting.end - self.greeting.start:.1f} s,"
                         f" {round(1000 * self.greeting.start)} ms after answer)")
        for timing in self.turns:
            lines.append(f"  {timing.started:6.2f}s  caller {timing.turn.describe()}")
            if timing.answer is not None:
                lines.append(f"  {timing.answer.start:6.2f}s  secretary answers after {timing.response_ms} ms "
                             f"({timing.answer.end - timing.answer.start:.1f} s of speech)")
            else:
                lines.append("           (no spoken answer)")
        for app, arg in self.executed:
            if app not in {"answer"}:
                lines.append(f"           FreeSWITCH executed {app} {arg}".rstrip())
        for dial in self.rung:
            lines.append(f"           FreeSWITCH rang {dial} (bgapi originate)")
        for dial in self.joined:
            lines.append(f"           FreeSWITCH bridged the caller to {dial} (uuid_bridge)")
        lines.append(f"  {self.duration:6.2f}s  call ended by the {self.hung_up_by} ({self.hangup_cause or 'no hangup'})")
        if self.transcript:
            lines.append("--- transcript stored by the workers ---")
            lines.extend(f"  {line}" for line in self.transcript)
        return "\n".join(lines)

    def write_wav(self, path: str | Path) -> Path:
        """Both directions as a stereo 8 kHz 16-bit WAV: left the caller, right the secretary."""
        target = Path(path)
        total = int(self.duration * 8000) + FRAME
        channels = np.zeros((total, 2), dtype=np.int16)
        for column, frames in ((0, self.caller_frames), (1, self.heard_frames)):
            for at, pcmu in frames:
                start = min(max(0, int(at * 8000)), total - 1)
                samples = ulaw_to_samples(pcmu)[: total - start]
                channels[start : start + len(samples), column] = samples
        with wave.open(str(target), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(channels.tobytes())
        return target


class _Observer:
    """Watches one fake call: timestamps of both directions, relative to the answer."""

    def __init__(self, call: FakeCall) -> None:
        self.call = call
        self.t0 = time.monotonic()
        self.caller: list[tuple[float, bytes]] = []
        original = call.next_caller_frame

        def recorded() -> bytes:
            frame = original()
            self.caller.append((time.monotonic(), frame))
            return frame

        call.next_caller_frame = recorded  # type: ignore[method-assign]  # records every frame the caller sends

    def now(self) -> float:
        return time.monotonic() - self.t0

    def speech_spans(self, since: float = 0.0) -> list[Span]:
        """Stretches of secretary speech (gaps shorter than :data:`QUIET_SECONDS` joined)."""
        spans: list[Span] = []
        for heard in list(self.call.heard):
            at = heard.at - self.t0
            if at < since or len(heard.pcmu) != FRAME or rms(heard.pcmu) < SPEECH_RMS:
                continue
            if spans and at - spans[-1].end < QUIET_SECONDS:
                spans[-1].end = at + 0.02
            else:
                spans.append(Span(at, at + 0.02))
        return spans

    def wait_until_quiet(self, since: float, first_timeout: float, max_speech: float = 60.0) -> Span | None:
        """Wait for the secretary's answer after ``since`` to start and finish; None if it never started."""
        deadline = time.monotonic() + first_timeout
        while not self.speech_spans(since):
            if self.call.hung_up.is_set() or time.monotonic() > deadline:
                return None
            time.sleep(0.05)
        end_by = time.monotonic() + max_speech
        while time.monotonic() < end_by and not self.call.hung_up.is_set():
            spans = self.speech_spans(since)
            if self.now() - spans[-1].end >= QUIET_SECONDS:
                break
            time.sleep(0.05)
        spans = self.speech_spans(since)
        return Span(spans[0].start, spans[-1].end)


def run_simulated_call(
    *,
    port: int,
    domain_uuid: uuid.UUID | str,
    voice_secretary_uuid: uuid.UUID | str,
    turns: Sequence[CallerTurn],
    host: str = "127.0.0.1",
    bridge_outcome: str = "NO_ANSWER",
    codec: str = "PCMU",
    caller_id: str = "5511999990000",
    answer_timeout: float = 30.0,
    database_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SimulatedCallResult:
    """Place one call against the edge at ``host:port`` and play ``turns``; see the module docstring."""
    tell = progress or (lambda _text: None)
    audio = {t.value: caller_says(t.value) for t in turns if t.kind == "say"}  # synthesize before dialling
    fs = FakeFreeSwitch(host, port)
    try:
        call = fs.place_call({"domain_uuid": str(domain_uuid), "voice_secretary_uuid": str(voice_secretary_uuid)},
                             bridge_outcome=bridge_outcome, codec=codec, caller_id=caller_id)
        watch = _Observer(call)
        deadline = time.monotonic() + 10
        while not call.answered.is_set() and not call.closed.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        answered = call.answered.is_set()
        if answered:
            watch.t0 = time.monotonic()
        greeting = watch.wait_until_quiet(0.0, first_timeout=answer_timeout) if answered else None
        if greeting:
            tell(f"the secretary greeted the caller ({greeting.end - greeting.start:.1f} s of speech)")
        timings: list[TurnTiming] = []
        for turn in turns:
            if call.hung_up.is_set() or not answered:
                break
            started = watch.now()
            if turn.kind == "say":
                tell(f'the caller says: "{turn.value}"')
                call.speak(audio[turn.value])
                time.sleep(len(audio[turn.value]) / 8000)
            elif turn.kind == "dtmf":
                tell(f"the caller presses {turn.value}")
                call.dtmf(turn.value)
            else:
                time.sleep(turn.seconds)
            timing = TurnTiming(turn, started, watch.now())
            timing.answer = watch.wait_until_quiet(timing.ended, first_timeout=answer_timeout)
            if timing.answer:
                tell(f"the secretary answered after {timing.response_ms} ms")
            timings.append(timing)
        hung_up_by = "edge"
        if answered and not call.hung_up.is_set():
            # Leave the edge a moment to finish (a transfer, a goodbye), then hang up like a caller.
            if not call.wait("hung_up", timeout=3):
                hung_up_by = "caller"
                call.hangup()
        call.wait("closed", timeout=10)
        t0 = watch.t0
        result = SimulatedCallResult(
            call_uuid=call.uuid, answered=answered, greeting=greeting, turns=timings,
            secretary_speech=watch.speech_spans(), executed=list(call.executed),
            hangup_cause=call.hangup_cause, hung_up_by=hung_up_by if answered else "edge",
            duration=watch.now(),
            caller_frames=[(at - t0, f) for at, f in watch.caller if at >= t0],
            heard_frames=[(h.at - t0, h.pcmu) for h in call.heard if len(h.pcmu) == FRAME and h.at >= t0],
            reached=call.connect_error is None,
            rung=[leg.dial_string for leg in call.originated],
            joined=[leg.dial_string for leg in call.originated
                    if any(c.startswith(f"uuid_bridge {call.uuid} {leg.uuid}") for c in call.api_commands)],
        )
    finally:
        fs.close()
    if database_url:
        stored = wait_for_conversation(database_url, uuid.UUID(str(domain_uuid)), result.call_uuid,
                                       ready=lambda row: row.ended_at is not None, timeout=30.0)
        result.transcript = transcript_lines(*stored) if stored else []
    return result


def main(argv: Sequence[str]) -> int:
    """``voice-ai simulate-call --domain-uuid D --secretary-uuid S --say "…" [--say …] [--dtmf 0]``."""
    from shared.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="voice-ai simulate-call",
        description="Place one call against a running edge through a fake FreeSWITCH: the caller (an English "
                    "espeak-ng voice) says each --say sentence, then presses each --dtmf key.",
        epilog="The UUIDs: voice-ai secretaries. The edge: voice-ai edge (and voice-ai worker to store the call).")
    parser.add_argument("--host", default="127.0.0.1", help="the edge's ESL address (default %(default)s)")
    parser.add_argument("--port", type=int, default=settings.edge_esl_port,
                        help="the edge's ESL port (default %(default)s, EDGE_ESL_PORT)")
    parser.add_argument("--domain-uuid", required=True, help="the secretary's domain")
    parser.add_argument("--secretary-uuid", required=True, help="the secretary to call")
    parser.add_argument("--say", action="append", default=[], metavar="TEXT", help="a sentence the caller says")
    parser.add_argument("--dtmf", action="append", default=[], metavar="DIGIT", help="a key the caller presses")
    parser.add_argument("--bridge-outcome", default="NO_ANSWER",
                        help="what a rung destination does: answer, NO_ANSWER, USER_BUSY, … (default %(default)s)")
    parser.add_argument("--codec", default="PCMU",
                        help="the channel codec: PCMU, or L16 to exercise conversion (default %(default)s)")
    parser.add_argument("--wav", help="write both directions of the call to this stereo WAV file")
    parser.add_argument("--transcript", action="store_true",
                        help="wait for the workers to store the call and print its transcript from the database")
    args = parser.parse_args(argv)
    turns = [CallerTurn.say(t) for t in args.say] + [CallerTurn.press(d) for d in args.dtmf]
    result = run_simulated_call(
        port=args.port, host=args.host, domain_uuid=args.domain_uuid, voice_secretary_uuid=args.secretary_uuid,
        turns=turns, bridge_outcome=args.bridge_outcome, codec=args.codec,
        database_url=settings.database_url if args.transcript else None,
        progress=lambda text: print(f"▶ {text}", flush=True),
    )
    if not result.reached:
        print(f"❌ simulate-call: cannot reach the edge's ESL port at {args.host}:{args.port}")
        return 1
    print(result.report())
    if args.wav:
        print(f"wrote {result.write_wav(args.wav)}")
    return 0 if result.answered else 1
