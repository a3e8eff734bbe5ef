"""A small bilingual exchange help centre, indexed once per test session."""

from functools import lru_cache

import numpy as np

from kefu.kb.search.embed import Vectors, default_embedder
from kefu.kb.search.engine import SearchEngine

ARTICLES = [
    ("2fa-reset", "en", "Reset Google Authenticator",
     "If you lost your phone, submit a <b>2FA reset</b> request with your ID & a selfie.",
     ["I lost my phone with Google Authenticator", "How do I reset 2FA?",
      "My authenticator codes are not accepted"]),
    ("2fa-reset", "zh", "重置谷歌验证器",
     "手机丢失后，请提交谷歌验证器重置申请，并上传身份证和自拍照片。",
     ["谷歌验证器丢了怎么办", "怎么重置谷歌验证", "换手机了谷歌验证器怎么转移"]),
    ("deposit-missing", "en", "Deposit not credited",
     "Deposits need network confirmations. Check the TXID in a block explorer.",
     ["My deposit has not arrived", "I sent USDT but my balance did not change",
      "Deposit pending for hours"]),
    ("deposit-missing", "zh", "充值未到账",
     "充值需要区块确认，请在区块浏览器中查询交易哈希。",
     ["充值未到账怎么办", "充币一直没到账", "转了USDT余额没变"]),
    ("withdraw-fee", "en", "Withdrawal fees",
     "Each network charges a different withdrawal fee, shown before you confirm.",
     ["How much is the withdrawal fee?", "Why is the fee so high when I withdraw?"]),
    ("withdraw-fee", "zh", "提币手续费",
     "不同网络的提币手续费不同，确认前会显示。",
     ["提币手续费是多少", "为什么提现手续费这么高"]),
    ("kyc", "en", "Identity verification (KYC)",
     "Verify your identity with a passport or national ID card to raise limits.",
     ["How do I verify my identity?", "KYC failed", "What documents do I need for KYC?"]),
    ("kyc", "zh", "实名认证",
     "使用护照或身份证完成实名认证，可提高提币额度。",
     ["怎么实名认证", "身份认证失败", "实名认证需要什么证件"]),
    ("sub-account", "en", "Sub-accounts",
     "The master account can create sub-accounts and transfer funds between them.",
     ["How do I create a sub-account?", "Transfer funds to a sub account"]),
    ("funding-rate", "zh", "资金费率",
     "永续合约每8小时结算一次资金费率，多空双方互相支付。",
     ["什么是资金费率", "资金费率怎么计算", "为什么扣了资金费"]),
]


@lru_cache(maxsize=1)
def shared_engine() -> SearchEngine:
    """Built once per test session: the model load and indexing are the slow part."""
    eng = SearchEngine()
    for doc_id, lang, title, body, questions in ARTICLES:
        eng.add_document(doc_id, lang=lang, title=title, body=body, questions=questions)
    eng.flush()
    return eng


def model_installed() -> bool:
    return default_embedder() is not None


class Recording:
    """A toy embedder: one-hot of the text's length, recording what it was asked."""

    name, dim = "recording", 8

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> Vectors:
        self.seen.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[np.arange(len(texts)), [len(t) % self.dim for t in texts]] = 1.0
        return out
