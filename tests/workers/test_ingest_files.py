"""Each format ingests end to end through a running worker; files that cannot ingest fail with a reason."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.embeddings import OFFLINE_MODEL_NAME
from shared.knowledge import search_knowledge
from shared.tasks import INGEST_DOCUMENT
from tests.factories import add_secretary
from tests.workers import samples
from tests.workers.conftest import add_upload, document_row, hash_factory, push_raw_task, wait_document
from workers.ingest.pipeline import ingest_document


def _upload(upload_dir: Path, name: str, data: bytes) -> str:
    folder = upload_dir / uuid.uuid4().hex
    folder.mkdir()
    (folder / name).write_bytes(data)
    return f"{folder.name}/{name}"  # relative to UPLOAD_DIR, as the PHP app stores it


SAMPLES = {
    "md": ("clinic.md", samples.MARKDOWN.encode(), "Which dental insurance plans do you accept?", "Amil Dental",
           {"heading": "Dental insurance", "headings": "Sorriso Dental Clinic > Dental insurance"}),
    "html": ("shop.html", samples.HTML, "How long is the warranty on a bicycle?", "two-year warranty",
             {"heading": "Warranty"}),
    "txt": ("returns.txt", samples.TEXT.encode(), "Can I return a product I bought?", "thirty days", {}),
    "pdf": (
        "router.pdf",
        samples.make_pdf([
            ["Wi-Fi router manual", "Plug in the power cable and wait for the green light."],
            ["Resetting the password", "To reset the admin password hold the reset button for ten seconds."],
        ]),
        "How do I reset the router password?", "reset button", {"page": 2},
    ),
    "docx": (
        "gym.docx",
        samples.make_docx(
            "Strong Gym",
            [("Memberships", ["The monthly membership costs one hundred and twenty reais."]),
             ("Classes", ["We run pilates and swimming classes every morning."])],
            table=[["Plan", "Price"], ["Yearly", "1000 reais"]],
        ),
        "Do you have swimming lessons?", "swimming classes", {"heading": "Classes"},
    ),
}


@pytest.fixture(scope="module")
def ingested(worker, producer, module_domain, upload_dir) -> dict[str, tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    """Every sample uploaded and sent to the running worker (one through a raw PHP-style message)."""
    domain = module_domain()
    secretary = add_secretary(domain)
    docs: dict[str, tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = {}
    for kind, (name, data, *_rest) in SAMPLES.items():
        doc = add_upload(domain, name, voice_secretary_uuid=secretary, storage_path=_upload(upload_dir, name, data))
        docs[kind] = (domain, secretary, doc)
        if kind == "md":
            push_raw_task(producer.conf.broker_url, "documents", INGEST_DOCUMENT, [str(domain), str(doc)])
        else:
            producer.send_task(INGEST_DOCUMENT, (str(domain), str(doc)))
    for domain_, _secretary, doc in docs.values():
        wait_document(domain_, doc, timeout=90)
    return docs


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(SAMPLES))
def test_each_format_becomes_searchable_through_the_worker(ingested, kind):
    domain, secretary, doc = ingested[kind]
    name, _data, question, expected, metadata = SAMPLES[kind]
    row = document_row(domain, doc)
    assert row.status == "ready", row.error_message
    assert row.chunk_count >= 1
    assert row.embedding_model == OFFLINE_MODEL_NAME
    assert row.content_hash and len(row.content_hash) == 64

    result = search_knowledge(domain, question, secretary, top_k=3, min_similarity=0.0)
    assert result.hits, "no passage found"
    best = result.hits[0]
    assert best.file_name == name
    assert expected in best.content
    for key, value in metadata.items():
        assert best.metadata.get(key) == value
    if kind == "html":
        assert all("do not index" not in h.content and "color:red" not in h.content for h in result.hits)


PDF_OK = samples.make_pdf([["Texto da primeira pagina."]])
DOCX_OK = samples.make_docx("Loja", [("Horário", ["Abrimos às nove horas."])])


@pytest.mark.slow
def test_worker_keeps_running_after_a_bad_file(ingested, worker, producer, upload_dir):
    domain, secretary, _ = ingested["txt"]
    bad = add_upload(domain, "foto.txt", voice_secretary_uuid=secretary, storage_path=_upload(upload_dir, "foto.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50))
    # A reader's own exception that no reader names (lxml's XMLSyntaxError) must not leave it processing.
    broken = add_upload(domain, "cortado.docx", voice_secretary_uuid=secretary,
                        storage_path=_upload(upload_dir, "cortado.docx", samples.truncated_docx(DOCX_OK)))
    good = add_upload(domain, "ok.txt", voice_secretary_uuid=secretary, storage_path=_upload(upload_dir, "ok.txt", b"Abrimos aos domingos das 9h as 13h."))
    for doc in (bad, broken, good):
        producer.send_task(INGEST_DOCUMENT, (str(domain), str(doc)))
    assert wait_document(domain, bad).status == "failed"
    assert "binary" in (document_row(domain, bad).error_message or "")
    assert wait_document(domain, broken).status == "failed"
    assert "could not be read (XMLSyntaxError)" in (document_row(domain, broken).error_message or "")
    assert wait_document(domain, good).status == "ready"
    assert worker.proc.poll() is None
    assert any("❌ ERROR" in line and "cortado.docx" in line for line in worker.log_text().splitlines())

BAD_FILES = [
    ("vazio.txt", b"", "empty"),
    ("espacos.md", b"   \n\n  \t", "empty"),
    ("imagem.txt", bytes(range(256)) * 40, "binary"),
    ("quebrado.pdf", PDF_OK[: len(PDF_OK) // 3], "damaged"),
    ("falso.pdf", b"this is not a pdf at all", "not a PDF"),
    ("senha.pdf", samples.encrypted_pdf(PDF_OK), "password-protected"),
    ("digitalizado.pdf", samples.make_pdf([[]]), "no selectable text"),
    ("quebrado.docx", b"PK\x03\x04 definitely not a complete zip", "damaged"),
    ("antigo.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "password-protected"),
    # Failures the readers do not name still end the document with a reason.
    ("cortado.docx", samples.truncated_docx(DOCX_OK), "could not be read (XMLSyntaxError): re-save the file"),
    ("xref.pdf", samples.with_oversized_xref(PDF_OK), "could not be read (LimitReachedError)"),
    ("planilha.xlsx", b"PK\x03\x04....", "not supported"),
]


@pytest.mark.parametrize(("name", "data", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_fail_with_a_reason_an_operator_can_act_on(make_domain, upload_dir, worker_env, name, data, reason):
    from shared.settings import get_settings

    domain = make_domain()
    doc = add_upload(domain, name, storage_path=_upload(upload_dir, name, data))
    settings = get_settings().replace(upload_dir=str(upload_dir))
    outcome = ingest_document(domain, doc, settings, embedder_factory=hash_factory())
    row = document_row(domain, doc)
    assert outcome.status == row.status == "failed"
    assert reason in (row.error_message or ""), row.error_message
    assert name in (row.error_message or "")
    assert "Traceback" not in (row.error_message or "")


def test_oversized_and_missing_uploads_fail_with_a_reason(make_domain, upload_dir):
    from shared.settings import get_settings

    domain = make_domain()
    settings = get_settings().replace(upload_dir=str(upload_dir), document_max_bytes=1024)
    big = add_upload(domain, "grande.txt", storage_path=_upload(upload_dir, "grande.txt", b"palavra " * 1000))
    ingest_document(domain, big, settings, embedder_factory=hash_factory())
    assert "larger than the" in (document_row(domain, big).error_message or "")

    gone = add_upload(domain, "sumiu.txt", storage_path="nowhere/sumiu.txt")
    ingest_document(domain, gone, settings, embedder_factory=hash_factory())
    row = document_row(domain, gone)
    assert row.status == "failed" and "missing" in (row.error_message or "")


def test_a_docx_that_unpacks_to_too_much_is_refused_before_parsing(make_domain, upload_dir):
    from shared.settings import get_settings

    domain = make_domain()
    bomb = samples.zip_bomb_docx(DOCX_OK, 40)
    assert len(bomb) < get_settings().document_max_bytes // 20  # well under the upload limit
    settings = get_settings().replace(upload_dir=str(upload_dir))
    doc = add_upload(domain, "bomba.docx", storage_path=_upload(upload_dir, "bomba.docx", bomb))
    assert ingest_document(domain, doc, settings, embedder_factory=hash_factory()).status == "failed"
    reason = document_row(domain, doc).error_message or ""
    assert "bomba.docx: the Word file unpacks to 40." in reason and "zip bomb" in reason

    # Past ten times the upload limit, a docx is refused whatever its compression.
    small_limit = settings.replace(document_max_bytes=2 * 1024 * 1024)
    doc = add_upload(domain, "bomba.docx", storage_path=_upload(upload_dir, "bomba.docx", bomb))
    assert ingest_document(domain, doc, small_limit, embedder_factory=hash_factory()).status == "failed"
    assert "more than the 20.0 MB a document may unpack to" in (document_row(domain, doc).error_message or "")
