"""The unit the readers produce: a stretch of text with where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Section:
    """Text of one page (PDF) or one heading's part (Markdown, HTML, DOCX), with its metadata.

    ``metadata`` holds ``page`` (1-based) for PDFs, and ``heading`` (the nearest heading) and
    ``headings`` (the path, ``"Plans > Prices"``) for structured documents.
    """

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
