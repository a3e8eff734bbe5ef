"""The chat's transcript by email, on the customer's request: what they saw, nothing more
(no internal note), with the anti-phishing footer every customer email carries."""

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat.models import Chat
from kefu.chat.queries import messages_after
from kefu.contacts.models import Customer
from kefu.core.i18n import translate
from kefu.core.jobs import enqueue
from kefu.notifications.service import SEND_EMAIL, email_text

NAMES = {"customer": "You", "bot": "Kefu assistant", "system": "Kefu"}


async def send_transcript(db: AsyncSession, chat: Chat, *, to: str, customer: Customer,
                          base_url: str) -> None:
    lines = [translate(chat.lang, "The transcript of your chat:"), ""]
    for message in await messages_after(db, chat.ticket_id, 0):
        who = (translate(chat.lang, NAMES[message["author"]]) if message["author"] in NAMES
               else message["name"])
        lines.append(f"[{message['at'][:16].replace('T', ' ')}] {who}: {message['text']}")
        lines.extend(f"    {link['title']}: {base_url.rstrip('/')}{link['url']}"
                     for link in message["articles"])
    enqueue(db, kind=SEND_EMAIL, payload={
        "to": to, "subject": translate(chat.lang, "Your chat transcript"),
        "text": email_text(lang=chat.lang, anti_phishing_code=customer.anti_phishing_code,
                           lines=lines)})
