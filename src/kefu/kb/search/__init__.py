"""Kefu knowledge-base search: tokenisation, BM25, embeddings, learned head."""

from kefu.kb.search.engine import Answer, Hit, SearchEngine

__all__ = ["Answer", "Hit", "SearchEngine"]
