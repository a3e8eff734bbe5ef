"""DKIM and DMARC: did the From domain really send this?

DKIM signatures are verified with dkimpy. DMARC is read from the From domain's
`_dmarc` record (or its organisational domain's: the last two labels, a simplification
of the public-suffix rule) and passes when a valid DKIM signature's domain aligns with
the From domain (relaxed alignment). SPF is not checked here: the receiver sits behind
the MTA, which alone sees the connecting address. Results are shown, and failures
flagged, never silently trusted: a From that fails DMARC is not evidence of who wrote.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import dkim
from dkim import dnsplug
from dkim.util import parse_tag_value

TxtLookup = Callable[..., bytes | None]  # (name, timeout=seconds), as dkimpy calls it
MAX_SIGNATURES = 5  # a message with more is checked on its first five


# Answers are kept a while: mail comes from few domains (a lookup took ~35 ms here, which
# alone held a worker to under 30 messages a second).
CACHE_SECONDS = 600.0
CACHE_SIZE = 10_000
_cache: dict[bytes, tuple[bytes | None, float]] = {}


def dns_txt(name: bytes, timeout: float = 3) -> bytes | None:
    """A TXT record from DNS (dnspython, through dkimpy), None when there is none;
    answers (and absences) are remembered for CACHE_SECONDS."""
    now = time.monotonic()
    hit = _cache.get(name)
    if hit is not None and now - hit[1] < CACHE_SECONDS:
        return hit[0]
    try:
        result = dnsplug.get_txt(name, timeout=min(timeout, 3))
    except Exception:  # an unreachable resolver reads as "no record"
        result = None
    answer = result if isinstance(result, bytes) else None
    if len(_cache) >= CACHE_SIZE:
        _cache.clear()
    _cache[name] = (answer, now)
    return answer


# What the parse job looks TXT records up with; a test points it at its own records.
TXT_LOOKUP: TxtLookup = dns_txt


@dataclass(frozen=True)
class AuthResult:
    dkim: str  # pass | fail | none (no signature)
    dkim_domains: tuple[str, ...]  # the domains whose signatures verified
    dmarc: str  # pass | fail | none (no DMARC record)
    dmarc_policy: str | None

    def flags(self) -> list[str]:
        out = [f"dkim:{self.dkim}", f"dmarc:{self.dmarc}"]
        if self.dmarc == "fail":
            out.append(f"dmarc_policy:{self.dmarc_policy or 'none'}")
        return out


def _organisational(domain: str) -> str:
    return ".".join(domain.split(".")[-2:])


def _signature_domains(raw: bytes) -> list[str]:
    checker = dkim.DKIM(raw)
    domains = []
    for name, value in checker.headers:
        if name.lower() == b"dkim-signature":
            try:
                tags = parse_tag_value(value)
                domains.append(tags.get(b"d", b"").decode("ascii", "replace").lower())
            except Exception:  # a malformed signature counts, and fails
                domains.append("")
    return domains[:MAX_SIGNATURES]


def check(raw: bytes, from_domain: str | None, *, txt: TxtLookup | None = None) -> AuthResult:
    """DKIM and DMARC for a raw message. Never raises."""
    lookup = txt or TXT_LOOKUP
    try:
        domains = _signature_domains(raw)
    except Exception:
        domains = []
    passed: list[str] = []
    for index, domain in enumerate(domains):
        if _verifies(raw, index, lookup):
            passed.append(domain)
    dkim_result = "none" if not domains else ("pass" if passed else "fail")
    dmarc, policy = _dmarc(from_domain, passed, lookup)
    return AuthResult(dkim_result, tuple(passed), dmarc, policy)


def _verifies(raw: bytes, index: int, lookup: TxtLookup) -> bool:
    try:
        return bool(dkim.DKIM(raw).verify(idx=index, dnsfunc=lookup))
    except Exception:  # a broken signature or key: that signature fails
        return False


def _dmarc(from_domain: str | None, passed: list[str], lookup: TxtLookup
           ) -> tuple[str, str | None]:
    if not from_domain:
        return "none", None
    record = None
    for candidate in dict.fromkeys((from_domain, _organisational(from_domain))):
        try:
            record = lookup(f"_dmarc.{candidate}.".encode())
        except Exception:
            record = None
        if record and record.lower().startswith(b"v=dmarc1"):
            break
        record = None
    if record is None:
        return "none", None
    try:
        tags = parse_tag_value(record.replace(b" ", b""))
        policy = tags.get(b"p", b"none").decode("ascii", "replace").lower()[:16]
    except Exception:
        policy = "none"
    aligned = any(_organisational(d) == _organisational(from_domain) for d in passed)
    return ("pass" if aligned else "fail"), policy
