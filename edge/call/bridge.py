"""A call's side of ``transfer_call``: the checks before ringing, the ringing with hold audio, and the
join (``uuid_bridge``). :func:`edge.call.transfer.run_transfer` drives it through :class:`CallBridge`."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import gevent
from gevent.event import Event
from gevent.lock import Semaphore

from edge.call.announce import ANNOUNCE_VARIABLE, Announcement
from edge.call.ringback import Ringback, country_for, hold_music, ringback_cadence
from edge.call.transfer import (
    BridgeResult,
    TransferSettings,
    destination_problem,
    dial_string,
    directory_user_query,
    extension_do_not_disturb,
    job_result,
    load_transfer_settings,
    originate_command,
    run_transfer,
)
from edge.core.clock import Clock
from edge.core.context import CallContext
from edge.core.state import CallState
from edge.engines.tool_definitions import ToolResult
from edge.esl.session import EslDisconnected
from shared.logging import Tag

if TYPE_CHECKING:
    from edge.call.session import CallSession


class CallBridge:
    """Transfers of one call (one at a time): implements :class:`edge.call.transfer.TransferHost`."""

    def __init__(self, call: CallSession) -> None:
        self.call = call
        self.idle = Event()
        """Set while no destination is being rung (the cleanup waits for a ringing leg to be killed)."""
        self.idle.set()
        self._lock = Semaphore()
        self._settings: TransferSettings | None = None

    @property
    def context(self) -> CallContext:
        """The call's context (set once the secretary is loaded)."""
        assert self.call.context is not None
        return self.call.context

    @property
    def clock(self) -> Clock:
        """The call's clock."""
        return self.call.services.clock

    def transfer(self, arguments: dict[str, Any]) -> ToolResult:
        """``transfer_call``: one at a time per call."""
        if not self._lock.acquire(blocking=False):
            return ToolResult({"ok": False, "error": "transfer_in_progress",
                               "message": "A transfer is already in progress."})
        try:
            return run_transfer(self, arguments)
        finally:
            self._lock.release()

    def say(self, text: str) -> None:
        """Speak through the call's engine."""
        self.call.host.say(text)

    def end_call(self, reason: str) -> None:
        """Goodbye and hangup."""
        self.call.host.end_call(reason)

    def transfer_completed(self, target: str) -> None:
        """The caller was bridged to ``target``: the conversation is over (the hangup follows the bridge)."""
        call = self.call
        call.call_outcome.transferred(target)
        if call.stream is not None:
            call.stream.flush()
        call.machine.move(CallState.ENDING)
        call.log.info(Tag.SESSION, "transferred to %s", target)

    def settings(self) -> TransferSettings:
        """The domain's name (its dialplan context) and ringing settings, read once per call."""
        if self._settings is None:
            self._settings = load_transfer_settings(self.context.domain_uuid)
        return self._settings

    def _over(self) -> bool:
        call = self.call
        return call.machine.ended or call.esl.closed.is_set() or call.context is None

    def unavailable(self, destination: str, context: str) -> BridgeResult | None:
        """Refuse a destination outside the tenant (❌ ERROR), or one that cannot answer now: an
        extension with do-not-disturb on, a directory user with no registered phone. None: ring it."""
        if self._over():
            return BridgeResult("hangup", "CALL_ENDED")
        call, settings = self.call, self.settings()
        context = context or settings.domain_name
        problem = destination_problem(destination, context, settings.domain_name)
        if problem is not None:
            call.log.error("transfer refused, treated as unavailable: %s", problem)
            return BridgeResult("unavailable", "INVALID_DESTINATION")
        try:
            dnd = extension_do_not_disturb(self.context.domain_uuid, destination)
        except Exception as exc:  # noqa: BLE001 - e.g. no SELECT on FusionPBX's table: ring, and say why
            call.log.error("do-not-disturb of extension %s unknown (%s): ringing it", destination,
                           type(exc).__name__)
            dnd = False
        if dnd:
            call.log.info(Tag.SESSION, "extension %s has do-not-disturb on: unavailable", destination)
            return BridgeResult("unavailable", "DO_NOT_DISTURB")
        if self._directory_user(destination, context):
            contact = (call.safe(call.esl.api, f"sofia_contact {destination}@{context}", timeout=3) or "").strip()
            if not contact or contact.startswith("error/"):
                call.log.info(Tag.SESSION, "extension %s has no registered phone: unavailable", destination)
                return BridgeResult("unavailable", "USER_NOT_REGISTERED")
        return None

    def _directory_user(self, destination: str, context: str) -> bool:
        query = directory_user_query(destination, context)
        return query is not None and (self.call.safe(self.call.esl.api, query, timeout=3) or "").strip() == "true"

    def _ringing_audio(self) -> bytes:
        """The domain's hold music, else the ringback tone of its country."""
        settings = self.settings()
        if settings.hold_music:
            try:
                return hold_music(settings.hold_music)
            except ValueError as exc:
                self.call.log.error("hold music unusable, ringback tone instead: %s", exc)
        return ringback_cadence(country_for(settings.ringback, self.context.secretary.language))

    def bridge(self, destination: str, context: str, announcement: str | None = None,
               ring_seconds: int | None = None) -> BridgeResult:
        """Ring ``destination`` as a leg of its own for ``ring_seconds`` (None: the domain's) while the
        caller, still parked with their audio running, hears ringback; join the two with ``uuid_bridge``
        once it answers (``announcement``: once the person who answered heard it and took the call, see
        :mod:`edge.call.announce`).

        Never the ``bridge`` application on the caller's channel: FreeSWITCH shuts the caller's unicast
        audio down at its start, for good, so a caller whose transfer fails would be left in dead air.
        """
        if self._over():
            return BridgeResult("hangup", "CALL_ENDED")
        call, settings = self.call, self.settings()
        esl, caller_gone = call.esl, call.caller_gone
        ring = ring_seconds or settings.ring_seconds
        context = context or settings.domain_name
        if destination_problem(destination, context, settings.domain_name) is not None:
            return BridgeResult("unavailable", "INVALID_DESTINATION")  # never rung outside the tenant
        call.machine.move(CallState.TRANSFERRING)
        self.idle.clear()
        leg = str(uuid.uuid4())
        ringback: Ringback | None = None
        result = BridgeResult("failed", "NOT_STARTED")
        try:
            dial = dial_string(destination, context, directory_user=self._directory_user(destination, context))
            call.audio_paused = True  # the engine hears nothing while the caller waits
            if call.stream is not None:
                ringback = Ringback(call.stream, self._ringing_audio())
                ringback.start()
            call.log.info(Tag.SESSION, "ringing %s in %s for up to %d s%s", destination, context,
                          ring, " (announced)" if announcement else "")
            then, variables = "&park()", None
            if announcement:
                call.announcement = Announcement(announcement)
                host, port = esl.local_address
                then = f"'&socket({host}:{port} async full)'"  # quoted: one argument of originate
                variables = {ANNOUNCE_VARIABLE: call.call_uuid, "domain_uuid": str(self.context.domain_uuid),
                             "voice_secretary_uuid": str(self.context.secretary.voice_secretary_uuid)}
            job = esl.bgapi(originate_command(leg, dial, ring, self.context.caller_id,
                                              self.context.caller_name, then=then, variables=variables))
            gevent.wait([job, caller_gone], count=1, timeout=ring + 15)
            if job.ready():
                result = job_result(job.get())
            if result.answered and call.announcement is not None:
                result = self._await_announcement(call.announcement)
            if caller_gone.is_set() or not job.ready():
                # The caller left (or the job never answered): the new leg must not ring on, or be
                # answered by someone talking to nobody.
                call.safe(esl.api, f"uuid_kill {leg}", timeout=3)
                result = BridgeResult("hangup", "CALLER_LEFT") if caller_gone.is_set() else \
                    BridgeResult("failed", "NO_JOB_RESULT")
            if ringback is not None:
                ringback.stop()
                ringback = None
            if result.answered:
                if call.transport is not None:
                    call.transport.pause()
                reply = (call.safe(esl.api, f"uuid_bridge {call.call_uuid} {leg}", timeout=5) or "").strip()
                if reply.startswith("+OK"):
                    call.call_outcome.transferred(destination)
                else:
                    call.log.error("uuid_bridge to %s failed: %s", destination, reply or "no reply")
                    call.safe(esl.api, f"uuid_kill {leg}", timeout=3)
                    result = BridgeResult("failed", "BRIDGE_FAILED")
            call.log.info(Tag.SESSION, "transfer to %s: %s (%s)", destination, result.status, result.cause)
            return result
        except EslDisconnected:
            return BridgeResult("hangup", "CALL_ENDED")
        finally:
            if call.announcement is not None:
                call.announcement.decide("hangup")  # an announced leg still speaking learns it is over
                call.announcement = None
            if ringback is not None:
                ringback.stop()
            bridged = call.call_outcome.transfer_target is not None
            call.audio_paused = bridged  # stays paused once bridged
            if not bridged and call.transport is not None and not esl.closed.is_set():
                call.transport.resume()
            if not call.machine.ended and not bridged:
                call.machine.move(CallState.LISTENING)
            self.idle.set()

    def _await_announcement(self, announcement: Announcement) -> BridgeResult:
        """The announced leg answered: wait (the caller still hearing hold audio) for its person's answer."""
        answer_seconds = self.call.services.settings.transfer_announce_answer_seconds
        gevent.wait([announcement.result, self.call.caller_gone], count=1, timeout=answer_seconds + 120)
        outcome = announcement.result.get() if announcement.result.ready() else "no_input"
        if outcome == "accepted":
            return BridgeResult("answered", "ACCEPTED")
        if outcome == "declined":
            return BridgeResult("declined", "DECLINED")
        return BridgeResult("no_answer", "NO_INPUT" if outcome == "no_input" else "ANSWERER_HANGUP")

    def hangup_after_bridge(self) -> None:
        """The bridged conversation is over: FreeSWITCH hangs the caller up (``hangup_after_bridge``);
        if it did not within a moment, the edge releases the caller's leg itself."""
        call = self.call
        if call.caller_gone.wait(2.0):
            return
        if not call.esl.closed.is_set():
            call.log.info(Tag.SESSION, "bridged call finished: hanging up")
            call.safe(call.esl.hangup, "NORMAL_CLEARING")
