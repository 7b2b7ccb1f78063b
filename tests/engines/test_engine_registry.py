"""An engine that is not installed is a clear reason on the call's fallback path, not a traceback."""

from __future__ import annotations

import pytest

from edge.engines import registry
from edge.engines.base import EngineUnavailable
from edge.engines.offline import OfflineEngine


def test_a_registered_engine_loads_its_class():
    assert registry.engine_class("offline") is OfflineEngine


@pytest.mark.parametrize(("target", "reason"), [
    ("voice_ai_absent.engine:Engine", "voice_ai_absent.engine is not installed"),
    ("edge.engines.offline:NoSuchEngine", "edge.engines.offline has no NoSuchEngine"),
])
def test_an_engine_that_cannot_be_loaded_says_why(monkeypatch, target, reason):
    monkeypatch.setitem(registry.ENGINES, "absent", target)
    with pytest.raises(EngineUnavailable, match=f"engine 'absent' cannot be loaded: {reason}"):
        registry.engine_class("absent")


def test_an_unknown_engine_is_named():
    with pytest.raises(EngineUnavailable, match="unknown engine 'nonsense'"):
        registry.engine_class("nonsense")
