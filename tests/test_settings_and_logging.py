"""Settings come from the environment over an optional file; log lines carry tags and call context."""

from __future__ import annotations

import io
import logging

import pytest

from shared.logging import Tag, call_logger, make_handler, redact
from shared.settings import Settings, SettingsError


def test_environment_overrides_config_file(tmp_path) -> None:
    conf = tmp_path / "voice-ai.conf"
    conf.write_text("# comment\nEDGE_ESL_PORT=9022\nREDIS_URL='redis://10.0.0.1:6379/2'\nWEBHOOK_ALLOW_PRIVATE=yes\n")
    settings = Settings.load({"VOICE_AI_CONFIG": str(conf), "EDGE_ESL_PORT": "8122"})
    assert settings.edge_esl_port == 8122
    assert settings.redis_url == "redis://10.0.0.1:6379/2"
    assert settings.webhook_allow_private is True
    assert settings.edge_audio_port == 8085 and settings.edge_metrics_port == 9122
    assert settings.unicast_port_range == (40000, 49999)
    assert settings.voice_ai_fallback_prompt == ""  # a tone
    assert Settings.load({"VOICE_AI_FALLBACK_PROMPT": "ivr/sorry.wav"}).voice_ai_fallback_prompt == "ivr/sorry.wav"


@pytest.mark.parametrize(
    "env",
    [
        {"EDGE_ESL_PORT": "eight"},
        {"EDGE_AUDIO_TRANSPORT": "carrier-pigeon"},
        {"EDGE_UNICAST_PORTS": "50000-40000"},
        {"DATABASE_URL": "mysql://x"},
        {"EMBEDDING_PRECISION": "float8"},
        {"TRANSFER_ANNOUNCE_ANSWER_SECONDS": "0"},
        {"TRANSFER_ANNOUNCE_ANSWER_SECONDS": "600"},
        {"EDGE_RR_PRIORITY": "100"},
        {"EDGE_RR_PRIORITY": "-1"},
    ],
)
def test_bad_settings_are_named(env) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.load(env, config_file=None)
    assert list(env)[0].split("_")[0] in str(info.value)


def test_call_lines_carry_tag_call_and_domain() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("test.calls")
    logger.setLevel(logging.INFO)
    handler = make_handler(stream)
    logger.addHandler(handler)
    try:
        log = call_logger("test.calls", call_uuid="c-1", domain_uuid="d-1")
        log.info(Tag.STATE_MACHINE, "greeting -> listening")
        log.error("engine failed api_key=sk-abcdefghijklmnop")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert "🔄 STATE_MACHINE [call=c-1 domain=d-1] greeting -> listening" in lines[0]
    assert "❌ ERROR [call=c-1 domain=d-1]" in lines[1]
    assert "sk-abcdefghijklmnop" not in lines[1]


def test_redact_masks_keys() -> None:
    assert "AIzaSecret" not in redact("POST https://speech.example/v1/speech:recognize?key=AIzaSecret&x=1")
    assert "secret123" not in redact('{"api_key": "secret123"}')
    assert "Bearer" in redact("Authorization: Bearer abc.def") and "abc.def" not in redact("Authorization: Bearer abc.def")
