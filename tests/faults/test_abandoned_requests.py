"""A caller who hangs up while the edge waits on a child process (a knowledge search's embedding) must not
take that child away from every later call: the pool answers the next requests, with their own replies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gevent
import pytest

from edge.services import worker_pool
from edge.services.worker_pool import WorkerPool
from tests import polling


def wait_until(predicate, timeout: float, step: float = 0.02) -> object:
    """:func:`tests.polling.wait_until` for greenlets: the child's pipes are served while this waits."""
    return polling.wait_until(predicate, timeout, step, sleep=gevent.sleep)


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    """One child, as the edge's embedding pool has."""
    pool = WorkerPool("tests.faults.slow_child", size=1)
    yield pool
    pool.close()


def _abandon(pool: WorkerPool, mark: Path, seconds: float) -> None:
    """A call's greenlet waits on the child, and the caller hangs up mid-request (the greenlet is killed)."""
    waiting = gevent.spawn(pool.request, {"echo": "abandoned", "seconds": seconds, "mark": str(mark)})
    assert wait_until(lambda: mark.exists() or waiting.dead, timeout=30, step=0.02), "the child never got it"
    waiting.kill()  # GreenletExit inside WorkerPool.request, as on a hangup
    assert waiting.dead


def test_the_next_request_after_an_abandoned_one_gets_its_own_answer(pool: WorkerPool, tmp_path: Path) -> None:
    _abandon(pool, tmp_path / "first", seconds=0.5)
    with gevent.Timeout(30, AssertionError("the pool never answered after an abandoned request")):
        replies = [pool.request({"echo": f"search {n}"}) for n in range(3)]
    # Each later search hears its own answer, never the abandoned one's, from the same (still loaded) child.
    assert [r["echo"] for r in replies] == ["search 0", "search 1", "search 2"]
    assert {r["pid"] for r in replies} == {int((tmp_path / "first").read_text())}


def test_a_child_still_busy_with_an_abandoned_request_is_replaced(pool: WorkerPool, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_pool, "SALVAGE_SECONDS", 0.3)
    _abandon(pool, tmp_path / "stuck", seconds=3600)  # a child that will not answer for an hour
    with gevent.Timeout(30, AssertionError("the pool never answered after a child got stuck")):
        reply = pool.request({"echo": "next caller"})
    assert reply["echo"] == "next caller"
    assert reply["pid"] != int((tmp_path / "stuck").read_text())


def test_concurrent_waiters_are_served_when_one_of_them_hangs_up(pool: WorkerPool, tmp_path: Path) -> None:
    # Other calls queue for the single child while the first request runs; the first caller hangs up.
    mark = tmp_path / "busy"
    first = gevent.spawn(pool.request, {"echo": "gone", "seconds": 0.5, "mark": str(mark)})
    assert wait_until(mark.exists, timeout=30, step=0.02)
    others = [gevent.spawn(pool.request, {"echo": f"caller {n}"}) for n in range(3)]
    first.kill()
    gevent.joinall(others, timeout=30)
    assert [g.value["echo"] if g.value else g.exception for g in others] == ["caller 0", "caller 1", "caller 2"]


@pytest.mark.slow
def test_a_caller_hanging_up_mid_knowledge_search_leaves_the_embedder_to_the_next_callers() -> None:
    from edge.services.offline.embedding_worker import PooledOfflineEmbedder

    # The edge's own embedding pool: one child, all-MiniLM-L6-v2 loaded on the first search.
    pool = WorkerPool("edge.services.offline.embedding_worker", size=1)
    try:
        embedder = PooledOfflineEmbedder(pool)
        first = gevent.spawn(embedder.embed, ["Do you open on Saturdays?"])
        assert wait_until(lambda: pool._all and not first.dead, timeout=30)  # the child is at work on it
        first.kill()  # the caller hung up mid-search

        with gevent.Timeout(120, AssertionError("later knowledge searches hang after a hangup mid-search")):
            later = [embedder.embed([text]) for text in ("Where are you?", "Do you open on Saturdays?")]
            again = embedder.embed(["Where are you?"])
        # Each search gets the vector of its own question, never the abandoned one's.
        assert later[0] == again and later[0] != later[1]
        assert len(later[0][0]) == 1536
        assert len(pool._all) == 1  # the same child, its model still loaded
    finally:
        pool.close()
