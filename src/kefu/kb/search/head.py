"""The learned head: multinomial logistic regression over [dense ⊕ sparse] features.

Nearest-neighbour search over example questions plateaus (USE top-1 0.89 on
Banking77); a linear classifier trained on the labelled questions learns which
words and n-grams decide an intent and reaches ~0.93. The dense block gives
paraphrase and cross-lingual reach, the sparse block (words, word bigrams,
char 2–5-grams) gives exact product terms and typo tolerance.

scikit-learn fits the classifier, but in a forked child (kefu.core.forked): the
server process builds the features itself and keeps only the weights, so it never
imports sklearn and scipy (~110 MB resident) nor holds the solver's scratch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kefu.core.forked import stream_forked
from kefu.kb.search.text import char_features, word_features

FloatArray = npt.NDArray[np.float64]
Analyzer = Callable[[str], list[str]]
# One fit's training data: texts, their labels, their dense features (or None).
Batch = tuple[list[str], list[str], npt.NDArray[Any] | None]

# Chosen on the held-out 15% of Banking77 train (the `--heldout` split of
# `kefu eval retrieval`; the grid scripts were one-offs, not kept), never on
# test.csv. Head-only top-1/top-3 (C, dense weight): (10, 0.75) 0.926/0.985,
# (10, 1.0) 0.926/0.984, (10, 1.5) 0.928/0.981, (10, 2.5) 0.924/0.980,
# (3, 1.5) 0.926/0.982, (30, 1.5) 0.928/0.980, (20, 1.0) 0.928/0.983. Blended
# with retrieval (engine.RETRIEVAL_WEIGHT) (10, 1.0) was best on top-3 at equal
# top-1; C=20/30 fit 1.5-2.5x slower for no reliable gain.
DENSE_WEIGHT = 1.0
DEFAULT_C = 10.0
# Upper bound on classes x features (weights) of the head: ~50 MB of float64.
MAX_PARAMS = 6_000_000


@dataclass(frozen=True)
class TfidfBlock:
    """One TF-IDF feature block, computed as scikit-learn's ``TfidfVectorizer(analyzer=...,
    sublinear_tf=True, min_df=..., dtype=float32)`` does: sorted vocabulary, smoothed idf,
    log-scaled counts, L2 norm per block. tests/kb/search/test_head.py checks it against
    sklearn."""

    analyzer: Analyzer
    vocabulary: dict[str, int]
    idf: npt.NDArray[np.float32]

    @classmethod
    def fit(cls, analyzer: Analyzer, texts: list[str], min_df: int) -> TfidfBlock:
        df: dict[str, int] = {}
        for text in texts:
            for token in set(analyzer(text)):
                df[token] = df.get(token, 0) + 1
        terms = sorted(t for t, n in df.items() if n >= min_df)
        counts = np.asarray([df[t] for t in terms], dtype=np.float32) + np.float32(1.0)
        idf = np.full(len(terms), len(texts) + 1, dtype=np.float32) / counts
        idf = np.log(idf) + np.float32(1.0)
        return cls(analyzer, {t: i for i, t in enumerate(terms)}, idf.astype(np.float32))

    def __len__(self) -> int:
        return len(self.vocabulary)

    def row(self, text: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """Column indices and L2-normalised tf-idf values of the features ``text`` has."""
        counts: dict[int, int] = {}
        for token in self.analyzer(text):
            j = self.vocabulary.get(token)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(0, np.intp), np.zeros(0, np.float32)
        idx = np.fromiter(counts, dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        values = (np.log(tf) + np.float32(1.0)) * self.idf[idx]
        values /= np.sqrt(np.dot(values, values))
        return idx, values


@dataclass(frozen=True)
class Design:
    """The training matrix in CSR form, as plain arrays (no scipy in this process)."""

    data: npt.NDArray[np.float32]
    indices: npt.NDArray[np.int32]
    indptr: npt.NDArray[np.int64]
    shape: tuple[int, int]


@dataclass(frozen=True)
class Weights:
    coef: FloatArray  # (classes or 1 when binary, features)
    intercept: FloatArray
    classes: list[str]


@dataclass
class LinearHead:
    """TF-IDF + dense features → logistic regression over document ids."""

    c: float = DEFAULT_C
    dense_weight: float = DENSE_WEIGHT
    max_iter: int = 100
    classes: list[str] = field(default_factory=list)
    blocks: list[TfidfBlock] = field(default_factory=list)
    weights: Weights | None = None
    _dense_dim: int = 0
    _dense_coef: FloatArray | None = None

    @property
    def fitted(self) -> bool:
        return self.weights is not None

    def fit_vocabulary(self, texts: list[str]) -> None:
        """Fit the TF-IDF vocabularies once, so later fits can warm-start."""
        # Words and char n-grams are separate blocks so each is L2-normalised on
        # its own: in one joint vector the ~10x more numerous n-grams drown the
        # words (Banking77 top-1 0.9205 joint vs 0.93 split).
        min_df = 2 if len(texts) > 2000 else 1
        self.blocks = [TfidfBlock.fit(a, texts, min_df) for a in (word_features, char_features)]

    def shrink_to_budget(self, n_classes: int, dense_dim: int) -> bool:
        """Drop feature blocks until classes x features fits MAX_PARAMS; False if nothing fits.

        A 10,000-article help centre cannot afford 10,000 x 35,000 weights; the
        char block goes first, then words, and the dense block alone last.
        """
        while self.blocks and n_classes * self.n_features(dense_dim) > MAX_PARAMS:
            self.blocks.pop()
        return n_classes * self.n_features(dense_dim) <= MAX_PARAMS and self.n_features(
            dense_dim
        ) > 0

    def n_features(self, dense_dim: int) -> int:
        return dense_dim + sum(len(b) for b in self.blocks)

    def fit(self, texts: list[str], labels: list[str], dense: npt.NDArray[Any] | None) -> None:
        """Fit (or warm-start refit, when the label set is unchanged) the classifier."""
        for _ in self.fits([(texts, labels, dense)]):
            pass

    def fits(self, batches: list[Batch]) -> Generator[None, None, None]:
        """Fit on each batch in turn, each warm-starting from the one before when the label
        set is the same; the batch's weights are in place when this yields.

        All the fits run in one forked child (importing sklearn there costs ~1.3 s), which
        goes on with the next while the caller uses the weights just handed over.
        """
        dims = {0 if dense is None else dense.shape[1] for _, _, dense in batches}
        assert len(dims) == 1, "every batch needs the same dense block"
        dim = dims.pop()
        designs = [(self.design(texts, dense), labels) for texts, labels, dense in batches]
        warm = self.weights if sorted(set(batches[0][1])) == self.classes else None
        for weights in stream_forked(_fit_in_turn, designs, self.c, self.max_iter, warm):
            designs.clear()  # the child works on its own copy: free this process's
            self.weights, self.classes, self._dense_dim = weights, weights.classes, dim
            # A contiguous copy: a column slice of coef is a strided view, slow to multiply.
            self._dense_coef = np.ascontiguousarray(weights.coef[:, :dim]) if dim else None
            yield

    def design(self, texts: list[str], dense: npt.NDArray[Any] | None) -> Design:
        """[dense x weight ⊕ word block ⊕ char block] rows as a CSR matrix.

        Filled in place: on Banking77 (10,000 rows, 896 dense columns) the matrix is
        ~85 MB, and per-row pieces joined afterwards needed three times that at peak.
        """
        dim = 0 if dense is None else dense.shape[1]
        rows = [self._sparse_row(text, dim) for text in texts]
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([dim + len(cols) for cols, _ in rows], out=indptr[1:])
        data = np.empty(int(indptr[-1]), dtype=np.float32)
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        dense_cols = np.arange(dim, dtype=np.int32)
        for r, (cols, vals) in enumerate(rows):
            start, mid, end = int(indptr[r]), int(indptr[r]) + dim, int(indptr[r + 1])
            if dense is not None:
                data[start:mid] = dense[r] * self.dense_weight
                indices[start:mid] = dense_cols
            data[mid:end] = vals
            indices[mid:end] = cols
        return Design(data, indices, indptr, (len(texts), self.n_features(dim)))

    def _sparse_row(
        self, text: str, dense_dim: int
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """Columns (after the dense block) and values of the TF-IDF features of ``text``."""
        cols: list[npt.NDArray[np.intp]] = []
        vals: list[npt.NDArray[np.float32]] = []
        offset = dense_dim
        for block in self.blocks:
            idx, values = block.row(text)
            cols.append(idx + offset)
            vals.append(values)
            offset += len(block)
        if not cols:
            return np.zeros(0, np.intp), np.zeros(0, np.float32)
        return np.concatenate(cols), np.concatenate(vals)

    def predict_log_proba(
        self, texts: list[str], dense: npt.NDArray[Any] | None, *,
        sparse: FloatArray | None = None,
    ) -> FloatArray:
        """Log-probabilities, shape (len(texts), len(classes)); ``sparse``: what
        ``sparse_logits(texts)`` returns, when the caller has it already."""
        logits = self.sparse_logits(texts) if sparse is None else sparse.copy()
        self._add_dense(logits, dense)
        if logits.shape[1] == 1:  # binary LR stores one column: P(c1) = sigmoid(z)
            logits = np.hstack([np.zeros_like(logits), logits])
        logits -= logits.max(axis=1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return logits

    def predict_proba(self, texts: list[str], dense: npt.NDArray[Any] | None) -> FloatArray:
        """Probabilities, shape (len(texts), len(classes))."""
        probs: FloatArray = np.exp(self.predict_log_proba(texts, dense))
        return probs

    def sparse_logits(self, texts: list[str]) -> FloatArray:
        """The TF-IDF blocks' part of the logits, plus the intercept: it needs no sentence
        vectors, so a query can work it out while they are being computed. Only the weight
        columns of the features each text has are gathered: sklearn's transform and a
        sparse product took 1.0-1.7 ms a query on the demo help centre, this 0.11-0.19 ms."""
        assert self.weights is not None, "fit the head first"
        coef = self.weights.coef
        out = np.empty((len(texts), coef.shape[0]), dtype=np.float64)
        for r, text in enumerate(texts):
            cols, vals = self._sparse_row(text, self._dense_dim)
            out[r] = coef[:, cols] @ vals.astype(np.float64)
        out += self.weights.intercept
        return out

    def _add_dense(self, logits: FloatArray, dense: npt.NDArray[Any] | None) -> None:
        if self._dense_coef is None or dense is None:
            return
        scaled = np.asarray(dense, dtype=np.float64) * self.dense_weight
        logits += scaled @ self._dense_coef.T


def _fit_in_turn(
    designs: list[tuple[Design, list[str]]], c: float, max_iter: int, warm: Weights | None
) -> Iterator[Weights]:
    # A copy: where fork is missing this runs in the caller's process, which clears its list.
    for design, labels in list(designs):
        same_labels = warm is not None and sorted(set(labels)) == warm.classes
        warm = _fit_logistic(design, labels, c, max_iter, warm if same_labels else None)
        yield warm


def _fit_logistic(
    design: Design, labels: list[str], c: float, max_iter: int, warm: Weights | None
) -> Weights:
    """Multinomial logistic regression with scikit-learn (runs in the forked child)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x = sparse.csr_matrix((design.data, design.indices, design.indptr), shape=design.shape)
    # newton-cg, not lbfgs: lbfgs keeps 10 gradient pairs of classes x features
    # float64 (440 MB on Banking77), newton-cg a few.
    model = LogisticRegression(
        C=c, solver="newton-cg", max_iter=max_iter, tol=1e-4, warm_start=warm is not None
    )
    if warm is not None:
        model.coef_, model.intercept_ = warm.coef.copy(), warm.intercept.copy()
    with warnings.catch_warnings(), threadpool_limits(1):
        # An early stop at max_iter is fine for ranking; don't spam logs.
        # One BLAS thread: spin-waiting threads are slower on a shared box.
        warnings.simplefilter("ignore")
        model.fit(x, labels)
    return Weights(np.ascontiguousarray(model.coef_, dtype=np.float64),
                   np.asarray(model.intercept_, dtype=np.float64),
                   [str(label) for label in model.classes_])
