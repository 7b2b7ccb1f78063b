"""What crosses the audio path unchanged: L16 transports carry exactly the samples of the PCMU the engine
speaks and hears (exact G.711 both ways), and the caller's keypad reaches the engine as text."""

from __future__ import annotations

import pytest

from simulator.audio import noise, samples_to_ulaw, silence, ulaw_to_samples
from tests.fakes.openai_realtime import Reply
from tests.polling import let_frames_pass, wait_until


def _canonical(pcmu: bytes) -> bytes:
    """PCMU with its two codes for zero (0x7F, 0xFF) made one: equal iff the linear samples are equal."""
    return samples_to_ulaw(ulaw_to_samples(pcmu))


@pytest.mark.parametrize(("edge", "codec"), [("unicast", "PCMA"), ("audio_stream", "PCMU")],
                         indirect=["edge"], ids=["unicast-L16", "audio_stream"])
def test_l16_transport_carries_the_exact_samples_both_ways(edge, fake_fs, realtime, realtime_secretary, codec):
    domain, secretary = realtime_secretary
    realtime.script = [Reply("Certo, anotado.", 800)]
    realtime.user_transcripts = ["Meu pedido é o 42."]
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)}, codec=codec,
                              **({"audio_stream_build": "direct"} if edge.transport == "audio_stream" else {}))
    assert call.wait("answered")
    if edge.transport == "unicast":
        assert call.wait("audio_started")
        assert "flags" not in call.unicast, "a PCMA channel must get L16, not native PCMU"
    assert wait_until(lambda: realtime.sessions and realtime.sessions[0].items_audio)
    session = realtime.sessions[0]

    # Engine -> caller: the greeting's PCMU reaches the caller sample for sample, in order.
    greeting_item = next(iter(session.items_audio))
    assert wait_until(lambda: any(e["type"] == "response.done" for e in session.server_events))
    greeting = bytes(session.items_audio[greeting_item])
    assert wait_until(lambda: _canonical(greeting) in _canonical(call.heard_audio()), timeout=10)

    # Caller -> engine: the caller's speech reaches the engine sample for sample.
    speech = noise(600, seed=7)
    call.speak(speech + silence(700))
    assert wait_until(lambda: len(session.items_audio) >= 2, timeout=10), "no reply to the caller's turn"
    assert _canonical(speech) in _canonical(bytes(session.received_audio))
    reply_item = list(session.items_audio)[1]
    assert wait_until(lambda: _canonical(bytes(session.items_audio[reply_item]))
                       in _canonical(call.heard_audio()), timeout=10)
    assert call.protocol_errors == []
    call.hangup()
    assert wait_until(lambda: edge.health()["calls_active"] == 0)


def test_dtmf_digits_reach_the_engine_as_text(edge, fake_fs, realtime, realtime_secretary):
    domain, secretary = realtime_secretary
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("answered")
    assert wait_until(lambda: realtime.sessions and any(
        e["type"] == "response.done" for e in realtime.sessions[0].server_events))
    session = realtime.sessions[0]

    def notes() -> list[str]:
        return [part["text"] for e in session.client_events if e["type"] == "conversation.item.create"
                for part in (e["item"].get("content") or []) if part.get("type") == "input_text"]

    # A callback number typed on the keypad and ended with # reaches the model as one text (a 0 inside
    # it is a digit, not the operator key) ...
    for digit in "5550123#":
        call.dtmf(digit)
    assert wait_until(lambda: len(notes()) >= 1, timeout=15), notes()
    # ... and keys followed by a pause are one text too, once the caller stops typing.
    for digit in "*42":
        call.dtmf(digit)
    assert wait_until(lambda: len(notes()) >= 2, timeout=15), notes()
    assert let_frames_pass(call, 50)  # a second in which no third text may come
    assert len(notes()) == 2, notes()
    assert "5550123" in notes()[0] and "#" not in notes()[0]
    assert "*42" in notes()[1]
    assert not any(app in ("transfer", "bridge") for app, _ in call.executed)  # only 0 asks for the operator
    assert not call.originated
    assert not call.hung_up.is_set()
    call.hangup()
    assert wait_until(lambda: edge.health()["calls_active"] == 0)
