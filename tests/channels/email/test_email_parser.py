"""The parser on real third-party fixtures and on hostile or odd mail: it never raises,
decodes the charsets real mail uses, and keeps the reply apart from the history."""

import json
from email.message import EmailMessage
from pathlib import Path

from typer.testing import CliRunner

from kefu.channels.email.evaluate import NOT_MESSAGES, evaluate
from kefu.channels.email.parser import parse
from kefu.cli import app

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "data" / "email_fixtures"


def _mail(body: bytes, *, headers: str = "", content_type: str = "text/plain; charset=utf-8",
          cte: str = "8bit") -> bytes:
    head = ("From: Li Wei <li.wei@example.com>\r\nTo: support@exchange.example\r\n"
            "Subject: hello\r\nMessage-ID: <m1@example.com>\r\n" + headers
            + f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: {cte}\r\n\r\n")
    return head.encode() + body


def test_every_fixture_parses_and_most_replies_match_upstream() -> None:
    files = [p for p in FIXTURES.rglob("*") if p.is_file() and p.name not in NOT_MESSAGES]
    result = evaluate(FIXTURES)
    assert result["crashed"] == 0
    assert result["parsed"] == len(files) == 124
    assert result["reply_text_total"] >= 40
    # Measured 43 of 46 (talon keeps "Sent from my iPhone" in the reply; we strip it).
    assert result["reply_text_matches"] >= 43


def test_kefu_eval_email_prints_json_last() -> None:
    out = CliRunner().invoke(app, ["eval", "email", "--data", str(FIXTURES.parent)])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output.strip().splitlines()[-1])
    assert result["crashed"] == 0 and result["parsed"] == 124


def test_gmail_reply_keeps_only_the_new_text() -> None:
    parsed = parse((FIXTURES / "mailgun_talon/standard_replies/gmail.eml").read_bytes())
    assert parsed.reply == "Hello"
    assert "wrote:" in parsed.text  # the history stays viewable
    assert parsed.sender == "xxx@gmail.com" and parsed.auto is None


def test_chinese_charsets_and_mislabelled_text() -> None:
    text = "充值未到账，请帮忙查询。锟斤拷"
    gbk = parse(_mail(text.encode("gbk"), content_type="text/plain; charset=gb2312"))
    assert gbk.text.startswith("充值未到账") and "charset_fallback" not in gbk.flags
    big5 = parse(_mail("提現失敗".encode("big5"), content_type="text/plain; charset=big5"))
    assert big5.text == "提現失敗"
    jp = parse(_mail("出金できません".encode("iso2022_jp"),
                     content_type="text/plain; charset=iso-2022-jp", cte="7bit"))
    assert jp.text == "出金できません"
    # Labelled UTF-8, written in GBK: read as GB18030 and flagged.
    wrong = parse(_mail(text.encode("gbk"), content_type="text/plain; charset=utf-8"))
    assert wrong.text.startswith("充值未到账") and "charset_fallback" in wrong.flags
    unknown = parse(_mail("提现失败".encode(), content_type="text/plain; charset=x-klingon"))
    assert unknown.text == "提现失败" and "charset_fallback" in unknown.flags


def test_encoded_and_raw_8bit_headers() -> None:
    message = EmailMessage()
    message["From"] = "张三 <zhang@example.com>"
    message["To"] = "support@exchange.example"
    message["Subject"] = "[紧急] 账户被盗 hacked"
    message.set_content("body")
    parsed = parse(message.as_bytes())
    assert parsed.subject == "[紧急] 账户被盗 hacked" and parsed.sender_name == "张三"
    gb_word = parse(b"From: a@example.com\r\nSubject: =?GB2312?B?"
                    + __import__("base64").b64encode("提现失败".encode("gb2312"))
                    + b"?=\r\n\r\nx")
    assert gb_word.subject == "提现失败"
    raw = parse(b"From: a@example.com\r\nSubject: " + "充值未到账".encode("gbk") + b"\r\n\r\nx")
    assert raw.subject == "充值未到账"


def test_crlf_in_encoded_subject_and_name_never_survives() -> None:
    import base64
    evil = base64.b64encode(b"hi\r\nBcc: victim@example.com").decode()
    parsed = parse(f"From: =?utf-8?B?{evil}?= <a@example.com>\r\nSubject: =?utf-8?B?{evil}?="
                   "\r\n\r\nbody".encode())
    assert "\n" not in parsed.subject and "\r" not in parsed.subject
    assert "\n" not in parsed.sender_name and parsed.sender == "a@example.com"


def test_script_and_event_handlers_are_sanitised() -> None:
    html = (b"<p onclick='steal()'>Please help</p><script>alert(1)</script>"
            b"<a href='javascript:alert(2)'>x</a><img src=x onerror=alert(3)>"
            b"<form action='https://evil.example'><input name=seed></form>"
            b"<meta http-equiv=refresh content='0;url=https://evil.example'><svg onload=x>")
    parsed = parse(_mail(html, content_type="text/html; charset=utf-8"))
    assert parsed.html is not None
    for bad in ("<script", "onclick", "onerror", "javascript:", "<form", "<meta", "<svg",
                "onload"):
        assert bad not in parsed.html.lower()
    assert "alert(1)" not in parsed.text and parsed.reply.startswith("Please help")


def test_nul_never_reaches_the_text() -> None:
    parsed = parse(_mail(b"deposit\x00 missing", headers="X-Note: a\x00b\r\n")
                   .replace(b"Subject: hello", b"Subject: he\x00llo"))
    for value in (parsed.text, parsed.reply, parsed.subject):
        assert "\x00" not in value
    assert parsed.text.startswith("deposit")


def test_hundred_level_nesting_is_flagged_not_fatal() -> None:
    depth = 100
    parts = [f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'
             for i in range(depth)]
    inner = "--b100\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b100--\r\n"
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    raw = _mail(("".join(parts) + inner + closing).encode(),
                content_type='multipart/mixed; boundary="b0"')
    parsed = parse(raw)
    assert "nesting_too_deep" in parsed.flags


def test_machine_mail_is_recognised() -> None:
    assert parse(_mail(b"x", headers="Auto-Submitted: auto-replied\r\n")).auto == (
        "auto_submitted")
    assert parse(_mail(b"x", headers="Precedence: bulk\r\n")).auto == "bulk"
    daemon = _mail(b"x").replace(b"li.wei@example.com", b"MAILER-DAEMON@mx.example")
    assert parse(daemon).auto == "mailer_daemon"
    bounce = parse((FIXTURES / "cpython_test_email/data/msg_16.txt").read_bytes())
    assert bounce.auto in ("bounce", "mailer_daemon")
    assert parse(_mail(b"x", headers="Auto-Submitted: no\r\n")).auto is None


def test_reply_to_never_replaces_from() -> None:
    parsed = parse(_mail(b"x", headers="Reply-To: attacker@evil.example\r\n"))
    assert parsed.sender == "li.wei@example.com"
    assert parsed.reply_to == "attacker@evil.example" and "reply_to_differs" in parsed.flags


def test_attachments_keep_their_encoded_names() -> None:
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["Subject"] = "receipt"
    message.set_content("see attached")
    message.add_attachment(b"%PDF-1.4 receipt", maintype="application", subtype="pdf",
                           filename="充值凭证.pdf")
    parsed = parse(message.as_bytes())
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("充值凭证.pdf", "application/pdf")]
    assert parsed.reply == "see attached"


def test_garbage_never_raises() -> None:
    for raw in (b"", b"\x00" * 100, b"\xff\xfe" * 1000, b"Content-Type: multipart/mixed\r\n\r\n",
                b"From: <<<>>>\r\nMessage-ID: <\r\n\r\n", bytes(range(256)) * 10):
        parse(raw)


def test_related_html_with_an_inline_image() -> None:
    message = EmailMessage()
    message["From"] = "王芳 <wang@example.com>"
    message["Subject"] = "充值截图"
    message.set_content("plain fallback")
    message.add_alternative('<p>充值未到账，截图如下：</p><img src="cid:shot">', subtype="html")
    html_part = message.get_payload()[1]
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 20
    html_part.add_related(png, maintype="image", subtype="png", cid="<shot>",
                          filename="shot.png")
    parsed = parse(message.as_bytes())
    assert parsed.text.strip() == "plain fallback"
    assert parsed.html is not None and "充值未到账" in parsed.html
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("shot.png", "image/png")]
    html_only = EmailMessage()
    html_only["From"] = "wang@example.com"
    html_only["Subject"] = "x"
    html_only.set_content("<div>提现失败</div><blockquote>旧邮件</blockquote>", subtype="html")
    only = parse(html_only.as_bytes())
    assert only.reply == "提现失败" and "旧邮件" in only.text
