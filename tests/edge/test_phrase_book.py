"""The phrase book: every language says the same things, and a language without a book hears the default."""

from edge.dialogue.phrases import FALLBACK_LANGUAGE, PHRASES, phrase, phrases


def test_every_language_has_every_sentence_of_every_section():
    reference = {section: set(keys) for section, keys in PHRASES[FALLBACK_LANGUAGE].items()}
    for language, book in PHRASES.items():
        assert {section: set(keys) for section, keys in book.items()} == reference, language


def test_a_secretary_speaking_english_hears_english_and_any_other_language_hears_portuguese():
    assert phrase("en-US", "transfer.busy", department="Sales") == "Sales is busy right now."
    assert phrase("pt-BR", "transfer.busy", department="Vendas") == "Vendas está ocupado no momento."
    assert phrases("es-ES", "timer") == PHRASES["pt"]["timer"]
    assert phrases(None, "engine") == PHRASES[FALLBACK_LANGUAGE]["engine"]
