"""PDF with pypdf: one section per page (``page`` metadata); encrypted and scanned files refused clearly."""

from __future__ import annotations

import io

import pypdf
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from workers.ingest.errors import IngestError
from workers.ingest.sections import Section

_ENCRYPTED = (
    "{name}: the PDF is password-protected. Remove the password (print or export it to a new PDF) "
    "and upload it again."
)


def pdf_sections(data: bytes, file_name: str) -> list[Section]:
    """One section per page that has text."""
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise IngestError(f"{file_name}: this is not a PDF file (it does not start with %PDF); check the file.")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Files with only an owner password (printing/copying restrictions) open with an empty one.
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise IngestError(_ENCRYPTED.format(name=file_name)) from exc
            if not opened:
                raise IngestError(_ENCRYPTED.format(name=file_name))
        sections: list[Section] = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            if text.strip():
                sections.append(Section(text, {"page": number}))
        page_count = len(reader.pages)
    except IngestError:
        raise
    except FileNotDecryptedError as exc:
        raise IngestError(_ENCRYPTED.format(name=file_name)) from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise IngestError(
            f"{file_name}: the PDF is damaged and cannot be read ({type(exc).__name__}). "
            "Open it in a PDF viewer, save or export a new copy, and upload that."
        ) from exc
    if not sections and page_count:
        raise IngestError(
            f"{file_name}: the PDF has {page_count} page(s) but no selectable text — it is probably scanned "
            "images. Run it through OCR (or export the text) and upload the result."
        )
    return sections
