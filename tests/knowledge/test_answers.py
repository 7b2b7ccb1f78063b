"""What a caller gets from the documents: the evaluation's questions through the product's ingestion and
search with the offline model (multilingual E5) and the secretary's defaults, judged by the text of the
passages returned (does one hold the phrase that answers?), never by the model's scores.

The floors are the figures reached when the hybrid search was built (tests/benchmarks/bench_knowledge.py
prints them); a change that loses answers fails here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edge.dialogue.extractive import ExtractiveDialogue, best_sentences, passages_from_result
from shared.knowledge import search_knowledge
from tests.knowledge import evaluation as ev

FLOORS = {
    # language: (top-3 of answerable ≥, answerable finding nothing ≤, unanswerable finding something ≤)
    "pt": (0.95, 0, 2),
    "en": (1.0, 0, 0),
}


@pytest.fixture(scope="module")
def pt_tenant(database_url: str) -> Iterator[ev.Tenant]:
    with ev.ingest_corpus("pt") as tenant:
        yield tenant


@pytest.fixture(scope="module")
def en_tenant(database_url: str) -> Iterator[ev.Tenant]:
    with ev.ingest_corpus("en") as tenant:
        yield tenant


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_spoken_questions_find_the_passage_that_answers(lang: str, request: pytest.FixtureRequest) -> None:
    tenant = request.getfixturevalue(f"{lang}_tenant")
    answers = ev.ask_all(tenant, ev.questions(lang))
    score = ev.score(answers)
    top3, empty, answered = FLOORS[lang]
    report = "\n".join(ev.misses(answers))
    assert score.top3_rate >= top3, f"top-3 {score.top3_rate:.0%} < {top3:.0%}\n{report}"
    assert score.answerable_empty <= empty, report
    assert score.unanswerable_answered <= answered, report


def test_the_offline_secretary_answers_in_portuguese_or_says_it_does_not_know(pt_tenant: ev.Tenant) -> None:
    """The extractive (offline) dialogue of a pt-BR secretary reads the answering sentence, and says it
    does not have the information when the search finds nothing relevant — not a wrong passage."""

    def search(query: str) -> list[str]:
        result = search_knowledge(pt_tenant.domain_uuid, query, pt_tenant.secretary_uuid)
        return passages_from_result(result.as_tool_result())

    dialogue = ExtractiveDialogue(search=search, language="pt-BR")
    assert "R$ 25,00" in dialogue.respond("quanto custa um hemograma?").reply
    assert "Rua Padre Chagas" in dialogue.respond("onde fica o consultório do dentista?").reply
    assert dialogue.respond("tem wi-fi na sala de espera?").reply.startswith("Desculpe, não tenho essa informação")
    # A treatment the dentist does not list: not the price of another one.
    assert dialogue.respond("quanto custa implante dentário?").reply.startswith("Desculpe, não tenho essa informação")


def test_headings_and_faq_questions_lead_to_the_answer_but_are_not_read_out() -> None:
    vet = "Hospital Veterinário Patas > Endereço\n\nRua Marechal Deodoro, 2.200, Alto da XV, Curitiba."
    faq = ("Quanto custa a primeira consulta?\nA avaliação inicial custa R$ 150,00.\n\n"
           "Tem estacionamento?\nNão temos estacionamento próprio.")
    assert best_sentences("qual o endereço do hospital veterinário?", [vet]) == (
        "Rua Marechal Deodoro, 2.200, Alto da XV, Curitiba.")
    assert best_sentences("quanto é a primeira consulta?", [faq]) == "A avaliação inicial custa R$ 150,00."
    assert best_sentences("vocês vendem ração?", [vet, faq]) == ""
