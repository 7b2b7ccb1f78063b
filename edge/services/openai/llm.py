"""OpenAI chat completions, streamed, with the four tools of CONTRACT.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from edge.services.base import ChatEvent, ChatModel, ServiceError, ToolCall
from edge.services.openai.client import guarded, make_client, translate
from shared.providers import ProviderConfig


def _function(name: str, description: str, properties: dict[str, str], required: list[str]) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "required": required, "additionalProperties": False,
                       "properties": {k: {"type": "string", "description": v} for k, v in properties.items()}},
    }}


TOOLS: list[dict[str, Any]] = [
    _function("search_knowledge_base", "Search the company's documents for facts to answer the caller.",
              {"query": "what to look for"}, ["query"]),
    _function("transfer_call", "Transfer the caller to a department or person.",
              {"destination": "department or person asked for", "reason": "why the caller wants it"},
              ["destination"]),
    _function("take_message", "Record a message for callback after reading it back to the caller.",
              {"caller_name": "the caller's name", "message": "the message",
               "callback_number": "number to call back"}, ["caller_name", "message", "callback_number"]),
    _function("end_call", "Say goodbye and end the call when the caller is done.",
              {"reason": "why the call ends"}, []),
]
"""The tools offered to the model (CONTRACT.md, "Tools the conversation engine offers the model")."""


class OpenAIChatModel(ChatModel):
    """``chat.completions.create(stream=True)``; tool call fragments are joined before they are emitted."""

    name = "openai"

    def __init__(self, config: ProviderConfig) -> None:
        self.model = config.model or "gpt-4o-mini"
        self.temperature = float(config.config.get("temperature", 0.6))
        self.client = make_client(config)

    def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Iterator[ChatEvent]:
        """Text deltas as they arrive, then complete tool calls."""
        response = guarded("openai-llm", lambda: self.client.chat.completions.create(
            model=self.model, messages=messages, tools=tools or None, stream=True,
            temperature=self.temperature))
        calls: dict[int, dict[str, str]] = {}
        try:
            for chunk in response:
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                if delta.content:
                    yield ChatEvent(text=delta.content)
                for part in delta.tool_calls or ():
                    call = calls.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
                    call["id"] = part.id or call["id"]
                    if part.function is not None:
                        call["name"] = part.function.name or call["name"]
                        call["arguments"] += part.function.arguments or ""
        except ServiceError:
            raise
        except Exception as exc:
            raise translate("openai-llm", exc) from None
        for index in sorted(calls):
            call = calls[index]
            try:
                arguments = json.loads(call["arguments"] or "{}")
            except json.JSONDecodeError:
                arguments = {}
            yield ChatEvent(tool_call=ToolCall(call["id"], call["name"], arguments))
