"""How common a word is in the language at large — what tells a caller's subject from the words around it.

A caller who asks "vocês fazem clareamento dental?" at a clinic whose documents never mention whitening
should hear "I don't have that information", not the clinic's price list. Callers also say many words
the documents do not hold ("tá", "noite", "perto", "meu pai"), and those must not stop an answer. What
separates the two is how specific the word is in the language itself: "clareamento", "paternidade",
"lanchonete" are rare in everyday Portuguese; "noite", "lugar", "sai" are not. A tenant's few documents
cannot say that (their own frequencies only say what they hold), so the general-language frequency comes
from ``wordfreq``'s word lists (a wheel with its data inside, Apache-2.0 code, CC-BY-SA data; used, not
shipped), on the Zipf scale: log10 of occurrences per billion words, ~7 for "de", ~3 for a word read once
in a few million.

The "small" lists are used: they hold every word at Zipf ≥ 3, so any word rarer than the bar (below 3.5)
is decided the same as with the large ones, at a fraction of the memory and load time.
"""

from __future__ import annotations

import functools

SPECIFIC_BELOW_ZIPF = 3.5
"""A word rarer than this in the language at large is specific: it names the caller's subject.
Calibrated on the evaluation in ``tests/knowledge`` (``tests/benchmarks/bench_knowledge.py``): at 3.5
the pt-BR set's unanswerable subjects ("paternidade" 3.45, "implante" 3.4, "clareamento" below 3) are
specific, and its answerable questions' unknown words are not ("dezesseis" 3.56, "colocam" 4.1), are held
in another form ("castrar" as "castração") or belong to a question a passage clearly answers."""


@functools.lru_cache(maxsize=4096)
def zipf(word: str, language: str) -> float:
    """The word's Zipf frequency in ``language`` (``pt`` or ``en``); 0 for a word not in the list."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, language, wordlist="small"))


def is_specific(word: str, language: str, below: float = SPECIFIC_BELOW_ZIPF) -> bool:
    """Whether ``word`` is rare enough in ``language`` to name what the caller asks about."""
    return zipf(word, language) < below


def warm_up() -> None:
    """Load both languages' lists (about 0.3 s each the first time), so a call's first search does not."""
    for language in ("pt", "en"):
        zipf("de", language)
