"""The knowledge-search evaluation: FAQ-style documents, spoken questions, and how many the search answers.

``corpus/<lang>/`` holds FAQ-style documents written for this evaluation (a clinic, a dentist, a
laboratory, a veterinary hospital in pt-BR; a physiotherapist and a dentist in English), in the formats
tenants upload (.md, .txt, .html). ``questions_<lang>.json`` holds questions as callers say them, each
answerable one labelled with ``evidence`` — a short phrase of the passage that answers it — and questions
that nothing in the documents answers.

:func:`ingest_corpus` uploads the documents as one secretary's, through the product's own ingestion
(:func:`workers.ingest.pipeline.ingest_document`); :func:`ask_all` puts every question through the
product's own search (:func:`shared.knowledge.search_knowledge`) and :func:`score` counts what a caller
would notice: the answering passage first (top-1) or among the first three (top-3), an answerable
question that finds nothing, and an unanswerable one that finds a passage to read out. A hit is judged
by its text (does it contain the evidence?), not by chunk numbers or scores, so the figures do not depend
on how the documents are cut or on a model's exact similarities.

Every third question (``calibration=True``) is held out: thresholds are calibrated on those and the
figures that matter are counted on the others.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.embeddings import Embedder, embedder_for
from shared.knowledge import search_knowledge
from shared.models import Document, Domain, Secretary
from shared.settings import Settings, get_settings
from shared.tenancy import system_session, tenant_session
from workers.ingest.pipeline import ingest_document

HERE = Path(__file__).resolve().parent
LANGUAGES = {"pt": "pt-BR", "en": "en"}


@dataclass(frozen=True)
class Question:
    """One question as a caller says it; ``evidence`` None means nothing in the documents answers it."""

    text: str
    evidence: str | None
    calibration: bool

    @property
    def answerable(self) -> bool:
        """Whether a passage of the documents answers it."""
        return self.evidence is not None


def _folded(text: str) -> str:
    return " ".join(text.split())


def questions(lang: str) -> list[Question]:
    """The question set of ``lang`` (``pt`` or ``en``); every third one is held out for calibration."""
    data = json.loads((HERE / f"questions_{lang}.json").read_text(encoding="utf-8"))
    items: list[tuple[str, str | None]] = [(q["q"], q["evidence"]) for q in data["answerable"]]
    items += [(q, None) for q in data["unanswerable"]]
    return [Question(text, evidence, index % 3 == 0) for index, (text, evidence) in enumerate(items)]


def corpus_files(lang: str) -> list[Path]:
    """The documents of ``lang``."""
    return sorted((HERE / "corpus" / lang).iterdir())


@dataclass
class Tenant:
    """A domain with one secretary whose documents are the corpus of one language."""

    domain_uuid: uuid.UUID
    secretary_uuid: uuid.UUID
    language: str
    chunk_count: int = 0
    ingest_seconds: float = 0.0
    models: tuple[str, ...] = ()


@contextmanager
def ingest_corpus(
    lang: str, settings: Settings | None = None, embedder_factory: Callable[..., Embedder] = embedder_for,
    database_url: str | None = None,
) -> Iterator[Tenant]:
    """A fresh tenant whose secretary (language of ``lang``) has the corpus ingested; deleted afterwards."""
    settings = settings or get_settings()
    domain = uuid.uuid4()
    upload_dir = Path(tempfile.mkdtemp(prefix="knowledge-eval-"))
    with system_session(database_url) as session:
        session.add(Domain(domain_uuid=domain, domain_name=f"eval-{lang}-{domain.hex[:8]}.test"))
    try:
        with tenant_session(domain, database_url) as session:
            secretary = Secretary(name=f"eval {lang}", language=LANGUAGES[lang])
            session.add(secretary)
            session.flush()
            tenant = Tenant(domain, secretary.voice_secretary_uuid, LANGUAGES[lang])
        documents = []
        for path in corpus_files(lang):
            shutil.copy(path, upload_dir / path.name)
            with tenant_session(domain, database_url) as session:
                row = Document(file_name=path.name, storage_path=path.name, status="pending",
                               voice_secretary_uuid=tenant.secretary_uuid)
                session.add(row)
                session.flush()
                documents.append(row.document_uuid)
        run = settings.replace(upload_dir=str(upload_dir))
        started = time.perf_counter()
        for document in documents:
            outcome = ingest_document(domain, document, run, embedder_factory=embedder_factory)
            if outcome.status != "ready":
                raise RuntimeError(f"ingest failed: {outcome.error_message}")
            tenant.chunk_count += outcome.chunk_count
            tenant.models = outcome.embedding_models
        tenant.ingest_seconds = time.perf_counter() - started
        yield tenant
    finally:
        shutil.rmtree(upload_dir, ignore_errors=True)
        with system_session(database_url) as session:
            row = session.get(Domain, domain)
            if row is not None:
                session.delete(row)


@dataclass(frozen=True)
class Answer:
    """What the search returned for one question: the passages' texts and scores, best first."""

    question: Question
    passages: list[str]
    scores: list[float]
    milliseconds: float

    def rank(self) -> int | None:
        """1-based position of the first passage holding the evidence (None: not returned)."""
        if self.question.evidence is None:
            return None
        wanted = _folded(self.question.evidence)
        for position, passage in enumerate(self.passages, 1):
            if wanted in _folded(passage):
                return position
        return None


def ask_all(tenant: Tenant, items: list[Question], embedder_factory: Callable[..., Embedder] = embedder_for,
            **search: Any) -> list[Answer]:
    """Every question through the product's search for the tenant's secretary (``search``: its overrides)."""
    answers = []
    for question in items:
        started = time.perf_counter()
        result = search_knowledge(tenant.domain_uuid, question.text, tenant.secretary_uuid,
                                  embedder_factory=embedder_factory, **search)
        elapsed = (time.perf_counter() - started) * 1000
        answers.append(Answer(question, [h.content for h in result.hits], [h.similarity for h in result.hits],
                              elapsed))
    return answers


@dataclass
class Score:
    """The figures of one method over one question set."""

    answerable: int = 0
    unanswerable: int = 0
    top1: int = 0
    top3: int = 0
    answerable_empty: int = 0
    unanswerable_answered: int = 0
    milliseconds: list[float] = field(default_factory=list)

    @property
    def top3_rate(self) -> float:
        """Share of answerable questions whose answer is among the first three passages."""
        return self.top3 / self.answerable if self.answerable else 0.0

    def row(self, name: str) -> str:
        """One line of the benchmark's table."""
        ms = statistics.median(self.milliseconds) if self.milliseconds else float("nan")
        return (f"| {name} | {self.top1 / max(1, self.answerable):.0%} | {self.top3_rate:.0%} "
                f"| {self.answerable_empty} of {self.answerable} | {self.unanswerable_answered} of "
                f"{self.unanswerable} | {ms:.1f} |")


def score(answers: list[Answer], held_out_only: bool = False) -> Score:
    """Count what callers would notice (``held_out_only``: skip the calibration questions)."""
    total = Score()
    for answer in answers:
        if held_out_only and answer.question.calibration:
            continue
        total.milliseconds.append(answer.milliseconds)
        if answer.question.answerable:
            total.answerable += 1
            rank = answer.rank()
            total.top1 += rank == 1
            total.top3 += rank is not None and rank <= 3
            total.answerable_empty += not answer.passages
        else:
            total.unanswerable += 1
            total.unanswerable_answered += bool(answer.passages)
    return total


TABLE_HEADER = ("| method | top-1 | top-3 | answerable → nothing | unanswerable → something | ms per search (median) |\n"
                "|---|---|---|---|---|---|")


def misses(answers: list[Answer]) -> list[str]:
    """Readable lines for the questions a method got wrong (for tuning, not for the table)."""
    lines = []
    for answer in answers:
        rank = answer.rank()
        if answer.question.answerable and (rank is None or rank > 3):
            top = re.sub(r"\s+", " ", answer.passages[0])[:70] if answer.passages else "(nothing)"
            lines.append(f"  miss: {answer.question.text!r} -> {top!r}")
        elif not answer.question.answerable and answer.passages:
            lines.append(f"  false: {answer.question.text!r} -> {answer.scores[0]:.3f}")
    return lines
