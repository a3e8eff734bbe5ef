"""Markdown → safe HTML for article bodies.

Two layers on purpose: markdown-it runs with raw HTML disabled (so `<script>` in a body is
shown as text) and refuses `javascript:`/`data:` links; nh3 (an allow-list HTML sanitiser)
then strips anything that still slipped through, including every `on*` attribute.
"""

import html
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "del", "img",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
                      "th": {"style"}, "td": {"style"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_BODY = 100_000


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table") \
        .enable("strikethrough")


def _heading_shift(html: str) -> str:
    # The page already has the article title as <h1>; an <h1> in the body would compete.
    return html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")


def render_markdown(body: str) -> str:
    """Render `body` to HTML that is safe to insert into a page without escaping."""
    rendered = _heading_shift(_parser().render(body[:MAX_BODY]))
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )


def clean_snippet(snippet: str) -> str:
    """Search snippets should already be escaped with only <mark> added; re-check that."""
    return nh3.clean(snippet, tags={"mark"}, attributes={})


EXCERPT_LENGTH = 160


def plain_excerpt(body: str, limit: int = EXCERPT_LENGTH) -> str:
    """A short text preview (for lists and JSON), Markdown punctuation dropped."""
    # Stripping every tag leaves entity-escaped text; unescape it because callers escape
    # again on output (Jinja autoescape, JSON).
    return shorten(html.unescape(nh3.clean(_parser().render(body[:4000]), tags=set())), limit)


def shorten(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """`text` on one line, cut at `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain_text(body: str) -> str:
    """The whole body as text, for the search index (snippets must not show `**`)."""
    return html.unescape(nh3.clean(_parser().render(body[:MAX_BODY]), tags=set())).strip()
