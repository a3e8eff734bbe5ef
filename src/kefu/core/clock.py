"""The one place that reads the wall clock, so tests and SLA code agree on "now"."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(UTC)
