"""HMAC-SHA256 request signatures shared by the adapter and the fake exchange.

signature = hex(HMAC(secret, f"{timestamp}{METHOD}{path}".encode() + body)), where `path`
includes the query string and `timestamp` is Unix seconds. The timestamp bounds replays to
MAX_SKEW; the Idempotency-Key bounds the effect of a replay inside that window.
"""

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Kefu-Timestamp"
SIGNATURE_HEADER = "X-Kefu-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_SKEW = 300


def sign(secret: str, *, timestamp: str, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}{method.upper()}{path}".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, *, method: str, path: str, body: bytes,
                   now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp=timestamp, method=method, path=path,
                                   body=body)}


def verify(secret: str, *, timestamp: str, signature: str, method: str, path: str,
           body: bytes, now: float | None = None) -> bool:
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > MAX_SKEW:
        return False
    expected = sign(secret, timestamp=timestamp, method=method, path=path, body=body)
    return hmac.compare_digest(expected, signature.lower())
