"""The four tools of docs/contract.md that the conversation engine offers the model (their schemas:
:mod:`edge.engines.tool_definitions`).

Each tool is a handler class with ``run(call, arguments) -> ToolResult`` (its payload goes back to the model).
``search_knowledge_base`` runs in :mod:`edge.call.knowledge`, ``transfer_call`` in
:mod:`edge.call.transfer` (through the call, which owns the audio and the socket); ``take_message`` and
``end_call`` are here.
"""

from __future__ import annotations

from typing import Any, Protocol

from edge.call.knowledge import search_for_call
from edge.core.context import CallContext
from edge.dialogue.phrases import phrases
from edge.engines.tool_definitions import ToolResult


class CallControl(Protocol):
    """What a tool may do to its call (implemented by :class:`edge.call.host.CallHost`)."""

    @property
    def context(self) -> CallContext:
        """The call's context (tenant, secretary, caller)."""

    def end_call(self, reason: str) -> None:
        """Say the secretary's goodbye message, then hang up."""

    def transfer(self, arguments: dict[str, Any]) -> ToolResult:
        """Run ``transfer_call`` (decision, transfer message, bridge, fallback offer)."""

    def store_message(self, message: dict[str, str]) -> None:
        """Keep a taken message for the conversation record (outcome ``message``)."""


class ToolHandler(Protocol):
    """One tool."""

    name: str

    def run(self, call: CallControl, arguments: dict[str, Any]) -> ToolResult:
        """Run the tool; the result's payload goes back to the model."""


class EndCallTool:
    """``end_call(reason)``: goodbye message, then hangup."""

    name = "end_call"

    def run(self, call: CallControl, arguments: dict[str, Any]) -> ToolResult:
        """Say goodbye and hang up (blocks until the goodbye has been heard)."""
        call.end_call(str(arguments.get("reason") or "caller finished"))
        return ToolResult({"ok": True, "ended": True}, ended=True)


class SearchKnowledgeBaseTool:
    """``search_knowledge_base(query)``: the best passages of the tenant's documents."""

    name = "search_knowledge_base"

    def run(self, call: CallControl, arguments: dict[str, Any]) -> ToolResult:
        """Top passages (secretary's ``rag_top_k``, at or above its ``rag_similarity_threshold``)."""
        return ToolResult(search_for_call(call.context, str(arguments.get("query") or "")))


class TransferCallTool:
    """``transfer_call(destination, reason)``: rules, transfer message, bridge, fallback offer (``edge.call.transfer``)."""

    name = "transfer_call"

    def run(self, call: CallControl, arguments: dict[str, Any]) -> ToolResult:
        """Bridge the caller or, when that is not possible, offer the rule's fallback."""
        return call.transfer(arguments)


def read_back(language: str, message: dict[str, str]) -> str:
    """The confirmation of a taken message, in the secretary's language."""
    book = phrases(language, "message")
    number = " ".join(message.get("callback_number") or "")
    text = book["read_back"].format(message=message["message"])
    if message.get("caller_name"):
        text = f"{message['caller_name']}, {text[0].lower()}{text[1:]}"
    return text + (book["callback"].format(number=number) if number else "")


class TakeMessageTool:
    """``take_message(caller_name, message, callback_number)``: stored on the conversation (outcome ``message``)."""

    name = "take_message"

    def run(self, call: CallControl, arguments: dict[str, Any]) -> ToolResult:
        """Store the message; the result carries the read-back the model confirms to the caller."""
        text = str(arguments.get("message") or "").strip()
        if not text:
            return ToolResult({"ok": False, "error": "empty_message", "message": "Ask the caller for the message first."})
        context = call.context
        number = "".join(c for c in str(arguments.get("callback_number") or "") if c.isdigit() or c == "+")
        message = {
            "caller_name": str(arguments.get("caller_name") or context.caller_name or "").strip(),
            "message": text,
            "callback_number": number or (context.caller_id or ""),
        }
        call.store_message(message)
        confirmation = read_back(context.secretary.language, message)
        return ToolResult({"ok": True, "saved": True, **message, "read_back": confirmation,
                           "instructions": "The message is saved. Confirm it to the caller by reading it back "
                                           f"(\"{confirmation}\") and ask whether there is anything else."})


class ToolDispatcher:
    """Routes a tool call by name to its handler."""

    def __init__(self, handlers: list[ToolHandler] | None = None) -> None:
        chosen = handlers or [SearchKnowledgeBaseTool(), TransferCallTool(), TakeMessageTool(), EndCallTool()]
        self.handlers: dict[str, ToolHandler] = {h.name: h for h in chosen}

    def dispatch(self, call: CallControl, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run tool ``name``; unknown tools and handler errors become an error result, never an exception."""
        handler = self.handlers.get(name)
        if handler is None:
            return ToolResult({"ok": False, "error": "unknown_tool", "message": f"no tool named {name}"})
        try:
            return handler.run(call, arguments)
        except Exception as exc:
            log = getattr(getattr(call, "context", None), "log", None)
            if log is not None:
                log.exception("tool %s failed", name)
            return ToolResult({"ok": False, "error": "tool_failed", "message": type(exc).__name__})
