"""Query-highlighted snippets: HTML-escaped text with only ``<mark>`` tags live."""

from __future__ import annotations

import html

from kefu.kb.search.text import ZH_STOPWORDS, latin_word_spans, normalize, stem, words

SNIPPET_CHARS = 160


def _query_terms(query: str) -> tuple[set[str], list[str]]:
    """(Latin stems, CJK words) of the query used to find matches in the text."""
    toks = words(normalize(query))
    latin = {t for t in toks if t.isascii()}
    cjk = sorted(
        {t for t in toks if not t.isascii() and t not in ZH_STOPWORDS}, key=len, reverse=True
    )
    return latin, cjk


def _spans(text: str, latin: set[str], cjk: list[str]) -> list[tuple[int, int]]:
    spans = [(s, e) for s, e, st in latin_word_spans(text) if st in latin or stem(st) in latin]
    folded = text.lower()
    for term in cjk:
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


def make_snippet(text: str, query: str, *, width: int = SNIPPET_CHARS) -> str:
    """A window of ``text`` around the first query match, matches in ``<mark>``."""
    latin, cjk = _query_terms(query)
    spans = _spans(text, latin, cjk)
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
