"""`kefu eval email`: every fixture message through the parser, and the visible reply
text checked against what each upstream project's tests expect (expected.json)."""

import json
import re
from pathlib import Path
from typing import Any

from kefu.channels.email.html import html_to_text, sanitise
from kefu.channels.email.parser import clean, decode_bytes, parse
from kefu.channels.email.quotes import split_reply

SETS = ("github_email_reply_parser", "zapier_email_reply_parser", "mailgun_talon",
        "cpython_test_email")
NOT_MESSAGES = {"LICENSE", "SOURCE.md", "expected.json", "manifest.csv"}


def _nows(text: str) -> str:
    return re.sub(r"\s", "", text)


def visible_reply(path: Path, *, sender: str = "") -> str:
    """The reply the desk would keep of this fixture: a whole message (.eml) through the
    parser; a bare body (upstream's .txt and .html inputs) through the same body path."""
    data = path.read_bytes()
    if path.suffix == ".eml":
        return parse(data).reply
    text = clean(decode_bytes(data, "utf-8", set()))
    if path.suffix == ".html":
        return split_reply(html_to_text(sanitise(text), stop_at_quote=True),
                           sender_name=sender).visible
    return split_reply(text, sender_name=sender).visible


def _checks(case: dict[str, Any], root: Path) -> list[bool]:
    """One verdict per reply-text expectation in the case (none: not a reply case)."""
    path = root / case["file"]
    sender = (root / case["sender_file"]).read_text("utf-8").strip() if "sender_file" in case \
        else ""
    reply = visible_reply(path, sender=sender)
    out: list[bool] = []
    if "parse_reply" in case:
        out.append(reply == case["parse_reply"])
    if "reply_stripped" in case:
        out.append(reply.strip() == case["reply_stripped"])
    if "plain_reply" in case:
        out.append(reply == case["plain_reply"].strip())
    if "plain_reply_file" in case:
        out.append(reply == (root / case["plain_reply_file"]).read_text("utf-8").strip())
    if "html_reply_text_nows" in case:
        out.append(_nows(reply) == _nows(case["html_reply_text_nows"]))
    if "html_reply_html_nows" in case:
        out.append(_nows(reply) == _nows(html_to_text(case["html_reply_html_nows"])))
    for key in ("reply_contains",):
        if key in case:
            out.append(all(part in reply for part in case[key]))
    for key in ("parse_reply_not_contains", "plain_reply_not_contains"):
        if key in case:
            out.append(bool(reply.strip()) and not any(part in reply for part in case[key]))
    if "signature_file" in case:
        signature = (root / case["signature_file"]).read_text("utf-8").strip()
        body = path.read_text("utf-8").strip()
        expected = body[: len(body) - len(signature)] if signature and body.endswith(
            signature) else body
        out.append(_nows(reply) == _nows(expected))
    return out


def evaluate(fixtures: Path) -> dict[str, Any]:
    parsed = crashed = matches = total = 0
    failures: list[str] = []
    for path in sorted(fixtures.rglob("*")):
        if not path.is_file() or path.name in NOT_MESSAGES:
            continue
        try:
            parse(path.read_bytes())
            parsed += 1
        except Exception:  # counted: the figure that must stay 0
            crashed += 1
            failures.append(f"crash {path.relative_to(fixtures)}")
    for name in SETS:
        expected = fixtures / name / "expected.json"
        if not expected.exists():
            continue
        document = json.loads(expected.read_text("utf-8"))
        for case in document.get("cases", []):
            try:
                verdicts = _checks(case, expected.parent)
            except Exception:  # counted as a crash too
                crashed += 1
                failures.append(f"crash {name}/{case['file']}")
                continue
            total += len(verdicts)
            matches += sum(verdicts)
            if not all(verdicts):
                failures.append(f"{name}/{case['file']}")
        for case in document.get("inline_cases", []):
            if "parse_reply" in case:
                total += 1
                matches += split_reply(case["input"]).visible == case["parse_reply"]
    return {"parsed": parsed, "crashed": crashed, "reply_text_matches": matches,
            "reply_text_total": total, "mismatches": failures}
