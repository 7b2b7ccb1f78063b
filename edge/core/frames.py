"""Call audio as it crosses the edge: G.711 µ-law (PCMU) at 8 kHz in 20 ms frames, both directions."""

FRAME_BYTES = 160
"""One 20 ms PCMU frame at 8 kHz."""
FRAME_MS = 20
