"""The contract every exchange backend implements: accounts, freezes, transfer status.

Implementations raise `ExchangeUnavailable` for anything worth retrying (timeouts,
connection errors, 5xx, 429) and `ExchangeRejected` for a definite refusal (unknown UID,
bad request, bad signature); the freeze job retries the first and records the second.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ExchangeError(Exception):
    """Base class. Messages never contain secrets or response bodies."""


class ExchangeUnavailable(ExchangeError):
    """Transient: try again later."""


class ExchangeRejected(ExchangeError):
    """Permanent: retrying the same request will not help."""


class ExchangeNotConfigured(ExchangeError):
    """No adapter URL/secret is set (retried, so configuring it later unblocks the job)."""


@dataclass(frozen=True)
class AccountInfo:
    uid: str
    email_masked: str  # e.g. "t***@example.com"; Kefu never needs the full address here
    kyc_level: int
    status: str  # active | frozen | restricted


@dataclass(frozen=True)
class FreezeResult:
    uid: str
    status: str  # "frozen"
    reference: str  # the exchange's id for the freeze, kept for the audit trail
    replayed: bool = False  # True when the exchange answered an earlier identical request


class Direction(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class TransferStatus(StrEnum):
    NOT_FOUND = "not_found"  # the exchange has no such deposit/withdrawal
    CONFIRMING = "confirming"  # seen on chain, waiting for confirmations
    PROCESSING = "processing"  # a withdrawal being reviewed or broadcast
    CREDITED = "credited"  # a deposit in the customer's balance
    COMPLETED = "completed"  # a withdrawal sent and confirmed
    ON_HOLD = "on_hold"  # stopped for review (risk, compliance, missing memo ...)
    FAILED = "failed"  # refused or returned; `reason` says why


@dataclass(frozen=True)
class TransferInfo:
    """What the exchange knows about one deposit or withdrawal. `reason` is the
    exchange's short code or sentence for a hold or failure (e.g. "missing_memo")."""

    direction: str
    found: bool
    status: str  # a TransferStatus value
    confirmations: int | None = None
    required_confirmations: int | None = None
    credited: bool = False
    on_hold: bool = False
    reason: str | None = None
    txid: str | None = None
    order_id: str | None = None

    @classmethod
    def not_found(cls, direction: Direction) -> "TransferInfo":
        return cls(direction=direction, found=False, status=TransferStatus.NOT_FOUND)


class ExchangeBackend(Protocol):
    async def lookup_uid(self, uid: str) -> AccountInfo | None:
        """The account, or None when the exchange does not know the UID."""
        ...

    async def freeze_account(self, uid: str, *, reason: str,
                             idempotency_key: str) -> FreezeResult:
        """Freeze withdrawals, trading and logins. The same `idempotency_key` must freeze
        at most once and return the first answer again, so retries are safe."""
        ...

    async def deposit_status(self, *, txid: str | None = None,
                             order_id: str | None = None) -> TransferInfo:
        """The deposit with this TxID (or the exchange's order id; exactly one is given).
        Unknown to the exchange: `TransferInfo.not_found`. A read: safe to repeat."""
        ...

    async def withdrawal_status(self, *, txid: str | None = None,
                                order_id: str | None = None) -> TransferInfo:
        """The withdrawal with this TxID or order id, as `deposit_status`."""
        ...


_LOOKUP = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,127}")


def valid_lookup(value: str) -> bool:
    """TxIDs and order ids go into query strings: letters, digits, '-' and '_' only."""
    return _LOOKUP.fullmatch(value) is not None


def lookup_params(txid: str | None, order_id: str | None) -> dict[str, str]:
    """The one lookup key given, checked; ExchangeRejected otherwise."""
    given = {k: v.strip() for k, v in (("txid", txid), ("order_id", order_id)) if v}
    if len(given) != 1 or not all(valid_lookup(v) for v in given.values()):
        raise ExchangeRejected("give one valid TxID or order id")
    return given


def valid_uid(uid: str) -> bool:
    """UIDs go into URL paths: letters and digits only, as the exchange issues them."""
    return 0 < len(uid) <= 64 and uid.isascii() and uid.isalnum()
