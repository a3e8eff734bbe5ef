"""Splitting a reply from the history it quotes and the signature under it.

The text is read bottom-up into fragments (the approach of GitHub's email_reply_parser,
written anew here): quoted lines ("> …"), quote headers ("On … wrote:", Outlook's
"From:/Sent:/To:/Subject:" blocks) and signatures ("-- ", "Sent from my iPhone") are
hidden; a header hides everything below it. The customer's new text is what stays
visible; the whole text is kept for agents who need the history.
"""

import re
from dataclasses import dataclass, field

# "-- " alone (RFC 3676), a rule, "-Name"; a list item "-- Amazon.com," is not one.
_SIGNATURE = re.compile(r"(-{2,}\s*$|-{2,}[\w ]+-{2,}\s*$|__|-\w)"
                        r"|(^Sent from my (\w+\s*){1,3}$)")
_QUOTE_HEADER = re.compile(
    r"^On\s.*wrote:$|^在.*写道[:：]$|^.*于.*写道[:：]$"
    # "26.06.2014, 14:41, "Name" <a@b.example>:" and other dated lines naming an address.
    r"|^.*\d.*<[^\s<>@]+@[^\s<>@]+>.*:$")
_QUOTED = re.compile(r"^>+")
_HEADER = re.compile(r"^\*?(From|Sent|To|Subject|Date|发件人|发送时间|收件人|主题"
                     r"|От|Отправлено|Кому|Тема):\*?\s.+")
# "On <date>, <name> <address>\n wrote:" broken over lines by the client: joined first.
_MULTILINE_QUOTE_HEADER = re.compile(r"(?!On.*On\s.+?wrote:)(On\s(.+?)wrote:)", re.DOTALL)
# A reply written right above an Outlook rule of underscores or dashes.
_RULE = re.compile(r"([^\n])(?=\n ?[_-]{7,})")
# A quote header whose "<address>" the client broke over two lines.
_SPLIT_ADDRESS = re.compile(r"<\n(?=[^\s<>@]+@[^\s<>@]+>)")
_CLOSING = re.compile(r"^(thanks|thank you|regards|best|cheers|sincerely|best regards|"
                      r"kind regards|谢谢|此致)[^\n]{0,20}[,，!！]?$", re.IGNORECASE)
MAX_SCAN_CHARS = 200_000
SIGNATURE_MAX_LINES = 6  # a longer text keeps its tail unsplit: bounded work per message


@dataclass
class Fragment:
    quoted: bool
    headers: bool
    lines: list[str] = field(default_factory=list)  # bottom-up while reading
    signature: bool = False
    hidden: bool = False
    content: str = ""


@dataclass(frozen=True)
class SplitReply:
    visible: str  # the new text
    fragments: tuple[Fragment, ...]


def split_reply(text: str, *, sender_name: str = "") -> SplitReply:
    """The visible reply and all fragments, top to bottom. Never raises on any str.
    `sender_name` (the From display name) lets a bare name block under the reply be
    recognised as the signature."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    head, tail = text[:MAX_SCAN_CHARS], text[MAX_SCAN_CHARS:]
    joined = _MULTILINE_QUOTE_HEADER.search(head)
    if joined is not None and "\n" in joined.group(1):
        start, end = joined.span(1)
        head = head[:start] + joined.group(1).replace("\n", " ") + head[end:]
    head = _RULE.sub(r"\1\n", head)
    head = _SPLIT_ADDRESS.sub("<", head)
    reader = _Reader()
    for line in reversed((head + tail).split("\n")):
        reader.scan(line)
    reader.finish()
    fragments = tuple(reversed(reader.fragments))
    visible = "\n".join(f.content for f in fragments if not (f.hidden or f.quoted))
    return SplitReply(strip_signature(visible.strip(), sender_name), fragments)


def strip_signature(text: str, sender_name: str) -> str:
    """Without a closing block that signs with the sender's name: from the last line
    near the end that is the name (at most four words, the first one of the name) to the
    end, with a "Thanks,"-style closing line just above it."""
    words = {w.lower() for w in re.findall(r"\w{2,}", sender_name)}
    lines = text.split("\n")
    for index in range(max(len(lines) - SIGNATURE_MAX_LINES, 1), len(lines)):
        line = lines[index].strip()
        tokens = [w.lower() for w in re.findall(r"\w+", line)]
        named = bool(tokens) and tokens[0] in words and len(tokens) <= 4
        if named and len(line) < 60:
            if index > 1 and _CLOSING.match(lines[index - 1].strip()):
                index -= 1
            return "\n".join(lines[:index]).rstrip()
    return text


class _Reader:
    def __init__(self) -> None:
        self.fragments: list[Fragment] = []
        self.fragment: Fragment | None = None
        self.found_visible = False

    def scan(self, line: str) -> None:
        stripped = line.strip()
        is_quote_header = _QUOTE_HEADER.match(stripped) is not None
        is_quoted = _QUOTED.match(line) is not None
        is_header = is_quote_header or _HEADER.match(line) is not None
        current = self.fragment
        if current is not None and not stripped and _SIGNATURE.match(current.lines[-1].strip()):
            current.signature = True
            self.finish()
            current = None
        if current is not None and (
                (current.headers == is_header and current.quoted == is_quoted)
                or (current.quoted and (is_quote_header or not stripped))):
            current.lines.append(line)
            return
        self.finish()
        self.fragment = Fragment(quoted=is_quoted, headers=is_header, lines=[line])

    def finish(self) -> None:
        fragment = self.fragment
        if fragment is None:
            return
        fragment.content = "\n".join(reversed(fragment.lines)).strip()
        if fragment.headers:
            # A quote header: whatever was read below it is history.
            self.found_visible = False
            for earlier in self.fragments:
                earlier.hidden = True
        if not self.found_visible:
            if fragment.quoted or fragment.headers or fragment.signature or not fragment.content:
                fragment.hidden = True
            else:
                self.found_visible = True
        self.fragments.append(fragment)
        self.fragment = None
