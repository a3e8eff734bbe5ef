"""Pydantic shapes of tickets. Inputs forbid unknown fields: mass assignment is refused."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from kefu.tickets.models import Category, ChannelType, Direction, Priority, Status

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
ShortOpt = Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)]


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketFields(StrictInput):
    """What a customer fills in on "submit a request"."""

    category: Category
    subject: Text200
    description: LongText
    uid: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    txid: ShortOpt | None = None
    occurred_at: datetime | None = None
    platform: Literal["web", "ios", "android", "desktop", "api"] | None = None
    platform_version: Annotated[str, StringConstraints(max_length=32)] | None = None
    desired_outcome: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ApiTicketCreate(TicketFields):
    """An integrator creates a ticket on behalf of a customer, named by email and/or UID."""

    contact_email: EmailStr | None = None
    contact_uid: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = (
        None
    )
    priority: Priority | None = None
    channel: ChannelType = ChannelType.API
    # The caller's own id for this request: sending it again returns the ticket it
    # opened instead of a second one (a retry after a timeout is safe).
    # (Stored behind the caller's key, within the 200 characters of a message's id.)
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=180)] | None = None


# Never NUL (PostgreSQL text cannot hold it): refused as input, not a server error.
AgentEmail = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=254, pattern=r"^[^\x00]+$")]
TeamSlug = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32,
                                            pattern=r"^[A-Za-z0-9-]*$")]


class TicketUpdate(StrictInput):
    """An agent's edit. The assignee is named by agent id, or by the exact email of an
    existing agent: never validated for deliverability (internal domains such as
    `@kefu.local` are real agents' addresses)."""

    status: Status | None = None
    priority: Priority | None = None
    team: TeamSlug | None = None
    assignee_id: int | None = Field(default=None, gt=0, lt=2**31)
    assignee_email: AgentEmail | None = None
    unassign: bool = False


class MessageCreate(StrictInput):
    body: LongText
    internal: bool = False


class RatingCreate(StrictInput):
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


class AttachmentRead(BaseModel):
    key: str
    filename: str
    content_type: str
    size: int


class MessageRead(BaseModel):
    author_type: str
    author_name: str
    body: str
    direction: Direction
    channel: str
    internal: bool  # direction == internal, kept for integrators who read it
    created_at: datetime
    attachments: list[AttachmentRead]


class TicketRead(BaseModel):
    reference: str
    subject: str
    description: str
    category: str
    status: str
    priority: str
    channel: str
    identity_kind: str | None  # the customer's address the ticket came by
    identity_value: str | None
    team: str | None
    assignee_id: int | None = None
    assignee_email: str | None
    contact_email: str | None
    uid: str | None
    txid: str | None
    occurred_at: datetime | None
    platform: str | None
    platform_version: str | None
    desired_outcome: str | None
    created_at: datetime
    updated_at: datetime
    rating: int | None


class TicketDetail(TicketRead):
    messages: list[MessageRead]


class TicketPage(BaseModel):
    items: list[TicketRead]
    total: int
    page: int
    per_page: int
