"""The keyword side of the hybrid search: tenant and secretary scope, model, language, accents, and what it
adds to the vector side."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.keywords import detect_language, hybrid_chunks, keyword_chunks, tsquery_any
from shared.knowledge import RELEVANCE, Relevance, search_knowledge
from shared.models import DocumentChunk
from shared.settings import get_settings
from shared.tenancy import tenant_session
from shared.vectors import nearest_chunks
from tests.factories import add_secretary
from tests.workers.conftest import HashEmbedder, add_upload, hash_factory
from workers.ingest.pipeline import ingest_document


def _ingest(domain, upload_dir: Path, name: str, text: str, secretary=None, embedder=None) -> uuid.UUID:
    folder = upload_dir / uuid.uuid4().hex
    folder.mkdir()
    (folder / name).write_text(text)
    doc = add_upload(domain, name, str(folder / name), voice_secretary_uuid=secretary)
    outcome = ingest_document(domain, doc, get_settings().replace(upload_dir=str(upload_dir)),
                              embedder_factory=hash_factory(embedder))
    assert outcome.status == "ready", outcome.error_message
    return doc


def _keyword_files(domain, question: str, secretary=None, model: str = "test-hash",
                   config: str = "voice_ai_portuguese") -> list[str]:
    with tenant_session(domain) as session:
        hits = keyword_chunks(session, question, config, model, [1.0], limit=10, secretary_uuid=secretary)
    return [h.hit.content for h in hits.hits]


def test_keyword_side_stays_in_its_tenant_and_secretary_scope(make_domain, upload_dir) -> None:
    tenant_a, tenant_b = make_domain(), make_domain()
    front, sales = add_secretary(tenant_a, name="front"), add_secretary(tenant_a, name="sales")
    _ingest(tenant_a, upload_dir, "a-front.txt", "O hemograma da recepção custa vinte reais.", front)
    _ingest(tenant_a, upload_dir, "a-sales.txt", "O hemograma de vendas custa trinta reais.", sales)
    _ingest(tenant_a, upload_dir, "a-all.txt", "O hemograma do prédio custa quarenta reais.", None)
    _ingest(tenant_b, upload_dir, "b.txt", "O hemograma da outra empresa custa cinquenta reais.",
            add_secretary(tenant_b))

    assert sorted(_keyword_files(tenant_a, "quanto custa o hemograma?", front)) == [
        "O hemograma da recepção custa vinte reais.", "O hemograma do prédio custa quarenta reais."]
    # No secretary: only what the whole domain shares; never tenant B's, whose word is the same.
    assert _keyword_files(tenant_a, "hemograma", None) == ["O hemograma do prédio custa quarenta reais."]
    # Another embedding model's chunks are another copy of the passages: not returned twice.
    assert _keyword_files(tenant_a, "hemograma", front, model="other-model") == []


def test_accents_and_word_forms_meet_and_rare_words_weigh_more(make_domain, upload_dir) -> None:
    domain = make_domain()
    secretary = add_secretary(domain)
    _ingest(domain, upload_dir, "faq.md",
            "# Clínica\n\n## Estacionamento\n\nO estacionamento da clínica é gratuito para os pacientes.\n\n"
            "## Consultas\n\nA consulta da clínica custa duzentos reais e a clínica aceita cartão.\n", secretary)
    # "clinica" without its accent, "estacionar" for "estacionamento": the parking passage, first.
    found = _keyword_files(domain, "posso estacionar na clinica?", secretary)
    assert found and found[0].startswith("Clínica > Estacionamento")
    assert tsquery_any(["it's", "a\\b"]) == "'it\\'s' | 'a\\\\b'"


def test_english_documents_are_stemmed_as_english(make_domain, upload_dir) -> None:
    domain = make_domain()
    secretary = add_secretary(domain, language="pt-BR")
    _ingest(domain, upload_dir, "price-list.txt",
            "Our parking is free for all patients and the parking attendants are there from seven.", secretary)
    with tenant_session(domain) as session:
        configs = {c.search_config for c in session.query(DocumentChunk)}
    assert configs == {"voice_ai_english"}  # the document's words decided, not the secretary's language
    assert _keyword_files(domain, "where do patients park", secretary, config="voice_ai_english")
    assert detect_language("Atendemos de segunda a sexta, das 8h às 18h, e não abrimos aos domingos.") == "pt"
    assert detect_language("12345 67890", fallback="en") == "en"


def test_the_keyword_side_finds_what_the_vector_side_ranks_too_low(make_domain, upload_dir, monkeypatch) -> None:
    """With an embedder that sees no words at all, a passage reaches the caller only through the keyword
    side: the hybrid still returns it first (the vector side alone returns the nearest by chance)."""

    class BlindEmbedder(HashEmbedder):
        def embed(self, texts):
            return [[1.0] + [0.0] * 1535 for _ in texts]

    blind = BlindEmbedder("blind")
    monkeypatch.setitem(RELEVANCE, "blind", Relevance(keyword_weight=0.02, stand_out=0.0))
    domain = make_domain()
    secretary = add_secretary(domain)
    for i in range(12):
        _ingest(domain, upload_dir, f"filler-{i}.txt", f"Texto número {i} sobre assuntos gerais da empresa.",
                secretary, blind)
    _ingest(domain, upload_dir, "odonto.txt", "Aceitamos o plano OdontoPrev para limpeza.", secretary, blind)
    result = search_knowledge(domain, "vocês aceitam odontoprev?", secretary, top_k=3, min_similarity=0.0,
                              embedder_factory=hash_factory(blind))
    assert result.hits[0].content == "Aceitamos o plano OdontoPrev para limpeza."
    assert len(result.hits) == 3


def test_a_question_about_what_no_document_mentions_finds_nothing(make_domain, upload_dir, monkeypatch) -> None:
    """A clinic's documents and a caller asking for grooming ("banho e tosa"): however near the model
    finds the clinic's passages, none is returned when the question's words are in no document; the same
    search for a word the documents hold returns its passage. With a threshold of 0 every candidate comes
    back (the engine decides)."""

    class FlatEmbedder(HashEmbedder):
        def embed(self, texts):
            return [[1.0] + [0.0] * 1535 for _ in texts]

    flat = FlatEmbedder("flat")
    monkeypatch.setitem(RELEVANCE, "flat", Relevance(keyword_weight=0.02, stand_out=-1.0, unknown=0.8))
    domain = make_domain()
    secretary = add_secretary(domain)
    for name, text in (("horario.txt", "A clínica atende de segunda a sexta, das oito às dezoito horas."),
                       ("precos.txt", "A consulta com o clínico geral custa duzentos reais."),
                       ("vacinas.txt", "Aplicamos vacinas de gripe e de febre amarela com hora marcada.")):
        _ingest(domain, upload_dir, name, text, secretary, flat)

    def search(question: str, **overrides: float) -> list[str]:
        result = search_knowledge(domain, question, secretary, embedder_factory=hash_factory(flat), **overrides)
        return [hit.content for hit in result.hits]

    assert search("tem banho e tosa?") == []
    assert "A consulta com o clínico geral custa duzentos reais." in search("quanto custa a consulta?")
    assert len(search("tem banho e tosa?", min_similarity=0.0)) == 3


def test_a_question_whose_subject_no_document_holds_in_any_form_finds_nothing(
        make_domain, upload_dir, monkeypatch) -> None:
    """A dentist's price list and a caller asking the price of an implant it does not list: "implante" is
    a specific word (rare in Portuguese) that no document holds in any form, so nothing is returned and the
    secretary says it does not know, not the price of a cleaning. A specific word the documents hold in
    another form ("castrar" / "castração") and an everyday word they do not hold ("noite") do not stop an
    answer, nor does a specific word when a passage clearly stands out for the question ("colho" / the urine
    collection passage)."""

    class TopicEmbedder(HashEmbedder):
        """Every text alike, except a second dimension for texts about urine."""

        def embed(self, texts):
            return [[1.0, 1.0 if "urin" in text.lower() else 0.0] + [0.0] * 1534 for text in texts]

    topic = TopicEmbedder("topic")
    monkeypatch.setitem(RELEVANCE, "topic", Relevance(keyword_weight=0.02, stand_out=-1.0, clear=0.035))
    domain = make_domain()
    secretary = add_secretary(domain)
    for name, text in (("precos.txt", "A limpeza custa cento e oitenta reais e a avaliação custa cem reais."),
                       ("castracao.txt", "A castração de gatas custa quatrocentos reais, com a internação."),
                       ("horario.txt", "O consultório atende de segunda a sexta, das oito às vinte horas."),
                       ("endereco.txt", "O consultório fica na Rua Padre Chagas, 120, segundo andar."),
                       ("convenios.txt", "Aceitamos os convênios OdontoPrev e Amil Dental."),
                       ("pagamento.txt", "O tratamento pode ser pago no cartão em até seis vezes."),
                       ("urina.txt", "Para o exame de urina, use o frasco estéril e traga a primeira da manhã.")):
        _ingest(domain, upload_dir, name, text, secretary, topic)

    def search(question: str) -> list[str]:
        result = search_knowledge(domain, question, secretary, embedder_factory=hash_factory(topic))
        return [hit.content for hit in result.hits]

    with tenant_session(domain) as session:
        side = keyword_chunks(session, "quanto custa implante dentário?", "voice_ai_portuguese", "topic", [1.0],
                              secretary_uuid=secretary)
    assert side.missing == ("implante",)  # "dentário" is held as "Dental"
    assert search("quanto custa implante dentário?") == []
    assert "A castração de gatas custa quatrocentos reais, com a internação." in search(
        "quanto fica pra castrar uma gata?")
    assert search("vocês atendem à noite?")
    assert search("como é que eu colho a urina?")[0].startswith("Para o exame de urina")


def test_chunks_of_the_previous_offline_model_are_embedded_again(make_domain, upload_dir) -> None:
    """A tenant whose documents were embedded with all-MiniLM-L6-v2 (the offline model before E5): its
    chunks no longer answer the offline secretary's searches, so the sweep re-ingests the document, and
    the new chunks replace the old ones."""
    from shared.embeddings import MINILM_MODEL_NAME, OFFLINE_MODEL_NAME
    from workers.ingest.coverage import documents_missing_models

    domain = make_domain()
    secretary = add_secretary(domain)
    doc = _ingest(domain, upload_dir, "faq.txt", "O consultório abre às oito.", secretary,
                  HashEmbedder(MINILM_MODEL_NAME))
    assert documents_missing_models(domain) == [doc]
    outcome = ingest_document(domain, doc, get_settings().replace(upload_dir=str(upload_dir)),
                              embedder_factory=hash_factory(HashEmbedder(OFFLINE_MODEL_NAME)))
    assert outcome.status == "ready"
    with tenant_session(domain) as session:
        assert {c.embedding_model for c in session.query(DocumentChunk)} == {OFFLINE_MODEL_NAME}
    assert documents_missing_models(domain) == []


def test_both_sides_from_one_pass_are_the_two_sides_asked_apart(make_domain, upload_dir) -> None:
    """A model with compact copies gets both sides from one statement (:func:`hybrid_chunks`): the same
    nearest chunks, keyword hits, unknown share and missing words as each side asked on its own — over
    documents of both languages (only those stemmed like the question count for the keyword side), the
    secretary's own, the domain's, and neither another secretary's nor another tenant's."""
    model = HashEmbedder("test-hash@384")
    domain, other_tenant = make_domain(), make_domain()
    secretary, other = add_secretary(domain, name="front"), add_secretary(domain, name="sales")
    for name, text, owner in (
        ("horario.txt", "O consultório atende de segunda a sexta, das oito às vinte horas.", secretary),
        ("preco.txt", "A consulta custa duzentos reais e o hemograma custa trinta reais.", secretary),
        ("prices.txt", "The consultation costs two hundred reais; we take Amil and Unimed cards.", secretary),
        ("convenios.txt", "Aceitamos os convênios Amil e Bradesco Saúde.", secretary),
        ("predio.txt", "O estacionamento do prédio é gratuito para os pacientes da clínica.", None),
        ("vendas.txt", "O hemograma de vendas custa quarenta reais.", other),
    ):
        _ingest(domain, upload_dir, name, text, owner, model)
    _ingest(other_tenant, upload_dir, "b.txt", "O hemograma da outra empresa custa cinquenta reais.", None, model)
    vectors = model.embed(["x"])  # any question's vector: the sides must agree whatever it is
    for question in ("quanto custa o hemograma?", "vocês fazem clareamento dental?", "e o de", "where do I park?",
                     "vocês aceitam Amil ou Unimed?"):
        vector = model.embed([question])[0] if question != "e o de" else vectors[0]
        with tenant_session(domain) as session:
            near, side = hybrid_chunks(session, question, "voice_ai_portuguese", model.model_name, vector, 384,
                                       limit=2, nearest=3, secretary_uuid=secretary)  # fewer than in scope
            every = nearest_chunks(session, vector, model.model_name, limit=20, secretary_uuid=secretary, width=384)
            alone = every[:3]
            keyword = keyword_chunks(session, question, "voice_ai_portuguese", model.model_name, vector, limit=2,
                                     secretary_uuid=secretary, width=384)
        # The same nearest chunks, nearest first (chunks at the same cosine may come in either order: each
        # statement rounds the question's vector its own way).
        assert [h.similarity for h in near] == pytest.approx([h.similarity for h in alone], abs=1e-6), question
        tied = {round(h.similarity, 5) for h in every if sum(abs(o.similarity - h.similarity) < 1e-5 for o in every) > 1}
        assert [h.chunk_uuid for h in near if round(h.similarity, 5) not in tied] == [
            h.chunk_uuid for h in alone if round(h.similarity, 5) not in tied], question
        assert [(k.chunk_uuid, k.score, k.coverage) for k in side.hits] == [
            (k.chunk_uuid, k.score, k.coverage) for k in keyword.hits], question
        assert [k.hit.similarity for k in side.hits] == pytest.approx([k.hit.similarity for k in keyword.hits])
        assert (side.unknown, side.missing) == (keyword.unknown, keyword.missing), question
        assert all("vendas" not in h.content and "outra empresa" not in h.content for h in near)
    # The question that shares words with the passages finds them on the keyword side, Portuguese ones only.
    with tenant_session(domain) as session:
        _near, side = hybrid_chunks(session, "quanto custa o hemograma?", "voice_ai_portuguese", model.model_name,
                                    model.embed(["quanto custa o hemograma?"])[0], 384, secretary_uuid=secretary)
    assert [k.hit.content for k in side.hits][0] == "A consulta custa duzentos reais e o hemograma custa trinta reais."
    assert all("consultation" not in k.hit.content for k in side.hits)
    # A name both languages stem alike: the English passage holds it, but only the Portuguese one is found
    # by the Portuguese question's keyword side (and the name it alone holds counts as held by none).
    with tenant_session(domain) as session:
        _near, side = hybrid_chunks(session, "vocês aceitam Amil ou Unimed?", "voice_ai_portuguese", model.model_name,
                                    vectors[0], 384, secretary_uuid=secretary)
    assert [k.hit.content for k in side.hits] == ["Aceitamos os convênios Amil e Bradesco Saúde."]
