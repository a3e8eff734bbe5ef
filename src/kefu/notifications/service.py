"""Composes customer emails and queues them; the job does the sending.

Every customer email carries the customer's anti-phishing code when set, and the notice
that support never asks for secrets.
"""

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import jobs
from kefu.core.i18n import translate
from kefu.notifications.mailer import build_message, deliver

SEND_EMAIL = "email.send"


class Recipient(Protocol):
    """What an email needs of a customer: a contacts Customer or Contact. A protocol, so
    notifications sits below contacts and contacts can send mail (password resets)."""

    @property
    def email(self) -> str | None: ...
    @property
    def lang(self) -> str: ...
    @property
    def anti_phishing_code(self) -> str | None: ...


def _footer(t: str, anti_phishing_code: str | None) -> list[str]:
    lines = ["", "—"]
    if anti_phishing_code:
        lines.append(translate(t, "Your anti-phishing code: %(code)s")
                     % {"code": anti_phishing_code})
    else:
        lines.append(translate(t, "Set an anti-phishing code in your account so you can tell "
                                  "our emails from fakes."))
    lines.append(translate(t, "We will never ask for your password, 2FA codes, private keys, "
                              "seed phrase or API secret."))
    return lines


def queue_customer_email(
    db: AsyncSession, *, customer: Recipient, subject: str, lines: list[str]
) -> None:
    """Queue an email in the caller's transaction; customers without email get none."""
    payload = customer_email_payload(customer=customer, subject=subject, lines=lines)
    if payload is not None:
        jobs.enqueue(db, kind=SEND_EMAIL, payload=payload)


def customer_email_payload(
    *, customer: Recipient, subject: str, lines: list[str]
) -> dict[str, Any] | None:
    """The SEND_EMAIL job payload for a customer, or None when they have no address."""
    if not customer.email:
        return None
    text = email_text(lang=customer.lang, anti_phishing_code=customer.anti_phishing_code,
                      lines=lines)
    return {"to": customer.email, "subject": subject, "text": text}


def email_text(*, lang: str, anti_phishing_code: str | None, lines: list[str]) -> str:
    """The body of any email to a customer: the lines, then the anti-phishing footer."""
    return "\n".join([*lines, *_footer(lang, anti_phishing_code)])


@jobs.handler(SEND_EMAIL)
async def send_email_job(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    message = build_message(
        ctx.settings, to=payload["to"], subject=payload["subject"], text=payload["text"]
    )
    await deliver(ctx.settings, message)
