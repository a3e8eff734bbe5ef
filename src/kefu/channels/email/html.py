"""HTML mail bodies: sanitised with nh3, then turned into text (for agents and search).

Quoted history in HTML is marked by the client (Gmail's gmail_quote, Outlook's
divRplyFwdMsg / OLK_SRC_BODY_SECTION, Thunderbird's moz-cite-prefix, a <blockquote>, a
rule before the old message); the reply text stops there.
"""

import re
from html.parser import HTMLParser

import nh3

_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                     "blockquote", "table", "ul", "ol", "pre", "hr", "section", "article"})
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})
# Classes and ids with which mail clients mark the start of the quoted message.
_QUOTE_MARKERS = re.compile(
    r"gmail_quote|gmail_extra|divRplyFwdMsg|OLK_SRC_BODY_SECTION|moz-cite-prefix|"
    r"yahoo_quoted|yahoo-quoted|ymail_android_signature|WordSection_quote|"
    r"mail-quote|replyhistory|x_divRplyFwdMsg|appendonsend|stopSpelling|"
    r"BodyFragment_quote|quote_container", re.IGNORECASE)
# Outlook's plain-looking header block that begins the old message inside the HTML.
_OUTLOOK_HEADER = re.compile(r"^\s*(From|发件人|От)\s*[:：]", re.IGNORECASE)
MAX_HTML_CHARS = 2_000_000


def sanitise(html: str) -> str:
    """Safe to show agents: no script, event handlers, javascript:/data: links, forms."""
    return nh3.clean(html[:MAX_HTML_CHARS])


class _TextWriter(HTMLParser):
    def __init__(self, *, stop_at_quote: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.stop_at_quote = stop_at_quote
        self.parts: list[str] = []
        self.skip_depth = 0
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        if tag in _SKIPPED and tag not in _VOID:
            self.skip_depth += 1
            return
        if self.stop_at_quote and self._marks_quote(tag, attrs):
            self.stopped = True
            if tag == "hr":
                self._drop_open_block()
            return
        if tag in _BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self.skip_depth:
            self.skip_depth -= 1
        elif tag in _BLOCKS and not self.stopped:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.stopped or self.skip_depth:
            return
        if self.stop_at_quote and _OUTLOOK_HEADER.match(data) and self._line_start():
            self.stopped = True
            return
        self.parts.append(data)

    def _drop_open_block(self) -> None:
        """A rule inside a block ends the reply with that block (as mailgun's talon
        reads it): the block's text before the rule goes too, unless nothing else
        would be left."""
        for index in range(len(self.parts) - 1, -1, -1):
            if self.parts[index] == "\n":
                if "".join(self.parts[:index]).strip():
                    del self.parts[index:]
                return

    def _line_start(self) -> bool:
        text = "".join(self.parts[-3:])
        return not text.strip() or text.rstrip(" \t").endswith("\n")

    def _marks_quote(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag == "blockquote":
            return True
        if tag == "hr":
            return bool("".join(self.parts).strip())  # a rule under some reply text
        marks = " ".join(v or "" for k, v in attrs if k in ("class", "id", "name"))
        return bool(marks) and _QUOTE_MARKERS.search(marks) is not None


def html_to_text(html: str, *, stop_at_quote: bool = False) -> str:
    """The text of (sanitised) HTML; with `stop_at_quote`, only what precedes the quote."""
    writer = _TextWriter(stop_at_quote=stop_at_quote)
    writer.feed(html[:MAX_HTML_CHARS])
    writer.close()
    return tidy("".join(writer.parts))


def tidy(text: str) -> str:
    """Spaces collapsed within lines, at most one blank line in a row."""
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()
