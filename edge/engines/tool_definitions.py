"""The schemas of the four tools an engine offers its model (docs/contract.md), and the typed result a tool
hands back (:class:`ToolResult`); the tools themselves run in the call (:mod:`edge.call.tools`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolResult:
    """What a tool did: :attr:`payload` is the JSON the model receives (its keys are the model's, unchanged);
    the flags are what the engines, the timers and the keypad act on, set by the tool that knows them
    rather than read back out of the JSON."""

    payload: dict[str, Any]
    ended: bool = False
    """The call is over (the goodbye was said, or the caller was bridged)."""
    spoken: bool = False
    """The host already told the caller what happened and what is offered: wait for their answer."""
    transferred: bool = False
    """The caller was bridged to a person."""

    @property
    def ok(self) -> bool:
        """The tool did what it was asked."""
        return self.payload.get("ok") is True

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
        "description": "Take a message for someone who cannot answer now. Ask the caller for their name, the "
        "message and a callback number first; the result carries a read-back to confirm to the caller.",
        "parameters": {
            "type": "object",
            "properties": {
                "caller_name": {"type": "string", "description": "The caller's name, as they gave it."},
                "message": {"type": "string", "description": "The message, in the caller's words."},
                "callback_number": {"type": "string", "description": "The number to call back (the caller "
                                    "ID is used when empty)."},
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
"""The only definition of the tools' schemas, in the Realtime ``session.tools`` format; the pipeline's
chat-completions shape is derived from it (:func:`chat_completion_tools`)."""


def chat_completion_tools(definitions: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The tools in the chat-completions ``tools`` shape (``{"type": "function", "function": {...}}``)."""
    return [{"type": "function", "function": {key: tool[key] for key in ("name", "description", "parameters")}}
            for tool in (TOOL_DEFINITIONS if definitions is None else definitions)]

