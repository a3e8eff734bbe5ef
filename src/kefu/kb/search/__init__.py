"""Kefu knowledge-base search: tokenisation, BM25, embeddings, learned head."""

from kefu.kb.search.engine import SearchEngine
from kefu.kb.search.hits import Answer, Hit

__all__ = ["Answer", "Hit", "SearchEngine"]
