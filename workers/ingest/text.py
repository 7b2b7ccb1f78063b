"""Plain text and Markdown: decoding with binary detection, and Markdown sections by heading."""

from __future__ import annotations

import re

from workers.ingest.errors import IngestError
from workers.ingest.sections import Section

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def decode_text(data: bytes, file_name: str) -> str:
    """Decode text bytes (UTF-8, UTF-16 with a BOM, else Windows-1252), refusing binary content."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{file_name}: the file says it is UTF-16 text but is damaged") from exc
    sample = data[:65536]
    if b"\x00" in sample:
        raise IngestError(
            f"{file_name}: this is a binary file, not text. Upload a .txt, .md, .html, .pdf or .docx file."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\t\n\r\f")
    if controls > max(8, len(text[:65536]) // 100):
        raise IngestError(
            f"{file_name}: this is a binary file, not text. Upload a .txt, .md, .html, .pdf or .docx file."
        )
    return text


def plain_sections(text: str) -> list[Section]:
    """A plain text file is one section."""
    return [Section(text)] if text.strip() else []


def markdown_sections(text: str) -> list[Section]:
    """Cut Markdown at its headings (not inside code fences); each part records its heading path.

    A part's text starts with its heading path ("Clinic FAQ > Parking") and a blank line: the words of the
    headings above help the passage match a question ("where does the clinic's car park…") when the part
    alone does not name what it is about. A heading with no text of its own before the next heading makes no part (its
    title lives on in the paths below it): a title-only passage answers nothing.
    """
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            meta = {}
            if path:
                headings = " > ".join(title for _, title in path)
                meta = {"heading": path[-1][1], "headings": headings}
                body = f"{headings}\n\n{body}"
            sections.append(Section(body, meta))
        lines.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            level, title = len(match.group(1)), match.group(2).strip()
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, title))
        else:
            lines.append(line)
    flush()
    return sections
