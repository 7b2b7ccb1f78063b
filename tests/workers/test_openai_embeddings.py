"""Ingestion through the ``openai`` embeddings provider: the real SDK client against the local fake API."""

from __future__ import annotations

import logging
import math
import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from shared.knowledge import search_knowledge
from shared.models import EMBEDDING_DIMENSIONS, DocumentChunk
from shared.settings import get_settings
from shared.tenancy import tenant_session
from tests.factories import add_provider, add_secretary
from tests.fakes.openai_http import DEFAULT_KEY, FakeOpenAI, hashed_embedding
from tests.workers.conftest import add_upload, document_row
from workers.ingest.pipeline import ingest_document

FAQ = (
    "Opening hours\n\nThe clinic opens at eight in the morning and closes at six in the evening.\n\n"
    "Parking\n\nPatients park for free in the basement garage; show the ticket at the reception.\n\n"
    "Payments\n\nWe take cards, bank transfers and the major health insurance plans."
)


def _upload(upload_dir: Path, name: str, text: str) -> str:
    folder = upload_dir / uuid.uuid4().hex
    folder.mkdir()
    (folder / name).write_text(text)
    return str(folder / name)


def _secretary_with_openai(domain: uuid.UUID, base_url: str, api_key: str, model: str) -> uuid.UUID:
    provider = add_provider(domain, "embeddings", "openai",
                            config={"api_key": api_key, "base_url": base_url, "model": model, "max_retries": 0})
    return add_secretary(domain, embeddings_provider_uuid=provider, rag_similarity_threshold=0.1)


def _chunks(domain: uuid.UUID, document: uuid.UUID) -> list[DocumentChunk]:
    with tenant_session(domain) as session:
        rows = list(session.scalars(select(DocumentChunk).where(DocumentChunk.document_uuid == document)
                                    .order_by(DocumentChunk.chunk_index)))
        session.expunge_all()
        return rows


@pytest.mark.parametrize("dimensions", [768, 1536])
def test_document_is_embedded_through_the_openai_sdk_and_searchable(make_domain, upload_dir, dimensions):
    """A model narrower than the column is zero-padded to 1536; the search uses the same provider."""
    domain = make_domain()
    settings = get_settings().replace(upload_dir=str(upload_dir), chunk_size=120, chunk_overlap=20)
    with FakeOpenAI(embedding_dimensions=dimensions) as fake:
        secretary = _secretary_with_openai(domain, fake.base_url, DEFAULT_KEY, "text-embedding-3-small")
        doc = add_upload(domain, "faq.txt", _upload(upload_dir, "faq.txt", FAQ), voice_secretary_uuid=secretary)

        outcome = ingest_document(domain, doc, settings)

        assert outcome.status == "ready", outcome.error_message
        assert "/v1/embeddings" in fake.paths()
        row = document_row(domain, doc)
        assert row.status == "ready" and row.embedding_model == "text-embedding-3-small"
        chunks = _chunks(domain, doc)
        assert len(chunks) == row.chunk_count >= 3
        for chunk in chunks:
            stored = np.asarray(chunk.embedding, dtype=np.float64)
            assert stored.shape == (EMBEDDING_DIMENSIONS,)
            assert not stored[dimensions:].any()  # zero-padded tail
            expected = np.asarray(hashed_embedding(chunk.content, dimensions))
            expected /= np.linalg.norm(expected)
            assert np.allclose(stored[:dimensions], expected, atol=1e-5)  # the vendor's vector, not another
            assert math.isclose(float(np.linalg.norm(stored)), 1.0, rel_tol=1e-5)
            assert chunk.embedding_model == "text-embedding-3-small"

        result = search_knowledge(domain, "where do patients park", secretary)
        assert result.embedding_model == "text-embedding-3-small"
        assert result.hits and "basement garage" in result.hits[0].content


def test_wrong_api_key_fails_the_document_with_a_reason_and_never_leaks_the_key(
    make_domain, upload_dir, caplog, capfd
):
    domain = make_domain()
    wrong_key = "sk-wrong-" + uuid.uuid4().hex
    settings = get_settings().replace(upload_dir=str(upload_dir))
    caplog.set_level(logging.DEBUG)  # the SDK's own debug logging included
    with FakeOpenAI() as fake:
        secretary = _secretary_with_openai(domain, fake.base_url, wrong_key, "text-embedding-3-small")
        doc = add_upload(domain, "faq.txt", _upload(upload_dir, "faq.txt", FAQ), voice_secretary_uuid=secretary)

        outcome = ingest_document(domain, doc, settings)

        assert fake.requests and fake.requests[0].headers["authorization"] == f"Bearer {wrong_key}"
    row = document_row(domain, doc)
    assert outcome.status == "failed" and row.status == "failed"
    assert "API key" in row.error_message and "provider" in row.error_message
    assert row.chunk_count == 0 and _chunks(domain, doc) == []
    out, err = capfd.readouterr()
    assert "document failed" in caplog.text + out + err  # the failure was logged, so the check below means something
    for text in (row.error_message, outcome.error_message, caplog.text, out, err):
        assert wrong_key not in text
        assert wrong_key[9:] not in text  # not even the part after the prefix
