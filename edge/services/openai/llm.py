"""OpenAI chat completions, streamed, with the tools the caller passes (``edge.call.tools.chat_completion_tools``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from edge.services.base import ChatEvent, ChatModel, ServiceError, ToolCall
from edge.services.openai.client import guarded, make_client, translate
from shared.providers import ProviderConfig


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
