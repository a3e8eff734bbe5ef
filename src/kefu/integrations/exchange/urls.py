"""SSRF rule for the adapter's base URL: checked when configured and again per request.

Refused: schemes other than http(s), credentials in the URL, link-local addresses (the
cloud metadata service 169.254.169.254 lives there), multicast, unspecified and reserved
ranges, and loopback unless explicitly allowed (development and tests run the fake
exchange on 127.0.0.1). Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) are
allowed on purpose: the exchange's account backend is normally on an internal network.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

# AWS's IPv6 metadata endpoint sits in the private ULA range, so it is named explicitly.
METADATA_HOSTS = {ipaddress.ip_address("fd00:ec2::254")}
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """The URL points somewhere the adapter must never call."""


def check_base_url(url: str, *, allow_loopback: bool) -> str:
    """The URL without a trailing slash, or UnsafeURL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("The exchange URL is not a valid URL.") from exc
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeURL("The exchange URL must be an http(s) URL with a host.")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise UnsafeURL("The exchange URL must not contain credentials, a query or a fragment.")
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        check_address(ipaddress.ip_address("127.0.0.1"), allow_loopback=allow_loopback)
    literal = _literal(host)
    if literal is not None:
        check_address(literal, allow_loopback=allow_loopback)
    del port  # parsed only so that a malformed port fails here, not at request time
    return url.strip().rstrip("/")


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_address(address: IPAddress, *, allow_loopback: bool) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:169.254.169.254 is still the metadata service
    if address.is_loopback:
        if not allow_loopback:
            raise UnsafeURL("The exchange URL points at this machine (loopback).")
        return
    if (address.is_link_local or address.is_multicast or address.is_unspecified
            or address.is_reserved or address in METADATA_HOSTS):
        raise UnsafeURL("The exchange URL points at a link-local or reserved address.")


async def check_resolved(url: str, *, allow_loopback: bool) -> None:
    """Resolve the host and check every address, just before connecting, so a DNS name that
    now resolves to 169.254.169.254 is refused too. (A rebinding race between this lookup
    and httpx's own remains; the base URL is operator-set, not user input.)"""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    # OSError (no such host, resolver down) propagates: the caller treats it as transient.
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        check_address(ipaddress.ip_address(str(info[4][0]).split("%")[0]),
                      allow_loopback=allow_loopback)
