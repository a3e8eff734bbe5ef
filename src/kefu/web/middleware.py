"""Security headers and a cross-site request check for cookie-authenticated forms.

Plain ASGI rather than BaseHTTPMiddleware: that wrapper costs a task and a stream copy
per request, measurable on the ticket-create hot path.
"""

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DEFAULTS = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("content-security-policy", CSP),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)


HSTS = ("strict-transport-security", "max-age=31536000; includeSubDomains")


class SecurityHeaders:
    """`hsts`: always send HSTS (the site's base URL is https). `trusted_proxies`: peers
    whose `X-Forwarded-Proto: https` marks a request as having arrived over TLS, which
    then gets HSTS too; the header from anyone else is ignored (a client can forge it)."""

    def __init__(self, app: ASGIApp, *, hsts: bool, trusted_proxies: str = "") -> None:
        self.app = app
        self.defaults = DEFAULTS + ((HSTS,) if hsts else ())
        self.secure_defaults = (*DEFAULTS, HSTS)
        self.trusted = frozenset(trusted_proxies.split())

    def _over_tls(self, scope: Scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        if not self.trusted:
            return False
        client = scope.get("client")
        peer = client[0] if client else ""
        if "*" not in self.trusted and peer not in self.trusted:
            return False
        proto = Headers(scope=scope).get("x-forwarded-proto", "")
        # A chain of proxies appends: the first entry is what the client used.
        return proto.split(",")[0].strip().lower() == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cors = _chat_cors(scope)
        if cors and scope["method"] == "OPTIONS":  # the widget's preflight, on any site
            await PlainTextResponse("", status_code=204, headers=dict(cors))(scope, receive, send)
            return
        if scope["method"] in UNSAFE and not _same_origin(scope):
            # Cookies are SameSite=Lax already; this also stops a same-site subdomain.
            response = PlainTextResponse("Cross-site request refused.", status_code=403)
            await response(scope, receive, send)
            return

        defaults = self.secure_defaults if self._over_tls(scope) else self.defaults

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in defaults:
                    if name not in headers:  # a route's own policy (attachments, embed) wins
                        headers[name] = value
                for name, value in cors:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


CHAT_API = "/chat/api/"


def _chat_cors(scope: Scope) -> list[tuple[str, str]]:
    """The widget runs on the exchange's pages and calls the chat API across origins.
    It sends a bearer token, never a cookie, so any origin may call; which sites may
    use a chat is the site's own list, checked by the API and the WebSocket."""
    if not str(scope.get("path", "")).startswith(CHAT_API):
        return []
    origin = Headers(scope=scope).get("origin")
    if not origin:
        return []
    return [("access-control-allow-origin", origin), ("vary", "Origin"),
            ("access-control-allow-methods", "GET, POST"),
            ("access-control-allow-headers", "authorization, content-type"),
            ("access-control-max-age", "600")]


def _same_origin(scope: Scope) -> bool:
    # API calls authenticate with a bearer token, which a browser never sends by itself.
    if str(scope.get("path", "")).startswith(("/api/", CHAT_API)):
        return True
    headers = Headers(scope=scope)
    origin = headers.get("origin") or headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == headers.get("host", "")
