"""Is this an official channel? The pure answer, shared by /verify, its JSON API and the bot.

`verify_claim(value, registry)` does no I/O: callers load the registry (see
`kefu.security.channels.load_registry`) and may cache it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from kefu.security.lookalike import (
    MAX_INPUT,
    Claim,
    InputKind,
    Lookalike,
    compact,
    domain_lookalikes,
    handle_lookalikes,
    normalise_claim,
    parse_host,
    phone_lookalikes,
    registrable,
)


class ChannelKind(StrEnum):
    WEB_DOMAIN = "web_domain"
    EMAIL_ADDRESS = "email_address"
    EMAIL_DOMAIN = "email_domain"
    TELEGRAM = "telegram"
    X = "x"
    PHONE = "phone"
    AGENT_ID = "agent_id"


KIND_LABELS = {
    ChannelKind.WEB_DOMAIN: "Website", ChannelKind.EMAIL_ADDRESS: "Email address",
    ChannelKind.EMAIL_DOMAIN: "Email domain", ChannelKind.TELEGRAM: "Telegram",
    ChannelKind.X: "X (Twitter)", ChannelKind.PHONE: "Phone", ChannelKind.AGENT_ID: "Agent ID",
}
HANDLE_KINDS = {"telegram": ChannelKind.TELEGRAM, "x": ChannelKind.X}

# English source texts; templates translate them, the bot may use them directly.
WARNING_TEXT = {
    "homoglyph": "It swaps letters for look-alike characters or digits to imitate %(official)s.",
    "punycode": "It contains non-Latin characters (shown in the address bar as %(official)s) "
                "that can imitate our name.",
    "typosquat": "It is spelled almost like %(official)s, but it is a different address.",
    "other_tld": "It uses our name with a different ending than %(official)s.",
    "brand_in_name": "It adds words or hyphens to our name (%(official)s). Scammers do this.",
    "subdomain_trick": "Our name (%(official)s) appears only in front; the real site is the "
                       "part at the end.",
    "userinfo": "The part before the @ in this link is decoration; the real site is after it.",
    "handle_lookalike": "It imitates our account %(official)s with extra or changed "
                        "characters.",
    "phone_near": "It is one or two digits away from our number %(official)s.",
    "unlisted_address": "The domain is ours but this address is not one of our senders. "
                        "Check the anti-phishing code in the email.",
}


@dataclass(frozen=True)
class OfficialEntry:
    kind: ChannelKind
    value: str  # normalised (see canonical_value)
    display: str = ""
    note: str = ""


@dataclass(frozen=True)
class VerifyResult:
    input_kind: InputKind
    normalised: str
    official: bool
    match: OfficialEntry | None = None
    warnings: tuple[Lookalike, ...] = ()

    @property
    def verdict(self) -> str:
        """official | lookalike | not_official | invalid."""
        if self.official:
            return "official"
        if self.input_kind is InputKind.INVALID:
            return "invalid"
        return "lookalike" if self.warnings else "not_official"


@dataclass(frozen=True)
class Registry:
    entries: tuple[OfficialEntry, ...] = field(default_factory=tuple)

    def values(self, *kinds: ChannelKind) -> list[str]:
        return [e.value for e in self.entries if e.kind in kinds]

    def brands(self) -> list[str]:
        """Our names as people write them: domain labels and handles, compacted."""
        names = [registrable(d)[0] for d in self.values(ChannelKind.WEB_DOMAIN,
                                                         ChannelKind.EMAIL_DOMAIN)]
        names += self.values(ChannelKind.TELEGRAM, ChannelKind.X)
        return sorted({compact(n) for n in names}, key=len, reverse=True)

    def first(self, kinds: Iterable[ChannelKind], test: "Matcher") -> OfficialEntry | None:
        wanted = set(kinds)
        return next((e for e in self.entries if e.kind in wanted and test(e.value)), None)


class Matcher:
    """A predicate over normalised registry values (a class, so mypy keeps it simple)."""

    def __init__(self, value: str, *, subdomains: bool = False, suffix: bool = False) -> None:
        self.value, self.subdomains, self.suffix = value, subdomains, suffix

    def __call__(self, official: str) -> bool:
        if self.value == official:
            return True
        if self.subdomains and self.value.endswith("." + official):
            return True  # whoever owns kefu.example controls help.kefu.example
        # A number typed without its country code: match the national part only when long
        # enough that a coincidence is unlikely.
        return self.suffix and len(self.value) >= 7 and official.endswith(self.value)


def verify_claim(value: str, registry: Registry) -> VerifyResult:
    claim = normalise_claim(value)
    match = _match(claim, registry)
    if match is not None:
        return VerifyResult(claim.kind, claim.value, True, match)
    return VerifyResult(claim.kind, claim.display or claim.value, False,
                        warnings=tuple(_warnings(claim, registry)))


def _match(claim: Claim, registry: Registry) -> OfficialEntry | None:
    kind = claim.kind
    if kind is InputKind.DOMAIN and not claim.userinfo:
        return registry.first([ChannelKind.WEB_DOMAIN], Matcher(claim.value, subdomains=True))
    if kind is InputKind.EMAIL:
        exact = registry.first([ChannelKind.EMAIL_ADDRESS], Matcher(claim.value))
        domain = claim.value.rpartition("@")[2]
        return exact or registry.first([ChannelKind.EMAIL_DOMAIN], Matcher(domain))
    if kind is InputKind.HANDLE:
        kinds = [HANDLE_KINDS[claim.platform]] if claim.platform else \
            [ChannelKind.TELEGRAM, ChannelKind.X, ChannelKind.AGENT_ID]
        return registry.first(kinds, Matcher(claim.value))
    if kind is InputKind.PHONE:
        return registry.first([ChannelKind.PHONE],
                              Matcher(claim.value, suffix=not claim.value.startswith("+")))
    return None


def _warnings(claim: Claim, registry: Registry) -> list[Lookalike]:
    domains = registry.values(ChannelKind.WEB_DOMAIN, ChannelKind.EMAIL_DOMAIN)
    found: list[Lookalike] = []
    if claim.userinfo:
        found.append(Lookalike("userinfo", claim.value))
    if claim.kind in (InputKind.DOMAIN, InputKind.EMAIL):
        found.extend(_domain_warnings(claim, registry, domains))
    elif claim.kind is InputKind.HANDLE:
        handles = [(e.value, e.display or "@" + e.value) for e in registry.entries
                   if e.kind in (ChannelKind.TELEGRAM, ChannelKind.X)]
        found.extend(handle_lookalikes(claim.value, handles, registry.brands()))
    elif claim.kind is InputKind.PHONE:
        found.extend(phone_lookalikes(claim.value, registry.values(ChannelKind.PHONE)))
    return found[:5]


def _domain_warnings(claim: Claim, registry: Registry, domains: list[str]) -> list[Lookalike]:
    hostname = claim.value.rpartition("@")[2]
    host = parse_host(hostname)
    if host is None:
        return []
    if claim.kind is InputKind.EMAIL and any(Matcher(hostname, subdomains=True)(d)
                                             for d in domains):
        return [Lookalike("unlisted_address", hostname)]
    if any(Matcher(hostname, subdomains=True)(d) for d in domains):
        return []  # an official web domain used as a mail domain: not a look-alike
    return domain_lookalikes(host, domains, registry.brands())


def canonical_value(kind: ChannelKind, raw: str) -> tuple[str, str]:
    """(normalised value, display) for a registry entry; ValueError when `raw` does not fit
    `kind`. Uses the same normalisation as verify_claim, so what an admin adds matches."""
    if kind is ChannelKind.AGENT_ID:
        text = raw.strip()
        if not text or len(text) > 64 or not all(c.isalnum() or c in "-_" for c in text):
            raise ValueError("An agent ID is 1-64 letters, digits, - or _.")
        return text.casefold(), text
    claim = normalise_claim(raw[:MAX_INPUT])
    expected = {
        ChannelKind.WEB_DOMAIN: InputKind.DOMAIN, ChannelKind.EMAIL_DOMAIN: InputKind.DOMAIN,
        ChannelKind.EMAIL_ADDRESS: InputKind.EMAIL, ChannelKind.TELEGRAM: InputKind.HANDLE,
        ChannelKind.X: InputKind.HANDLE, ChannelKind.PHONE: InputKind.PHONE,
    }[kind]
    if claim.kind is not expected or claim.userinfo:
        raise ValueError("This value does not fit the chosen channel type.")
    if kind is ChannelKind.PHONE and not claim.value.startswith("+"):
        raise ValueError("Write the phone number with its country code, e.g. +852 …")
    return claim.value, claim.display or claim.value
