"""A raw message (bytes) read into what the desk needs. Pure: no database, no network,
and no exception for any input — what could not be read becomes a flag instead.

Charsets: the declared one first (GB2312/GBK read as GB18030 and Big5 as Big5-HKSCS,
their supersets, since senders label by the smaller set and write the larger), then
UTF-8, GB18030, Big5-HKSCS and ISO-2022-JP in turn for mislabelled or unknown ones, and
finally the declared charset with replacement characters (flagged `charset_fallback`).
Headers are decoded from their raw bytes (RFC 2047 words and raw 8-bit alike) the same
way, and unfolded: CR and LF never survive into a subject, name or filename.

NUL: PostgreSQL text cannot hold it, so every string read out of a message has NUL (and
other C0 controls but tab and newline) replaced by U+FFFD; the bytes themselves stay
exact in the raw file.
"""

import email
import email.policy
import re
from dataclasses import dataclass
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr

from kefu.channels.email.html import html_to_text, sanitise
from kefu.channels.email.quotes import split_reply

MAX_DEPTH = 20  # MIME nesting read; deeper parts are flagged and left in the raw file
MAX_PARTS = 500
MAX_TEXT_CHARS = 200_000
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
            "euc-cn": "gb18030", "big5": "big5hkscs", "x-big5": "big5hkscs",
            "cp950": "big5hkscs", "iso-2022-jp": "iso2022_jp_ext", "shift-jis": "cp932",
            "shift_jis": "cp932", "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
            "us-ascii": "utf-8", "ascii": "utf-8", "unknown-8bit": "utf-8",
            "x-unknown": "utf-8", "iso-8859-1": "cp1252", "latin-1": "cp1252",
            "latin1": "cp1252"}
_FALLBACKS = ("utf-8", "gb18030", "big5hkscs", "iso2022_jp_ext")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_ADDRESS = re.compile(r"[^@\s<>\"(),;:\[\]\\]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z0-9-]{2,63}")
_AUTO_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)"
                           r"([+-].*)?@", re.IGNORECASE)


@dataclass(frozen=True)
class RawAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    sender: str | None  # the From address, lower case; None when there is none usable
    sender_name: str
    reply_to: str | None  # shown only: it never decides who wrote
    recipients: tuple[str, ...]  # To and Cc addresses
    cc: tuple[str, ...]  # the Cc addresses alone: whom the sender copied
    subject: str
    text: str  # the whole body as text, quoted history and signature included
    reply: str  # the new text only
    html: str | None  # the HTML body, sanitised
    attachments: tuple[RawAttachment, ...]
    embedded_ids: tuple[str, ...]  # Message-IDs of mail it carries (a bounce's original)
    auto: str | None  # why it is machine mail (bounce, auto_submitted, bulk …), or None
    flags: tuple[str, ...]


def clean(text: str) -> str:
    """Safe for a database text column: no NUL or other C0 controls but tab and newline."""
    return _CONTROL.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))


def decode_bytes(data: bytes, declared: str | None, flags: set[str]) -> str:
    """The text of `data`, trying the declared charset, then the common ones."""
    name = (declared or "").strip().strip('"').lower()
    candidates: list[str] = []
    if name:
        candidates.append(_ALIASES.get(name, name))
    candidates += [c for c in _FALLBACKS if c not in candidates]
    if b"\x1b$" not in data:
        candidates = [c for c in candidates if not c.startswith("iso2022")] or candidates
    for position, charset in enumerate(candidates):
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            if position == 0 and name:
                flags.add("charset_fallback")
            continue
        return text
    flags.add("charset_fallback")
    return data.decode("utf-8", errors="replace")


def _header(message: Message, name: str, flags: set[str]) -> str:
    """A header's text from its raw value: RFC 2047 words and raw 8-bit bytes decoded,
    unfolded to one line."""
    raw = _raw_header(message, name)
    if raw is None:
        return ""
    return _decode_words(raw, flags)


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _decode_words(raw: str, flags: set[str]) -> str:
    raw = raw.replace("\r", " ").replace("\n", " ")
    try:
        pieces = decode_header(raw)
    except Exception:  # a malformed encoded word is read as text
        flags.add("header_malformed")
        pieces = [(raw, None)]
    out: list[str] = []
    for piece, charset in pieces:
        if isinstance(piece, str):
            piece = piece.encode("ascii", errors="surrogateescape")
        out.append(decode_bytes(piece, charset, flags))
    return " ".join(clean("".join(out)).split())


def _ids(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_MESSAGE_ID.findall(value)))[:50]


def _address(raw: str) -> str | None:
    found = _ADDRESS.fullmatch(raw.strip())
    return found.group(0).lower() if found else None


def _addresses(message: Message, *names: str) -> tuple[str, ...]:
    raw = [_raw_header(message, name) or "" for name in names]
    return tuple(a for a in (_address(pair[1]) for pair in getaddresses(raw)) if a)


def _auto(message: Message, sender: str | None, flags: set[str]) -> str | None:
    auto_submitted = _header(message, "Auto-Submitted", flags).lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto_submitted"
    if message.get_content_type() == "multipart/report":
        return "bounce"
    if sender is None or _AUTO_SENDERS.match(sender):
        return "mailer_daemon"
    if _header(message, "Return-Path", flags).strip() == "<>":
        return "bounce"
    if _header(message, "Precedence", flags).lower() in ("bulk", "list", "junk"):
        return "bulk"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if _raw_header(message, name) is not None and name != "X-Auto-Response-Suppress":
            return "auto_submitted"
    if _raw_header(message, "List-Id") is not None or _raw_header(
            message, "List-Unsubscribe") is not None:
        return "bulk"
    return None


class _Body:
    def __init__(self, flags: set[str]) -> None:
        self.flags = flags
        self.plain: str | None = None
        self.html: str | None = None
        self.attachments: list[RawAttachment] = []
        self.embedded_ids: list[str] = []
        self.parts = 0

    def walk(self, part: Message, depth: int) -> None:
        self.parts += 1
        if depth > MAX_DEPTH or self.parts > MAX_PARTS:
            self.flags.add("nesting_too_deep")
            return
        if part.is_multipart():
            payload = part.get_payload()
            if part.get_content_type() == "message/rfc822":
                self.flags.add("forwarded_message")
                for inner in payload if isinstance(payload, list) else []:
                    if isinstance(inner, Message):
                        self.embedded_ids += _ids(_raw_header(inner, "Message-ID") or "")
            for child in payload if isinstance(payload, list) else []:
                if isinstance(child, Message):
                    self.walk(child, depth + 1)
            return
        kind = part.get_content_type()
        if kind in ("text/rfc822-headers", "message/delivery-status"):
            # A bounce's report: the returned message's headers say which mail bounced.
            data = part.get_payload(decode=True)
            if kind == "text/rfc822-headers" and isinstance(data, bytes):
                inner = email.message_from_bytes(data, policy=email.policy.default)
                self.embedded_ids += _ids(_raw_header(inner, "Message-ID") or "")
            return
        filename = self._filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        if kind in ("text/plain", "text/html") and not filename and disposition != "attachment":
            text = self._text(part)
            if kind == "text/plain" and self.plain is None:
                self.plain = text
            elif kind == "text/html" and self.html is None:
                self.html = text
            return
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and data:
            self.attachments.append(RawAttachment(filename or "attachment", kind, data))

    def _filename(self, part: Message) -> str:
        try:
            name = part.get_filename()
        except Exception:  # an unreadable RFC 2231 name
            self.flags.add("header_malformed")
            return ""
        if not name:
            return ""
        return _decode_words(name, self.flags) if "=?" in name else clean(name).strip()

    def _text(self, part: Message) -> str:
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            return ""
        try:
            charset = part.get_content_charset()
        except Exception:  # a malformed Content-Type parameter
            charset = None
        return clean(decode_bytes(data, charset, self.flags))[:MAX_TEXT_CHARS]


def parse(raw: bytes) -> ParsedEmail:
    """Read a message. Never raises: see the module's notes."""
    flags: set[str] = set()
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # the stdlib parser is lenient; this is a last guard
        message = email.message_from_bytes(b"", policy=email.policy.default)
        flags.add("unparseable")
    if message.defects:
        flags.add("mime_defects")
    name, address = parseaddr(_raw_header(message, "From") or "")
    sender, sender_name = _address(address), _decode_words(name, flags)[:100]
    reply_to = _address(parseaddr(_raw_header(message, "Reply-To") or "")[1])
    recipients = _addresses(message, "To", "Cc")
    body = _Body(flags)
    body.walk(message, 0)
    html = sanitise(body.html) if body.html is not None else None
    if body.plain is not None and body.plain.strip():
        text = body.plain
        reply = split_reply(text, sender_name=sender_name).visible
    elif html is not None:
        text = html_to_text(html)
        reply = split_reply(html_to_text(html, stop_at_quote=True),
                            sender_name=sender_name).visible
    else:
        text = reply = ""
    if reply_to is not None and reply_to != sender:
        flags.add("reply_to_differs")
    message_ids = _ids(_raw_header(message, "Message-ID") or "")
    return ParsedEmail(
        message_id=message_ids[0] if message_ids else None,
        # Decoded first: Python's email package (and so some senders) writes an id longer
        # than a line as RFC 2047 words, though ids are never encoded.
        in_reply_to=_ids(_header(message, "In-Reply-To", flags)),
        references=_ids(_header(message, "References", flags)),
        sender=sender, sender_name=sender_name, reply_to=reply_to,
        recipients=recipients[:50], cc=_addresses(message, "Cc")[:50],
        subject=_header(message, "Subject", flags)[:998],
        text=text, reply=reply, html=html, attachments=tuple(body.attachments),
        embedded_ids=tuple(dict.fromkeys(body.embedded_ids))[:20],
        auto=_auto(message, sender, flags), flags=tuple(sorted(flags)))
