"""Reference adapter: the exchange's account API over signed HTTP (httpx).

Endpoints (relative to the base URL):
  GET  /v1/accounts/{uid}         → 200 {uid, email_masked, kyc_level, status} | 404
  POST /v1/accounts/{uid}/freeze  {"reason": str} + Idempotency-Key
                                  → 200 {uid, status, reference, replayed}
  GET  /v1/deposits?txid=…  or  ?order_id=…      (and /v1/withdrawals the same)
                                  → 200 {status, confirmations, required_confirmations,
                                         credited, on_hold, reason, txid, order_id} | 404
Every request carries X-Kefu-Timestamp and X-Kefu-Signature (see `signing`). The freeze
is not retried here (one call, one timeout; the jobs table does the retrying, with its
Idempotency-Key). Status lookups are answered while an agent waits, so they retry
here: they are GETs, safe to repeat, tried up to LOOKUP_ATTEMPTS times on a transient
failure with a short backoff, each try under the timeout, all under LOOKUP_BUDGET.
"""

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from kefu.integrations.exchange import signing
from kefu.integrations.exchange.base import (
    AccountInfo,
    Direction,
    ExchangeNotConfigured,
    ExchangeRejected,
    ExchangeUnavailable,
    FreezeResult,
    TransferInfo,
    TransferStatus,
    lookup_params,
    valid_uid,
)
from kefu.integrations.exchange.urls import UnsafeURL, check_base_url, check_resolved

RETRYABLE_STATUS = {408, 425, 429}
LOOKUP_ATTEMPTS = 3
LOOKUP_BACKOFF = 0.2  # seconds before the 2nd try, doubled before the 3rd
LOOKUP_BUDGET = 10.0  # seconds for all tries together: an agent is waiting


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

    async def deposit_status(self, *, txid: str | None = None,
                             order_id: str | None = None) -> TransferInfo:
        return await self._transfer(Direction.DEPOSIT, txid, order_id)

    async def withdrawal_status(self, *, txid: str | None = None,
                                order_id: str | None = None) -> TransferInfo:
        return await self._transfer(Direction.WITHDRAWAL, txid, order_id)

    async def _transfer(self, direction: Direction, txid: str | None,
                        order_id: str | None) -> TransferInfo:
        query = urlencode(lookup_params(txid, order_id))
        response = await self._get_retried(f"/v1/{direction.value}s?{query}")
        if response.status_code == 404:
            return TransferInfo.not_found(direction)
        return _transfer_info(direction, _json(_raise_for_status(response)))

    async def _get_retried(self, path: str) -> httpx.Response:
        """GET with retries on transient failures (timeouts, 5xx, 429): a read is safe
        to repeat. Each try is signed afresh (the timestamp moves)."""
        deadline = time.monotonic() + LOOKUP_BUDGET
        for attempt in range(LOOKUP_ATTEMPTS):
            try:
                response = await self._send("GET", path, None, {})
                if response.status_code < 500 and response.status_code not in RETRYABLE_STATUS:
                    return response
                failure: Exception = ExchangeUnavailable(
                    f"exchange answered {response.status_code}")
            except ExchangeUnavailable as exc:
                failure = exc
            pause = LOOKUP_BACKOFF * 2**attempt
            if attempt + 1 == LOOKUP_ATTEMPTS or time.monotonic() + pause >= deadline:
                raise failure
            await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last try returns or raises")

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


def _transfer_info(direction: Direction, data: dict[str, Any]) -> TransferInfo:
    try:
        status = TransferStatus(str(data["status"]))
        return TransferInfo(
            direction=direction, found=status != TransferStatus.NOT_FOUND, status=status,
            confirmations=_optional_int(data.get("confirmations")),
            required_confirmations=_optional_int(data.get("required_confirmations")),
            credited=bool(data.get("credited", False)), on_hold=bool(data.get("on_hold", False)),
            reason=_optional_text(data.get("reason")), txid=_optional_text(data.get("txid")),
            order_id=_optional_text(data.get("order_id")))
    except (KeyError, ValueError, TypeError) as exc:
        raise ExchangeUnavailable("exchange sent an unexpected transfer status") from exc


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)[:200]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise ExchangeUnavailable("exchange sent invalid JSON") from exc
    if not isinstance(data, dict):
        raise ExchangeUnavailable("exchange sent unexpected JSON")
    return data
