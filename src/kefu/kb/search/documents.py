"""The indexed article versions and what search keeps of each: BM25 postings and the
passage vectors of both embedders.

Embedding is deferred: ``add`` only queues a version, and ``embed_pending`` embeds
everything queued in one batch (10,000 articles in one pass instead of 10,000 small
calls). See docs/search.md for the measurements behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from kefu.kb.search import english as en
from kefu.kb.search.bm25 import BM25Index
from kefu.kb.search.embed import Embedder, Vectors
from kefu.kb.search.text import normalize, words

DOC_TEXT_CHARS = 200_000
LEAD_CHARS = 300
# Distinct passages per embedder call while indexing.
EMBED_CHUNK = 16_384


@dataclass
class Version:
    """One language version of an article."""

    doc_id: str
    lang: str
    title: str
    body: str
    questions: list[str]

    @property
    def key(self) -> str:
        return f"{self.doc_id}\x1f{self.lang}"

    def passages(self) -> list[str]:
        """What the embedders see: example questions, title, title + lead; each once."""
        lead = f"{self.title} {self.body[:LEAD_CHARS]}".strip()
        texts = [*self.questions, self.title, lead]
        return list(dict.fromkeys(t for t in texts if t.strip()))


class Documents:
    """Article versions by article id then language, their BM25 index, and their passage
    vectors by version key (``vectors``: the multilingual embedder's; ``english_vectors``:
    the English expert's). Not locked: the engine holds its lock around every call."""

    def __init__(self) -> None:
        self.by_doc: dict[str, dict[str, Version]] = {}
        self.bm25 = BM25Index()
        self.vectors: dict[str, Vectors] = {}
        self.english_vectors: dict[str, Vectors] = {}
        self.pending: dict[str, Version] = {}  # version key → version awaiting ``vectors``

    def __len__(self) -> int:
        return len(self.by_doc)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.by_doc

    def versions(self) -> Iterator[Version]:
        """Every version, article by article in insertion order."""
        for versions in self.by_doc.values():
            yield from versions.values()

    def add(self, doc_id: str, *, lang: str, title: str, body: str, questions: list[str],
            queue: bool) -> None:
        """Add or replace a version; ``queue``: whether it waits for ``embed_pending``."""
        version = Version(
            doc_id, lang, title[:1000], body[:DOC_TEXT_CHARS], [q[:1000] for q in questions]
        )
        text = normalize(" ".join([title, body, *questions]), max_chars=DOC_TEXT_CHARS)
        self.by_doc.setdefault(doc_id, {})[lang] = version
        self.bm25.add(version.key, words(text))
        self.vectors.pop(version.key, None)
        self.english_vectors.pop(version.key, None)
        if queue:
            self.pending[version.key] = version

    def remove(self, doc_id: str, lang: str | None) -> bool:
        """Remove one language version, or every version when ``lang`` is None."""
        versions = self.by_doc.get(doc_id, {})
        langs = [lang] if lang is not None else list(versions)
        removed = False
        for code in langs:
            version = versions.pop(code, None)
            if version is None:
                continue
            removed = True
            self.bm25.remove(version.key)
            self.vectors.pop(version.key, None)
            self.english_vectors.pop(version.key, None)
            self.pending.pop(version.key, None)
        if not versions:
            self.by_doc.pop(doc_id, None)
        return removed

    def embed_pending(self, embedder: Embedder) -> None:
        """Embed every distinct pending passage once, in chunks of EMBED_CHUNK.

        Help centres repeat themselves (one example question under several articles,
        shared titles), so the model runs on distinct texts only.
        """
        pending = list(self.pending.values())
        _embed(pending, lambda unique: _encode_in_chunks(embedder, unique), self.vectors)
        self.pending.clear()

    def embed_english(self, expert: Embedder) -> bool:
        """Embed, with the English expert, the passages of versions it has not seen."""
        missing = [v for v in self.versions() if v.key not in self.english_vectors]
        if not missing:
            return False
        _embed(missing, lambda unique: en.encode_english(expert, unique), self.english_vectors)
        return True


def _embed(versions: list[Version], encode: Callable[[list[str]], Vectors],
           into: dict[str, Vectors]) -> None:
    """Store each version's passage vectors in ``into``, encoding each distinct text once."""
    passages = [v.passages() for v in versions]
    unique = list(dict.fromkeys(t for texts in passages for t in texts))
    row = {t: i for i, t in enumerate(unique)}
    vecs = encode(unique)
    for version, texts in zip(versions, passages, strict=True):
        into[version.key] = vecs[[row[t] for t in texts]]


def _encode_in_chunks(embedder: Embedder, texts: list[str]) -> Vectors:
    vecs = np.empty((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), EMBED_CHUNK):
        vecs[start : start + EMBED_CHUNK] = embedder.encode(texts[start : start + EMBED_CHUNK])
    return vecs
