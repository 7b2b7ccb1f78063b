"""Word .docx with python-docx: paragraphs and tables in order, cut at Heading/Title styles."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from workers.ingest.errors import IngestError
from workers.ingest.sections import Section
from workers.ingest.text import markdown_sections

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADING_STYLE = re.compile(r"^(?:heading|título|titulo)\s*(\d)$", re.IGNORECASE)


def _heading_level(style_name: str) -> int | None:
    if style_name.lower() in {"title", "título", "titulo"}:
        return 1
    match = _HEADING_STYLE.match(style_name.strip())
    return min(int(match.group(1)), 6) if match else None


def docx_sections(data: bytes, file_name: str) -> list[Section]:
    """Sections of a .docx; headings become section boundaries, table rows become ``a | b`` lines."""
    if data.startswith(_OLE_MAGIC):
        raise IngestError(
            f"{file_name}: this is a password-protected Word file or an old .doc file. Remove the password "
            "and save it as .docx (Word: File > Save As > Word Document), then upload it again."
        )
    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells = [" ".join(cell.text.split()) for cell in row.cells]
                    lines.append(" | ".join(c for c in cells if c))
                lines.append("")
                continue
            text = " ".join(block.text.split())
            level = _heading_level(block.style.name if block.style is not None else "")
            if level and text:
                lines.extend(["", f"{'#' * level} {text}", ""])
            else:
                lines.append(text)
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise IngestError(
            f"{file_name}: the Word file is damaged or not really a .docx ({type(exc).__name__}). "
            "Open it in Word or LibreOffice, save it as .docx again, and upload that."
        ) from exc
    return markdown_sections("\n".join(lines))
