"""Query-highlighted snippets: HTML-escaped text with only ``<mark>`` tags live."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from kefu.kb.search.text import ZH_STOPWORDS, normalize, stem, words

SNIPPET_CHARS = 160


@dataclass(frozen=True)
class QueryTerms:
    """What to highlight, worked out once per query rather than once per hit."""

    latin: frozenset[str]  # stems
    cjk: tuple[str, ...]  # longest first
    candidates: re.Pattern[str] | None  # Latin words that may stem to a query stem


def query_terms(query: str) -> QueryTerms:
    toks = words(normalize(query))
    latin = frozenset(t for t in toks if t.isascii())
    cjk = sorted({t for t in toks if not t.isascii() and t not in ZH_STOPWORDS},
                 key=len, reverse=True)
    return QueryTerms(latin, tuple(cjk), _candidate_words(latin))


def _candidate_words(latin: frozenset[str]) -> re.Pattern[str] | None:
    """Latin words of the text that start like a query stem.

    ``stem`` only cuts a suffix (and may turn "ies" into "y"), so a word whose stem
    (or stem of its stem) is ``s`` always starts with ``s[:-1]``. Stemming just the
    words that pass this prefix test gives the same highlights as stemming every
    word of a long article, at a fraction of the cost.
    """
    if not latin:
        return None
    # A stem of one or two characters is never cut from a longer word (stem keeps
    # three), so it matches that word alone; as a prefix it would be "" or one
    # letter and send every word of the article through stem.
    exact = sorted(s for s in latin if len(s) <= 2)
    prefixes = sorted({s[:-1] for s in latin if len(s) > 2}, key=len, reverse=True)
    alternatives = "|".join([f"{re.escape(s)}(?![A-Za-z0-9])" for s in exact]
                            + [re.escape(p) for p in prefixes])
    # ASCII: like text.latin_word_spans, a word is a run of [A-Za-z0-9] only.
    return re.compile(rf"(?<![A-Za-z0-9])(?={alternatives})[A-Za-z0-9]+",
                      re.ASCII | re.IGNORECASE)


def _spans(text: str, terms: QueryTerms) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    if terms.candidates is not None:
        for m in terms.candidates.finditer(text):
            st = stem(m.group(0).lower())
            if st in terms.latin or stem(st) in terms.latin:
                spans.append((m.start(), m.end()))
    folded = text.lower()
    for term in terms.cjk:
        start = folded.find(term)
        while start != -1 and len(spans) < 200:
            spans.append((start, start + len(term)))
            start = folded.find(term, start + len(term))
    return _merge(sorted(spans))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def make_snippet(text: str, query: str | QueryTerms, *, width: int = SNIPPET_CHARS) -> str:
    """A window of ``text`` around the first query match, matches in ``<mark>``."""
    terms = query_terms(query) if isinstance(query, str) else query
    spans = _spans(text, terms)
    start = max(0, spans[0][0] - width // 4) if spans else 0
    end = min(len(text), start + width)
    out = ["…" if start else ""]
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    out.append("…" if end < len(text) else "")
    return "".join(out)
