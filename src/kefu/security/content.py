"""Where every channel's text meets the secret guard.

Inbound text (tickets, chat, email, social) is masked here before it is stored, indexed,
logged or forwarded; only the kinds of what was masked reach the audit log. Outbound
agent and bot text that asks a customer for a secret is refused here before it is sent.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import events
from kefu.core.audit import record
from kefu.core.errors import KefuError
from kefu.security.guard import check_outbound, mask_secrets

SECRET_MASKED = "security.secret_masked"  # noqa: S105 (an event name, not a secret)


class SecretRequestBlocked(KefuError):
    """An agent or bot message asked the customer for a secret; it was not sent."""

    status_code = 422

    def __init__(self, reason: str, kind: str | None) -> None:
        super().__init__(reason)
        self.kind = kind


@dataclass(frozen=True)
class Cleaned:
    text: str
    kinds: frozenset[str] = frozenset()
    severe: bool = False  # a seed phrase or private key: the funds may need moving

    def __add__(self, other: "Cleaned") -> "Cleaned":
        return Cleaned("", self.kinds | other.kinds, self.severe or other.severe)


def clean_inbound(db: AsyncSession, text: str, *, where: str) -> Cleaned:
    """The text with secrets masked; records and announces what kinds were found."""
    cleaned = scan_inbound(text)
    if cleaned.kinds:
        finding = masked_finding(cleaned, where=where)
        record(db, actor=("system", None), action=SECRET_MASKED, detail=finding)
        events.emit(db, SECRET_MASKED, **finding)
    return cleaned


def scan_inbound(text: str) -> Cleaned:
    """The text with secrets masked, recording nothing: for writers that put the audit
    entry (`masked_finding`) into their own statement."""
    result = mask_secrets(text)
    return Cleaned(result.text, frozenset(result.kinds), result.severe)


def masked_finding(cleaned: Cleaned, *, where: str) -> dict[str, Any]:
    """What the audit entry and the event say of masked text: the kinds, never the text."""
    return {"kinds": sorted(cleaned.kinds), "where": where, "severe": cleaned.severe}


def check_agent_outbound(db: AsyncSession, text: str, *, agent_id: int | None, where: str) -> None:
    verdict = check_outbound(text)
    if verdict.blocked:
        raise SecretRequestBlocked(verdict.reason, verdict.kind)
