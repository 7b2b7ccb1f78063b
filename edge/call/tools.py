"""The four tools of CONTRACT.md that the conversation engine offers the model, and DTMF handling.

Each tool is a handler class with ``run(call, arguments) -> dict`` (JSON-able, goes back to the model).
``end_call`` is complete here; ``search_knowledge_base``, ``transfer_call`` and ``take_message`` answer
"not available" until the call-features work fills them in (same class, same signature).
"""

from __future__ import annotations

from typing import Any, Protocol

from edge.engines.base import CallContext

OPERATOR_KEY = "0"
"""DTMF digit that asks for the domain's operator (CONTRACT.md)."""

TOOL_DEFINITIONS: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "search_knowledge_base",
        "description": "Search the company's documents for facts to answer the caller. Use before answering "
        "questions about the company, its products, prices, hours or policies.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string", "description": "What to look up, in a few words."}},
            "required": ["query"],
        },
    },
    {
        "type": "function",
        "name": "transfer_call",
        "description": "Transfer the caller to a person or department.",
        "parameters": {
            "type": "object",
            "properties": {
                "destination": {"type": "string", "description": "Department, person or extension asked for."},
                "reason": {"type": "string", "description": "Why the caller wants to be transferred."},
            },
            "required": ["destination"],
        },
    },
    {
        "type": "function",
        "name": "take_message",
        "description": "Take a message for someone who cannot answer now.",
        "parameters": {
            "type": "object",
            "properties": {
                "caller_name": {"type": "string"},
                "message": {"type": "string"},
                "callback_number": {"type": "string"},
            },
            "required": ["message"],
        },
    },
    {
        "type": "function",
        "name": "end_call",
        "description": "End the call politely when the caller is done or says goodbye.",
        "parameters": {
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "Why the call ends."}},
            "required": [],
        },
    },
]
"""Tool schemas in the Realtime ``session.tools`` format (other engines reuse them)."""


class CallControl(Protocol):
    """What a tool may do to its call (implemented by the call session)."""

    context: CallContext

    def end_call(self, reason: str) -> None:
        """Say the secretary's goodbye message, then hang up."""


class ToolHandler(Protocol):
    """One tool."""

    name: str

    def run(self, call: CallControl, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run the tool; the result goes back to the model."""


def not_available(name: str) -> dict[str, Any]:
    """The result of a tool that this installation cannot run yet."""
    return {"ok": False, "error": "not_available",
            "message": f"{name} is not available; offer to help another way or end the call politely."}


class EndCallTool:
    """``end_call(reason)``: goodbye message, then hangup."""

    name = "end_call"

    def run(self, call: CallControl, arguments: dict[str, Any]) -> dict[str, Any]:
        """Say goodbye and hang up (blocks until the goodbye has been heard)."""
        call.end_call(str(arguments.get("reason") or "caller finished"))
        return {"ok": True, "ended": True}


class SearchKnowledgeBaseTool:
    """``search_knowledge_base(query)`` — seam for the call-features work."""

    name = "search_knowledge_base"

    def run(self, call: CallControl, arguments: dict[str, Any]) -> dict[str, Any]:
        """Top passages from the tenant's documents (not available yet)."""
        return not_available(self.name)


class TransferCallTool:
    """``transfer_call(destination, reason)`` — seam for the call-features work."""

    name = "transfer_call"

    def run(self, call: CallControl, arguments: dict[str, Any]) -> dict[str, Any]:
        """Evaluate transfer rules and bridge the caller (not available yet)."""
        return not_available(self.name)


class TakeMessageTool:
    """``take_message(caller_name, message, callback_number)`` — seam for the call-features work."""

    name = "take_message"

    def run(self, call: CallControl, arguments: dict[str, Any]) -> dict[str, Any]:
        """Store the message on the conversation (not available yet)."""
        return not_available(self.name)


class ToolDispatcher:
    """Routes a tool call by name to its handler."""

    def __init__(self, handlers: list[ToolHandler] | None = None) -> None:
        chosen = handlers or [SearchKnowledgeBaseTool(), TransferCallTool(), TakeMessageTool(), EndCallTool()]
        self.handlers: dict[str, ToolHandler] = {h.name: h for h in chosen}

    def dispatch(self, call: CallControl, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run tool ``name``; unknown tools and handler errors become an error result, never an exception."""
        handler = self.handlers.get(name)
        if handler is None:
            return {"ok": False, "error": "unknown_tool", "message": f"no tool named {name}"}
        try:
            return handler.run(call, arguments)
        except Exception as exc:  # noqa: BLE001 - the model gets an error result, the call goes on
            return {"ok": False, "error": "tool_failed", "message": type(exc).__name__}


class DtmfRouter:
    """Decides what a DTMF digit means: the operator key asks for ``transfer_call``; the rest goes to the
    engine."""

    def __init__(self, operator_key: str = OPERATOR_KEY) -> None:
        self.operator_key = operator_key

    def operator_request(self, digit: str) -> dict[str, Any] | None:
        """Tool arguments for the operator transfer if ``digit`` is the operator key, else None."""
        if digit == self.operator_key:
            return {"destination": "operator", "reason": "caller pressed the operator key"}
        return None
