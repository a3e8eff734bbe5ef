"""Password hashing (argon2id) with constant work for unknown accounts."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kefu.core.errors import InvalidInput

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps the timing of a failed
# login the same for known and unknown addresses.
_DUMMY_HASH = _hasher.hash("kefu-dummy-password-for-timing")
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    validate_password(password)
    return _hasher.hash(password)


def validate_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"Password must be at least {MIN_LENGTH} characters.")
    if len(password) > 256:
        raise InvalidInput("Password is too long.")


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
