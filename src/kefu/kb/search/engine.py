"""SearchEngine: the help centre's and the chat bot's single retrieval path.

Retrieval score of an article version = max cosine between the query and the
version's passages (its example questions, title, title+lead) from the
multilingual embedder, plus a small normalised BM25 term (``retrieval``). When a
head has been trained on labelled questions (``fit_head``, ``training``), its class
probabilities are blended in (``blend``); the blended top score is the bot's
confidence, and ``declined`` (hand over to a human) is ``confidence < threshold``
with the threshold calibrated on held-out questions.

Embedding is deferred (``documents``): ``add_document`` only queues texts, and the
next search embeds everything pending in one batch and rebuilds the dense
``layout``. The measurements behind these choices, and what was tried and
dropped, are in docs/search.md; the micro-optimisations are frozen there.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from kefu.kb.search import english as en
from kefu.kb.search import retrieval
from kefu.kb.search.blend import Blend
from kefu.kb.search.documents import Documents
from kefu.kb.search.embed import Embedder, default_embedder, release_freed_memory
from kefu.kb.search.head import LinearHead
from kefu.kb.search.hits import Answer, Hit, top_hits
from kefu.kb.search.layout import Layout, Matrix, build_layout
from kefu.kb.search.text import detect_lang, normalize, trim, words
from kefu.kb.search.training import HELD_OUT_SHARE, Examples, calibrate, stratified_split

DEFAULT_THRESHOLD_DENSE = 0.55
DEFAULT_THRESHOLD_LEXICAL = 0.3


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
        self._docs = Documents()
        self._layout = Layout()
        self._dirty = False
        self._lock = threading.RLock()
        self._blend = Blend()
        self.threshold = DEFAULT_THRESHOLD_DENSE if self.embedder else DEFAULT_THRESHOLD_LEXICAL

    @property
    def english(self) -> Embedder | None:
        """The English expert, loaded on first use (None without its packages)."""
        if self._english_loader is not None:
            self._english, self._english_loader = self._english_loader(), None
        return self._english

    @property
    def head(self) -> LinearHead | None:
        """The classifier head over articles, once ``fit_head`` has made one."""
        return self._blend.head

    # ----------------------------------------------------------------- indexing
    def __len__(self) -> int:
        return len(self._docs)

    def add_document(
        self, doc_id: str, *, lang: str, title: str, body: str, questions: list[str]
    ) -> None:
        """Add or replace the ``lang`` version of article ``doc_id``."""
        with self._lock:
            self._docs.add(doc_id, lang=lang, title=title, body=body, questions=questions,
                           queue=self.embedder is not None)
            self._dirty = True

    def remove_document(self, doc_id: str, *, lang: str | None = None) -> bool:
        """Remove one language version, or every version when ``lang`` is None."""
        with self._lock:
            removed = self._docs.remove(doc_id, lang)
            self._dirty = self._dirty or removed
            return removed

    def flush(self) -> None:
        """Embed pending passages and rebuild the dense layout (done lazily by search)."""
        with self._lock:
            embedded = False
            if self._dirty and self._english_on():
                assert self.english is not None
                embedded = self._docs.embed_english(self.english)
            if self._docs.pending and self.embedder is not None:
                self._docs.embed_pending(self.embedder)
                embedded = True
            if self._dirty:
                english = self.english if self._english_on() else None
                self._layout = build_layout(
                    self._docs, self.embedder.dim if self.embedder else None,
                    english.dim if english is not None else None)
                self._blend.map_columns(self._layout.doc_ids)
                self._dirty = False
            if embedded:
                release_freed_memory()  # the embedding transients, back to the OS

    def _english_on(self) -> bool:
        # The size test first: it keeps a large centre from loading the expert.
        return (self.embedder is not None and len(self._docs) <= en.MAX_ARTICLES
                and self.english is not None)

    # ------------------------------------------------------------------ scoring
    def score_queries(self, queries: list[str]) -> tuple[Matrix, Matrix]:
        """(blended doc scores (m, D), version scores (m, V)) for queries."""
        self.flush()
        # The embedder sees the raw (trimmed) text: USE is cased, and lower-casing
        # cost ~0.5 point of Banking77 nearest-neighbour accuracy.
        queries = [trim(q) for q in queries]
        qtoks = [words(normalize(q)) for q in queries]
        lay, bm25 = self._layout, self._docs.bm25
        pending = self._start_english(queries)
        qvecs = self.embedder.encode(queries) if self.embedder is not None else None
        # What needs no expert vectors is worked out while its thread may still run.
        sims = retrieval.use_similarities(lay, qvecs)
        lexical = retrieval.lexical_every(lay, bm25, qtoks) if sims is not None else None
        sparse = self._blend.sparse(queries)
        expert = pending.result() if pending is not None else None
        versions = retrieval.version_scores(lay, bm25, sims, qtoks, expert, lexical)
        docs = retrieval.doc_scores(lay, versions)
        english = expert.queries if expert is not None else None
        blended = self._blend.apply(docs, queries, qvecs, english, sparse,
                                    clip=self.embedder is not None)
        return blended, versions

    def _start_english(self, queries: list[str]) -> Future[en.ExpertScores] | None:
        """The English expert's scores, computed on another thread while USE encodes
        (the expert's passage product runs on that thread too)."""
        head_uses_it = self._blend.english and self._blend.head is not None
        if self.embedder is None or (self._layout.english is None and not head_uses_it):
            return None
        expert = self.english  # loads it here if nothing has yet
        if expert is None:
            return None
        return en.score_in_background(expert, queries, self._layout.english)

    # ------------------------------------------------------------------- public
    def search(self, query: str, *, lang: str | None = None, limit: int = 5) -> list[Hit]:
        """Best articles for ``query``; each hit in ``lang`` (default: the query's) if it exists."""
        return self.answer(query, lang=lang, limit=limit).hits

    def answer(self, query: str, *, lang: str | None = None, limit: int = 5) -> Answer:
        """Hits plus the bot's confidence and hand-over decision."""
        return self.answer_many([query], lang=lang, limit=limit)[0]

    def answer_many(self, queries: list[str], *, lang: str | None = None,
                    limit: int = 5) -> list[Answer]:
        """`answer` for several questions at once: one encoder call and one product for
        all of them (questions asked at the same moment, `kefu.kb.batching`)."""
        norms = [normalize(q) for q in queries]
        # Empty, emoji-only or pure punctuation: nothing to look up.
        asked = [i for i, norm in enumerate(norms) if words(norm, drop_stopwords=False)]
        answers = [Answer(q, [], 0.0, True) for q in queries]
        with self._lock:
            if not self._docs or not asked:
                return answers
            docs, versions = self.score_queries([queries[i] for i in asked])
            for row, i in enumerate(asked):
                hits = top_hits(self._layout, queries[i], docs[row], versions[row],
                                lang or detect_lang(norms[i]), limit)
                confidence = hits[0].score if hits else 0.0
                answers[i] = Answer(queries[i], hits, confidence, confidence < self.threshold)
        return answers

    def similarity(self, a: str, b: str) -> float:
        """Symmetric similarity of two texts (dense cosine, else lexical Jaccard)."""
        na, nb = normalize(a), normalize(b)
        if self.embedder is not None:
            pair = [trim(a), trim(b)]
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
        inscope = [(trim(t), d) for t, d in labelled if d in self._docs]
        oos = [trim(t) for t, d in labelled if d not in self._docs]
        if len({d for _, d in inscope} | set(self._docs.by_doc)) < 2:
            return {"fitted": False}
        train, held = stratified_split(inscope, HELD_OUT_SHARE, seed)
        report: dict[str, Any] = {"fitted": True, "n_train": len(inscope), "n_oos": len(oos)}
        head = LinearHead()
        english = self._english_on()
        self._blend = Blend(head, english=english)
        examples = Examples(self._docs, self.embedder, self.english if english else None)
        # The vocabulary sees the held-out texts (unsupervised, label-free) so
        # that the final fit can warm-start from the calibration fit.
        head.fit_vocabulary([t for t, _ in inscope] + examples.texts())
        if not head.shrink_to_budget(len(self._docs), examples.dense_dim):
            self._blend = Blend(english=english)
            return {"fitted": False, "reason": "too many articles for the head"}
        report["n_features"] = head.n_features(examples.dense_dim)
        final = examples.batch(inscope, exclude=set())
        if len(held) >= 20:
            fits = head.fits([examples.batch(train, exclude={t for t, _ in held}), final])
            try:
                next(fits)  # fitted without the held-out rows: calibrate on them
                self._blend.map_columns(self._layout.doc_ids)
                # ... while the child refits on everything, from these weights.
                self.threshold, report["calibration"] = calibrate(
                    self._layout, lambda texts: self.score_queries(texts)[0], held, oos)
                next(fits)
            finally:
                fits.close()
        else:
            head.fit(*final)
        self._blend.map_columns(self._layout.doc_ids)
        del examples  # its vectors, before the memory goes back to the OS
        release_freed_memory()
        report["threshold"] = self.threshold
        return report
