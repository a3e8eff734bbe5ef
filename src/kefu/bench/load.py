"""The load generator: N concurrent keep-alive clients POSTing prepared ticket bodies.

Two interchangeable clients. `raw` (the default) writes pre-built HTTP/1.1 requests on
asyncio streams and reads just the status line, headers and body: on a small machine,
where the load generator shares the CPUs with the server, it leaves the CPU to the
server. `httpx` uses httpx.AsyncClient (keep-alive pool of N connections) and is also
what serves https:// URLs.
"""

import asyncio
import contextlib
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

PATH = "/api/v1/tickets"

_COINS = ("BTC", "ETH", "USDT", "USDC", "SOL", "TRX", "XRP", "DOGE", "LTC", "BNB")
_NETWORKS = ("ERC20", "TRC20", "BEP20", "Solana", "Bitcoin", "Arbitrum", "Polygon")
_TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "deposit_withdrawal": (
        ("{coin} deposit not credited after {hours} hours",
         "I deposited {amount} {coin} over {network} {hours} hours ago. The explorer shows "
         "{confs} confirmations but my balance is unchanged. Please check and credit it."),
        ("Withdrawal of {amount} {coin} stuck in processing",
         "My withdrawal to an external {network} address has been 'processing' since "
         "yesterday. Could you tell me what is holding it and when it will be sent?"),
        ("Wrong network used for {coin} deposit",
         "I sent {amount} {coin} on {network} by mistake. Is it possible to recover it? "
         "The transaction hash is in the txid field."),
    ),
    "account": (
        ("Cannot complete identity verification",
         "The selfie step of KYC keeps failing with 'face not detected' on my phone. "
         "I tried {hours} times in good light. What else can I do?"),
        ("Please change the email on my account",
         "I no longer have access to my old mailbox and would like to move the account "
         "to a new address. I can provide documents."),
    ),
    "trading": (
        ("Limit order for {coin} was not filled",
         "My limit buy for {amount} {coin} should have filled when the price touched my "
         "level, but it is still open. Please explain the matching."),
        ("Unexpected liquidation on {coin} futures",
         "My {coin} perpetual position was liquidated although the mark price never "
         "reached my liquidation price on the chart. I lost {amount} USDT."),
    ),
    "security": (
        ("Suspicious login from an unknown device",
         "I received an email about a login from a new device I do not own. I have "
         "changed my password; please freeze withdrawals until I confirm."),
    ),
    "api": (
        ("API returns 429 too often",
         "Our bot hits rate limits at about {hours}0 requests per minute, well below the "
         "documented limit. Is there a per-IP limit we are missing?"),
    ),
    "compliance": (
        ("Request for account statement",
         "For my tax declaration I need a statement of all {coin} trades and transfers "
         "for last year. Please send it as CSV or PDF."),
    ),
    "promotions": (
        ("Referral bonus not received",
         "A friend signed up with my referral code and traded {amount} USDT, but the "
         "bonus has not been credited after {hours} days."),
    ),
    "other": (
        ("Feedback about the mobile app",
         "The new version of the app hides the {coin} chart behind two taps. Please "
         "bring back the old layout, it was much faster."),
    ),
}
# Roughly how requests spread over categories on an exchange desk.
_WEIGHTS = {"deposit_withdrawal": 40, "account": 18, "trading": 15, "security": 7, "api": 5,
            "compliance": 5, "promotions": 5, "other": 5}
# A few customers paste a secret; the guard masks it (an extra audit row and event).
_LEAKS = (" My password is Hunter2-{hours}x9!", " The 2FA code was {otp}.")


def ticket_body(i: int, rng: random.Random, run: str,
                categories: Sequence[str] | None = None) -> dict[str, Any]:
    """One realistic create request; request `i` names its own customer bench-<i>."""
    names = list(categories or _WEIGHTS)
    category = rng.choices(names, weights=[_WEIGHTS[x] for x in names])[0]
    subject, description = rng.choice(_TEMPLATES[category])
    values = {
        "coin": rng.choice(_COINS), "network": rng.choice(_NETWORKS),
        "amount": f"{rng.uniform(0.01, 25_000):.4f}".rstrip("0").rstrip("."),
        "hours": rng.randint(2, 9), "confs": rng.randint(3, 120),
        "otp": f"{rng.randint(0, 999_999):06d}",
    }
    text = description.format(**values)
    if rng.random() < 0.02:
        text += rng.choice(_LEAKS).format(**values)
    body: dict[str, Any] = {
        "category": category,
        "subject": subject.format(**values),
        "description": text,
        "contact_email": f"bench-{run}-{i}@example.com",
        "uid": str(rng.randint(10_000_000, 99_999_999)),
    }
    if category == "deposit_withdrawal":
        body["txid"] = "0x" + rng.randbytes(32).hex()
    if rng.random() < 0.5:
        body["platform"] = rng.choice(("web", "ios", "android", "desktop"))
    return body


def encode_bodies(first: int, count: int, seed: int, run: str,
                  categories: Sequence[str] | None = None) -> list[bytes]:
    """`count` JSON bodies, built before the clock starts so that the clients stay lean."""
    unknown = set(categories or ()) - set(_WEIGHTS)
    if unknown:
        raise ValueError(f"unknown categories: {sorted(unknown)}")
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    return [json.dumps(ticket_body(first + i, rng, run, categories)).encode()
            for i in range(count)]


@dataclass
class Outcome:
    """What one phase (warm-up or measured) produced."""

    latencies: list[float] = field(default_factory=list)  # seconds, successful creates only
    errors: int = 0
    samples: list[str] = field(default_factory=list)  # the first few error descriptions
    wall: float = 0.0

    def error(self, text: str, elapsed: float) -> None:
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(f"{text} (after {elapsed * 1000:.0f} ms)")


class _RawConnection:
    """One HTTP/1.1 keep-alive connection on asyncio streams, reconnecting when closed."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    async def request(self, data: bytes) -> tuple[int, bytes]:
        reader, writer = await self._connect()
        writer.write(data)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await _read_chunked(reader)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def run_phase(url: str, token: str, bodies: list[bytes], clients: int, *, client: str,
                    on_done: Callable[[], None] | None = None) -> Outcome:
    """Send every body once, `clients` at a time; each client keeps one connection."""
    outcome = Outcome()
    queue = iter(bodies)
    parts = urlsplit(url)
    raw = client == "raw" and parts.scheme == "http"
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    path = (parts.path.rstrip("/") + PATH)
    prefix = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
    ).encode()

    async def raw_worker() -> None:
        conn = _RawConnection(host, port)
        try:
            for body in queue:
                data = prefix + b"Content-Length: %d\r\n\r\n" % len(body) + body
                started = time.perf_counter()
                try:
                    status, answer = await conn.request(data)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    await conn.close()
                    outcome.error(f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
                else:
                    if status == 201:
                        outcome.latencies.append(time.perf_counter() - started)
                    else:
                        outcome.error(f"HTTP {status}: {answer[:200]!r}",
                                      time.perf_counter() - started)
                if on_done is not None:
                    on_done()
        finally:
            await conn.close()

    async def httpx_worker(http: httpx.AsyncClient) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Accept": "application/json"}
        for body in queue:
            started = time.perf_counter()
            try:
                response = await http.post(path, content=body, headers=headers)
            except httpx.HTTPError as exc:
                outcome.error(f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
            else:
                if response.status_code == 201:
                    outcome.latencies.append(time.perf_counter() - started)
                else:
                    outcome.error(f"HTTP {response.status_code}: {response.text[:200]!r}",
                                  time.perf_counter() - started)
            if on_done is not None:
                on_done()

    started = time.perf_counter()
    if raw:
        await asyncio.gather(*(raw_worker() for _ in range(clients)))
    else:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        base = f"{parts.scheme}://{parts.netloc}"
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0) as http:
            await asyncio.gather(*(httpx_worker(http) for _ in range(clients)))
    outcome.wall = time.perf_counter() - started
    return outcome


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]
