"""Reference adapter: the exchange's account API over signed HTTP (httpx).

Endpoints (relative to the base URL):
  GET  /v1/accounts/{uid}         → 200 {uid, email_masked, kyc_level, status} | 404
  POST /v1/accounts/{uid}/freeze  {"reason": str} + Idempotency-Key
                                  → 200 {uid, status, reference, replayed}
Every request carries X-Kefu-Timestamp and X-Kefu-Signature (see `signing`). There is no
retry here: one call, one timeout; the jobs table does the retrying.
"""

import json
from typing import Any

import httpx

from kefu.integrations.exchange import signing
from kefu.integrations.exchange.base import (
    AccountInfo,
    ExchangeNotConfigured,
    ExchangeRejected,
    ExchangeUnavailable,
    FreezeResult,
    valid_uid,
)
from kefu.integrations.exchange.urls import UnsafeURL, check_base_url, check_resolved

RETRYABLE_STATUS = {408, 425, 429}


class HttpExchangeBackend:
    def __init__(self, base_url: str, secret: str, *, timeout: float = 5.0,
                 allow_loopback: bool = False) -> None:
        if not secret:
            raise ExchangeNotConfigured("The exchange API secret is not set.")
        try:
            self.base_url = check_base_url(base_url, allow_loopback=allow_loopback)
        except UnsafeURL as exc:
            raise ExchangeNotConfigured(str(exc)) from exc
        self._secret = secret
        self._timeout = timeout
        self._allow_loopback = allow_loopback
        self._prefix = httpx.URL(self.base_url).path.rstrip("/")

    async def lookup_uid(self, uid: str) -> AccountInfo | None:
        _check_uid(uid)
        response = await self._send("GET", f"/v1/accounts/{uid}", None, {})
        if response.status_code == 404:
            return None
        data = _json(_raise_for_status(response))
        return AccountInfo(uid=str(data["uid"]), email_masked=str(data["email_masked"]),
                           kyc_level=int(data["kyc_level"]), status=str(data["status"]))

    async def freeze_account(self, uid: str, *, reason: str,
                             idempotency_key: str) -> FreezeResult:
        _check_uid(uid)
        response = await self._send("POST", f"/v1/accounts/{uid}/freeze", {"reason": reason},
                                    {signing.IDEMPOTENCY_HEADER: idempotency_key})
        data = _json(_raise_for_status(response))
        return FreezeResult(uid=str(data["uid"]), status=str(data["status"]),
                            reference=str(data["reference"]),
                            replayed=bool(data.get("replayed", False)))

    async def _send(self, method: str, path: str, payload: dict[str, Any] | None,
                    extra: dict[str, str]) -> httpx.Response:
        body = json.dumps(payload, separators=(",", ":")).encode() if payload is not None \
            else b""
        headers = {**extra, "Content-Type": "application/json",
                   **signing.signed_headers(self._secret, method=method,
                                            path=self._prefix + path, body=body)}
        try:
            await check_resolved(self.base_url, allow_loopback=self._allow_loopback)
        except UnsafeURL as exc:
            raise ExchangeNotConfigured(str(exc)) from exc
        except OSError as exc:
            raise ExchangeUnavailable("The exchange host does not resolve.") from exc
        try:
            # follow_redirects stays off: a redirect could point anywhere (SSRF).
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as c:
                return await c.request(method, self.base_url + path, content=body,
                                       headers=headers)
        except httpx.HTTPError as exc:  # timeouts, refused connections, protocol errors
            raise ExchangeUnavailable(f"exchange request failed: {type(exc).__name__}") from exc


def _check_uid(uid: str) -> None:
    if not valid_uid(uid):
        raise ExchangeRejected("invalid UID")


def _raise_for_status(response: httpx.Response) -> httpx.Response:
    code = response.status_code
    if code >= 500 or code in RETRYABLE_STATUS:
        raise ExchangeUnavailable(f"exchange answered {code}")
    if code >= 300:
        # The body is not echoed: it may hold account data we must not log.
        raise ExchangeRejected(f"exchange answered {code}")
    return response


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise ExchangeUnavailable("exchange sent invalid JSON") from exc
    if not isinstance(data, dict):
        raise ExchangeUnavailable("exchange sent unexpected JSON")
    return data
