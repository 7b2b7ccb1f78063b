"""The simulated caller's voice: espeak-ng audio as 8 kHz PCMU (the simulator's calls and the engine tests)."""

from __future__ import annotations

import subprocess
from functools import lru_cache

from edge.services.offline.tts import OfflineTextToSpeech, wav_to_pcmu


@lru_cache(maxsize=32)
def caller_says(text: str) -> bytes:
    """``text`` spoken by an American English espeak-ng voice (what pocketsphinx understands best).

    The caller's side runs in a process gevent does not patch (the simulator's, a test's): the edge's own
    :meth:`OfflineTextToSpeech.synthesize` waits on gevent's child watcher, which another test's
    plain subprocess can reap first in the same pytest worker (seen once: a 20 s "offline-tts: timeout"
    for a one-line sentence). The same espeak-ng command runs here through the standard library."""
    voice = OfflineTextToSpeech("en-US", "en-us+f2", words_per_minute=130)
    done = subprocess.run(voice.command(), input=text.encode("utf-8"), capture_output=True, timeout=60,
                          check=True)
    return wav_to_pcmu(done.stdout)
