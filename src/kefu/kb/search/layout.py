"""The dense layout: every passage vector in one contiguous matrix, ordered article →
version → passage, so that a query's scores reduce to versions and articles with
``np.maximum.reduceat`` instead of a Python loop. Rebuilt after any change to the
documents, lazily, by the next search."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kefu.kb.search import english as en
from kefu.kb.search.documents import Documents, Version
from kefu.kb.search.embed import Vectors
from kefu.kb.search.text import trim

# Scores of queries over the layout's columns: (m, V) for versions, (m, D) for articles.
Matrix = npt.NDArray[np.float64]

def _no_rows() -> npt.NDArray[np.intp]:
    return np.zeros(0, np.intp)


@dataclass
class Layout:
    """Rows are passages, columns (of version scores) are versions, articles sorted by id."""

    doc_ids: list[str] = field(default_factory=list)
    versions: list[Version] = field(default_factory=list)
    vectors: Vectors | None = None
    version_starts: npt.NDArray[np.intp] = field(default_factory=_no_rows)  # version → 1st row
    doc_starts: npt.NDArray[np.intp] = field(default_factory=_no_rows)  # doc → 1st version
    version_doc: npt.NDArray[np.intp] = field(default_factory=_no_rows)  # version → doc
    # The English expert's passage vectors (zero rows where a passage is not
    # English) and which rows are English; None while the expert is off.
    english: Vectors | None = None
    english_rows: en.BoolArray = field(default_factory=lambda: np.zeros(0, np.bool_))
    column: dict[str, int] = field(default_factory=dict)  # version key → column
    keys: list[str] = field(default_factory=list)  # column → version key
    passage_texts: list[str] = field(default_factory=list)  # row → trimmed text

    def versions_of(self, d: int) -> range:
        """Columns of article ``d``'s versions."""
        end = self.doc_starts[d + 1] if d + 1 < len(self.doc_starts) else len(self.versions)
        return range(int(self.doc_starts[d]), int(end))


def build_layout(docs: Documents, use_dim: int | None, english_dim: int | None) -> Layout:
    """The layout of ``docs``. ``use_dim``: the multilingual embedder's width (None: a
    lexical-only engine, no vectors); ``english_dim``: the expert's (None: it is off)."""
    layout = Layout(doc_ids=sorted(docs.by_doc))
    blocks: list[Vectors] = []
    english: list[Vectors] | None = [] if english_dim is not None else None
    v_starts: list[int] = []
    d_starts: list[int] = []
    v_doc: list[int] = []
    row = 0
    for d, doc_id in enumerate(layout.doc_ids):
        d_starts.append(len(layout.versions))
        for version in docs.by_doc[doc_id].values():
            layout.versions.append(version)
            v_doc.append(d)
            v_starts.append(row)
            vecs, texts = _passages(docs, version, use_dim)
            layout.passage_texts.extend(trim(t) for t in texts)
            blocks.append(vecs)
            if english is not None and english_dim is not None:
                english.append(_english_block(docs, version.key, len(vecs), english_dim))
            row += len(vecs)
    if blocks and use_dim is not None:
        layout.vectors = np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
    if blocks and english is not None:
        layout.english = np.ascontiguousarray(np.concatenate(english), dtype=np.float32)
        layout.english_rows = en.nonzero_rows(layout.english)
    layout.version_starts = np.asarray(v_starts, dtype=np.intp)
    layout.doc_starts = np.asarray(d_starts, dtype=np.intp)
    layout.version_doc = np.asarray(v_doc, dtype=np.intp)
    layout.keys = [v.key for v in layout.versions]
    layout.column = {key: i for i, key in enumerate(layout.keys)}
    return layout


def _passages(docs: Documents, version: Version, use_dim: int | None) -> tuple[Vectors, list[str]]:
    """A version's passage vectors and texts; one all-zero row (scoring 0) when it has none,
    which keeps reduceat well-defined."""
    vecs = docs.vectors.get(version.key)
    if vecs is None or not len(vecs):
        return np.zeros((1, use_dim if use_dim else 1), np.float32), [""]
    return vecs, version.passages()


def _english_block(docs: Documents, key: str, rows: int, dim: int) -> Vectors:
    vecs = docs.english_vectors.get(key)
    if vecs is None or len(vecs) != rows:  # the zero placeholder row
        return np.zeros((rows, dim), np.float32)
    return vecs
