"""Knowledge search: tenant isolation, secretary scope, threshold and model separation, atomic re-ingest."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select, update

from shared.embeddings import OFFLINE_MODEL_NAME
from shared.knowledge import search_knowledge
from shared.models import Document, DocumentChunk
from shared.settings import get_settings
from shared.tenancy import tenant_session
from tests.factories import add_provider, add_secretary
from tests.workers.conftest import HashEmbedder, add_upload, document_row, hash_factory
from workers.ingest.pipeline import ingest_document


def _ingest(domain, upload_dir: Path, name: str, text: str, secretary=None, embedder=None) -> uuid.UUID:
    folder = upload_dir / uuid.uuid4().hex
    folder.mkdir()
    (folder / name).write_text(text)
    doc = add_upload(domain, name, str(folder / name), voice_secretary_uuid=secretary)
    settings = get_settings().replace(upload_dir=str(upload_dir))
    outcome = ingest_document(domain, doc, settings, embedder_factory=hash_factory(embedder))
    assert outcome.status == "ready", outcome.error_message
    return doc


def test_search_never_returns_another_tenants_chunks(make_domain, upload_dir):
    tenant_a, tenant_b = make_domain(), make_domain()
    secretary_a, secretary_b = add_secretary(tenant_a), add_secretary(tenant_b)
    text = "parking is free for customers in the basement garage"
    _ingest(tenant_a, upload_dir, "a.txt", text, secretary_a)
    _ingest(tenant_a, upload_dir, "a-all.txt", text + " for everyone", None)
    doc_b = _ingest(tenant_b, upload_dir, "b.txt", text + " of tenant b", secretary_b)
    _ingest(tenant_b, upload_dir, "b-all.txt", text + " for everyone of tenant b", None)

    for secretary, expected in ((secretary_a, {"a.txt", "a-all.txt"}), (None, {"a-all.txt"})):
        result = search_knowledge(tenant_a, "is parking free", secretary, top_k=10, min_similarity=0.0,
                                  embedder_factory=hash_factory())
        assert {h.file_name for h in result.hits} == expected
    # B's secretary asked through A's domain finds nothing: it is not A's secretary.
    assert search_knowledge(tenant_a, "parking", secretary_b, min_similarity=0.0,
                            embedder_factory=hash_factory()).hits == []
    hits_b = search_knowledge(tenant_b, "is parking free", secretary_b, min_similarity=0.0,
                              embedder_factory=hash_factory()).hits
    assert doc_b in [h.document_uuid for h in hits_b] and {h.file_name for h in hits_b} == {"b.txt", "b-all.txt"}


def test_secretary_sees_its_own_and_domain_wide_documents_above_its_threshold(make_domain, upload_dir):
    domain = make_domain()
    front = add_secretary(domain, name="front desk", rag_similarity_threshold=0.3, rag_top_k=5)
    sales = add_secretary(domain, name="sales")
    _ingest(domain, upload_dir, "front.txt", "the reception desk opens at eight", front)
    _ingest(domain, upload_dir, "sales.txt", "the sales desk opens at nine", sales)
    _ingest(domain, upload_dir, "all.txt", "the building desk opens at seven", None)
    _ingest(domain, upload_dir, "noise.txt", "bananas apples oranges grapes", front)

    result = search_knowledge(domain, "when does the desk open", front, embedder_factory=hash_factory())
    names = {h.file_name for h in result.hits}
    assert names == {"front.txt", "all.txt"}  # not sales', and the fruit is below the threshold
    assert all(h.similarity >= 0.3 for h in result.hits)
    assert result.hits == sorted(result.hits, key=lambda h: h.similarity, reverse=True)
    payload = result.as_tool_result()
    assert {r["source"] for r in payload["results"]} == names

    # No secretary: what the whole domain shares, not any one secretary's documents.
    unscoped = search_knowledge(domain, "when does the desk open", None, min_similarity=0.3,
                                embedder_factory=hash_factory())
    assert {h.file_name for h in unscoped.hits} == {"all.txt"}


def test_a_search_only_compares_chunks_of_the_query_model(make_domain, upload_dir):
    domain = make_domain()
    secretary = add_secretary(domain)
    _ingest(domain, upload_dir, "old.txt", "holiday schedule closed on christmas", secretary,
            embedder=HashEmbedder("old-model"))
    found = search_knowledge(domain, "holiday schedule", secretary, min_similarity=0.0,
                             embedder_factory=hash_factory(HashEmbedder("new-model")))
    assert found.hits == [] and found.embedding_model == "new-model"


def test_search_with_the_offline_model_finds_the_meaning(make_domain, upload_dir):
    from shared.embeddings import embedder_for

    domain = make_domain()
    secretary = add_secretary(domain, rag_similarity_threshold=0.3)
    add_provider(domain, "embeddings", "offline", is_default=True)
    folder = upload_dir / uuid.uuid4().hex
    folder.mkdir()
    (folder / "faq.md").write_text(
        "# FAQ\n\n## Hours\n\nWe open at 9 am and close at 5 pm on weekdays.\n\n"
        "## Parking\n\nThere is a free car park behind the building.\n"
    )
    doc = add_upload(domain, "faq.md", str(folder / "faq.md"), voice_secretary_uuid=secretary)
    assert ingest_document(domain, doc, get_settings().replace(upload_dir=str(upload_dir))).status == "ready"
    result = search_knowledge(domain, "Where can I leave my car?", secretary, embedder_factory=embedder_for)
    assert result.embedding_model == OFFLINE_MODEL_NAME
    assert result.hits and result.hits[0].metadata["heading"] == "Parking"


def _menu_document(domain, secretary, upload_dir: Path):
    """A ``ready`` document of "old dish" chunks whose file then holds fewer "new dish" ones."""
    folder = upload_dir / uuid.uuid4().hex
    folder.mkdir()
    path = folder / "menu.txt"
    path.write_text("\n\n".join(f"old dish number {i} with rice and beans" for i in range(40)))
    doc = add_upload(domain, "menu.txt", str(path), voice_secretary_uuid=secretary)
    settings = get_settings().replace(upload_dir=str(upload_dir), chunk_size=60, chunk_overlap=0)
    assert ingest_document(domain, doc, settings, embedder_factory=hash_factory()).status == "ready"
    path.write_text("\n\n".join(f"new dish number {i} with pasta" for i in range(25)))
    return doc, settings


def _reingest_watched(domain, doc, settings, look: Callable[[], None]):
    """Ingest ``doc`` again while another thread calls ``look`` over and over (also once before and after)."""
    stop = threading.Event()

    def watcher() -> None:
        while not stop.is_set():
            look()

    look()
    thread = threading.Thread(target=watcher)
    thread.start()
    try:
        # A slow embedder keeps the re-ingest running while the watcher looks.
        outcome = ingest_document(domain, doc, settings, embedder_factory=hash_factory(HashEmbedder(delay=0.5)))
    finally:
        stop.set()
        thread.join()
    look()  # the watcher's last look may have started before the swap committed
    return outcome


def test_reingest_swaps_chunks_atomically(make_domain, upload_dir):
    domain = make_domain()
    doc, settings = _menu_document(domain, add_secretary(domain), upload_dir)
    old_count = document_row(domain, doc).chunk_count
    assert old_count > 1
    seen: list[tuple[str, int, frozenset[str]]] = []

    def look() -> None:
        with tenant_session(domain) as session:
            status = document_row(domain, doc).status
            rows = session.execute(
                select(func.count(), func.array_agg(func.split_part(DocumentChunk.content, " ", 1)))
                .where(DocumentChunk.document_uuid == doc)
            ).one()
            seen.append((status, rows[0], frozenset(rows[1] or [])))

    outcome = _reingest_watched(domain, doc, settings, look)
    new_count = outcome.chunk_count
    assert outcome.status == "ready" and new_count not in (0, old_count)
    assert len(seen) > 5
    for status, count, kinds in seen:
        assert status == "ready"  # a ready document stays ready while it is re-ingested
        assert (count, kinds) in {(old_count, frozenset({"old"})), (new_count, frozenset({"new"}))}, (count, kinds)
    assert seen[0][1] == old_count and seen[-1][1] == new_count


def test_a_reprocessed_document_keeps_answering_while_it_is_ingested_again(make_domain, upload_dir):
    domain = make_domain()
    secretary = add_secretary(domain)
    doc, settings = _menu_document(domain, secretary, upload_dir)
    # The admin page's "reprocess" button: the row goes back to pending, then the worker takes it.
    with tenant_session(domain) as session:
        session.execute(update(Document).where(Document.document_uuid == doc).values(status="pending"))
    seen: list[tuple[str, frozenset[str]]] = []

    def ask() -> None:
        status = document_row(domain, doc).status
        hits = search_knowledge(domain, "which dish number", secretary, top_k=5, min_similarity=0.0,
                                embedder_factory=hash_factory()).hits
        seen.append((status, frozenset(h.content.split()[0] for h in hits)))

    assert _reingest_watched(domain, doc, settings, ask).status == "ready"
    assert {"pending", "processing"} <= {status for status, _ in seen}
    for status, kinds in seen:
        assert kinds in ({"old"}, {"new"}), (status, kinds)  # never nothing, never a mix
    assert seen[0][1] == {"old"} and seen[-1][1] == {"new"}
