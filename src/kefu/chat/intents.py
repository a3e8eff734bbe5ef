"""What a chat message asks for before the help centre is searched: a human, the security
team, or whether something is an official channel.

Pure functions of the text, cheap enough for every message. Customers type "人 工 客 服",
full-width "ｈｕｍａｎ" or "talk  to a  person", so the matchers run on normalised copies
(`_Views`): NFKC with look-alikes mapped, lower-cased, whitespace collapsed, and for
Chinese (and glued English phrases) every space removed.

False positives matter as much as misses: "人工审核" (manual review), "真人认证" (liveness
check), "user agent" in an API question and "how do I stop my account being hacked" are
ordinary questions the bot should answer, so each trigger names what it does not mean.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from kefu.security.normalize import normalise

# The longest message looked at: intents sit in the first sentences, and a pasted
# transcript must not cost more than a question.
MAX_TEXT = 2_000


@dataclass(frozen=True)
class _Views:
    """Normalised copies of one message."""

    original: str

    @cached_property
    def lower(self) -> str:
        """NFKC, look-alikes mapped, lower case, runs of whitespace as one space, and
        letter-spaced words joined ("h u m a n" → "human")."""
        text = " ".join(normalise(self.original[:MAX_TEXT]).lower.split())
        return _SPELLED.sub(lambda m: m.group(0).replace(" ", ""), text)

    @cached_property
    def glued(self) -> str:
        """`lower` without any whitespace: "人 工 客 服" → "人工客服"."""
        return "".join(self.lower.split())

    @cached_property
    def letters(self) -> str:
        """Only letters and CJK: "talk-to-a-person" → "talktoaperson"."""
        return "".join(ch for ch in self.lower if ch.isalpha())


# Three or more single letters separated by single spaces: a word typed letter by letter.
_SPELLED = re.compile(r"\b[a-z](?: [a-z]\b){2,}")

# ---------------------------------------------------------------- wants a human

_HUMAN_ZH = re.compile(
    # 人工 means "manual" in 人工审核 (manual review) and "artificial" in 人工智能.
    r"人工(?!的?智能|审核|审查|复核|核实|认证|验证|核验|成本|合成|费用|手续费|翻译)"
    # 真人认证 / 真人验证 is the KYC liveness check, not a person to talk to.
    r"|真人(?!认证|验证|识别|核验|检测|视频|自拍|照片|比对)"
    r"|(?:找|要|转|接|叫|呼叫|联系|转接)客服|客服人员|客服专员|活人|人类客服"
    r"|(?:不要|不想要?|不想和|不跟|别用)机器人"
)
_PEOPLE = r"(?:agent|human|person|people|representative|rep|operator|someone|somebody|staff)"
# English requests. "agent" alone is too common ("user agent", "agent program", "is agent
# KF-0042 real?") to count anywhere: it counts as the object of a request.
_HUMAN_EN = re.compile(
    r"\b(?:talk|speak|chat)(?:ing)? (?:to|with) (?:a |an |the |your |some |one of your )?"
    r"(?:real |live |human |actual |support |customer service )?"
    r"(?:agent|human|person|people|representative|rep|operator|someone|somebody|staff|support)\b"
    r"|\b(?:transfer|connect|put|pass|forward|switch|escalate) me\b.{0,30}\b" + _PEOPLE
    + r"\b|\b(?:live|real|human|actual|support|customer service) "
    r"(?:agent|person|human|representative|operator|people|staff)s?\b(?! (?:id|number)\b)"
    r"|\b(?:want|need|get|give|prefer|request|requesting) (?:me )?(?:an? |the |some )?"
    r"(?:agent|human|person|representative|operator)\b(?! (?:id|program|verification|check)\b)"
    r"|\b(?:agent|human|operator|representative) (?:please|pls|plz|now)\b"
    r"|\b(?:please|pls|plz) (?:an? )?(?:agent|human|operator|representative)\b"
    r"|\bis (?:there|anyone) (?:a |an )?(?:human|agent|person|real person|operator)\b"
    r"(?! (?:program|id|fee|commission|referral|account|verification)\b)"
    r"|\bany (?:humans?|agents?|operators?|real people) (?:here|there|around|available|online)\b"
    r"|\bcontact (?:a |an |your )?(?:customer service|customer support|support team"
    r"|human|person|agent|representative)\b"
    r"|\b(?:don't want|do not want|no more|stop) (?:a |the |this |talking to (?:a |the )?)?"
    r"(?:bot|robot|chatbot)\b"
)
# A message that is nothing but the request: "human", "agent!", "support please".
_HUMAN_ALONE = re.compile(
    r"(?:i want |i need )?(?:an? |the )?(?:agent|human|operator|representative|person|"
    r"customer service|customer support|live chat|live support|support)(?: please| pls| now)?"
)
# Glued English phrases ("talktoaperson"); long enough not to occur inside other words.
_HUMAN_GLUED = ("talktoaperson", "talktoahuman", "talktoanagent", "talktosomeone",
                "speaktoaperson", "speaktoahuman", "speaktoanagent", "speaktosomeone",
                "realperson", "realhuman", "liveagent", "humanagent")
_BARE_STRIP = " .!?。！？,，~"


def wants_human(text: str) -> bool:
    """The customer asks for a person (人工 / 转人工 / 真人 / "talk to a person" …)."""
    views = _Views(text)
    if _HUMAN_ZH.search(views.glued) or _HUMAN_EN.search(views.lower):
        return True
    if _HUMAN_ALONE.fullmatch(views.lower.strip(_BARE_STRIP)):
        return True
    return any(phrase in views.letters for phrase in _HUMAN_GLUED)


# ---------------------------------------------------------------- security / fund loss
# Someone else took the account or the funds. "My money disappeared after a top-up" is
# left to the help centre: it is usually a reversed deposit, and the bot's answer (or a
# human, when it does not help) serves it better than an urgent security case.

_SECURITY_ZH = re.compile(
    r"被盗|盗号|盗刷|被黑|黑客|被入侵|被骗|骗走"
    r"|(?:资金|资产|币|钱|余额|usdt|btc|eth)(?:全|都|全部)?(?:被人?|让人)?"
    r"(?:转走|提走|偷走|盗走|划走|清空|偷了)"
    r"|不是我(?:本人)?(?:操作|提的|提现|提币|转的|登录|登的)"
    r"|(?:陌生|异地|未知|别人|其他人)(?:设备|ip|地址|地点)?(?:登录|登陆|登入)"
    r"|有人(?:登录|登陆|盗用|动)了?我的?(?:账户|账号|帐户|帐号|钱包)"
    r"|未经?授权"
)
_FREEZE_ZH = re.compile(
    r"(?:帮我|请|我要|马上|立即|立刻|赶紧|赶快|快|需要|想|申请|紧急)冻结"
    r"|冻结(?:一下)?我的?(?:账户|账号|帐户|帐号|钱包)"
)
_SECURITY_EN = re.compile(
    r"\bhack(?:ed|er|ers)\b|\bsim swap"
    r"|\b(?:account|wallet|funds|crypto|coins) (?:was |were |is |has been |have been |got )?"
    r"(?:compromised|stolen|drained|emptied|taken over)"
    r"|\bstolen\b|\bstole\b|\bsteal(?:ing|s)?\b|\bscammed\b"
    r"|\bunauthori[sz]ed\b|\bwithout my (?:permission|authori[sz]ation|consent|knowledge)\b"
    r"|\bdid(?:n't| not) (?:make|authori[sz]e|do|request|approve) (?:this|that|the|these|"
    r"those|a|any) (?:withdrawal|withdraw|transfer|transaction|payment|login|trade)s?\b"
    r"|\b(?:someone|somebody|a stranger|an unknown (?:person|device)) (?:else )?"
    r"(?:has |have |had )?(?:logged|signed|got|broke|gotten|accessed|is using|used|withdrew|"
    r"took|moved|transferred|emptied|drained)\b.{0,20}\b(?:my|into|to) "
    r"(?:account|wallet|funds|crypto|coins|money|balance)"
    r"|\b(?:login|log in|sign in|signin)s? from (?:an? )?(?:unknown|strange|new|unrecogni[sz]ed)"
)
_FREEZE_EN = re.compile(
    r"\b(?:freeze|lock|block|disable) (?:my |the |this )?(?:account|wallet)\b"
    r"|\b(?:freeze|lock) (?:it|everything) (?:now|please|immediately)\b"
)
# Asking why the exchange froze an account is an ordinary question (restrictions).
_NOT_A_FREEZE_REQUEST = re.compile(
    r"为什么|为何|怎么被|被冻结|解冻|\bwhy\b|\bunfreeze|\bunlock|\bfrozen\b")
# Asking how to stay safe is a help-centre question, not an incident: a prevention word
# shortly before the incident words, or the incident as an infinitive ("get hacked").
_PREVENTION = re.compile(
    r"防止|避免|防范|预防|以免|如何防|怎么防|怎样防|会不会|如果|万一|怎么才能不|保护"
    r"|\b(?:prevent|avoid|protect|protection|in case|what if)\b"
)
_HYPOTHETICAL = re.compile(r"\b(?:be|being|get|getting|gets|from|against) $")
_WINDOW = 40
_CLAUSE_END = re.compile(r".*[,.;!?，。；！？]")


def _real_incident(pattern: re.Pattern[str], text: str) -> bool:
    """Some match of `pattern` in `text` that is not a what-if or how-to-prevent."""
    for match in pattern.finditer(text):
        # The words before it in its own clause: "could you check, my account was hacked"
        # is an incident.
        before = _CLAUSE_END.sub("", text[max(0, match.start() - _WINDOW):match.start()])
        if not (_PREVENTION.search(before) or _HYPOTHETICAL.search(before)):
            return True
    return False


def security_intent(text: str) -> bool:
    """An account takeover or loss of funds (账户被盗, hacked, unauthorised withdrawal,
    freeze my account …): urgent for the security team, the bot is skipped."""
    views = _Views(text)
    if _real_incident(_SECURITY_ZH, views.glued) or _real_incident(_SECURITY_EN, views.lower):
        return True
    asks_freeze = _FREEZE_ZH.search(views.glued) or _FREEZE_EN.search(views.lower)
    return bool(asks_freeze) and _NOT_A_FREEZE_REQUEST.search(views.lower) is None


# ---------------------------------------------------------------- "is this official?"

_OFFICIAL_ZH = re.compile(
    r"官方|官网|真的吗|是真的|真假|正规|是你们|你们的吗|你们的人|诈骗|骗子|钓鱼|假的|假冒|冒充"
    r"|可信|靠谱|是不是真|客服吗")
_OFFICIAL_EN = re.compile(
    r"\b(?:official|officially|legit|legitimate|genuine|authentic|fake|scam|phishing|"
    r"impersonat\w*)\b"
    r"|\b(?:is|are) (?:this|that|it|these|they|he|she) (?:a )?real\b|\breal or (?:fake|not)\b"
    r"|\bis (?:this|that|it) (?:really )?(?:you|yours)\b|\bfrom (?:you|your team)\b"
    r"|\bdid you (?:send|email|text|call|message)\b"
)
# Matched on the NFKC-folded original: full-width forms become ASCII, but look-alike
# letters stay, since the check is there to spot them. CJK text around a link ends it.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_WORD = rf"[^\W{_CJK}]"  # a word character that is not CJK
_HOST = rf"(?:[^\W_{_CJK}](?:[^\W_{_CJK}]|-)*\.)+[^\W\d_{_CJK}]{{2,}}"
# An amount, not a phone number: "1000000 USDT".
_NOT_AMOUNT = r"(?!\s*(?:usdt|usdc|btc|eth|bnb|usd|cny|rmb|hkd|u\b|%|元|块|个|枚|刀))"
_PATH = rf"[^\s{_CJK}<>\"']*"
_THING = re.compile(
    rf"(?P<url>https?://{_PATH}|(?<!{_WORD})(?<![@.\-]){_HOST}(?:/{_PATH})?)"
    rf"|(?P<email>(?<!{_WORD}){_WORD}(?:{_WORD}|[.+\-])*@{_HOST})"
    rf"|(?P<handle>(?<!{_WORD})(?<!\.)@[A-Za-z0-9_]{{2,64}}(?![\w.]))"
    rf"|(?P<phone>(?<!{_WORD})\+?\d[\d ()\-]{{5,18}}\d(?!{_WORD}){_NOT_AMOUNT})"
    r"|(?:agent|staff|employee|客服|工号|专员)\s*(?:id|编号|工号)?\s*[:：#]?\s*"
    r"(?P<agent>[A-Za-z]{1,6}-?\d{2,10})\b",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}>'\""
_MIN_PHONE_DIGITS = 7  # fewer is an amount or an order number, not a phone


def official_question(text: str) -> str | None:
    """For "is this official?" questions: the URL, email address, @handle, phone number
    or agent ID to check against the official-channel registry; None otherwise."""
    views = _Views(text)
    if not (_OFFICIAL_ZH.search(views.glued) or _OFFICIAL_EN.search(views.lower)):
        return None
    folded = unicodedata.normalize("NFKC", text[:MAX_TEXT])
    for match in _THING.finditer(folded):
        kind = match.lastgroup or ""
        value = match.group(kind).rstrip(_TRAILING)
        if kind == "phone" and not _MIN_PHONE_DIGITS <= sum(c.isdigit() for c in value) <= 15:
            continue
        if value:
            return value
    return None
