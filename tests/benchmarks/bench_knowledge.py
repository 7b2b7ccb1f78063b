"""Knowledge-search quality benchmark (prints figures; not collected as tests).

    python tests/benchmarks/bench_knowledge.py [pt] [en]

Uploads the evaluation's FAQ-style documents (``tests/knowledge/corpus``) as one secretary's documents
through the product's ingestion, asks the question set (``tests/knowledge/questions_*.json``) through the
product's search, and prints per method: top-1 and top-3 of the answerable questions, answerable questions
that found nothing, unanswerable questions that found a passage (one the engine would read out), and the
median milliseconds per search. Figures are over all questions; "held out" rows leave out the third of
the questions that calibrates thresholds.
Environment: TEST_DATABASE_URL / TEST_REDIS_URL as for the tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import tests.conftest as conf  # noqa: E402,F401  (sets DATABASE_URL / REDIS_URL for the shared modules)


def bench_language(lang: str, verbose: bool = False) -> None:
    """Every method over the ``lang`` question set."""
    from shared.migrate import migrate
    from shared.settings import get_settings
    from tests.knowledge import evaluation as ev

    migrate(conf.TEST_DATABASE_URL)
    items = ev.questions(lang)
    settings = get_settings()
    print(f"\n{lang}: {sum(q.answerable for q in items)} answerable, "
          f"{sum(not q.answerable for q in items)} unanswerable questions")
    print(ev.TABLE_HEADER)
    with ev.ingest_corpus(lang, settings) as tenant:
        print(f"| (ingest: {tenant.chunk_count} chunks of {settings.chunk_size}/{settings.chunk_overlap} "
              f"characters, model {', '.join(tenant.models)}, {tenant.ingest_seconds:.1f} s) | | | | | |")
        ev.ask_all(tenant, items[:3])  # warm up: model load
        today = ev.ask_all(tenant, items)
        print(ev.score(today).row("the product (secretary defaults: top 3, threshold 0.5)"))
        unfiltered = ev.ask_all(tenant, items, min_similarity=0.0)
        print(ev.score(unfiltered).row("same ranking, no threshold"))
        if verbose:
            print("\n".join(ev.misses(today)))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    for language in args or ["pt", "en"]:
        bench_language(language, verbose="-v" in sys.argv)
