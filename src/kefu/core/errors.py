"""Domain errors. Handlers never build HTTP errors by hand: the web layer maps these."""


class KefuError(Exception):
    """Base class; `public_message` is safe to show to any caller."""

    status_code = 400
    public_message = "Invalid request."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.public_message)
        self.message = message or self.public_message


class NotFound(KefuError):
    """Missing or not visible to the actor: both look the same on purpose."""

    status_code = 404
    public_message = "Not found."


class InvalidInput(KefuError):
    status_code = 422
    public_message = "Invalid input."


class Forbidden(KefuError):
    status_code = 403
    public_message = "Forbidden."


class Unauthorized(KefuError):
    status_code = 401
    public_message = "Authentication required."


class RateLimited(KefuError):
    """`retry_after`: seconds until a new try may succeed (sent as Retry-After)."""

    status_code = 429
    public_message = "Too many requests. Please wait a moment and try again."

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Conflict(KefuError):
    status_code = 409
    public_message = "Conflict."
