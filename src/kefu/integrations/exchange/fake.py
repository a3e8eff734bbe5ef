"""A tiny in-memory exchange for the demo and the tests; it speaks the adapter's protocol.

It checks every signature (401 otherwise), honours Idempotency-Key (the same key and body
answer the first response again; the same key with another body is refused), and can be
told to answer 503 a few times (`fail_next`) to exercise the job retries. Deposits and
withdrawals are looked up by TxID or order id; with `auto_transfers` (the demo) every
well-formed TxID exists, its state picked from the hash, so the demo has all of them.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from kefu.integrations.exchange import signing
from kefu.integrations.exchange.base import valid_uid


@dataclass
class FakeAccount:
    uid: str
    email_masked: str = "t***@example.com"
    kyc_level: int = 1
    status: str = "active"


@dataclass
class FakeTransfer:
    status: str  # a base.TransferStatus value
    txid: str | None = None
    order_id: str | None = None
    confirmations: int | None = None
    required_confirmations: int | None = None
    credited: bool = False
    on_hold: bool = False
    reason: str | None = None

    def reply(self) -> dict[str, Any]:
        return dict(self.__dict__)


# The demo's states for auto transfers, one picked per hash.
_DEMO_STATES = (
    FakeTransfer("credited", confirmations=64, required_confirmations=12, credited=True),
    FakeTransfer("confirming", confirmations=3, required_confirmations=12),
    FakeTransfer("on_hold", confirmations=20, required_confirmations=12, on_hold=True,
                 reason="missing_memo"),
    FakeTransfer("failed", reason="wrong_network"),
)


@dataclass
class FakeExchange:
    secret: str
    accounts: dict[str, FakeAccount] = field(default_factory=dict)
    auto_accounts: bool = False  # demo: every well-formed UID exists
    fail_next: int = 0
    fail_after_apply: int = 0  # apply the freeze, then answer 503 (a lost response)
    freezes_applied: int = 0
    bad_signatures: int = 0
    replies: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    # Keyed by TxID (lower case) and by order id.
    deposits: dict[str, FakeTransfer] = field(default_factory=dict)
    withdrawals: dict[str, FakeTransfer] = field(default_factory=dict)
    auto_transfers: bool = False
    lookups: int = 0

    def add_transfer(self, direction: str, transfer: FakeTransfer) -> None:
        book = self.deposits if direction == "deposit" else self.withdrawals
        for key in (transfer.txid, transfer.order_id):
            if key:
                book[key.lower()] = transfer

    def transfer(self, direction: str, key: str) -> FakeTransfer | None:
        book = self.deposits if direction == "deposit" else self.withdrawals
        found = book.get(key.lower())
        if found is None and self.auto_transfers:
            state = _DEMO_STATES[hashlib.sha256(key.lower().encode()).digest()[0] % 4]
            found = FakeTransfer(**{**state.__dict__, "txid": key})
        return found

    def account(self, uid: str) -> FakeAccount | None:
        if uid not in self.accounts and self.auto_accounts and valid_uid(uid):
            self.accounts[uid] = FakeAccount(uid)
        return self.accounts.get(uid)


def create_fake_app(exchange: FakeExchange) -> Starlette:
    async def lookup(request: Request) -> Response:
        refusal = await _refuse(request, exchange)
        if refusal is not None:
            return refusal
        account = exchange.account(request.path_params["uid"])
        if account is None:
            return JSONResponse({"error": "unknown uid"}, status_code=404)
        return JSONResponse(account.__dict__)

    async def freeze(request: Request) -> Response:
        refusal = await _refuse(request, exchange)
        if refusal is not None:
            return refusal
        return _freeze(exchange, request.path_params["uid"],
                       request.headers.get(signing.IDEMPOTENCY_HEADER, ""), await request.body())

    async def transfer(request: Request) -> Response:
        refusal = await _refuse(request, exchange)
        if refusal is not None:
            return refusal
        direction = request.path_params["direction"]
        if direction not in ("deposits", "withdrawals"):
            return JSONResponse({"error": "not found"}, status_code=404)
        exchange.lookups += 1
        keys = [request.query_params.get(k, "") for k in ("txid", "order_id")]
        given = [k for k in keys if k]
        if len(given) != 1:
            return JSONResponse({"error": "give txid or order_id"}, status_code=400)
        found = exchange.transfer(direction.removesuffix("s"), given[0])
        if found is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(found.reply())

    app = Starlette(routes=[Route("/v1/accounts/{uid}", lookup, methods=["GET"]),
                            Route("/v1/accounts/{uid}/freeze", freeze, methods=["POST"]),
                            Route("/v1/{direction:str}", transfer, methods=["GET"])])
    app.state.exchange = exchange
    return app


async def _refuse(request: Request, exchange: FakeExchange) -> Response | None:
    if exchange.fail_next > 0:
        exchange.fail_next -= 1
        return PlainTextResponse("maintenance", status_code=503)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ok = signing.verify(exchange.secret, method=request.method, path=path,
                        body=await request.body(),
                        timestamp=request.headers.get(signing.TIMESTAMP_HEADER, ""),
                        signature=request.headers.get(signing.SIGNATURE_HEADER, ""))
    if not ok:
        exchange.bad_signatures += 1
        return JSONResponse({"error": "bad signature"}, status_code=401)
    return None


def _freeze(exchange: FakeExchange, uid: str, key: str, body: bytes) -> Response:
    if not key or len(key) > 128:
        return JSONResponse({"error": "Idempotency-Key required"}, status_code=400)
    fingerprint = f"{uid}:{body.decode(errors='replace')}"
    if key in exchange.replies:
        first, reply = exchange.replies[key]
        if first != fingerprint:
            return JSONResponse({"error": "key reused with another request"}, status_code=422)
        return JSONResponse({**reply, "replayed": True})
    account = exchange.account(uid)
    if account is None:
        return JSONResponse({"error": "unknown uid"}, status_code=404)
    try:
        json.loads(body or b"{}")
    except ValueError:
        return JSONResponse({"error": "invalid JSON"}, status_code=400)
    account.status = "frozen"
    exchange.freezes_applied += 1
    reply = {"uid": uid, "status": "frozen", "reference": "FRZ-" + secrets.token_hex(6)}
    exchange.replies[key] = (fingerprint, reply)
    if exchange.fail_after_apply > 0:
        exchange.fail_after_apply -= 1
        return PlainTextResponse("gateway timeout", status_code=503)
    return JSONResponse({**reply, "replayed": False})


class DevFakeExchangeMount:
    """ASGI app mounted at /_fake_exchange: 404 unless the Kefu app runs in development or
    test; there it serves one FakeExchange per Kefu app (every UID exists)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from kefu.integrations.exchange.config import DEV_ENVIRONMENTS, exchange_config

        kefu_app = scope.get("app")
        state = getattr(kefu_app, "state", None)
        settings = getattr(state, "settings", None)
        config = exchange_config(settings) if settings is not None else None
        if config is None or settings is None or settings.environment not in DEV_ENVIRONMENTS:
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        fake = getattr(state, "fake_exchange_app", None)
        if fake is None:
            fake = create_fake_app(FakeExchange(config.secret, auto_accounts=True,
                                                auto_transfers=True))
            state.fake_exchange_app = fake  # type: ignore[union-attr]
        await fake(scope, receive, send)
