"""Word .docx with python-docx: paragraphs and tables in order, cut at Heading/Title styles."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from workers.ingest.errors import IngestError, megabytes
from workers.ingest.sections import Section
from workers.ingest.text import markdown_sections

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_RATIO = 100
"""Unpacked size over file size beyond which a .docx is a zip bomb (Word's own files stay far below)."""
RATIO_FLOOR_BYTES = 10 * 1024 * 1024
"""Below this unpacked size the ratio is not checked: a small file costs nothing, whatever its ratio."""
_HEADING_STYLE = re.compile(r"^(?:heading|título|titulo)\s*(\d)$", re.IGNORECASE)


def _heading_level(style_name: str) -> int | None:
    if style_name.lower() in {"title", "título", "titulo"}:
        return 1
    match = _HEADING_STYLE.match(style_name.strip())
    return min(int(match.group(1)), 6) if match else None


def check_unpacked_size(data: bytes, file_name: str, max_unpacked_bytes: int) -> None:
    """Refuse a .docx that would unpack to more than ``max_unpacked_bytes``, or by too much (zip bomb).

    python-docx reads every part into memory, so this runs before it. The sizes come from the zip's
    directory, which a crafted file may understate; but :mod:`zipfile` never returns more than the
    stated size of a part, so the sum is a true bound on what parsing can allocate for the parts.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return  # not a zip at all: python-docx says so in its own words below
    if unpacked > max_unpacked_bytes:
        raise IngestError(
            f"{file_name}: the Word file unpacks to {megabytes(unpacked)}, more than the "
            f"{megabytes(max_unpacked_bytes)} a document may unpack to. Remove large images or embedded "
            "files, or split the document, and upload it again."
        )
    if unpacked > RATIO_FLOOR_BYTES and unpacked > MAX_RATIO * len(data):
        raise IngestError(
            f"{file_name}: the Word file unpacks to {megabytes(unpacked)} from {megabytes(len(data))}, "
            f"more than {MAX_RATIO} times its size: that looks like a zip bomb, not a document. "
            "Open it in Word or LibreOffice, save it as .docx again, and upload that."
        )


def docx_sections(data: bytes, file_name: str, max_unpacked_bytes: int) -> list[Section]:
    """Sections of a .docx; headings become section boundaries, table rows become ``a | b`` lines."""
    if data.startswith(_OLE_MAGIC):
        raise IngestError(
            f"{file_name}: this is a password-protected Word file or an old .doc file. Remove the password "
            "and save it as .docx (Word: File > Save As > Word Document), then upload it again."
        )
    check_unpacked_size(data, file_name, max_unpacked_bytes)
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
