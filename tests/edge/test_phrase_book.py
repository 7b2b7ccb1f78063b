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


def test_a_sentence_that_starts_with_the_operator_starts_with_a_capital():
    assert phrase("en-US", "transfer.no_answer", department=phrase("en-US", "transfer.operator")) == \
        "The operator did not answer."
    assert phrase("pt-BR", "transfer.no_answer", department=phrase("pt-BR", "transfer.operator")) == \
        "A telefonista não atendeu."
    # and in the middle of one it does not
    assert phrase("en-US", "transfer.transferring", department=phrase("en-US", "transfer.operator")) == \
        "One moment, I will transfer your call to the operator."
