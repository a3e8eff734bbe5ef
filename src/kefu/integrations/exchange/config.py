"""Which exchange backend to use, from Settings.

Reads `exchange_api_url`, `exchange_api_secret`, `exchange_allow_loopback` and
`exchange_timeout_seconds` with getattr so this works before those Settings fields exist
(the lead adds them; see the report). In development and test with no URL set, the demo
talks to the fake exchange mounted in the same app at FAKE_MOUNT.
"""

from dataclasses import dataclass

from kefu.core.settings import Settings
from kefu.integrations.exchange.base import ExchangeBackend, ExchangeNotConfigured
from kefu.integrations.exchange.http import HttpExchangeBackend

FAKE_MOUNT = "/_fake_exchange"
# Only ever used against the in-app fake, and only in development/test.
DEV_SECRET = "kefu-fake-exchange-development-only"  # noqa: S105  (public by design)
DEV_ENVIRONMENTS = ("development", "test")


@dataclass(frozen=True)
class ExchangeConfig:
    url: str
    secret: str
    allow_loopback: bool
    timeout: float = 5.0


def exchange_config(settings: Settings) -> ExchangeConfig | None:
    url = str(getattr(settings, "exchange_api_url", "") or "")
    secret = str(getattr(settings, "exchange_api_secret", "") or "")
    timeout = float(getattr(settings, "exchange_timeout_seconds", 5.0) or 5.0)
    dev = settings.environment in DEV_ENVIRONMENTS
    if not url and dev:
        return ExchangeConfig(settings.base_url.rstrip("/") + FAKE_MOUNT, secret or DEV_SECRET,
                              allow_loopback=True, timeout=timeout)
    if not url:
        return None
    # Loopback is never allowed in production, whatever the flag says.
    loopback = dev and bool(getattr(settings, "exchange_allow_loopback", False))
    return ExchangeConfig(url, secret, allow_loopback=loopback, timeout=timeout)


def backend_from_settings(settings: Settings) -> ExchangeBackend:
    config = exchange_config(settings)
    if config is None:
        raise ExchangeNotConfigured("No exchange backend is configured.")
    return HttpExchangeBackend(config.url, config.secret, timeout=config.timeout,
                               allow_loopback=config.allow_loopback)
