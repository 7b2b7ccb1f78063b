"""The embedded default engine: no network, no key, no generative model.

silero-vad (inline, ONNX) → pocketsphinx (worker subprocesses) → :mod:`edge.dialogue.extractive` →
espeak-ng (subprocess through gevent pipes). Knowledge answers, transfers, messages and goodbye go
through the host's tools (``search_knowledge_base``, ``transfer_call``, ``take_message``, ``end_call``)
so every engine shares one tool implementation. The call's transfer rules come from
``context.extra["transfer_rules"]`` (rows or dicts with ``department_name`` and ``keywords``) and
extra recognition vocabulary from ``context.extra["vocabulary"]`` (strings, e.g. knowledge titles).
"""

from __future__ import annotations

from edge.core.state import CallState
from edge.dialogue.extractive import (
    ExtractiveDialogue,
    ToolAction,
    Turn,
    passages_from_result,
    targets_from_rules,
)
from edge.engines.base import Notice
from edge.engines.turns import TurnTakingEngine
from edge.services.offline.stt import OfflineSpeechToText
from edge.services.offline.tts import OfflineTextToSpeech
from shared.logging import Tag

TOOLS_THAT_SPEAK = {"transfer_call", "end_call"}
"""Tools whose own effect is spoken by the host (the rule's transfer message, the goodbye)."""
ANSWER_HINTS = ("i want to leave a message", "i would like to leave a message", "voice mail please",
                "the operator please", "yes that is correct", "no thank you goodbye")
"""Recognition hints for the answers the dialogue asks for (a message, the fallback offered after a
failed transfer, the read-back's confirmation)."""


class OfflineEngine(TurnTakingEngine):
    """VAD → pocketsphinx → extractive dialogue → espeak-ng."""

    name = "offline"

    def build_services(self) -> None:
        """Offline STT biased to this call's vocabulary; espeak-ng in the secretary's language."""
        context = self.host.context
        rules = context.extra.get("transfer_rules") or []
        targets = targets_from_rules(rules)
        hints = [t.department_name for t in targets]
        # Department names inside the phrasings callers use weigh them in the language model.
        hints += [f"i would like to talk to the {t.department_name} department please" for t in targets]
        hints += [f"transfer me to {t.department_name}" for t in targets]
        hints += [k for t in targets for k in t.keywords]
        hints += [str(v) for v in context.extra.get("vocabulary") or []]
        hints += [self.secretary.greeting_message or ""]
        hints += list(ANSWER_HINTS)
        self.stt = OfflineSpeechToText(hints=[h for h in hints if h])
        self.tts = OfflineTextToSpeech.for_provider(context.providers.get("tts"), self.secretary.language,
                                                    self.secretary.voice_name, self.log)
        self.dialogue = ExtractiveDialogue(
            search=self._search,
            targets=targets,
            language=self.secretary.language,
            greeting_message=self.secretary.greeting_message or None,
            goodbye_message=self.secretary.goodbye_message or None,
            caller_id=context.caller_id,
        )

    def greeting_text(self) -> str:
        """The secretary's greeting, or a default in its language."""
        return self.dialogue.greeting()

    def _search(self, query: str) -> list[str]:
        if not self.secretary.rag_enabled:
            return []
        return passages_from_result(self.host.run_tool("search_knowledge_base", {"query": query}).payload)

    def handle_text(self, text: str, source: str) -> None:
        """One caller turn: the dialogue's reply and tool actions. A tool the reply reports on
        (``take_message``: "your message has been recorded") runs first, so that a caller hanging up
        while hearing the confirmation does not lose the message; the tools whose effect the host
        speaks (transfer, goodbye) replace the reply."""
        turn = self.dialogue.keypad(text) if source == "dtmf" else self.dialogue.respond(text)
        self._play(turn)

    def handle_notice(self, notice: Notice) -> None:
        """The operator the caller asked for cannot be reached: offer to take a message."""
        if notice is Notice.OPERATOR_UNAVAILABLE:
            self._play(self.dialogue.transfer_failed())

    def _play(self, turn: Turn) -> None:
        """Run a turn's tools and speak its reply (see :meth:`handle_text` for the order)."""
        spoken_by_host = [a for a in turn.actions if a.name in TOOLS_THAT_SPEAK]
        for action in turn.actions:
            if action not in spoken_by_host:
                self._run_action(action)
        if turn.reply and not spoken_by_host:
            self.speak([turn.reply])
        for action in spoken_by_host:
            self._run_action(action)

    def _run_action(self, action: ToolAction) -> None:
        self.log.info(Tag.SESSION, "tool %s", action.name)
        if action.name != "end_call":
            self.host.set_state(CallState.TOOL_RUNNING)
        result = self.host.run_tool(action.name, action.arguments)
        if action.name == "transfer_call" and not result.transferred and not result.ended:
            follow = self.dialogue.transfer_failed(action.arguments.get("destination"), result.payload.get("fallback"))
            if not result.spoken:  # the host already offered the rule's fallback
                self.speak([follow.reply])
