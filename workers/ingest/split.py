"""Cut sections into overlapping chunks (``langchain-text-splitters``), keeping each section's metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from workers.ingest.sections import Section

# Paragraphs first, then lines, sentences, words: a chunk breaks at the largest boundary that fits.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


@dataclass(frozen=True)
class Chunk:
    """A passage ready to embed: its position in the document, its text and its section's metadata."""

    index: int
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)


def split_sections(sections: Sequence[Section], chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Chunks of at most ``chunk_size`` characters overlapping by ``chunk_overlap``, numbered from 0.

    A chunk never spans two sections, so its page or heading is exact.
    """
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, separators=SEPARATORS, keep_separator="end",
        strip_whitespace=True,
    )
    chunks: list[Chunk] = []
    for section in sections:
        for piece in splitter.split_text(section.text):
            text = piece.strip()
            if text:
                chunks.append(Chunk(len(chunks), text, dict(section.metadata)))
    return chunks
