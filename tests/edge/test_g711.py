"""G.711 tables agree with CPython's audioop on every input."""

import warnings

import numpy as np
import pytest

from edge.audio import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    audioop = pytest.importorskip("audioop")


def test_decode_table_matches_audioop_for_every_byte():
    every_byte = bytes(range(256))
    assert g711.ulaw_to_l16(every_byte) == audioop.ulaw2lin(every_byte, 2)


def test_encode_table_matches_audioop_for_every_sample():
    every_sample = np.arange(-32768, 32768, dtype="<i2").tobytes()
    assert g711.l16_to_ulaw(every_sample) == audioop.lin2ulaw(every_sample, 2)


def test_silence_is_0xff_and_round_trip_is_stable():
    assert g711.l16_to_ulaw(b"\x00\x00" * 4) == b"\xff" * 4
    every_byte = bytes(range(256))
    # 0x7F and 0xFF both decode to zero; every other code survives a round trip.
    assert g711.l16_to_ulaw(g711.ulaw_to_l16(every_byte)).replace(b"\xff", b"\x7f") == every_byte.replace(
        b"\xff", b"\x7f"
    )
