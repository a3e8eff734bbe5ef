"""The contract every exchange backend implements.

Implementations raise `ExchangeUnavailable` for anything worth retrying (timeouts,
connection errors, 5xx, 429) and `ExchangeRejected` for a definite refusal (unknown UID,
bad request, bad signature); the freeze job retries the first and records the second.
"""

from dataclasses import dataclass
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


class ExchangeBackend(Protocol):
    async def lookup_uid(self, uid: str) -> AccountInfo | None:
        """The account, or None when the exchange does not know the UID."""
        ...

    async def freeze_account(self, uid: str, *, reason: str,
                             idempotency_key: str) -> FreezeResult:
        """Freeze withdrawals, trading and logins. The same `idempotency_key` must freeze
        at most once and return the first answer again, so retries are safe."""
        ...


def valid_uid(uid: str) -> bool:
    """UIDs go into URL paths: letters and digits only, as the exchange issues them."""
    return 0 < len(uid) <= 64 and uid.isascii() and uid.isalnum()
