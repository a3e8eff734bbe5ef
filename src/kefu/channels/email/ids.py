"""The Message-IDs of the mail the desk sends, and which ticket an answer to one concerns.

An agent's reply gets an id made from its message's id (`message_id_for`), stored as the
message's external id: the customer's answer finds it there. Mail that is no message of
the thread (a confirmation, a status notice, the copy for the addresses a ticket allows)
has nothing to be stored as, so its id carries the ticket's reference itself, with a tag
made with the desk's secret (`derived_id`): an answer that names only that id in
In-Reply-To still finds its ticket (`reference_in`), and nobody else can make an id that
points at a ticket. Every id is the same on each try of the job that sends it, so a
client that gets a retried mail twice shows it once.
"""

import hashlib
import hmac
import re

_DERIVED = re.compile(r"kefu\.([a-z]{1,8})\.([0-9a-zA-Z]{1,32})\."
                      r"(KF-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\.([0-9a-f]{20})@")


def _tag(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:20]


def message_id_for(message_id: int, *, secret: str, domain: str) -> str:
    """The Message-ID (without <>) of outbound message `message_id`: the same every time."""
    return f"kefu.{message_id}.{_tag(secret, f'email-out:{message_id}')}@{domain}"


def derived_id(kind: str, key: str, reference: str, *, secret: str, domain: str) -> str:
    """The Message-ID (without <>) of a mail of `kind` (letters) about ticket `reference`,
    `key` (letters and digits) telling it from the ticket's other mail of that kind."""
    tag = _tag(secret, f"email-{kind}:{key}:{reference}")
    return f"kefu.{kind}.{key}.{reference}.{tag}@{domain}"


def reference_in(message_id: str, *, secret: str) -> str | None:
    """The ticket reference a `derived_id` carries, when the desk made it; else None."""
    found = _DERIVED.match(message_id)
    if found is None:
        return None
    kind, key, reference, tag = found.groups()
    expected = _tag(secret, f"email-{kind}:{key}:{reference}")
    return reference if hmac.compare_digest(tag, expected) else None
