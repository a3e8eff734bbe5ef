"""Delivers one email: over SMTP when configured, else into the local mail log.

The embedded default has no mail server, so mail is appended to a JSON-lines file the
admin can read in the admin area; nothing is silently dropped.

Message-IDs in In-Reply-To and References are written as they are: RFC 5322 (3.6.4)
never encodes them, but the stdlib writes one longer than a line as RFC 2047 words, which
no mail client reads as an id, and the thread breaks. Mail built with `MAIL_POLICY` keeps
them whole, and `deliver` sends the bytes `WIRE_POLICY` makes (nothing refolded, so a
DKIM signature over those bytes stays valid).
"""

import json
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib

from kefu.core.clock import utcnow
from kefu.core.settings import Settings


class _MessageIds(UnstructuredHeader):
    """In-Reply-To, References: the ids whole, folded only between them."""

    def fold(self, *, policy: Any) -> str:
        ids = str(self).split()
        name = getattr(self, "name")  # noqa: B009  (given by BaseHeader, mixed in by the registry)
        return f"{name}: {(policy.linesep + ' ').join(ids)}{policy.linesep}"


def _registry() -> HeaderRegistry:
    registry = HeaderRegistry()
    for name in ("in-reply-to", "references"):
        # typeshed's signature wants BaseHeader, which the registry itself mixes in.
        registry.map_to_type(name, _MessageIds)  # type: ignore[arg-type]
    return registry


MAIL_POLICY = SMTP.clone(header_factory=_registry())
WIRE_POLICY = MAIL_POLICY.clone(refold_source="none")


def _header_safe(value: str) -> str:
    # CR/LF in a header value would let user input inject headers.
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def build_message(settings: Settings, *, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = _header_safe(to)
    message["Subject"] = _header_safe(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="kefu.local")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message


async def deliver(settings: Settings, message: EmailMessage,
                  recipients: list[str] | None = None) -> None:
    """Send `message` to `recipients` (the envelope), by default its To, Cc and Bcc."""
    if settings.smtp_host:
        envelope = recipients or [address for _, address in getaddresses(
            [str(message.get(name, "")) for name in ("To", "Cc", "Bcc")]) if address]
        del message["Bcc"]
        await aiosmtplib.send(
            message.as_bytes(policy=WIRE_POLICY),
            sender=parseaddr(str(message["From"]))[1],
            recipients=envelope,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )
        return
    _append_to_log(settings.mail_log_path, message, recipients)


def _append_to_log(path: Path, message: EmailMessage, recipients: list[str] | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "at": utcnow().isoformat(),
        "to": ", ".join(recipients) if recipients else message["To"],
        "subject": message["Subject"],
        "message_id": message["Message-ID"],
        "text": _plain_text(message),
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _plain_text(message: EmailMessage) -> str:
    # A reply with an HTML alternative or attachments is multipart: log its text part.
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


def read_log(path: Path, *, limit: int = 200) -> list[dict[str, str]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[-limit:]
    return [json.loads(line) for line in reversed(lines) if line.strip()]
