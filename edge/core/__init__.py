"""The edge's core: what every layer above may use (audio frames, call state, what a call is about); it imports nothing of the edge."""
