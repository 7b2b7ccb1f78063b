"""A fake FreeSWITCH that drives the edge exactly as the real one does in outbound mode (docs/protocols.md and
the 1.10.12 wire captures in ``shared/captures/freeswitch-1.10.12``).

For each call it connects to the edge's ESL port, answers ``connect`` with the URL-encoded channel
data (no Content-Length), replies to commands, emits ``text/event-plain`` events with exact lengths,
``CHANNEL_EXECUTE`` then ``CHANNEL_EXECUTE_COMPLETE`` per application (``Application-UUID`` = the
``event-uuid`` sent, ``Application-Response: _none_``), DTMF, and the hangup sequence of the real server
(``CHANNEL_HANGUP``, ``CHANNEL_UNPARK``, ``CHANNEL_EXECUTE_COMPLETE`` of ``socket``, ``CHANNEL_STATE``
``CS_HANGUP``/``CS_REPORTING``, ``CHANNEL_HANGUP_COMPLETE``, then the linger notice with ``Linger-Time``
and ``Content-Length: 0``; a caller hanging up while bridged gets only ``CHANNEL_HANGUP`` and the notice).

Audio:

* ``unicast`` — binds ``local-port``, sends the caller's audio to ``remote-port`` one datagram per 20 ms
  (one clock for every call of the fake), and "plays" every datagram the edge sends at once, as FS does.
  As on the real server it lives only while the channel stays parked in the socket application: the
  ``bridge``, ``playback`` and ``record`` applications and ``uuid_bridge`` shut it down for good, and a
  second ``unicast`` in the same socket session is torn down at once (it never carries audio);
* ``uuid_audio_stream`` — mod_audio_stream as built from public source (:mod:`simulator.mod_audio_stream`;
  :attr:`FakeCall.audio_stream_build`: ``community`` by default, ``direct`` or ``json_only``): a WebSocket
  client sending L16 frames every 20 ms whose server messages become files and CUSTOM events (or, in the
  ``direct`` fork, audio played from a buffer); ``pause``/``resume`` stop and restart the caller's frames
  (which, as with the real media bug, otherwise go on during a bridge). ``uuid_broadcast`` plays the
  module's files on the channel one after another, ``uuid_break [all]`` stops them.

Destinations (:attr:`FakeCall.destinations`, by extension or number) answer, fail with a cause, or ring
until ``originate_timeout``, each after its own ring time, reached either by the ``bridge`` application
(a failed one completes with ``originate_disposition``/``DIALSTATUS``/``originate_failed_cause`` and no
``bridge_hangup_cause``) or by ``bgapi originate {vars}<dial string> &park()``, whose result (``+OK
<uuid>`` / ``-ERR <cause>``) comes as a ``BACKGROUND_JOB`` event to a socket subscribed to it (``event
plain BACKGROUND_JOB``); ``api uuid_bridge`` joins an answered leg to the caller and ``api uuid_kill``
ends a ringing or parked one. ``api user_exists id <user> <domain>`` answers from
:attr:`FakeCall.directory_users`, ``api sofia_contact <user>@<domain>`` from
:attr:`FakeCall.registered_users`.

Everything the caller hears is recorded (:attr:`FakeCall.heard`) with arrival times.
"""

from __future__ import annotations

import asyncio
import shlex
import socket
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from edge.audio.g711 import l16_to_ulaw, ulaw_to_l16
from simulator import esl_server
from simulator.audio import FRAME, frames, noise
from simulator.loop import BackgroundLoop
from simulator.mod_audio_stream import BroadcastQueue, ModAudioStream

SILENCE = b"\xff" * FRAME
COMFORT_NOISE = b"\xff" * (2 * FRAME)
UNICAST_RESETTING_APPS = frozenset({"bridge", "playback", "record", "originate"})
"""Applications that reset the session and with it shut the channel's unicast down (switch_ivr.c)."""
STAYS_AFTER_FAILED_BRIDGE = frozenset({"NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL"})
DIALSTATUS = {"USER_BUSY": "BUSY", "NO_ANSWER": "NOANSWER", "NO_USER_RESPONSE": "NOANSWER",
              "ORIGINATOR_CANCEL": "CANCEL"}
"""``DIALSTATUS`` of a failed originate by cause (anything else is the cause itself)."""
SOUND_FILES_MISSING = True
"""A minimal install has no sounds package: ``playback`` of a sound file plays silence."""


@dataclass(frozen=True)
class Destination:
    """How one destination behaves when rung: ``answer`` or a hangup cause (``USER_BUSY``,
    ``NO_ANSWER`` rings until ``originate_timeout``...), after ``ring_seconds``; an answered one talks
    for ``talk_seconds`` once bridged, then hangs up."""

    outcome: str = "answer"
    ring_seconds: float = 0.1
    talk_seconds: float = 0.5
    announce_reply: str | None = "1"
    """What the person who answers an announced transfer does once they heard ~1 s of it: press a key
    (``1``/``2``), ``speak`` (a short utterance), ``hangup``, or nothing (None)."""


@dataclass(eq=False)
class Leg:
    """A destination leg made by ``originate`` (the B-leg)."""

    uuid: str
    dial_string: str
    variables: dict[str, str]
    destination: Destination
    state: str = "ringing"  # ringing | parked | socket | bridged | gone
    killed_while: str | None = None


@dataclass
class Heard:
    """One frame that reached the caller."""

    at: float
    pcmu: bytes


@dataclass(eq=False)
class FakeCall:
    """One simulated call leg parked in the edge's socket application."""

    fs: FakeFreeSwitch
    variables: dict[str, str]
    codec: str = "PCMU"
    caller_id: str = "5511999990000"
    caller_name: str = "Test Caller"
    destination: str = "8000"
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    bridge_outcome: str = "NO_ANSWER"
    bridge_talk_seconds: float = 0.5
    comfort_noise_every: int = 0
    audio_stream_loaded: bool = True
    """False: mod_audio_stream is not loaded, so ``uuid_audio_stream`` is an unknown API command."""
    audio_stream_build: str = "community"
    """Which mod_audio_stream answers ``uuid_audio_stream`` (``simulator.mod_audio_stream.BUILDS``)."""
    directory_users: frozenset[str] = frozenset()
    """``user@domain`` entries of FreeSWITCH's directory (``user_exists id <user> <domain>``)."""
    registered_users: frozenset[str] | None = None
    """``user@domain`` of the directory users with a registered phone (None: all of them)."""
    destinations: dict[str, Destination] = field(default_factory=dict)
    """Per extension or number; any other destination behaves as ``bridge_outcome``."""
    sound_files: bool = not SOUND_FILES_MISSING
    agent: Destination | None = None
    """Set on a destination leg originated into the socket application (``&socket(...)``): it is
    answered already, and the person on it behaves as this destination says."""

    def __post_init__(self) -> None:
        self.commands: list[tuple[str, dict[str, str]]] = []
        self.executed: list[tuple[str, str]] = []
        self.heard: list[Heard] = []
        self.caller_audio: deque[bytes] = deque()
        self.sent_frames = 0
        self.answered = asyncio.Event()
        self.hung_up = asyncio.Event()
        self.closed = asyncio.Event()
        self.audio_started = asyncio.Event()
        self.bridged = asyncio.Event()
        self.hangup_cause: str | None = None
        self.lingering = False
        self.unicast: dict[str, str] | None = None
        self.udp: socket.socket | None = None
        self._udp_transport: asyncio.DatagramTransport | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.ws_url: str | None = None
        self.stream_paused = False
        self.in_bridge = False
        self.frames_streamed_while_bridged = 0
        self.unicast_torn_down = False
        self.unicast_restarts = 0
        self.unicast_torn_down_at: float | None = None
        self.linger_seconds: int | None = None
        self.subscribed: set[str] = set()
        self.myevents = False
        self.legs: dict[str, Leg] = {}
        self.originated: list[Leg] = []
        self.job_results: list[tuple[float, str]] = []
        self.api_commands: list[str] = []
        self.wire: list[bytes] = []
        """Every message written to the edge, one entry per message (for comparison with the captures)."""
        self.event_names: list[str] = []
        self._app_lock: asyncio.Lock | None = None
        self.socket_app_uuid = str(uuid.uuid4())
        self.module: ModAudioStream | None = None
        self.broadcasts = BroadcastQueue(self)
        self.stop_audio_count = 0
        self.stream_audio_messages = 0
        self.break_count = 0
        self.ws_connects = 0
        self.ws_closed = 0
        self.protocol_errors: list[str] = []
        self.connect_error: str | None = None
        self.esl_target: tuple[str, int] | None = None  # the edge of the socket list that took the call
        self.started_at = time.monotonic()
        if self.agent is not None:
            self.answered.set()

    # --- what the test sees ------------------------------------------------------------------

    def channel_data(self) -> dict[str, str]:
        """The ``connect`` reply's headers."""
        data = {
            "Event-Name": "CHANNEL_DATA", "Core-UUID": self.fs.core_uuid, "Unique-ID": self.uuid,
            "Channel-Name": f"sofia/internal/{self.caller_id}@127.0.0.1",
            "Channel-State": "CS_EXECUTE", "Call-Direction": "inbound",
            "Caller-Caller-ID-Number": self.caller_id, "Caller-Caller-ID-Name": self.caller_name,
            "Caller-Destination-Number": self.destination,
            "Channel-Read-Codec-Name": self.codec, "Channel-Read-Codec-Rate": "8000",
            "Channel-Write-Codec-Name": self.codec, "Channel-Write-Codec-Rate": "8000",
            "variable_uuid": self.uuid, "variable_call_uuid": self.uuid,
        }
        for name, value in self.variables.items():
            data[f"variable_{name}"] = value
        return data

    def heard_audio(self) -> bytes:
        """Every PCMU byte the caller heard, in order."""
        return b"".join(h.pcmu for h in self.heard)

    def heard_nonsilent_ms(self) -> int:
        """Milliseconds of non-silent audio heard."""
        return 20 * sum(1 for h in self.heard if h.pcmu.count(0xFF) < FRAME // 2)

    def speak(self, pcmu: bytes) -> None:
        """Queue caller speech (sent at 20 ms pacing after what is already queued)."""
        self.fs.loop.call(self.caller_audio.extend, frames(pcmu))

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """The caller hangs up."""
        self.fs.loop.run(self._hangup(cause, by_caller=True))

    def dtmf(self, digit: str) -> None:
        """The caller presses a key."""
        self.fs.loop.run(self._event("DTMF", {"DTMF-Digit": digit, "DTMF-Duration": "2000"}))

    def wait(self, what: str, timeout: float = 10.0) -> bool:
        """Wait for ``answered``, ``hung_up``, ``closed`` or ``audio_started``."""
        async def _wait() -> bool:
            try:
                await asyncio.wait_for(getattr(self, what).wait(), timeout)
                return True
            except TimeoutError:
                return False
        return self.fs.loop.run(_wait(), timeout=timeout + 5)

    def send_raw(self, data: bytes) -> None:
        """Write raw bytes on the ESL socket (malformed-input tests)."""
        async def _send() -> None:
            if self._writer is not None:
                self._writer.write(data)
                await self._writer.drain()
        self.fs.loop.run(_send())

    # --- ESL ---------------------------------------------------------------------------------

    async def run(self, host: str, port: int) -> None:
        # The socket application's `host1:port|host2:port` list: a refused connect tries the next host.
        for target in [(host, port), *self.fs.failover]:
            try:
                reader, writer = await asyncio.open_connection(*target)
                self.esl_target, self.connect_error = target, None
                break
            except OSError as exc:
                self.connect_error = f"{type(exc).__name__}: {exc}"
        else:
            self.closed.set()
            return
        self._writer = writer
        if self.agent is not None:
            asyncio.get_running_loop().create_task(self._agent_acts(self.agent))
        try:
            while True:
                try:
                    block = await reader.readuntil(b"\n\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                command, headers, _ = esl_server.parse_command(block.rstrip(b"\n"))
                self.commands.append((command, headers))
                await self._on_command(command, headers)
                if self.closed.is_set():
                    break
        finally:
            await self._close()

    async def _agent_acts(self, agent: Destination) -> None:
        """The person who answered an announced transfer listens, then answers as scripted."""
        deadline = time.monotonic() + 60
        while self.heard_nonsilent_ms() < 1000 and time.monotonic() < deadline and not self.hung_up.is_set():
            await asyncio.sleep(0.02)
        if self.hung_up.is_set() or agent.announce_reply is None:
            return
        if agent.announce_reply == "hangup":
            await self._hangup("NORMAL_CLEARING")
        elif agent.announce_reply == "speak":
            self.caller_audio.extend(frames(noise(600, seed=7) + b"\xff" * 5600))
        else:
            await self._event("DTMF", {"DTMF-Digit": agent.announce_reply, "DTMF-Duration": "2000",
                                       "DTMF-Source": "RTP"})

    async def _write(self, data: bytes) -> None:
        if self._writer is None or self.closed.is_set():
            return
        self.wire.append(data)
        try:
            self._writer.write(data)
            await self._writer.drain()
        except ConnectionError:
            pass

    @property
    def channel_name(self) -> str:
        """``Channel-Name``: a SIP caller (PCMU) or the loopback leg of the captures (L16)."""
        if self.codec == "PCMU":
            return f"sofia/internal/{self.caller_id}@127.0.0.1:6000"
        return f"loopback/{self.destination}-b"

    async def _event(self, name: str, extra: dict[str, str] | None = None, body: str = "",
                     channel: bool = True) -> None:
        headers = {
            "Event-Name": name, "Core-UUID": self.fs.core_uuid, "FreeSWITCH-Hostname": "fake-fs",
            "FreeSWITCH-Switchname": "fake-fs", "Event-Date-Timestamp": str(int(time.time() * 1e6)),
            "Event-Sequence": str(self.fs.next_sequence()),
        }
        if channel:
            headers.update({
                "Channel-State": "CS_HANGUP" if self.hung_up.is_set() else "CS_EXECUTE",
                "Channel-Call-State": "HANGUP" if self.hung_up.is_set() else "ACTIVE",
                "Channel-Name": self.channel_name, "Unique-ID": self.uuid, "Call-Direction": "inbound",
                "Answer-State": "hangup" if self.hung_up.is_set() else
                "answered" if self.answered.is_set() else "ringing",
                "Channel-Read-Codec-Name": self.codec, "Caller-Caller-ID-Number": self.caller_id,
                "Caller-Destination-Number": self.destination, "Channel-Call-UUID": self.uuid})
            if self.hung_up.is_set() and self.hangup_cause:
                headers["Hangup-Cause"] = self.hangup_cause
            if name != "CHANNEL_STATE":  # a state change carries no channel variables
                headers.update({f"variable_{k}": v for k, v in self.variables.items()})
        headers.update(extra or {})
        self.event_names.append(name)
        await self._write(esl_server.encode_event_plain(headers, body))

    async def _on_command(self, command: str, headers: dict[str, str]) -> None:
        if command == "connect":
            await self._write(esl_server.encode_connect_reply(self.channel_data()))
        elif command == "myevents":
            self.myevents = True
            await self._write(esl_server.encode_reply("+OK Events Enabled"))
            await self._event("CHANNEL_PARK")  # seen when myevents is processed before the park
        elif command.split()[:1] == ["linger"]:
            seconds = command.split()[1:]
            self.linger_seconds = int(seconds[0]) if seconds and seconds[0].lstrip("-").isdigit() else -1
            self.lingering = True
            await self._write(esl_server.encode_reply("+OK will linger"))
        elif command == "exit":
            await self._write(esl_server.encode_reply("+OK bye"))
            await self._write(esl_server.encode_disconnect_notice(self.uuid, "disconnect"))
            self.closed.set()
        elif command == "sendmsg":
            await self._sendmsg(headers)
        elif command.startswith("event "):
            words = command.split()[1:]
            names = [w for w in words if w not in ("plain", "xml", "json")]
            if not names:
                await self._write(esl_server.encode_reply("-ERR no keywords supplied"))
            else:
                self.subscribed.update(names)
                await self._write(esl_server.encode_reply("+OK event listener enabled plain"))
        elif command.startswith("bgapi "):
            job_uuid = headers.get("job-uuid") or str(uuid.uuid4())
            await self._write(esl_server.encode_reply(f"+OK Job-UUID: {job_uuid}", {"Job-UUID": job_uuid}))
            asyncio.get_running_loop().create_task(self._background_job(job_uuid, command[6:].strip()))
        elif command.startswith("api "):
            await self._api(command[4:])
        elif command.startswith("getvar "):
            value = self.variables.get(command.split(" ", 1)[1].strip())
            await self._write(esl_server.encode_reply(value if value else "-ERR command not found"))
        else:
            await self._write(esl_server.encode_reply("-ERR command not found"))

    async def _sendmsg(self, headers: dict[str, str]) -> None:
        if self.hung_up.is_set():
            await self._write(esl_server.encode_reply("-ERR no channel"))
            return
        kind = headers.get("call-command", "")
        if kind == "unicast":
            # FreeSWITCH queues the message and wakes the channel's thread before it writes the +OK, and
            # that thread binds local-port at once (docs/protocols.md): the edge's first datagram, sent
            # when the +OK arrives, finds the port bound. Bound here before the +OK, as it is there.
            if self.unicast_torn_down:
                # switch_ivr_park keeps the old connection info: the new one is torn down at once.
                self.unicast_restarts += 1
            else:
                self.unicast = headers
                self._start_unicast(headers)
        await self._write(esl_server.encode_reply("+OK"))
        if kind == "execute":
            app, arg = headers.get("execute-app-name", ""), headers.get("execute-app-arg", "")
            self.executed.append((app, arg))
            asyncio.get_running_loop().create_task(self._execute(app, arg, headers.get("event-uuid", "")))
        elif kind == "hangup":
            asyncio.get_running_loop().create_task(self._hangup_soon(headers.get("hangup-cause", "NORMAL_CLEARING")))

    async def _complete(self, app: str, arg: str, app_uuid: str, response: str = "_none_",
                        extra: dict[str, str] | None = None) -> None:
        await self._event("CHANNEL_EXECUTE_COMPLETE", {
            "Application": app, "Application-Data": arg, "Application-Response": response,
            "Application-UUID": app_uuid, "variable_current_application": app, **(extra or {})})

    async def _execute(self, app: str, arg: str, app_uuid: str) -> None:
        """Applications queued by ``sendmsg`` run one after the other on the channel's thread."""
        if self._app_lock is None:
            self._app_lock = asyncio.Lock()
        async with self._app_lock:
            if not self.hung_up.is_set():
                await self._run_app(app, arg, app_uuid)

    async def _run_app(self, app: str, arg: str, app_uuid: str) -> None:
        if app in UNICAST_RESETTING_APPS:
            self._tear_down_unicast()  # "Shutting down unicast connection", before CHANNEL_EXECUTE
        await asyncio.sleep(0.02)
        await self._event("CHANNEL_EXECUTE", {"Application": app, "Application-Data": arg,
                                              "Application-UUID": app_uuid})
        if app == "answer":
            self.answered.set()
            await self._event("CHANNEL_ANSWER", {"Answer-State": "answered"})
            await self._complete(app, arg, app_uuid)
        elif app == "hangup":
            await self._complete(app, arg, app_uuid)
            await self._hangup(arg or "NORMAL_CLEARING")
        elif app == "playback":
            await asyncio.sleep(0.2)  # the prompt plays
            if arg.startswith("tone_stream://") or self.sound_files:
                self.heard.append(Heard(time.monotonic(), f"<playback {arg}>".encode()))
            await self._complete(app, arg, app_uuid, "FILE PLAYED")
        elif app == "transfer":
            await self._complete(app, arg, app_uuid)
            # The channel leaves the socket application: the socket is told and closed.
            await self._write(esl_server.encode_disconnect_notice(self.uuid, "disconnect"))
            self.closed.set()
            if self._writer is not None:
                self._writer.close()
        elif app == "set":
            name, _, value = arg.partition("=")
            self.variables[name.strip()] = value  # as FreeSWITCH sets the channel variable
            await self._complete(app, arg, app_uuid)
        elif app == "bridge":
            await self._bridge_app(arg, app_uuid)
        else:
            await self._complete(app, arg, app_uuid)

    def destination_of(self, dial_string: str) -> tuple[str, str]:
        """(extension or number, domain or context) of ``user/<ext>@<domain>`` or ``loopback/<n>/<ctx>``."""
        dial = dial_string.split("}", 1)[-1] if dial_string.startswith("{") else dial_string
        kind, _, rest = dial.partition("/")
        if kind == "user":
            number, _, domain = rest.partition("@")
            return number, domain
        number, _, context = rest.partition("/")
        return number, context

    def ring(self, dial_string: str) -> tuple[Destination, str | None]:
        """The destination a dial string reaches, and the cause it fails with before ringing (if any)."""
        number, domain = self.destination_of(dial_string)
        dial = dial_string.split("}", 1)[-1]
        destination = self.destinations.get(number) or Destination(
            self.bridge_outcome, 0.1 if self.bridge_outcome != "USER_BUSY" else 0.02, self.bridge_talk_seconds)
        if dial.startswith("user/"):
            user = f"{number}@{domain}"
            if user not in self.directory_users:
                return destination, "SUBSCRIBER_ABSENT"
            if self.registered_users is not None and user not in self.registered_users:
                return destination, "USER_NOT_REGISTERED"
        elif not dial.startswith("loopback/"):
            return destination, "CHAN_NOT_IMPLEMENTED"
        return destination, None

    @staticmethod
    def ring_timeout(variables: dict[str, str]) -> float:
        """``originate_timeout`` (seconds; FreeSWITCH's default is 60)."""
        try:
            return float(variables.get("originate_timeout", "60"))
        except ValueError:
            return 60.0

    async def _ring_outcome(self, destination: Destination, early: str | None, timeout: float,
                            leg: Leg | None = None) -> str:
        """Ring: ``SUCCESS`` or the failure cause, after the destination's ring time (or the timeout)."""
        if early is not None:
            return early
        if destination.outcome == "NO_ANSWER" or destination.ring_seconds >= timeout:
            wait, outcome = timeout, "NO_ANSWER"
        else:
            wait, outcome = destination.ring_seconds, destination.outcome
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if leg is not None and leg.state == "gone":
                return "ORIGINATOR_CANCEL"
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
        return "SUCCESS" if outcome == "answer" else outcome

    async def _bridge_app(self, arg: str, app_uuid: str) -> None:
        """The ``bridge`` application on the caller's channel (its unicast is already gone)."""
        variables, dial = parse_originate_vars(arg)
        destination, early = self.ring(arg)
        outcome = await self._ring_outcome(destination, early, self.ring_timeout(variables))
        if outcome == "SUCCESS":
            b_uuid = str(uuid.uuid4())
            self.variables.update({"originate_disposition": "SUCCESS", "DIALSTATUS": "SUCCESS"})
            await self._event("CHANNEL_BRIDGE", {
                "Bridge-A-Unique-ID": self.uuid, "Bridge-B-Unique-ID": b_uuid, "Other-Type": "originatee",
                "Other-Leg-Unique-ID": b_uuid, "Other-Leg-Destination-Number": self.destination_of(arg)[0]})
            self.bridged.set()
            self.in_bridge = True
            await asyncio.sleep(destination.talk_seconds)
            self.in_bridge = False
            if self.hung_up.is_set():
                return
            self.variables.update({"bridge_hangup_cause": "NORMAL_CLEARING",
                                   "last_bridge_hangup_cause": "NORMAL_CLEARING", "last_bridge_to": b_uuid})
            await self._event("CHANNEL_UNBRIDGE", {"Bridge-A-Unique-ID": self.uuid, "Bridge-B-Unique-ID": b_uuid})
            await self._complete("bridge", arg, app_uuid)
            if self.variables.get("hangup_after_bridge") != "false":
                await self._hangup("NORMAL_CLEARING")
            return
        failed = {"originate_disposition": outcome, "DIALSTATUS": DIALSTATUS.get(outcome, outcome),
                  "originate_failed_cause": outcome}
        self.variables.update(failed)
        if outcome != "USER_NOT_REGISTERED":
            self.variables["last_bridge_hangup_cause"] = outcome
        await self._complete("bridge", arg, app_uuid)
        if outcome not in STAYS_AFTER_FAILED_BRIDGE and self.variables.get("continue_on_fail") != "true":
            await self._hangup(outcome)

    async def _background_job(self, job_uuid: str, line: str) -> None:
        """``bgapi``: run the API command in its own thread; its output is a ``BACKGROUND_JOB`` event."""
        command, _, arg = line.partition(" ")
        if command == "originate":
            reply = await self._originate(arg)
        else:
            reply = await self._api_reply(line)
        self.job_results.append((time.monotonic(), reply))
        if self.closed.is_set() or not ({"BACKGROUND_JOB", "ALL"} & self.subscribed):
            return  # nobody subscribed: the event goes to other listeners only
        await self._event("BACKGROUND_JOB", {"Job-UUID": job_uuid, "Job-Owner-UUID": self.uuid,
                                             "Job-Command": command, "Job-Command-Arg": arg},
                          body=reply, channel=False)

    async def _originate(self, arg: str) -> str:
        """``originate <{vars}dial string> &park()``: ``+OK <uuid>`` once answered, else ``-ERR <cause>``."""
        try:  # arguments are split at spaces outside single quotes (switch_separate_string)
            words = shlex.split(arg)
        except ValueError:
            words = []
        if len(words) != 2 or not words[1].startswith("&"):
            return "-ERR Invalid syntax\n"
        target, app = words
        variables, dial = parse_originate_vars(target)
        destination, early = self.ring(target)
        leg = Leg(variables.get("origination_uuid") or str(uuid.uuid4()), dial, variables, destination)
        self.legs[leg.uuid] = leg
        self.originated.append(leg)
        outcome = await self._ring_outcome(destination, early, self.ring_timeout(variables), leg)
        if outcome != "SUCCESS":
            leg.state = "gone"
            return f"-ERR {outcome}\n"
        if app.startswith("&socket("):
            # The answered leg runs the socket application: it connects to that address as a call.
            address = app[len("&socket("):].split(" ", 1)[0].rstrip(")")
            host, _, port = address.rpartition(":")
            number, _ = self.destination_of(dial)
            b_leg = FakeCall(self.fs, {k: v for k, v in variables.items() if not k.startswith("origination_")},
                             codec="PCMU", caller_id=variables.get("origination_caller_id_number", self.caller_id),
                             caller_name=variables.get("origination_caller_id_name", self.caller_name),
                             destination=number, uuid=leg.uuid, agent=destination)
            self.fs.calls.append(b_leg)
            asyncio.get_running_loop().create_task(b_leg.run(host, int(port)))
            leg.state = "socket"
            return f"+OK {leg.uuid}\n"
        leg.state = "parked" if app == "&park()" else "running"
        return f"+OK {leg.uuid}\n"

    def _socket_leg(self, b_uuid: str) -> FakeCall | None:
        """The live destination leg with this uuid that runs the socket application, if any."""
        return next((c for c in self.fs.calls if c.uuid == b_uuid and c.agent is not None
                     and not c.hung_up.is_set()), None)

    async def _uuid_bridge(self, a_uuid: str, b_uuid: str) -> str:
        """Join an answered B-leg (parked, or in the socket application) to the caller; the person
        hangs up after their talk time."""
        leg = self.legs.get(b_uuid)
        b_call = self._socket_leg(b_uuid)
        ready = leg is not None and (leg.state == "parked" or (leg.state == "socket" and b_call is not None))
        if a_uuid != self.uuid or self.hung_up.is_set() or leg is None or not ready:
            return "-ERR Invalid uuid\n"
        leg.state = "bridged"
        self._tear_down_unicast()  # the caller leaves the park loop
        if b_call is not None:
            b_call._tear_down_unicast()
            b_call.in_bridge = True
            b_call.bridged.set()
        asyncio.get_running_loop().create_task(self._bridged_talk(leg, b_call))
        return f"+OK {a_uuid}\n"

    async def _bridged_talk(self, leg: Leg, b_call: FakeCall | None = None) -> None:
        await self._event("CHANNEL_BRIDGE", {
            "Bridge-A-Unique-ID": self.uuid, "Bridge-B-Unique-ID": leg.uuid, "Other-Type": "originatee",
            "Other-Leg-Unique-ID": leg.uuid, "Other-Leg-Destination-Number": self.destination_of(leg.dial_string)[0]})
        self.bridged.set()
        self.in_bridge = True
        await asyncio.sleep(leg.destination.talk_seconds)
        self.in_bridge = False
        if self.hung_up.is_set() or leg.state != "bridged":
            return
        leg.state = "gone"
        if b_call is not None:
            await b_call._hangup("NORMAL_CLEARING")  # the person hangs up
        await self._event("CHANNEL_UNBRIDGE", {"Bridge-A-Unique-ID": self.uuid, "Bridge-B-Unique-ID": leg.uuid})
        if self.variables.get("hangup_after_bridge", "true") != "false":
            await self._hangup("NORMAL_CLEARING")

    async def _api(self, line: str) -> None:
        await self._write(esl_server.encode_api_response(await self._api_reply(line)))

    async def _api_reply(self, line: str) -> str:
        """What an API command answers (``api`` writes it back, ``bgapi`` fires it as an event)."""
        self.api_commands.append(line)
        parts = line.split()
        if parts[:1] == ["uuid_audio_stream"] and self.audio_stream_loaded:
            return await self._uuid_audio_stream(parts[1:])
        if parts[:2] == ["user_exists", "id"] and len(parts) == 4:
            return "true" if f"{parts[2]}@{parts[3]}" in self.directory_users else "false"
        if parts[:1] == ["sofia_contact"] and len(parts) == 2:
            user = parts[1].rsplit("/", 1)[-1]
            registered = user in self.directory_users and (
                self.registered_users is None or user in self.registered_users)
            return f"sofia/internal/sip:{user}@127.0.0.1:5062" if registered else "error/user_not_registered"
        if parts[:1] == ["uuid_bridge"] and len(parts) == 3:
            return await self._uuid_bridge(parts[1], parts[2])
        if parts[:1] == ["uuid_kill"] and len(parts) >= 2:
            leg = self.legs.get(parts[1])
            if parts[1] == self.uuid and not self.hung_up.is_set():
                asyncio.get_running_loop().create_task(self._hangup(parts[2] if len(parts) > 2 else "NORMAL_CLEARING"))
                return "+OK\n"
            if leg is None or leg.state == "gone":
                return "-ERR No such channel!\n"
            b_call = self._socket_leg(parts[1])
            leg.killed_while, leg.state = leg.state, "gone"
            if b_call is not None:
                asyncio.get_running_loop().create_task(b_call._hangup("NORMAL_CLEARING"))
            return "+OK\n"
        if parts[:1] == ["uuid_break"]:
            self.break_count += 1
            if len(parts) < 2 or parts[1] != self.uuid or self.hung_up.is_set():
                return "-ERR No such channel!\n"
            self.broadcasts.break_(everything=parts[2:3] == ["all"])
            return "+OK\n"
        if parts[:1] == ["uuid_broadcast"] and len(parts) >= 3:
            if parts[1] != self.uuid or self.hung_up.is_set():
                return "-ERR Invalid UUID\n"
            return self.broadcasts.queue(parts[2])
        return f"-ERR {parts[0] if parts else ''} Command not found!\n"

    async def _uuid_audio_stream(self, args: list[str]) -> str:
        """``uuid_audio_stream <uuid> start <url> <mix> <rate> [metadata]`` / ``stop`` (mod_audio_stream)."""
        if len(args) < 2 or args[0] != self.uuid or self.hung_up.is_set():
            return "-ERR Operation Failed\n"
        if args[1] == "start":
            if len(args) < 5 or args[3] not in ("mono", "mixed", "stereo") or args[4] not in ("8k", "16k") \
                    or not args[2].startswith(("ws://", "wss://")) or (self.module and self.module.running):
                return "-ERR Operation Failed\n"
            if args[3] != "mono" or args[4] != "8k":
                # mixed/stereo would make the bot hear itself; this fake streams the caller at 8 kHz only.
                self.protocol_errors.append(f"audio_stream: unsupported {args[3]} {args[4]}")
            self.ws_url = args[2]
            self.module = ModAudioStream(self, self.audio_stream_build)
            self.module.start(args[2], " ".join(args[5:]) or None)
            return "+OK Success\n"
        if args[1] == "stop":
            await self._stop_audio_stream()
            return "+OK Success\n"
        if args[1] in ("pause", "resume"):
            self.stream_paused = args[1] == "pause"  # the media bug stops sending the caller's audio
            return "+OK Success\n"
        if args[1] == "send_text":
            return "+OK Success\n"
        return "-ERR Operation Failed\n"

    async def _hangup_soon(self, cause: str) -> None:
        await asyncio.sleep(0.02)  # CHANNEL_HANGUP follows the +OK by 20-40 ms
        await self._hangup(cause)

    async def _hangup(self, cause: str, by_caller: bool = False) -> None:
        """The caller's channel ends, with the events and notice order of FreeSWITCH 1.10.12 (a
        loopback caller leg ending on its own leaves the socket application before its hangup)."""
        if self.hung_up.is_set():
            return
        bridged = self.in_bridge
        loopback_ends = by_caller and self.codec != "PCMU" and not bridged
        self._stop_unicast()
        await self._stop_audio_stream()
        if loopback_ends:
            await self._socket_app_ends()
        self.hangup_cause = cause
        self.hung_up.set()
        for leg in self.legs.values():
            if leg.state == "bridged":
                leg.state = "gone"
        await self._event("CHANNEL_HANGUP", {"Hangup-Cause": cause})
        if not bridged:  # while bridged the notice comes straight after CHANNEL_HANGUP
            if not loopback_ends:
                await self._socket_app_ends()
            await self._event("CHANNEL_STATE", {"Channel-State": "CS_HANGUP"})
            await self._event("CHANNEL_STATE", {"Channel-State": "CS_REPORTING"})
            await self._event("CHANNEL_HANGUP_COMPLETE", {"Hangup-Cause": cause})
        if self.lingering:
            await self._write(esl_server.encode_linger_notice(self.uuid, self.channel_name, self.linger_seconds))
            # The socket stays until the edge says exit, or the linger time runs out (-1: never).
            if self.linger_seconds is not None and self.linger_seconds >= 0:
                asyncio.get_running_loop().call_later(self.linger_seconds, self._linger_expired)
        else:
            await self._write(esl_server.encode_disconnect_notice(self.uuid, "disconnect"))
            self.closed.set()

    async def _socket_app_ends(self) -> None:
        await self._event("CHANNEL_UNPARK")
        await self._event("CHANNEL_EXECUTE_COMPLETE", {
            "Application": "socket", "Application-Data": "127.0.0.1:8022 async full",
            "Application-Response": "_none_", "Application-UUID": self.socket_app_uuid,
            "variable_current_application": "socket"})

    def _linger_expired(self) -> None:
        if not self.closed.is_set():
            asyncio.get_running_loop().create_task(self._write(
                esl_server.encode_disconnect_notice(self.uuid, "disconnect")))
            self.closed.set()
            if self._writer is not None:
                self._writer.close()

    async def _close(self) -> None:
        self.closed.set()
        self._stop_unicast()
        await self._stop_audio_stream()
        self.broadcasts.close()
        if self._writer is not None:
            self._writer.close()
        self.fs.calls_done += 1

    # --- unicast -----------------------------------------------------------------------------

    def _start_unicast(self, headers: dict[str, str]) -> None:
        native = headers.get("flags") == "native"
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((headers["local-ip"], int(headers["local-port"])))
        self.udp.setblocking(False)
        self._udp_peer = (headers["remote-ip"], int(headers["remote-port"]))
        self._native = native
        call = self

        class _Receiver(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                pcmu = data if native else l16_to_ulaw(data)
                call.heard.append(Heard(time.monotonic(), pcmu))

            def error_received(self, exc: Exception) -> None:  # ICMP: edge port closed
                call.protocol_errors.append(f"udp: {exc}")

        loop = asyncio.get_running_loop()

        async def _open() -> None:
            self._udp_transport, _ = await loop.create_datagram_endpoint(_Receiver, sock=self.udp)

        loop.create_task(_open())
        self.fs.streaming.add(self)
        self.audio_started.set()

    def _tear_down_unicast(self) -> None:
        """``Shutting down unicast connection``: no audio either way for the rest of the socket session."""
        if self.unicast is not None and not self.unicast_torn_down:
            self.unicast_torn_down = True
            self.unicast_torn_down_at = time.monotonic()
        self._stop_unicast()

    def _stop_unicast(self) -> None:
        self.fs.streaming.discard(self)
        if self._udp_transport is not None:
            self._udp_transport.close()
            self._udp_transport = None
        elif self.udp is not None:
            self.udp.close()
        self.udp = None

    def next_caller_frame(self) -> bytes:
        """The caller's next 20 ms (queued speech, else silence or comfort noise)."""
        self.sent_frames += 1
        if self.caller_audio:
            return self.caller_audio.popleft()
        if self.comfort_noise_every and self.sent_frames % self.comfort_noise_every == 0:
            return COMFORT_NOISE
        return SILENCE

    def send_unicast_frame(self) -> None:
        frame = self.next_caller_frame()
        if self.udp is None:
            return
        payload = frame if self._native or frame is COMFORT_NOISE else ulaw_to_l16(frame)
        try:
            self.udp.sendto(payload, self._udp_peer)
        except OSError as exc:
            self.protocol_errors.append(f"udp send: {exc}")

    # --- mod_audio_stream --------------------------------------------------------------------

    async def _stop_audio_stream(self) -> None:
        if self.module is not None:
            await self.module.stop()


class FakeFreeSwitch:
    """Places calls against an edge; one 20 ms clock sends every call's caller audio."""

    def __init__(self, esl_host: str, esl_port: int, loop: BackgroundLoop | None = None) -> None:
        self.esl_host, self.esl_port = esl_host, esl_port
        self.failover: list[tuple[str, int]] = []
        """The hosts after the first of the dialplan's ``socket`` list, tried in order when a connect is refused."""
        self._own_loop = loop is None
        self.loop = loop or BackgroundLoop()
        self.core_uuid = str(uuid.uuid4())
        self.streaming: set[FakeCall] = set()
        self.calls: list[FakeCall] = []
        self.calls_done = 0
        self.clock_lateness: list[float] = []
        self._sequence = 0
        self._clock = self.loop.run(self._start_clock())

    def next_sequence(self) -> int:
        """``Event-Sequence``: one counter for the whole switch."""
        self._sequence += 1
        return self._sequence

    async def _start_clock(self) -> asyncio.Task:
        return asyncio.get_running_loop().create_task(self._run_clock())

    async def _run_clock(self) -> None:
        due = time.monotonic()
        while True:
            due += 0.02
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.2:
                due = time.monotonic()
            for call in list(self.streaming):
                call.send_unicast_frame()

    def place_call(self, variables: dict[str, str], **options: Any) -> FakeCall:
        """Start a call (returns at once; use ``call.wait('answered')``)."""
        call = FakeCall(self, variables, **options)
        self.calls.append(call)

        async def _start() -> None:
            asyncio.get_running_loop().create_task(call.run(self.esl_host, self.esl_port))

        self.loop.run(_start())
        return call

    def close(self) -> None:
        """Stop the clock and (if owned) the loop."""
        self.loop.call(self._clock.cancel)
        if self._own_loop:
            self.loop.close()


def parse_originate_vars(target: str) -> tuple[dict[str, str], str]:
    """Split ``{a=b,c=d}dial/string`` into its channel variables and the dial string."""
    if not target.startswith("{"):
        return {}, target
    inner, _, dial = target[1:].partition("}")
    variables: dict[str, str] = {}
    for item in inner.split(","):
        name, sep, value = item.partition("=")
        if sep:
            variables[name.strip()] = value.strip().strip("'")
    return variables, dial
