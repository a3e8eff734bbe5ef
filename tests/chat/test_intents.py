"""The intents the bot checks before searching, both ways: what must fire and the ordinary
questions that must not."""

import pytest

from kefu.chat.intents import official_question, security_intent, wants_human

ASKS_FOR_HUMAN = [
    "人工", "转人工", "人工客服", "我要人工客服！", "帮我转人工谢谢", "人 工 客 服", "转 人 工",
    "真人", "我想和真人聊", "找客服", "不要机器人", "请问怎么转人工？",
    "human", "Human?", "ｈｕｍａｎ", "ＡＧＥＮＴ", "agent!", "h u m a n", "talk to a person",
    "talk  to a  person", "Talk to someone", "talk-to-a-person", "talktoaperson",
    "can I talk to a real person please", "I want a human", "i need an agent now",
    "live agent", "real person", "connect me to an agent", "transfer me to a human agent",
    "pls human", "agent please", "speak with someone", "is there a human here",
    "my deposit is late, I want to speak to a representative",
    "how do I contact customer service", "stop the bot",
]
ORDINARY_FOR_HUMAN = [
    "人工智能交易机器人怎么用", "人工的智能", "KYC人工审核要多久", "提币需要人工审核吗",
    "真人认证失败怎么办", "真人验证一直不通过", "充值没到账",
    "what is the user agent header for the API", "my reagent order", "reagents",
    "How do I join the agent program?", "is there an agent program", "agent commission rates",
    "human verification failed", "I'm not a robot captcha does not load",
    "How do I transfer USDT to someone", "What are customer service hours?",
    "where is my deposit", "humanitarian donation", "personal details change",
    "Is agent KF-0042 official?",
]


@pytest.mark.parametrize("text", ASKS_FOR_HUMAN)
def test_asks_for_a_human(text: str) -> None:
    assert wants_human(text)


@pytest.mark.parametrize("text", ORDINARY_FOR_HUMAN)
def test_ordinary_questions_do_not_ask_for_a_human(text: str) -> None:
    assert not wants_human(text)


SECURITY = [
    "我的账户被盗了", "账号被盗", "被 盗", "有人盗号", "账号被黑了救命", "我的币全被转走了",
    "资金被转走了",
    "有一笔不是我提的提现", "陌生设备登录了我的账户", "冻结我的账户", "请帮我冻结账户", "马上冻结",
    "my account was hacked", "I got hacked!!", "ＨＡＣＫＥＤ", "unauthorised withdrawal",
    "there is an unauthorized withdrawal from my account", "someone logged into my account",
    "my funds were stolen", "someone stole my crypto", "I didn't make this withdrawal",
    "freeze my account now", "Could you check, my account was hacked",
    "login from unknown location", "got scammed lost all my usdt",
]
NOT_SECURITY = [
    "如何防止账户被盗", "怎么防止被盗号", "我的账户被冻结了怎么办", "为什么冻结我的账户",
    "怎么解冻账户",
    "how do I prevent my account from being hacked", "how to protect my account from hackers",
    "could my account be hacked if I lose my phone", "why is my account frozen",
    "what is the unfreeze process", "where is my withdrawal", "how to enable 2FA",
    "I couldn't log in and I forgot my password", "my money disappeared after a top up",
]


@pytest.mark.parametrize("text", SECURITY)
def test_security_intents(text: str) -> None:
    assert security_intent(text)


@pytest.mark.parametrize("text", NOT_SECURITY)
def test_safety_questions_and_restrictions_are_not_incidents(text: str) -> None:
    assert not security_intent(text)


@pytest.mark.parametrize(("text", "thing"), [
    ("这个是官方的吗 @binance_support_cn", "@binance_support_cn"),
    ("is support@kefu-help.com official", "support@kefu-help.com"),
    ("is https://kefu.example.net/login legit?", "https://kefu.example.net/login"),
    ("官网是kefu.example吗", "kefu.example"),
    ("这个电话+852 2345 6789是你们的吗", "+852 2345 6789"),
    ("is t.me/kefusupport real or fake?", "t.me/kefusupport"),
    ("客服工号 KF-0042 是真的吗", "KF-0042"),
    ("is agent KF-0042 official?", "KF-0042"),
    # Full-width forms fold; look-alike letters are kept for the check to spot.
    ("Is this official？ ＠KefuExchange", "@KefuExchange"),
    ("is kеfu.example official", "kеfu.example"),
    ("I got an email from security@kefu-alerts.com, is it a scam?", "security@kefu-alerts.com"),
])
def test_official_questions_name_the_thing_to_check(text: str, thing: str) -> None:
    assert official_question(text) == thing


@pytest.mark.parametrize("text", [
    "my email is trader@example.com, my deposit is late",  # an address, not a question
    "is this official?",  # nothing to check
    "I sent 1000000 USDT is that a scam",  # an amount, not a phone number
    "what is the official withdrawal fee",
    "how do I reset my password",
])
def test_not_official_questions(text: str) -> None:
    assert official_question(text) is None


def test_a_huge_message_costs_no_more_than_its_start() -> None:
    text = "where is my deposit " * 10_000 + " 转人工"
    assert not wants_human(text)  # past MAX_TEXT: intents sit in the first sentences
    assert wants_human("转人工 " + text)
