"""Pocketsphinx recognition for 8 kHz telephone audio, biased to the call's vocabulary.

The en-US acoustic model shipped in the ``pocketsphinx`` package is trained on 16 kHz audio with
filters up to 6.8 kHz, so it cannot be configured for 8 kHz input: telephone audio is up-sampled to
16 kHz (the band above 4 kHz stays empty, which costs some accuracy). The general en-US language model
is weak on short phone phrases; when the call supplies vocabulary hints (departments, keywords,
knowledge text) a small trigram model is built from them plus everyday call phrases, keeping only
words the pronunciation dictionary knows. Pocketsphinx is English-only.

This module runs inside the recognizer worker process (:mod:`.sphinx_worker`): pocketsphinx holds the
GIL while it decodes, which would stall every other call's greenlets in the edge process.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from tempfile import NamedTemporaryFile

import numpy as np

from edge.audio.resample import resample

CALL_PHRASES = """
hello hi good morning good afternoon good evening
yes no okay please thank you thanks
i would like to talk to someone
i want to speak to a person
can i speak to the manager
transfer me to sales
i would like to talk to the sales department please
put me through to support
connect me to the operator
what are your opening hours
when are you open
where are you located
what is your address
how much does it cost
what is the price
do you have
i have a question about
can you help me
i want to leave a message
can i leave a message
please take a message
my name is john smith
my number is one two three four five six seven eight nine zero
call me back at
that is correct that is right
no that is wrong
goodbye bye thank you goodbye that is all
"""


@lru_cache(maxsize=1)
def model_dir() -> Path:
    """The en-US model directory shipped with pocketsphinx."""
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us"


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Words of the shipped pronunciation dictionary (alternates like ``word(2)`` folded)."""
    words = set()
    with open(model_dir() / "cmudict-en-us.dict", encoding="utf-8") as handle:
        for line in handle:
            head = line.split(" ", 1)[0]
            words.add(head.split("(", 1)[0])
    return frozenset(words)


def normalize(text: str) -> list[str]:
    """Lower-cased words of ``text`` (digits spelled as the dictionary has them are kept as-is)."""
    return re.findall(r"[a-z']+", text.lower())


def build_corpus(hints: Sequence[str]) -> str:
    """The language-model training text: everyday call phrases plus the call's hints, known words only."""
    known = dictionary_words()
    lines = []
    for text in [*CALL_PHRASES.strip().splitlines(), *hints]:
        for sentence in re.split(r"[.!?;\n]+", text):
            words = [w for w in normalize(sentence) if w in known]
            if words:
                lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def corpus_key(hints: Sequence[str]) -> str:
    """A short stable key for the language model built from ``hints`` ("" = the general model)."""
    if not hints:
        return ""
    return hashlib.sha256("\n".join(hints).encode()).hexdigest()[:16]


def _arpa_file(corpus: str) -> str:
    from pocketsphinx.lm import ArpaBoLM

    model = ArpaBoLM(text=corpus, add_start=True, case="lower")
    model.compute()
    buffer = io.StringIO()
    model.write(buffer)
    with NamedTemporaryFile("w", suffix=".arpa", delete=False, encoding="utf-8") as handle:
        handle.write(buffer.getvalue())
        return handle.name


class Recognizer:
    """Decoders per language model (LRU), each used by one request at a time in this process."""

    def __init__(self, max_models: int = 8) -> None:
        self._decoders: OrderedDict[str, object] = OrderedDict()
        self._max = max_models

    def _decoder(self, hints: Sequence[str]):  # noqa: ANN202 - pocketsphinx.Decoder
        from pocketsphinx import Decoder

        key = corpus_key(hints)
        decoder = self._decoders.get(key)
        if decoder is None:
            if key:
                path = _arpa_file(build_corpus(hints))
                try:
                    decoder = Decoder(lm=path, loglevel="FATAL")
                finally:
                    Path(path).unlink(missing_ok=True)
            else:
                decoder = Decoder(loglevel="FATAL")
            self._decoders[key] = decoder
            while len(self._decoders) > self._max:
                self._decoders.popitem(last=False)
        self._decoders.move_to_end(key)
        return decoder

    def transcribe(self, pcm16_8k: bytes, hints: Sequence[str] = ()) -> str:
        """Text of one utterance of 8 kHz 16-bit PCM ("" when nothing was recognized)."""
        samples = np.frombuffer(pcm16_8k, dtype=np.int16)
        if len(samples) == 0:
            return ""
        audio16 = resample(samples, 8000, 16000)
        decoder = self._decoder(hints)
        decoder.start_utt()
        decoder.process_raw(audio16.tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        text = hypothesis.hypstr if hypothesis is not None else ""
        # Filler tokens such as <sil> or [NOISE] are not words.
        return " ".join(w for w in text.split() if not w.startswith(("<", "[", "+")))
