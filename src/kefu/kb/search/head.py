"""The learned head: multinomial logistic regression over [dense ⊕ sparse] features.

Nearest-neighbour search over example questions plateaus (USE top-1 0.89 on
Banking77); a linear classifier trained on the labelled questions learns which
words and n-grams decide an intent and reaches ~0.93. The dense block gives
paraphrase and cross-lingual reach, the sparse block (words, word bigrams,
char 2–5-grams) gives exact product terms and typo tolerance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kefu.kb.search.text import char_features, word_features

FloatArray = npt.NDArray[np.float64]

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


@dataclass
class LinearHead:
    """TF-IDF + dense features → logistic regression over document ids."""

    c: float = DEFAULT_C
    dense_weight: float = DENSE_WEIGHT
    max_iter: int = 100
    classes: list[str] = field(default_factory=list)
    _vectorizers: list[Any] = field(default_factory=list)
    _model: Any = None
    _scorer: _QueryScorer | None = None

    @property
    def fitted(self) -> bool:
        return self._model is not None

    def fit_vocabulary(self, texts: list[str]) -> None:
        """Fit the TF-IDF vocabularies once, so later fits can warm-start."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        # Words and char n-grams get separate vectorizers so each block is
        # L2-normalised on its own: in one joint vector the ~10x more numerous
        # n-grams drown the words (Banking77 top-1 0.9205 joint vs 0.93 split).
        min_df = 2 if len(texts) > 2000 else 1
        self._vectorizers = [
            TfidfVectorizer(analyzer=a, sublinear_tf=True, min_df=min_df, dtype=np.float32)
            for a in (word_features, char_features)
        ]
        for vec in self._vectorizers:
            vec.fit(texts)

    def shrink_to_budget(self, n_classes: int, dense_dim: int) -> bool:
        """Drop feature blocks until classes x features fits MAX_PARAMS; False if nothing fits.

        A 10,000-article help centre cannot afford 10,000 x 35,000 weights; the
        char block goes first, then words, and the dense block alone last.
        """
        while self._vectorizers and n_classes * self.n_features(dense_dim) > MAX_PARAMS:
            self._vectorizers.pop()
        return n_classes * self.n_features(dense_dim) <= MAX_PARAMS and self.n_features(
            dense_dim
        ) > 0

    def n_features(self, dense_dim: int) -> int:
        return dense_dim + sum(len(v.vocabulary_) for v in self._vectorizers)

    def fit(self, texts: list[str], labels: list[str], dense: npt.NDArray[Any] | None) -> None:
        """Fit (or warm-start refit, when the label set is unchanged) the classifier."""
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        x = self._features(texts, dense)
        if self._model is None or sorted(set(labels)) != self.classes:
            # newton-cg, not lbfgs: lbfgs keeps 10 gradient pairs of
            # classes x features float64 (440 MB on Banking77), newton-cg a few.
            self._model = LogisticRegression(
                C=self.c, solver="newton-cg", max_iter=self.max_iter, tol=1e-4, warm_start=True
            )
        with warnings.catch_warnings(), threadpool_limits(1):
            # An early stop at max_iter is fine for ranking; don't spam logs.
            # One BLAS thread: spin-waiting threads are slower on a shared box.
            warnings.simplefilter("ignore")
            self._model.fit(x, labels)
        self.classes = [str(c) for c in self._model.classes_]
        self._scorer = _QueryScorer(self._vectorizers, self._model, dense is not None)

    def _features(self, texts: list[str], dense: npt.NDArray[Any] | None) -> Any:
        from scipy import sparse

        blocks = [vec.transform(texts) for vec in self._vectorizers]
        if dense is not None:
            blocks.insert(0, sparse.csr_matrix(dense * self.dense_weight))
        return sparse.hstack(blocks, format="csr")

    def predict_log_proba(self, texts: list[str], dense: npt.NDArray[Any] | None) -> FloatArray:
        """Log-probabilities, shape (len(texts), len(classes))."""
        assert self._scorer is not None, "fit the head first"
        logits = self._scorer.logits(texts, dense * self.dense_weight if dense is not None
                                     else None)
        if logits.shape[1] == 1:  # binary LR stores one column: P(c1) = sigmoid(z)
            logits = np.hstack([np.zeros_like(logits), logits])
        logits -= logits.max(axis=1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return logits

    def predict_proba(self, texts: list[str], dense: npt.NDArray[Any] | None) -> FloatArray:
        """Probabilities, shape (len(texts), len(classes))."""
        probs: FloatArray = np.exp(self.predict_log_proba(texts, dense))
        return probs


class _QueryScorer:
    """The fitted head's logits without sklearn's transform and scipy's sparse matrices.

    Same arithmetic as ``TfidfVectorizer.transform`` (float32 counts, sublinear tf,
    idf, L2 per block) followed by ``x @ coef_.T + intercept_``, but per query it
    gathers only the weight columns of the features present. On the demo help centre
    sklearn's transform plus the sparse hstack took 1.0-1.7 ms per query (p50), this
    0.11-0.19 ms; tests/kb/search/test_head.py checks it against the sklearn path.
    """

    def __init__(self, vectorizers: list[Any], model: Any, has_dense: bool) -> None:
        coef = model.coef_
        self._analyzers = [vec.build_analyzer() for vec in vectorizers]
        self._vocabs: list[dict[str, int]] = [vec.vocabulary_ for vec in vectorizers]
        self._idfs = [np.asarray(vec.idf_, dtype=np.float32) for vec in vectorizers]
        dim = coef.shape[1] - sum(len(v) for v in self._vocabs)
        self._dense_coef = np.ascontiguousarray(coef[:, :dim]) if has_dense else None
        self._offsets = np.cumsum([dim] + [len(v) for v in self._vocabs])[:-1].tolist()
        self._coef = coef  # shared with the model, not copied
        self._intercept = np.asarray(model.intercept_, dtype=np.float64)

    def logits(self, texts: list[str], dense: npt.NDArray[Any] | None) -> FloatArray:
        out = np.empty((len(texts), self._coef.shape[0]), dtype=np.float64)
        for r, text in enumerate(texts):
            cols, vals = self._sparse_row(text)
            row = self._coef[:, cols] @ vals.astype(np.float64)
            if self._dense_coef is not None and dense is not None:
                row += self._dense_coef @ np.asarray(dense[r], dtype=np.float64)
            out[r] = row
        out += self._intercept
        return out

    def _sparse_row(self, text: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        cols: list[int] = []
        blocks: list[npt.NDArray[np.float32]] = []
        for analyze, vocab, idf, offset in zip(
            self._analyzers, self._vocabs, self._idfs, self._offsets, strict=True
        ):
            counts: dict[int, int] = {}
            for token in analyze(text):
                j = vocab.get(token)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            values = (np.log(tf) + np.float32(1.0)) * idf[idx]
            values /= np.sqrt(np.dot(values, values))
            cols.extend((idx + offset).tolist())
            blocks.append(values)
        if not blocks:
            return np.zeros(0, np.intp), np.zeros(0, np.float32)
        return np.asarray(cols, dtype=np.intp), np.concatenate(blocks)
