"""Pick the reader for a file and refuse what cannot become knowledge-base text."""

from __future__ import annotations

from pathlib import PurePath

from workers.ingest.docx import docx_sections
from workers.ingest.errors import IngestError, megabytes
from workers.ingest.html import html_sections
from workers.ingest.pdf import pdf_sections
from workers.ingest.sections import Section
from workers.ingest.text import decode_text, markdown_sections, plain_sections

FORMATS = {
    ".txt": "txt", ".text": "txt", ".csv": "txt",
    ".md": "md", ".markdown": "md",
    ".html": "html", ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
MIME_FORMATS = {
    "text/plain": "txt", "text/csv": "txt", "text/markdown": "md", "text/x-markdown": "md",
    "text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
SUPPORTED = ".txt, .md, .html, .pdf, .docx"
UNPACK_FACTOR = 10
"""A .docx (a zip) may unpack to this many times DOCUMENT_MAX_BYTES; more is refused before parsing."""


def file_format(file_name: str, mime_type: str | None = None) -> str:
    """``txt``, ``md``, ``html``, ``pdf`` or ``docx``, from the file name (else the MIME type)."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime in MIME_FORMATS:
        return MIME_FORMATS[mime]
    if suffix == ".doc":
        raise IngestError(f"{file_name}: old Word .doc files are not supported; save it as .docx and upload again.")
    raise IngestError(f"{file_name}: files of type {suffix or mime or 'unknown'} are not supported ({SUPPORTED}).")


def extract_sections(data: bytes, file_name: str, mime_type: str | None, max_bytes: int) -> list[Section]:
    """The text sections of a file, or :class:`IngestError` saying why there are none."""
    if len(data) > max_bytes:
        raise IngestError(
            f"{file_name}: the file is {megabytes(len(data))}, larger than the {megabytes(max_bytes)} limit "
            "(DOCUMENT_MAX_BYTES). Split it into smaller files and upload those."
        )
    if not data.strip():
        raise IngestError(f"{file_name}: the file is empty. Upload a file with text in it.")
    kind = file_format(file_name, mime_type)
    if kind == "pdf":
        sections = pdf_sections(data, file_name)
    elif kind == "docx":
        sections = docx_sections(data, file_name, UNPACK_FACTOR * max_bytes)
    elif kind == "html":
        sections = html_sections(data, file_name)
    elif kind == "md":
        sections = markdown_sections(decode_text(data, file_name))
    else:
        sections = plain_sections(decode_text(data, file_name))
    if not any(s.text.strip() for s in sections):
        raise IngestError(f"{file_name}: the file has no readable text. Check that it is the right file.")
    return sections
