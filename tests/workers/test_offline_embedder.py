"""The offline embedder: the vectors of all-MiniLM-L6-v2, padded, on this process's share of the cores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared import embeddings
from shared.embeddings import OfflineEmbedder, cpu_count, embedding_threads, padded_rows, share_cores_with
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


def test_offline_vectors_are_those_of_the_sentence_transformer() -> None:
    texts = ["The clinic opens at eight.", "Parking is free in the basement garage for patients.", "Olá!"]
    vectors = np.array(OfflineEmbedder(batch_size=2).embed(texts))
    assert vectors.shape == (3, EMBEDDING_DIMENSIONS) and not vectors[:, 384:].any()
    reference = embeddings.OfflineEmbedder._load().encode(texts, normalize_embeddings=True)
    cosines = np.sum(vectors[:, :384] * reference, axis=1)
    assert cosines.min() >= 0.999
