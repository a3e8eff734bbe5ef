"""Delivers one email: over SMTP when configured, else into the local mail log.

The embedded default has no mail server, so mail is appended to a JSON-lines file the
admin can read in the admin area; nothing is silently dropped.
"""

import json
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import aiosmtplib

from kefu.core.clock import utcnow
from kefu.core.settings import Settings


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


async def deliver(settings: Settings, message: EmailMessage) -> None:
    if settings.smtp_host:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )
        return
    _append_to_log(settings.mail_log_path, message)


def _append_to_log(path: Path, message: EmailMessage) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "at": utcnow().isoformat(),
        "to": message["To"],
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
