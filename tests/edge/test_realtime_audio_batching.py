"""Caller audio to the Realtime model: speech at once, frame by frame; silence between turns in chunks."""

from __future__ import annotations

from itertools import accumulate

from edge.audio.g711 import has_sound
from simulator.audio import noise, silence
from tests.fakes.openai_realtime import Reply
from tests.polling import wait_until

FRAME = 160


def test_speech_is_never_held_back_and_silence_goes_in_chunks(edge, fake_fs, realtime, realtime_secretary):
    domain, secretary = realtime_secretary
    realtime.script = [Reply("Claro.", 600)]
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("answered")
    assert wait_until(lambda: realtime.sessions and realtime.sessions[0].speech_started_at == []
                      and len(realtime.sessions[0].received_audio) >= 8000)  # a second of silence arrived
    session = realtime.sessions[0]
    call.speak(noise(600, seed=5) + silence(1500))
    assert wait_until(lambda: len(session.speech_started_at) == 1 and any(
        e["type"] == "input_audio_buffer.speech_stopped" for e in session.server_events))
    call.hangup()

    audio = bytes(session.received_audio)
    ends = list(accumulate(session.append_sizes))
    starts = [0, *ends[:-1]]
    first_sound = next(i for i in range(0, len(audio), FRAME) if has_sound(audio[i : i + FRAME]))
    # The append that carried the first frame of speech ended with that frame: it was sent the moment
    # it arrived, not held for the frames after it.
    carrier = next(n for n, (start, end) in enumerate(zip(starts, ends, strict=True)) if start <= first_sound < end)
    assert ends[carrier] == first_sound + FRAME
    # While the caller was silent, before speaking, the audio went out in chunks of 100 ms.
    before = [size for size, end in zip(session.append_sizes, ends, strict=True) if end <= first_sound]
    assert before and max(before) == 800 and sum(size == 800 for size in before) >= len(before) - 1
    # From the first sound to the server's speech_stopped, every frame went out on its own.
    during = [size for size, start in zip(session.append_sizes, starts, strict=True)
              if first_sound <= start < first_sound + 8 * 600]
    assert during and set(during) == {FRAME}
