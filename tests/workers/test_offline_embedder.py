"""The offline embedder: the vectors of all-MiniLM-L6-v2, padded, on this process's share of the cores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared import embeddings
from shared.embeddings import (
    MiniLMEmbedder,
    cpu_count,
    cpu_has_bf16,
    embedding_bfloat16,
    embedding_threads,
    padded_rows,
    share_cores_with,
)
from shared.models import EMBEDDING_DIMENSIONS


@pytest.fixture
def restore_share():
    yield
    share_cores_with(1)


def test_prefork_children_split_the_cores_unless_the_operator_sets_threads(restore_share) -> None:
    share_cores_with(1)
    assert embedding_threads(0) == cpu_count()
    share_cores_with(cpu_count())  # one pool child per core: one thread each
    assert embedding_threads(0) == 1
    share_cores_with(cpu_count() * 4)  # never zero
    assert embedding_threads(0) == 1
    assert embedding_threads(3) == 3  # EMBEDDING_THREADS wins


def test_padded_rows_zero_pad_and_refuse_bad_vectors() -> None:
    rows = padded_rows(np.array([[0.6, 0.8], [1.0, 0.0]], dtype=np.float32))
    assert len(rows) == 2 and len(rows[0]) == EMBEDDING_DIMENSIONS
    assert rows[0][:2] == pytest.approx([0.6, 0.8]) and not any(rows[0][2:])
    with pytest.raises(ValueError, match="NaN"):
        padded_rows([[math.nan, 1.0]])
    with pytest.raises(ValueError, match="dimensions"):
        padded_rows(np.zeros((1, EMBEDDING_DIMENSIONS + 1)))


@pytest.mark.parametrize("bfloat16, least_cosine", [(False, 0.99999), (True, 0.999)])
def test_offline_vectors_are_those_of_the_sentence_transformer(bfloat16: bool, least_cosine: float) -> None:
    texts = ["The clinic opens at eight.", "Parking is free in the basement garage for patients.", "Olá!"]
    vectors = np.array(MiniLMEmbedder(batch_size=2, bfloat16=bfloat16).embed(texts))
    assert vectors.shape == (3, EMBEDDING_DIMENSIONS) and not vectors[:, 384:].any()
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0, 1.0])
    reference = embeddings.MiniLMEmbedder._load().encode(texts, normalize_embeddings=True)
    cosines = np.sum(vectors[:, :384] * reference, axis=1)
    assert cosines.min() >= least_cosine


def test_bfloat16_finds_the_same_passages_as_float32() -> None:
    """What a caller notices of the precision: which passages answer the question, and in what order."""
    passages = [
        "Our office opens at eight in the morning and closes at six in the evening, Monday to Friday.",
        "Parking is free for patients in the basement garage; take the lift to the second floor.",
        "Invoices are sent on the first day of each month; pay by bank transfer within ten days.",
        "To reset your router password, hold the reset button for ten seconds and wait for the light.",
        "Refunds are processed within five working days once the returned item reaches our warehouse.",
    ]
    questions = ["When do you open?", "Where can I park my car?", "How do I get my money back?",
                 "I forgot the password of my router", "When will I get my invoice?"]

    def rankings(bfloat16: bool) -> list[list[int]]:
        embedder = MiniLMEmbedder(bfloat16=bfloat16)
        docs, queries = np.array(embedder.embed(passages)), np.array(embedder.embed(questions))
        return [list(np.argsort(-(docs @ query))) for query in queries]

    full, half = rankings(False), rankings(True)
    assert [ranking[0] for ranking in full] == [0, 1, 4, 3, 2]  # the model itself answers sensibly
    assert [ranking[:3] for ranking in half] == [ranking[:3] for ranking in full]


def test_auto_precision_takes_bfloat16_only_from_a_cpu_that_has_it() -> None:
    with_bf16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n"
    with_amx = "flags\t\t: fpu avx2 amx_tile amx_bf16\n"
    without = "flags\t\t: fpu sse2 avx2 fma\n"
    assert cpu_has_bf16(with_bf16) and cpu_has_bf16(with_amx) and not cpu_has_bf16(without)
    assert not cpu_has_bf16("")
    assert embedding_bfloat16("auto", with_bf16) and not embedding_bfloat16("auto", without)
    assert embedding_bfloat16("bfloat16", without)  # the operator's word wins, slow or not
    assert not embedding_bfloat16("float32", with_bf16)
