"""Composes customer emails and queues them; the job does the sending.

Every customer email carries the customer's anti-phishing code when set, and the notice
that support never asks for secrets.

A ticket's email (its confirmation, its status changes) names the ticket in its payload.
A channel above this layer may then send it itself (`send_ticket_mail_with`): the email
channel sends it from the ticket's mailbox, in the customer's thread. Otherwise, and for
any other email, it goes out plain from the desk's address.
"""

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import jobs
from kefu.core.i18n import translate
from kefu.notifications.mailer import build_message, deliver

SEND_EMAIL = "email.send"

# Sends a ticket's email its own way and says so (True), or leaves it (False): the job
# then sends it plain. Registered by a channel at import (`kefu.job_handlers` imports it).
TicketMailSender = Callable[[dict[str, Any], jobs.JobContext], Awaitable[bool]]
_ticket_mail_senders: list[TicketMailSender] = []


def send_ticket_mail_with(sender: TicketMailSender) -> TicketMailSender:
    """Register `sender` (a decorator): it is offered every ticket's email first."""
    if sender not in _ticket_mail_senders:
        _ticket_mail_senders.append(sender)
    return sender


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
    db: AsyncSession, *, customer: Recipient, subject: str, lines: list[str],
    ticket_reference: str | None = None,
) -> None:
    """Queue an email in the caller's transaction; customers without email get none."""
    payload = customer_email_payload(customer=customer, subject=subject, lines=lines,
                                     ticket_reference=ticket_reference)
    if payload is not None:
        jobs.enqueue(db, kind=SEND_EMAIL, payload=payload)


def customer_email_payload(
    *, customer: Recipient, subject: str, lines: list[str],
    ticket_reference: str | None = None,
) -> dict[str, Any] | None:
    """The SEND_EMAIL job payload for a customer, or None when they have no address.
    `ticket_reference` names the ticket the email is about; its `nonce`, made once here,
    lets a sender give every try of the job the same Message-ID."""
    if not customer.email:
        return None
    text = email_text(lang=customer.lang, anti_phishing_code=customer.anti_phishing_code,
                      lines=lines)
    payload: dict[str, Any] = {"to": customer.email, "subject": subject, "text": text}
    if ticket_reference is not None:
        payload.update(ticket=ticket_reference, nonce=secrets.token_hex(8))
    return payload


def email_text(*, lang: str, anti_phishing_code: str | None, lines: list[str]) -> str:
    """The body of any email to a customer: the lines, then the anti-phishing footer."""
    return "\n".join([*lines, *_footer(lang, anti_phishing_code)])


@jobs.handler(SEND_EMAIL)
async def send_email_job(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    if payload.get("ticket"):
        for sender in _ticket_mail_senders:
            if await sender(payload, ctx):
                return
    message = build_message(
        ctx.settings, to=payload["to"], subject=payload["subject"], text=payload["text"]
    )
    await deliver(ctx.settings, message)
