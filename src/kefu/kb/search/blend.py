"""The learned head's place in scoring: a product of experts,

    score = softmax(log P_head + RETRIEVAL_WEIGHT x retrieval),

whose top value is the bot's confidence. A product keeps the head's runner-ups
where a linear mix let a sharp retrieval softmax push them out; the weight and the
alternatives tried are in docs/search.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kefu.kb.search import english as en
from kefu.kb.search.embed import Vectors
from kefu.kb.search.head import LinearHead
from kefu.kb.search.layout import Matrix

RETRIEVAL_WEIGHT = 10.0


@dataclass
class Blend:
    """The head, whether its dense block includes the English expert's vectors, and which
    layout column each of its classes is (-1: the article is gone). Articles the head has
    never seen (added after the last fit) get a uniform prior, so retrieval alone decides
    how they rank."""

    head: LinearHead | None = None
    english: bool = False
    columns: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))

    @property
    def fitted(self) -> bool:
        return self.head is not None and self.head.fitted

    def map_columns(self, doc_ids: list[str]) -> None:
        """Point the head's classes at ``doc_ids``, the layout's articles."""
        index = {d: i for i, d in enumerate(doc_ids)}
        classes = self.head.classes if self.head else []
        self.columns = np.asarray([index.get(c, -1) for c in classes], dtype=np.intp)

    def dense(self, use: Vectors | None, english: Vectors | None) -> Vectors | None:
        """The head's dense features: USE's vectors, then the expert's (when trained so)."""
        if use is None or not self.english or english is None:
            return use
        return head_dense(use, english)

    def sparse(self, queries: list[str]) -> Matrix | None:
        """The head's TF-IDF logits of ``queries``: they need no vectors, so they can be
        worked out while an encoder still runs."""
        head = self.head
        return head.sparse_logits(queries) if head is not None and head.fitted else None

    def apply(
        self, retrieval: Matrix, texts: list[str], use: Vectors | None,
        english: Vectors | None, sparse: Matrix | None, *, clip: bool,
    ) -> Matrix:
        """Mix head probabilities into retrieval scores (m, D); ``use``/``english``: the
        queries' vectors, ``sparse``: ``sparse(texts)`` if worked out already. Without a
        fitted head, the retrieval scores themselves, clipped to 0..1 when ``clip``."""
        if self.head is None or not self.head.fitted or not retrieval.shape[1]:
            return np.clip(retrieval, 0.0, 1.0) if clip else retrieval
        log_probs = self.head.predict_log_proba(texts, self.dense(use, english), sparse=sparse)
        logits = np.full_like(retrieval, -np.log(max(len(self.head.classes), 1)))
        known = self.columns >= 0
        logits[:, self.columns[known]] = log_probs[:, known]
        logits += RETRIEVAL_WEIGHT * retrieval
        logits -= logits.max(axis=1, keepdims=True)
        out = np.exp(logits)
        out /= out.sum(axis=1, keepdims=True)
        return out


def head_dense(use: Vectors, english: Vectors) -> Vectors:
    """USE's vectors and the expert's side by side, the expert's scaled by its weight."""
    out: Vectors = np.hstack([use, en.HEAD_WEIGHT * english]).astype(np.float32)
    return out
