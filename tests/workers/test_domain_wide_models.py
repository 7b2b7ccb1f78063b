"""Domain-wide documents are searchable by every secretary, whatever embeddings model each one uses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select, update

from shared.embeddings import OFFLINE_MODEL_NAME, EmbeddingError, embedder_for
from shared.knowledge import search_knowledge
from shared.models import DocumentChunk, Provider
from shared.providers import ProviderConfig
from shared.settings import get_settings
from shared.tenancy import tenant_session
from tests.factories import add_provider, add_secretary
from tests.fakes.openai_http import DEFAULT_KEY, FakeOpenAI
from tests.workers.conftest import HashEmbedder, add_upload, document_row
from workers.ingest.pipeline import ingest_document

PARKING = "Parking\n\nVisitors park for free in the basement garage of the building."


class RefusingEmbedder:
    """A provider whose key was revoked."""

    model_name = "revoked-model"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise EmbeddingError("embedding provider refused the API key (check the provider)", False)


def _factory(provider: ProviderConfig | None):  # returns an Embedder
    """Offline → the fast hash embedder; openai → the real SDK client; ``revoked`` → a refusal."""
    if provider is None or provider.provider_name == "offline":
        return HashEmbedder("offline-hash")
    if provider.model == "revoked":
        return RefusingEmbedder()
    return embedder_for(provider)


def _ingest(domain: uuid.UUID, upload_dir: Path, secretary: uuid.UUID | None = None):
    folder = upload_dir / uuid.uuid4().hex
    folder.mkdir()
    (folder / "parking.txt").write_text(PARKING)
    doc = add_upload(domain, "parking.txt", str(folder / "parking.txt"), voice_secretary_uuid=secretary)
    settings = get_settings().replace(upload_dir=str(upload_dir))
    return doc, ingest_document(domain, doc, settings, embedder_factory=_factory)


def _models(domain: uuid.UUID, doc: uuid.UUID) -> dict[str, int]:
    with tenant_session(domain) as session:
        rows = session.execute(
            select(DocumentChunk.embedding_model, func.count()).where(DocumentChunk.document_uuid == doc)
            .group_by(DocumentChunk.embedding_model)
        ).all()
    return dict(rows)


def test_domain_wide_document_answers_secretaries_on_different_models(make_domain, upload_dir):
    domain = make_domain()
    with FakeOpenAI(embedding_dimensions=512) as fake:
        openai_provider = add_provider(domain, "embeddings", "openai", config={
            "api_key": DEFAULT_KEY, "base_url": fake.base_url, "model": "text-embedding-3-small", "max_retries": 0})
        offline_secretary = add_secretary(domain, name="reception")  # the domain default: offline
        openai_secretary = add_secretary(domain, name="sales", embeddings_provider_uuid=openai_provider)

        shared_doc, outcome = _ingest(domain, upload_dir)
        own_doc, own = _ingest(domain, upload_dir, openai_secretary)

        assert outcome.status == "ready" and own.status == "ready"
        models = _models(domain, shared_doc)
        assert set(models) == {"offline-hash", "text-embedding-3-small"}
        assert len(set(models.values())) == 1 and document_row(domain, shared_doc).chunk_count == models["offline-hash"]
        assert set(_models(domain, own_doc)) == {"text-embedding-3-small"}  # a secretary's own: its model only
        assert "text-embedding-3-small" in document_row(domain, shared_doc).embedding_model

        for secretary in (offline_secretary, openai_secretary):
            found = search_knowledge(domain, "where can visitors park", secretary, min_similarity=0.1,
                                     top_k=5, embedder_factory=_factory)
            assert shared_doc in {h.document_uuid for h in found.hits}, found.embedding_model
        # The offline secretary does not see the other secretary's own document.
        reception = search_knowledge(domain, "where can visitors park", offline_secretary, min_similarity=0.1,
                                     top_k=5, embedder_factory=_factory)
        assert own_doc not in {h.document_uuid for h in reception.hits}

        # Re-ingesting replaces every model's chunks, never adds to them.
        again = ingest_document(domain, shared_doc, get_settings().replace(upload_dir=str(upload_dir)),
                                embedder_factory=_factory)
        assert again.status == "ready" and _models(domain, shared_doc) == models


def test_a_provider_whose_dimensions_change_never_compares_its_old_vectors(make_domain, upload_dir):
    """text-embedding-3-small at 512 and then at 256 dimensions: two models, not one with mixed vectors."""
    from workers.ingest.coverage import documents_missing_models

    domain = make_domain()
    with FakeOpenAI() as fake:  # answers with as many dimensions as the request asks for
        config = {"api_key": DEFAULT_KEY, "base_url": fake.base_url, "model": "text-embedding-3-small",
                  "max_retries": 0, "dimensions": 512}
        provider = add_provider(domain, "embeddings", "openai", config=config)
        secretary = add_secretary(domain, name="sales", embeddings_provider_uuid=provider)
        doc, outcome = _ingest(domain, upload_dir, secretary)
        assert outcome.status == "ready", outcome.error_message
        assert set(_models(domain, doc)) == {"text-embedding-3-small@512"}
        with tenant_session(domain) as session:
            passage = session.scalars(select(DocumentChunk.content).where(DocumentChunk.document_uuid == doc)).first()

        def search():  # returns a KnowledgeResult
            return search_knowledge(domain, passage, secretary, min_similarity=0.0, embedder_factory=_factory)

        found = search()
        assert found.embedding_model == "text-embedding-3-small@512" and found.hits[0].similarity > 0.999

        # The operator asks for 256 dimensions: the 512-dimension chunks no longer answer (they would
        # answer with wrong similarities), and the sweep sees the document needs embedding again.
        with tenant_session(domain) as session:
            session.execute(update(Provider).where(Provider.provider_uuid == provider)
                            .values(config={**config, "dimensions": 256}))
        assert search().hits == []
        assert documents_missing_models(domain) == [doc]

        again = ingest_document(domain, doc, get_settings().replace(upload_dir=str(upload_dir)),
                                embedder_factory=_factory)
        assert again.status == "ready" and set(_models(domain, doc)) == {"text-embedding-3-small@256"}
        found = search()
        assert found.embedding_model == "text-embedding-3-small@256"
        assert [h.document_uuid for h in found.hits] == [doc] and found.hits[0].similarity > 0.999
        assert documents_missing_models(domain) == []


def test_a_secretary_model_that_fails_for_good_does_not_take_the_document_from_the_others(make_domain, upload_dir):
    domain = make_domain()
    revoked = add_provider(domain, "embeddings", "openai", config={"api_key": "sk-revoked", "model": "revoked"})
    reception = add_secretary(domain, name="reception")
    add_secretary(domain, name="night shift", embeddings_provider_uuid=revoked)

    doc, outcome = _ingest(domain, upload_dir)

    row = document_row(domain, doc)
    assert outcome.status == "ready" and row.status == "ready"
    assert set(_models(domain, doc)) == {"offline-hash"}
    assert "revoked-model" in row.error_message and "API key" in row.error_message
    found = search_knowledge(domain, "where can visitors park", reception, min_similarity=0.1,
                             embedder_factory=_factory)
    assert [h.document_uuid for h in found.hits] == [doc]


def test_sweep_re_embeds_documents_a_new_secretary_model_cannot_find(make_domain, upload_dir, monkeypatch):
    from workers.ingest.coverage import documents_missing_models
    from workers.tasks import documents as document_tasks

    domain = make_domain()

    def real_names(provider: ProviderConfig | None):  # chunks record the real model names
        return HashEmbedder(OFFLINE_MODEL_NAME) if provider is None or provider.provider_name == "offline" \
            else HashEmbedder(provider.model or "text-embedding-3-small")

    folder = upload_dir / uuid.uuid4().hex
    folder.mkdir()
    (folder / "parking.txt").write_text(PARKING)
    doc = add_upload(domain, "parking.txt", str(folder / "parking.txt"))
    settings = get_settings().replace(upload_dir=str(upload_dir))
    assert ingest_document(domain, doc, settings, embedder_factory=real_names).status == "ready"
    assert documents_missing_models(domain) == []

    # A secretary on another model arrives: the domain-wide document lacks its chunks.
    provider = add_provider(domain, "embeddings", "openai", config={"model": "text-embedding-3-large"})
    add_secretary(domain, name="sales", embeddings_provider_uuid=provider)
    assert documents_missing_models(domain) == [doc]

    # The beat sweep enqueues it (captured here instead of sent to Redis) ...
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(document_tasks.ingest, "apply_async", lambda args, **_: sent.append(tuple(args)))
    monkeypatch.setattr(document_tasks, "MODEL_CHECK_DOMAINS", 100_000)
    document_tasks.sweep.run()
    assert (str(domain), str(doc)) in sent
    # ... and once embedded again, nothing is missing.
    assert ingest_document(domain, doc, settings, embedder_factory=real_names).status == "ready"
    assert set(_models(domain, doc)) == {OFFLINE_MODEL_NAME, "text-embedding-3-large"}
    assert documents_missing_models(domain) == []
