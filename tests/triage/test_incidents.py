"""Security incidents are recognised in both languages; ordinary requests are not."""

import time

import pytest

from kefu.triage.incidents import is_security_incident

INCIDENTS = [
    "My account was stolen last night",
    "I think I got hacked, all my USDT is gone",
    "There is an unauthorized withdrawal of 2 BTC I did not make",
    "Suspicious login from Russia, it was not me",
    "Someone logged into my account and changed the email",
    "我的账户被盗了",
    "账号被黑，资产被转走了",
    "有一笔未授权的提现",
    "收到异常登录提醒，不是我本人操作",
]
ORDINARY = [
    "My deposit has not arrived after 2 hours",
    "How do I reset my Google Authenticator?",
    "提现一直在审核中，什么时候到账？",
    "What are the futures trading fees?",
    "我想修改绑定的手机号",
    "The app crashes when I open the order history",
]


@pytest.mark.parametrize("text", INCIDENTS)
def test_incidents_are_recognised(text: str) -> None:
    assert is_security_incident(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_requests_are_not(text: str) -> None:
    assert not is_security_incident(text)


def test_matching_stays_fast_on_huge_input() -> None:
    start = time.perf_counter()
    is_security_incident("account " * 50_000 + "被" * 50_000)
    assert time.perf_counter() - start < 0.5
