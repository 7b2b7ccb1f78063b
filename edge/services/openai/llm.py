"""OpenAI chat completions, streamed, with the tools the caller passes (``edge.call.tools.chat_completion_tools``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from edge.services.base import ChatEvent, ChatModel, ServiceError, ToolCall, parse_arguments
from edge.services.openai.client import guarded, make_client, translate
from shared.providers import ProviderConfig, chat_sampling, default_model


class OpenAIChatModel(ChatModel):
    """``chat.completions.create(stream=True)``; tool call fragments are joined before they are emitted."""

    name = "openai"

    def __init__(self, config: ProviderConfig) -> None:
        self.model = config.model or default_model("chat")
        temperature = config.config.get("temperature")
        # Sent only where the model family accepts it (reasoning models refuse any but the default).
        self.sampling = chat_sampling(self.model, temperature=0.6 if temperature is None else float(temperature))
        self.client = make_client(config)

    def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Iterator[ChatEvent]:
        """Text deltas as they arrive, then complete tool calls."""
        response = guarded("openai-llm", lambda: self.client.chat.completions.create(
            model=self.model, messages=messages, tools=tools or None, stream=True, **self.sampling))
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
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes the ServiceError callers handle
            raise translate("openai-llm", exc) from None
        for index in sorted(calls):
            call = calls[index]
            arguments, problem = parse_arguments(call["arguments"])
            yield ChatEvent(tool_call=ToolCall(call["id"], call["name"], arguments, call["arguments"], problem))
