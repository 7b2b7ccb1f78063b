"""The pipeline engine: silero-vad → STT (openai / google) → OpenAI chat with tools → streamed TTS.

The model's text is cut into sentences as it streams; each sentence is synthesized and played while the
next is still being generated (:meth:`TurnTakingEngine.speak`). Barge-in flushes playback and the
assistant message kept in the model's history is cut to what the caller actually heard.

Vendor SDK calls go through :func:`~edge.engines.turns.bounded` (cooperative sockets in the edge), so a
slow vendor parks only this call's greenlet, and never longer than the reply is due: the caller must hear
the first audio within ``response_deadline_seconds`` (the llm provider's, default 4 s) of the end of their
speech, whether the STT, the chat model or the TTS is the one that went silent (a tool's own time does
not count); each later chunk gets the whole deadline.
The budget is read on the call's clock (:attr:`EngineHost.clock`), so a test plays it on a scripted one.
A vendor error mid-call (wrong key, 429, 5xx, timeout) becomes a ❌ ERROR line and an apology in the
offline voice (:meth:`TurnTakingEngine.fail`); the host then connects a fresh engine once (which asks the
caller to repeat) and after that falls back (the domain's fallback destination, else the goodbye prompt).
At greeting time it raises :class:`EngineUnavailable`: the host starts the engine once more, then falls back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from edge.core.clock import Clock
from edge.core.state import CallState
from edge.engines.base import EngineUnavailable, response_deadline
from edge.engines.offline import TOOLS_THAT_SPEAK
from edge.engines.tool_definitions import chat_completion_tools
from edge.engines.turns import TurnTakingEngine, Utterance, bounded, sentences
from edge.services import factory
from edge.services.base import ChatEvent, ServiceError, SpeechToText, TextToSpeech, ToolCall
from shared.logging import Tag

MAX_TOOL_ROUNDS = 4
TOOLS = chat_completion_tools()
"""The tools of docs/contract.md as the chat model sees them (derived from the Realtime definitions)."""

_END = object()


def pull_blocking(iterator: Iterator[Any], budget: Callable[[], float], provider: str,
                  clock: Clock) -> Iterator[Any]:
    """Pull each item of a blocking iterator through :func:`bounded`, each within ``budget()`` seconds."""
    while True:
        item = bounded(budget(), provider, next, iterator, _END, clock=clock)
        if item is _END:
            return
        yield item


class _BoundedSTT(SpeechToText):
    """A speech-to-text client whose every request is given up after the vendor's budget (:func:`bounded`)."""

    def __init__(self, inner: SpeechToText, budget: Callable[[], float], clock: Clock) -> None:
        self.inner = inner
        self.name = inner.name
        self.budget = budget
        self.clock = clock

    def transcribe(self, pcm16_8k: bytes, language: str) -> str:
        return bounded(self.budget(), f"{self.inner.name}-stt", self.inner.transcribe, pcm16_8k, language,
                       clock=self.clock)

    def prepare(self) -> None:
        self.inner.prepare()


class _BoundedTTS(TextToSpeech):
    """A text-to-speech client whose every audio chunk is given up after the vendor's budget."""

    def __init__(self, inner: TextToSpeech, budget: Callable[[], float], clock: Clock) -> None:
        self.inner = inner
        self.name = inner.name
        self.budget = budget
        self.clock = clock

    def cache_key(self) -> str:
        return self.inner.cache_key()

    def stream(self, text: str) -> Iterator[bytes]:
        return pull_blocking(iter(self.inner.stream(text)), self.budget, f"{self.name}-tts", self.clock)


class PipelineEngine(TurnTakingEngine):
    """STT → LLM → TTS with tools (see the module docstring)."""

    name = "pipeline"

    def build_services(self) -> None:
        """Vendor clients from the call's providers."""
        providers = self.host.context.providers
        self.deadline_seconds = response_deadline(providers["llm"])
        try:
            clock = self.host.clock
            self.stt = _BoundedSTT(factory.speech_to_text(providers["stt"]), self.vendor_budget, clock)
            self.tts = _BoundedTTS(factory.text_to_speech(
                providers["tts"], self.secretary.language, self.secretary.voice_name, self.log), self.vendor_budget,
                clock)
            self.llm = factory.chat_model(providers["llm"])
        except ServiceError as exc:
            raise EngineUnavailable(str(exc)) from exc
        self.history: list[dict[str, Any]] = [{"role": "system", "content": self._instructions()}]

    def _instructions(self) -> str:
        s = self.secretary
        return (f"{s.system_prompt}\nYou are {s.name}, answering a phone call. Speak in {s.language}. "
                "Keep replies short: one or two sentences. Use search_knowledge_base for facts about the "
                "company, transfer_call when the caller asks for a person or department, take_message to "
                "leave a message (read it back first), end_call when the caller is done.")

    def greeting_text(self) -> str:
        """The secretary's greeting."""
        return self.secretary.greeting_message

    def on_greeting_heard(self, text: str) -> None:
        """The whole greeting was heard: it is the first assistant message of the history."""
        super().on_greeting_heard(text)
        self.history.append({"role": "assistant", "content": text})

    def on_interrupted(self, utterance: Utterance, heard: str) -> None:
        """Keep only what the caller heard of the greeting or a reply in the model's history (the host's
        fixed texts are not the model's words, and the history may be between a tool call and its result)."""
        super().on_interrupted(utterance, heard)
        if utterance.kind != "host":
            self.history.append({"role": "assistant", "content": heard or "…"})

    def handle_text(self, text: str, source: str) -> None:
        """One caller turn: model rounds until it answers without tools."""
        if source == "dtmf":
            self.history.append({"role": "user", "content": f"(The caller typed {text} on the telephone keypad.)"})
        elif source == "notify":
            self.history.append({"role": "user", "content": f"(System: {text})"})
        else:
            self.history.append({"role": "user", "content": text})
        for _ in range(MAX_TOOL_ROUNDS):
            calls: list[ToolCall] = []
            events = pull_blocking(iter(self.llm.stream(list(self.history), TOOLS)), self.vendor_budget, "openai-llm",
                                   self.host.clock)

            def text_only(events: Iterator[ChatEvent] = events, calls: list[ToolCall] = calls) -> Iterator[str]:
                for event in events:
                    if event.tool_call is not None:
                        calls.append(event.tool_call)
                    elif event.text:
                        yield event.text

            spoken = self.speak(sentences(text_only()))
            if not calls:
                if spoken:  # a round with neither words nor calls adds nothing (the API refuses a null content)
                    self.history.append({"role": "assistant", "content": spoken})
                return
            self.history.append({"role": "assistant", "content": spoken or None, "tool_calls": [
                {"id": c.call_id, "type": "function", "function": {
                    "name": c.name, "arguments": c.raw_arguments or json.dumps(c.arguments)}} for c in calls]})
            finished = False
            for call in calls:
                self.log.info(Tag.SESSION, "tool %s", call.name)
                if call.problem is not None:
                    self.log.error("%s called with %s", call.name, call.problem)
                    self.history.append({"role": "tool", "tool_call_id": call.call_id, "content": json.dumps({
                        "ok": False, "error": "invalid_arguments", "message": f"The arguments were not valid "
                        f"({call.problem}); nothing was done. Call it again with a JSON object."})})
                    continue
                if call.name not in TOOLS_THAT_SPEAK:
                    self.host.set_state(CallState.TOOL_RUNNING)
                result = self.host.run_tool(call.name, call.arguments)
                self.reply_due()  # the tool's own time is not the vendor's
                self.history.append({"role": "tool", "tool_call_id": call.call_id,
                                     "content": json.dumps(result.payload, default=str)})
                if call.name == "end_call" or result.transferred:
                    finished = True
                elif result.spoken or result.ended:
                    finished = True  # the host spoke (a fallback offer) or the call is over: wait for the caller
            if finished:
                return
