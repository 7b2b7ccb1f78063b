"""HTML: visible text only, cut at h1–h6 headings like Markdown."""

from __future__ import annotations

import lxml.etree
import lxml.html

from workers.ingest.errors import IngestError
from workers.ingest.sections import Section
from workers.ingest.text import markdown_sections

_INVISIBLE = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object")
_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "li", "ul", "ol",
    "table", "tr", "br", "hr", "blockquote", "pre", "dd", "dt", "dl", "form", "fieldset", "address",
    "figcaption", "figure", "caption",
}
_CELLS = {"td", "th"}


def html_sections(data: bytes, file_name: str) -> list[Section]:
    """Sections of an HTML page's visible text; headings become section boundaries."""
    if b"\x00" in data[:65536]:
        raise IngestError(f"{file_name}: this is a binary file, not an HTML page.")
    try:
        root = lxml.html.document_fromstring(data)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise IngestError(f"{file_name}: the HTML page could not be read ({exc}); save it again.") from exc
    for element in [*root.iter(*_INVISIBLE), *root.iter(lxml.etree.Comment)]:
        if element.getparent() is not None:
            element.drop_tree()
    # Headings become Markdown heading lines and blocks end lines, then Markdown sectioning applies.
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            title = " ".join(element.text_content().split())
            for child in list(element):
                element.remove(child)
            element.text = f"\n\n{'#' * int(tag[1])} {title}\n\n" if title else ""
        elif tag in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
        elif tag in _CELLS:
            element.tail = " | " + (element.tail or "")
    body = root.find("body")
    text = (body if body is not None else root).text_content()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return markdown_sections("\n".join(lines))
