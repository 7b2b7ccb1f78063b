"""What a caller hears while a transfer rings: the national ringback tones' frequencies and cadence, the
country a domain's setting (or the secretary's language) picks, hold music from a WAV file, and the
ringing stopping the moment it is told to."""

from __future__ import annotations

import wave
from pathlib import Path

import gevent
import numpy as np
import pytest

from edge.audio.g711 import ulaw_to_samples
from edge.call.ringback import CHUNK_BYTES, Ringback, country_for, hold_music, ringback_cadence
from edge.pacing import PlaybackStream
from tests.polling import wait_until


def peaks(pcmu: bytes, count: int) -> list[float]:
    """The ``count`` strongest frequencies (Hz) of the audio."""
    samples = ulaw_to_samples(pcmu).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    strongest = sorted(np.argsort(spectrum)[::-1][: count * 3])
    found: list[float] = []
    for index in strongest:  # one frequency per lobe
        hz = index * 8000 / len(samples)
        if not found or hz - found[-1] > 10:
            found.append(hz)
    return sorted(found, key=lambda hz: -spectrum[int(hz * len(samples) / 8000)])[:count]


def on_seconds(pcmu: bytes) -> float:
    """How long the tone sounds in one period (non-silent 20 ms frames)."""
    frames = [pcmu[i:i + 160] for i in range(0, len(pcmu), 160)]
    return 0.02 * sum(1 for frame in frames if frame.count(0xFF) < 80)


def test_brazil_rings_425_hz_one_second_on_four_off():
    period = ringback_cadence("br")
    assert len(period) == 5 * 8000
    assert on_seconds(period) == pytest.approx(1.0, abs=0.02)
    assert peaks(period[:8000], 1)[0] == pytest.approx(425, abs=2)


def test_north_america_rings_440_plus_480_hz_two_seconds_on_four_off():
    period = ringback_cadence("us")
    assert len(period) == 6 * 8000
    assert on_seconds(period) == pytest.approx(2.0, abs=0.02)
    assert sorted(peaks(period[:16000], 2)) == [pytest.approx(440, abs=2), pytest.approx(480, abs=2)]


@pytest.mark.parametrize(("setting", "language", "country"), [
    ("br", "en-US", "br"), ("us", "pt-BR", "us"), ("BR", None, "br"),
    (None, "pt-BR", "br"), (None, "en-US", "us"), ("", "es", "us"), ("xx", "pt-PT", "br")])
def test_the_domains_setting_picks_the_tone_else_the_secretarys_language(setting, language, country):
    assert country_for(setting, language) == country


def test_hold_music_is_read_from_a_wav_of_any_rate_as_8khz_pcmu(tmp_path: Path):
    path = tmp_path / "hold.wav"
    t = np.arange(16000) / 16000
    left = (6000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(np.column_stack([left, left]).tobytes())
    audio = hold_music(str(path))
    assert len(audio) == pytest.approx(8000, abs=10)  # one second at 8 kHz
    assert peaks(audio, 1)[0] == pytest.approx(300, abs=3)


def test_an_unusable_hold_music_file_is_refused(tmp_path: Path):
    with pytest.raises(ValueError):
        hold_music(str(tmp_path / "missing.wav"))
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(ValueError):
        hold_music(str(tmp_path / "text.wav"))


def test_ringing_keeps_a_little_queued_and_stops_at_once():
    sent: list[bytes] = []
    stream = PlaybackStream(sent.append)
    ringback = Ringback(stream, ringback_cadence("br"))
    ringback.start()
    wait_until(lambda: stream.queued, timeout=5, sleep=gevent.sleep)  # the ringing greenlet runs meanwhile
    assert 0 < stream.queued <= 3 * CHUNK_BYTES
    ringback.stop()
    assert stream.queued == 0  # nothing more reaches the caller
