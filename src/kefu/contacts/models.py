"""Customers. A customer may have an email login, an exchange UID, or both."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, UTCDateTime


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    uid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    anti_phishing_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def display(self) -> str:
        return display_name(self.name, self.email, self.uid)


class IdentityKind(StrEnum):
    """How a customer is reached or recognised on a channel."""

    EMAIL = "email"
    UID = "uid"  # the exchange account's UID
    TELEGRAM = "telegram"
    X = "x"
    FACEBOOK = "facebook"
    WIDGET_VISITOR = "widget_visitor"  # an anonymous chat visitor's token


class ContactIdentity(Base):
    """One address of a customer on one channel. A customer owns many; an address
    belongs to one customer at a time (a merge moves it). Lookups by email, UID or a
    channel's user id go through this table (`kefu.contacts.identities`)."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_contact_identities_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(254))
    # Proven: a UID the exchange signed, an address the customer answered from.
    verified: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Contact:
    """What a write needs to know of a customer, read without loading the ORM row.

    `id` is None for a customer not written yet: an integrator named someone new, and the
    customer row is written in the same statement as their first ticket."""

    id: int | None
    email: str | None
    uid: str | None
    name: str
    lang: str
    anti_phishing_code: str | None

    @classmethod
    def of(cls, customer: Customer) -> "Contact":
        return cls(customer.id, customer.email, customer.uid, customer.name, customer.lang,
                   customer.anti_phishing_code)

    @property
    def display(self) -> str:
        return display_name(self.name, self.email, self.uid)


def display_name(name: str, email: str | None, uid: str | None) -> str:
    return name or email or f"UID {uid}"
