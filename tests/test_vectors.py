"""The nearest-chunk query returns the right tenant's chunks of the right embedding model only."""

from __future__ import annotations

import pytest

from shared.embeddings import compact_dimensions
from shared.models import DocumentChunk
from shared.tenancy import tenant_session
from shared.vectors import nearest_chunks, pad_embedding
from tests.factories import add_chunk, add_document, add_secretary


def test_nearest_chunks_respect_tenant_model_status_and_secretary(make_domain) -> None:
    a, b = make_domain(), make_domain()
    sec_a, other_sec_a = add_secretary(a), add_secretary(a, name="Outra")
    doc_a = add_document(a, voice_secretary_uuid=sec_a)
    wide_a = add_document(a, file_name="geral.txt")  # domain-wide
    other_a = add_document(a, file_name="outra.txt", voice_secretary_uuid=other_sec_a)
    failed_a = add_document(a, file_name="ruim.txt", status="failed")
    doc_b = add_document(b)

    near = add_chunk(a, doc_a, [1.0, 0.1, 0.0], content="near")
    wide = add_chunk(a, wide_a, [0.9, 0.3, 0.0], content="wide")
    far = add_chunk(a, doc_a, [0.0, 0.0, 1.0], content="far", index=1)
    add_chunk(a, other_a, [1.0, 0.0, 0.0], content="other secretary")
    add_chunk(a, failed_a, [1.0, 0.0, 0.0], content="failed doc")
    add_chunk(a, doc_a, [1.0, 0.0, 0.0], model="other-model", content="other model", index=2)
    add_chunk(b, doc_b, [1.0, 0.0, 0.0], content="tenant b")  # the exact match, in another tenant

    with tenant_session(a) as s:
        hits = nearest_chunks(s, [1.0, 0.0, 0.0], "test-model", limit=5, secretary_uuid=sec_a)
    # The secretary's and the domain-wide chunks of the model, nearest first; never another secretary's, a
    # failed document's, another model's or another tenant's. The orthogonal "far" chunk may be left out by
    # the approximate (HNSW) index when the database holds many other chunks (seen once under pytest-xdist).
    ids = [h.chunk_uuid for h in hits]
    assert ids[:2] == [near, wide] and set(ids) <= {near, wide, far}
    assert hits[0].similarity > 0.99 and hits[0].file_name == "faq.txt"

    with tenant_session(a) as s:
        thresholded = nearest_chunks(s, [1.0, 0.0, 0.0], "test-model", secretary_uuid=sec_a, min_similarity=0.5)
    assert far not in [h.chunk_uuid for h in thresholded]

    with tenant_session(a) as s:  # no secretary: the domain-wide documents only
        assert [h.chunk_uuid for h in nearest_chunks(s, [1.0, 0.0, 0.0], "test-model")] == [wide]

    with tenant_session(b) as s:
        assert [h.content for h in nearest_chunks(s, [1.0, 0.0, 0.0], "test-model")] == ["tenant b"]


def test_a_narrow_models_chunks_are_compared_on_their_compact_copies_or_else_padded(make_domain) -> None:
    """A model of 3 dimensions (an OpenAI provider asking for ``dimensions: 3``): its chunks hold the
    vector unpadded as well, and the search compares those; a chunk some other writer stored padded only
    is still found, in its place by distance."""
    domain = make_domain()
    document = add_document(domain)
    model = "text-embedding-3-small@3"
    add_chunk(domain, document, [1.0, 0.0, 0.0], model=model, content="near")
    add_chunk(domain, document, [0.0, 0.0, 1.0], model=model, content="far", index=1)
    with tenant_session(domain) as s:
        s.add(DocumentChunk(document_uuid=document, chunk_index=2, content="padded only",
                            embedding=pad_embedding([0.8, 0.6, 0.0]), embedding_model=model))
    with tenant_session(domain) as s:
        stored = {c.content: c.embedding_compact is not None for c in s.query(DocumentChunk)}
        hits = nearest_chunks(s, [1.0, 0.0, 0.0], model, width=compact_dimensions(model))
    assert stored == {"near": True, "far": True, "padded only": False}
    assert [h.content for h in hits] == ["near", "padded only", "far"]
    assert hits[1].similarity == pytest.approx(0.8)


def test_padding_preserves_length_and_rejects_bad_vectors() -> None:
    assert len(pad_embedding([0.5] * 384)) == 1536
    with pytest.raises(ValueError):
        pad_embedding([0.0] * 1537)
    with pytest.raises(ValueError):
        pad_embedding([float("nan")])
