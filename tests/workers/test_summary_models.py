"""The call summary asks each chat model family only for what it accepts (the fake refuses the rest as
the API does): ``max_tokens`` and ``temperature`` for chat models, ``max_completion_tokens`` alone for
reasoning models; with no model named, the one default of ``shared.providers.DEFAULT_MODELS``."""

from __future__ import annotations

import pytest

from shared.providers import DEFAULT_MODELS, ProviderConfig
from shared.summaries import CallFacts, Turn, llm_summary
from tests.fakes.openai_http import DEFAULT_KEY, ChatReply, FakeOpenAI

TURNS = [Turn("user", "I want a quote for ten seats."), Turn("assistant", "I will pass it on.")]


@pytest.mark.parametrize(("model", "sent", "absent"), [
    (None, {"max_tokens": 300, "temperature": 0.2}, set()),
    ("o4-mini", {"max_completion_tokens": 300}, {"max_tokens", "temperature"}),
    ("gpt-5-mini", {"max_completion_tokens": 300}, {"max_tokens", "temperature"}),
])
def test_summary_sends_what_the_model_family_accepts(model, sent, absent):
    with FakeOpenAI() as fake:
        fake.script_chat(ChatReply(text="The caller wants a quote for ten seats."))
        config = {"api_key": DEFAULT_KEY, "base_url": fake.base_url, **({"model": model} if model else {})}
        summary = llm_summary(TURNS, CallFacts(outcome="message"), ProviderConfig("llm", "openai", config))
    assert summary == "The caller wants a quote for ten seats."
    assert not fake.refusals
    body = fake.requests[-1].body
    assert body["model"] == (model or DEFAULT_MODELS["summary"])
    assert {key: body[key] for key in sent} == sent and not absent & set(body)
