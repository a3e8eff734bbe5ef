"""Normalising what someone pastes (URL, email, @handle, phone) and spotting look-alikes.

Pure functions: no I/O, no database. Input is capped at MAX_INPUT characters and no
regular expression ever runs on user text; every loop is bounded by that cap and edit
distances run on DNS labels or handles of at most MAX_LABEL characters, so nothing a user
types can make this slow.
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

MAX_INPUT = 512
MAX_LABEL = 64
MIN_BRAND = 4  # shorter brands match too much innocent text to warn about
PROFILE_HOSTS = {
    "t.me": "telegram", "telegram.me": "telegram", "telegram.dog": "telegram",
    "x.com": "x", "twitter.com": "x", "mobile.twitter.com": "x", "mobile.x.com": "x",
}
# Second-level labels under which registries sell names (kefu.com.hk, kefu.co.uk): without
# the public-suffix list this keeps the common ones right.
_SECOND_LEVEL = {"com", "net", "org", "co", "gov", "edu", "ac"}
_PHONE_CHARS = set("+0123456789 -().")
_HANDLE_EXTRA = set("_-")  # "-" for agent IDs such as KF-0042

# Letters from other scripts, and digits, that render like Latin letters (a subset of
# Unicode's confusables.txt covering what phishing kits use). Accents are removed first.
_CONFUSABLES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "к": "k",
    "м": "m", "т": "t", "н": "h", "в": "b", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ɡ": "g", "ӏ": "l", "ү": "y", "һ": "h", "ո": "n", "ս": "u",
    "α": "a", "ο": "o", "ρ": "p", "ε": "e", "κ": "k", "ν": "v", "τ": "t", "υ": "u",
    "ι": "i", "χ": "x", "β": "b", "γ": "y", "η": "n", "ѵ": "v", "ı": "i", "ł": "l",
    "0": "o", "1": "l", "i": "l", "|": "l", "3": "e", "4": "a", "5": "s", "7": "t",
    "8": "b", "$": "s", "@": "a",
})
_SEQUENCES = (("rn", "m"), ("vv", "w"))


class InputKind(StrEnum):
    DOMAIN = "domain"
    EMAIL = "email"
    HANDLE = "handle"
    PHONE = "phone"
    INVALID = "invalid"


@dataclass(frozen=True)
class Claim:
    """A pasted value, normalised. `value` is what registries compare against."""

    kind: InputKind
    value: str = ""
    display: str = ""  # unicode form for people (IDN decoded)
    platform: str = ""  # "telegram" | "x" when a profile URL named it
    punycode: bool = False  # the host had non-ASCII letters (or came as xn--)
    userinfo: bool = False  # "https://kefu.example@evil.com": the real host is after the @


@dataclass(frozen=True)
class Host:
    ascii: str
    unicode: str
    punycode: bool


def clean(raw: str) -> str | None:
    """NFKC (full-width → ASCII), no invisible format characters; None when too long."""
    if len(raw) > MAX_INPUT:
        return None
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.strip().strip("<>\"'").strip()


def normalise_claim(raw: str) -> Claim:
    text = clean(raw)
    if not text:
        return Claim(InputKind.INVALID)
    if text.startswith("@") and "." not in text:
        return _handle(text[1:])
    if "@" in text and "/" not in text.split("@", 1)[0] and "://" not in text:
        return _email(text)
    if _looks_like_phone(text):
        return _phone(text)
    claim = _url(text)
    if claim.kind is InputKind.INVALID and all(_handle_char(ch) for ch in text):
        return _handle(text)
    return claim


def _handle_char(ch: str) -> bool:
    return ch.isalnum() or ch in _HANDLE_EXTRA


def _handle(text: str, platform: str = "") -> Claim:
    name = text.strip().lstrip("@")
    if not name or len(name) > MAX_LABEL or not all(_handle_char(ch) for ch in name):
        return Claim(InputKind.INVALID)
    return Claim(InputKind.HANDLE, name.casefold(), "@" + name, platform=platform)


def _email(text: str) -> Claim:
    local, _, domain = text.rpartition("@")
    host = parse_host(domain)
    if not local or len(local) > MAX_LABEL or host is None or any(c.isspace() for c in local):
        return Claim(InputKind.INVALID)
    local = local.casefold()
    return Claim(InputKind.EMAIL, f"{local}@{host.ascii}", f"{local}@{host.unicode}",
                 punycode=host.punycode)


def _looks_like_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return all(ch in _PHONE_CHARS for ch in text) and 6 <= digits <= 15


def _phone(text: str) -> Claim:
    """'+852 1234 5678' and '00852…' → '+85212345678'; without a country code, digits only."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+"):
        return Claim(InputKind.PHONE, "+" + digits, "+" + digits)
    if digits.startswith("00"):
        return Claim(InputKind.PHONE, "+" + digits[2:], "+" + digits[2:])
    return Claim(InputKind.PHONE, digits, digits)


def _url(text: str) -> Claim:
    try:
        parts = urlsplit(text if "://" in text else "http://" + text)
        hostname = parts.hostname or ""
        has_userinfo = parts.username is not None
    except ValueError:
        return Claim(InputKind.INVALID)
    if parts.scheme not in ("http", "https"):
        return Claim(InputKind.INVALID)
    host = parse_host(hostname)
    if host is None:
        return Claim(InputKind.INVALID)
    platform = PROFILE_HOSTS.get(host.ascii)
    first = parts.path.strip("/").split("/", 1)[0]
    if platform and first:
        return _handle(first, platform)
    return Claim(InputKind.DOMAIN, host.ascii, host.unicode, punycode=host.punycode,
                 userinfo=has_userinfo)


def parse_host(hostname: str) -> Host | None:
    """Lower-cased host with 'www.' and the trailing dot removed, in ASCII (xn--) and
    Unicode forms; None unless it is a plausible DNS name of two or more labels."""
    labels = hostname.casefold().rstrip(".").split(".")
    if len(labels) < 2 or len(hostname) > 253:
        return None
    if len(labels) > 2 and labels[0] == "www":
        labels = labels[1:]
    pairs = [_label(label) for label in labels]
    if any(pair is None for pair in pairs):
        return None
    ascii_labels = [p[0] for p in pairs if p]
    unicode_labels = [p[1] for p in pairs if p]
    return Host(".".join(ascii_labels), ".".join(unicode_labels),
                punycode=ascii_labels != unicode_labels)


def _label(label: str) -> tuple[str, str] | None:
    if not label or len(label) > 63 or label.startswith("-") or label.endswith("-"):
        return None
    if label.startswith("xn--"):
        try:
            decoded = label[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            return None
        return (label, decoded.casefold()) if _label_chars(decoded) else None
    if not _label_chars(label):
        return None
    if label.isascii():
        return label, label
    try:
        return "xn--" + label.encode("punycode").decode("ascii"), label
    except UnicodeError:
        return None


def _label_chars(label: str) -> bool:
    return bool(label) and all(ch.isalnum() or ch == "-" for ch in label)


def registrable(host: str) -> tuple[str, str]:
    """('kefu', 'example') for 'help.kefu.example'; ('kefu', 'com.hk') for 'kefu.com.hk'."""
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3], ".".join(labels[-2:])
    return labels[-2], labels[-1]


def skeleton(text: str) -> str:
    """What a string looks like: homoglyphs, digits-for-letters and accents folded."""
    text = unicodedata.normalize("NFKD", text.casefold()[:MAX_INPUT])
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_CONFUSABLES)
    for sequence, replacement in _SEQUENCES:
        text = text.replace(sequence, replacement)
    return text


def compact(text: str) -> str:
    """Skeleton without separators: 'Kefu_Exchange', 'kefu-exchange' → 'kefuexchange'."""
    return "".join(ch for ch in skeleton(text) if ch not in "-_.")


def edit_distance(a: str, b: str, *, limit: int = 3) -> int:
    """Damerau (optimal string alignment) distance, or limit + 1 once it must exceed limit.

    Inputs are cut to MAX_LABEL, so the worst case is a fixed 64 x 64 table."""
    a, b = a[:MAX_LABEL], b[:MAX_LABEL]
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return min(previous[-1], limit + 1)


def typo_limit(official: str) -> int:
    # Two edits on a short name would match unrelated words; one is enough to catch typos.
    return 2 if len(official) >= 6 else 1


@dataclass(frozen=True)
class Lookalike:
    code: str  # see verify.WARNING_TEXT
    similar_to: str  # the official value it imitates, for display


def domain_lookalikes(host: Host, official: Iterable[str], brands: Iterable[str]
                      ) -> list[Lookalike]:
    """Ways `host` imitates an official domain. Call only when it is not official itself."""
    found: list[Lookalike] = []
    label, suffix = registrable(host.unicode)
    inner = host.unicode.split(".")[:-len(suffix.split(".")) - 1]
    for domain in official:
        found.extend(_against_domain(host.unicode, label, suffix, inner, domain))
    if not found:
        found.extend(_brand_lookalikes(label, inner, brands))
    if host.punycode:
        found.append(Lookalike("punycode", host.ascii))
    return unique(found)


def _brand_lookalikes(label: str, inner: list[str], brands: Iterable[str]) -> list[Lookalike]:
    """Our name inside someone else's domain: kefu-support.com, kefu.help-desk.com."""
    for brand in brands:
        if len(brand) < MIN_BRAND:
            continue
        if any(brand in compact(part) for part in inner):
            return [Lookalike("subdomain_trick", brand)]
        if brand in compact(label):
            return [Lookalike("brand_in_name", brand)]
    return []


def _against_domain(host: str, label: str, suffix: str, inner: list[str], domain: str
                    ) -> list[Lookalike]:
    official_host = parse_host(domain)
    if official_host is None:
        return []
    o_label, o_suffix = registrable(official_host.unicode)
    if f".{official_host.unicode}." in f".{'.'.join(inner)}.":
        return [Lookalike("subdomain_trick", domain)]
    if label == o_label:
        return [Lookalike("other_tld", domain)] if suffix != o_suffix else []
    if compact(label) == compact(o_label):
        return [Lookalike("homoglyph", domain)]
    if edit_distance(compact(label), compact(o_label)) <= typo_limit(o_label):
        return [Lookalike("typosquat", domain)]
    if len(o_label) >= MIN_BRAND and compact(o_label) in compact(label):
        return [Lookalike("brand_in_name", domain)]
    return []


def handle_lookalikes(handle: str, official: Iterable[tuple[str, str]], brands: Iterable[str]
                      ) -> list[Lookalike]:
    """`official` holds (normalised handle, display). Extra digits, underscores, letters,
    homoglyphs and typos all count; call only when `handle` is not official itself."""
    mine = compact(handle)
    found: list[Lookalike] = []
    for value, display in official:
        theirs = compact(value)
        if mine == theirs or theirs in mine or \
                edit_distance(mine, theirs) <= typo_limit(theirs):
            found.append(Lookalike("handle_lookalike", display))
    if not found:
        found.extend(Lookalike("brand_in_name", b) for b in brands
                     if len(b) >= MIN_BRAND and b in mine)
    return unique(found)


def phone_lookalikes(phone: str, official: Iterable[str]) -> list[Lookalike]:
    """A number one or two digits away from an official one."""
    digits = phone.lstrip("+")
    return unique([Lookalike("phone_near", number) for number in official
                   if len(number.lstrip("+")) == len(digits)
                   and edit_distance(digits, number.lstrip("+"), limit=2) <= 2])


def unique(items: list[Lookalike], *, cap: int = 5) -> list[Lookalike]:
    seen: list[Lookalike] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen[:cap]
