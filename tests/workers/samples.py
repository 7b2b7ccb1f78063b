"""Sample uploads of every format, built in the test (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import re
import zipfile
import zlib

import docx
import pypdf


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]]) -> bytes:
    """A valid PDF whose pages hold the given lines of text (Helvetica, selectable)."""
    objects: list[bytes] = []
    page_count = len(pages)
    font_id = 3 + 2 * page_count
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(page_count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode())
    for i, lines in enumerate(pages):
        content_id = 4 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font_id} 0 R >> >> "
            f"/Contents {content_id} 0 R >>".encode()
        )
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 740 Td"]
        for line in lines:
            ops.append(f"({_pdf_escape(line)}) Tj T*")
        ops.append("ET")
        stream = zlib.compress("\n".join(ops).encode("latin-1"))
        objects.append(
            f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream"
        )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def encrypted_pdf(data: bytes, password: str = "segredo") -> bytes:
    """``data`` with a user password (RC4, so pypdf needs no extra crypto library)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    writer = pypdf.PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(title: str, sections: list[tuple[str, list[str]]], table: list[list[str]] | None = None) -> bytes:
    """A .docx with a title, headings with paragraphs, and an optional table."""
    document = docx.Document()
    document.add_heading(title, level=1)
    for heading, paragraphs in sections:
        document.add_heading(heading, level=2)
        for text in paragraphs:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def with_oversized_xref(pdf: bytes) -> bytes:
    """``pdf`` whose cross-reference table claims millions of entries (pypdf: LimitReachedError)."""
    return re.sub(rb"xref\n0 \d+", b"xref\n0 9999999", pdf)


def rezip(docx_bytes: bytes, change: dict[str, bytes | None] | None = None,
          add: dict[str, bytes] | None = None) -> bytes:
    """A copy of a .docx (a zip) with some parts replaced, removed (``None``) or added."""
    change = change or {}
    source = zipfile.ZipFile(io.BytesIO(docx_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = change.get(info.filename, source.read(info.filename))
            if data is not None:
                target.writestr(info.filename, data)
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def truncated_docx(docx_bytes: bytes) -> bytes:
    """A .docx whose ``word/document.xml`` stops halfway (a broken download or a full disk)."""
    document = zipfile.ZipFile(io.BytesIO(docx_bytes)).read("word/document.xml")
    return rezip(docx_bytes, {"word/document.xml": document[: len(document) // 2]})


def zip_bomb_docx(docx_bytes: bytes, unpacked_megabytes: int) -> bytes:
    """A valid .docx carrying an extra part of zeros that unpacks to ``unpacked_megabytes`` (~1000:1)."""
    out = io.BytesIO(rezip(docx_bytes))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive, archive.open("word/media/pad.bin", "w") as part:
        zeros = bytes(1024 * 1024)
        for _ in range(unpacked_megabytes):
            part.write(zeros)
    return out.getvalue()


MARKDOWN = """# Sorriso Dental Clinic

We are a dental clinic in Campinas, São Paulo.

## Opening hours

We are open Monday to Friday from 8 am to 6 pm, and on Saturdays from 8 am to noon.

## Dental insurance

We accept the insurance plans Amil Dental, OdontoPrev and SulAmérica Odonto.
"""

HTML = b"""<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>.x{color:red}</style><script>var secret = "do not index";</script></head>
<body><nav>Menu</nav><h1>Pedal Bicycle Shop</h1><p>We sell city bikes and mountain bikes.</p>
<h2>Warranty</h2><p>Every bicycle frame has a two-year warranty against defects &mdash; caf&eacute; racers too.</p>
<h2>Delivery</h2><table><tr><th>City</th><th>Time</th></tr><tr><td>Campinas</td><td>2 days</td></tr></table>
</body></html>"""

TEXT = (
    "Returns policy of the Central Stationery Store.\n\n"
    "Customers may return any product within thirty days with the receipt.\n"
    "Refunds are paid with the same payment method within five business days.\n"
)
