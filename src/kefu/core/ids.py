"""Identifiers customers see. They are random, never sequential, so they cannot be guessed."""

import secrets

# Crockford base32: no I, L, O, U, so references survive being read out over the phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int) -> str:
    # One draw from the OS for the whole code (32 symbols: 5 bits each, uniform), not a
    # draw per character: a reference is made on every ticket create.
    bits = secrets.randbits(5 * length)
    return "".join(_ALPHABET[(bits >> 5 * i) & 31] for i in range(length))


def ticket_reference() -> str:
    """e.g. KF-7Q2M-9XH4-WD3B: 60 random bits."""
    code = random_code(12)
    return f"KF-{code[:4]}-{code[4:8]}-{code[8:]}"


def storage_key() -> str:
    return secrets.token_hex(20)
