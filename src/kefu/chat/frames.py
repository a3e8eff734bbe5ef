"""What clients are sent: a chat's state (CHAT) and its messages (MESSAGE), docs/chat.md.

Every live change is an event (`kefu.core.events`) whose `keys` say who hears it: the
customer's connections listen to `chat:ID`, an agent's console to `agent:ID` and
`team:ID`. A frame for a customer never carries an internal note or an agent-side event:
those are addressed only to agent keys.
"""

from datetime import datetime
from typing import Any

from kefu.chat.models import Chat, Owner
from kefu.tickets.models import Attachment, Direction, TicketMessage

CHAT_MESSAGE = "chat.message"
CHAT_STATE = "chat.state"
CHAT_TYPING = "chat.typing"
CHAT_QUEUE = "chat.queue"  # positions in a team's queue changed
CHAT_EVENTS = frozenset({CHAT_MESSAGE, CHAT_STATE, CHAT_TYPING, CHAT_QUEUE})


def chat_key(chat_id: int) -> str:
    return f"chat:{chat_id}"


def agent_key(agent_id: int) -> str:
    return f"agent:{agent_id}"


def team_key(team_id: int | None) -> str:
    return f"team:{team_id}"


def chat_frame(chat: Chat, *, reference: str, position: int | None = None,
               wait_seconds: int | None = None, agent_name: str | None = None) -> dict[str, Any]:
    return {"id": chat.ticket_id, "reference": reference, "owner": chat.owner,
            "outcome": chat.outcome, "problem_type": chat.problem_type, "lang": chat.lang,
            "last_seq": chat.last_seq,
            "position": position if chat.owner == Owner.QUEUE else None,
            "wait_seconds": wait_seconds if chat.owner == Owner.QUEUE else None,
            "agent_name": agent_name if chat.owner == Owner.AGENT else None,
            "open": chat.owner != Owner.ENDED, "rated": chat.rating is not None,
            "verified_uid": chat.verified_uid}


def message_frame(message: TicketMessage, *, client_id: str | None = None,
                  attachment: Attachment | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = dict(message.meta or {})
    return {
        "seq": message.seq, "author": message.author_type, "name": message.author_name,
        "text": message.body, "client_id": client_id if client_id is not None
        else client_id_of(message.external_id),
        "articles": list(meta.get("articles", [])),
        "ask_feedback": bool(meta.get("ask_feedback")),
        "leave_message": bool(meta.get("leave_message")),
        "warning": meta.get("warning"),
        "attachment": _attachment(attachment or next(iter(message.attachments), None)),
        "internal": message.direction == Direction.INTERNAL,
        "at": _iso(message.created_at),
    }


def client_id_of(external_id: str | None) -> str | None:
    """A customer's message is stored with the external id `chat:client`."""
    if not external_id or ":" not in external_id:
        return None
    return external_id.split(":", 1)[1]


def _attachment(attachment: Attachment | None) -> dict[str, Any] | None:
    if attachment is None:
        return None
    return {"name": attachment.filename, "content_type": attachment.content_type,
            "url": f"/chat/api/v1/attachments/{attachment.key}"}


def _iso(moment: datetime) -> str:
    return moment.isoformat()
