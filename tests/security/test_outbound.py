"""Outbound check: agent/bot replies that ASK for a secret are blocked; warnings are not."""

from __future__ import annotations

import time

import pytest

from kefu.security.guard import check_outbound

ASKS = [
    ("please send me your 2FA code", "otp_code"),
    ("what's your password", "password"),
    ("could you share the 12 words", "seed_phrase"),
    ("tell me your recovery phrase", "seed_phrase"),
    ("提供一下您的谷歌验证码", "otp_code"),
    ("请告诉我你的密码", "password"),
    ("把助记词发给我", "seed_phrase"),
    ("发一下私钥", "private_key"),
    ("send your API secret", "api_secret"),
    ("To verify you, please provide the verification code you just received.", "otp_code"),
    ("Hi! Kindly reply with your Google Authenticator code so we can unlock it.", "otp_code"),
    ("What is your login password? I need it to check the account.", "password"),
    ("Can you give me your seed phrase so I can restore the wallet for you?", "seed_phrase"),
    ("I need your private key to recover the stuck transfer", "private_key"),
    ("Please paste your API key and secret key here", "api_secret"),
    ("To sync your wallet, enter your 24-word recovery phrase at the link below", "seed_phrase"),
    ("DM me the SMS code and I'll fix it right away", "otp_code"),
    ("Could you tell us your mnemonic? We will verify it.", "seed_phrase"),
    ("We never ask for passwords, but for this case send me your 2FA code", "otp_code"),
    ("Share your xprv and we'll find the missing coins", "private_key"),
    ("Let me know your PIN so I can verify the card", "password"),
    ("Type your seed words into this form to validate the wallet", "seed_phrase"),
    ("Please forward the one-time code we sent.", "otp_code"),
    ("What are your 12 words? I'll check them.", "seed_phrase"),
    ("请把短信验证码发过来", "otp_code"),
    ("麻烦告知一下您的登录密码", "password"),
    ("请提供助记词以便我们帮您找回资产", "seed_phrase"),
    ("您的私钥是多少？", "private_key"),
    ("请回复您的谷歌验证码", "otp_code"),
    ("为了核实身份，请提供您的API密钥", "api_secret"),
    ("把12个单词发我看一下", "seed_phrase"),
    ("您好，请输入助记词完成钱包验证", "seed_phrase"),
    ("请把您的资金密码告诉我", "password"),
    ("验证码发给客服就可以了", "otp_code"),
    ("私信我你的私钥", "private_key"),
    ("请截图您的助记词页面发给我", "seed_phrase"),
]

WARNINGS = [
    "we will never ask for your password",
    "请勿向任何人透露验证码",
    "don't share your seed phrase with anyone",
    "reset your password here",
    "Kefu support will never ask for your 2FA code, seed phrase or private key.",
    "Please do not send your recovery phrase to anyone, including us.",
    "Never share your API secret. If it leaked, delete the key and create a new one.",
    "You can change your password in Settings > Security.",
    "We have sent a verification code to your email, please enter it in the app.",
    "Your 2FA is now enabled.",
    "Keep your private key safe and offline.",
    "If someone asks for your seed phrase, it is a scam.",
    "Please enter the verification code in the app to confirm the withdrawal.",
    "Beware of phishing sites asking for your 12 words.",
    "Forgot your password? Use the reset link on the login page.",
    "Your deposit has arrived, thanks for waiting.",
    "Please send us the TxID of your deposit.",
    "Could you share a screenshot of the error message?",
    "What is your UID? It is shown on the profile page.",
    "客服不会索要您的密码、验证码或助记词。",
    "请妥善保管您的助记词，切勿泄露给任何人。",
    "如果有人索要验证码，请不要提供。",
    "您可以在安全中心修改登录密码。",
    "验证码已发送到您的手机，请在App内输入。",
    "忘记密码可以通过找回密码功能重置。",
    "请提供一下您的UID和充值的交易哈希。",
    "请把报错截图发给我们。",
    "谨防冒充客服的骗子索要私钥。",
    "千万不要把API密钥告诉别人。",
    "您的提现已到账，请查收。",
]


@pytest.mark.parametrize(("text", "kind"), ASKS)
def test_requests_for_secrets_are_blocked(text: str, kind: str) -> None:
    verdict = check_outbound(text)
    assert verdict.blocked, text
    assert verdict.kind == kind
    assert "Blocked" in verdict.reason and "已拦截" in verdict.reason


@pytest.mark.parametrize("text", WARNINGS)
def test_warnings_and_ordinary_replies_pass(text: str) -> None:
    verdict = check_outbound(text)
    assert not verdict.blocked, verdict
    assert verdict.kind is None


def test_labelled_set_is_large_and_balanced() -> None:
    assert len(ASKS) + len(WARNINGS) >= 60
    assert min(len(ASKS), len(WARNINGS)) >= 25


def test_outbound_is_bounded_on_long_input() -> None:
    text = "please send " * 8_000 + "your password " * 2_000
    started = time.perf_counter()
    check_outbound(text)
    assert time.perf_counter() - started < 1.0
