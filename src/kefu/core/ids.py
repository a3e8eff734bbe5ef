"""Identifiers customers see. They are random, never sequential, so they cannot be guessed."""

import secrets

# Crockford base32: no I, L, O, U, so references survive being read out over the phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def ticket_reference() -> str:
    """e.g. KF-7Q2M-9XH4-WD3B: 60 random bits."""
    code = random_code(12)
    return f"KF-{code[:4]}-{code[4:8]}-{code[8:]}"


def storage_key() -> str:
    return secrets.token_hex(20)
