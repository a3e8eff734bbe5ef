"""Generated deposit/withdrawal support messages: the guard's false-positive set for TxIDs.

Every message is what a customer of an exchange writes about a deposit or withdrawal
(zh and en): transaction hashes with and without 0x, alone on a line or in an explorer
link, next to addresses, memos/tags, order ids, amounts, UIDs and error codes. None
holds a secret, so any finding in them is a false positive. Values are generated with
a seeded RNG the real way (base58check, bech32/bech32m, EIP-55), never typed in.

Templates are split: every fourth one is HELD OUT, so a detector tuned on the others
(on another seed) can be checked on phrasings it never saw.

`key_in_tx_context` is the other side: a private key stated as a key inside a message
that is otherwise about a deposit; every one must stay masked.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from kefu.security.guard_samples import ZERO_WIDTH, Sample, _embed, wif
from kefu.triage.chain.encoding import (
    B58,
    b58encode_check,
    segwit_encode,
    to_checksum_address,
)


@dataclass(frozen=True)
class TxMessage:
    text: str
    lang: str  # en | zh
    template: int  # index into the language's templates
    held_out: bool


@dataclass(frozen=True)
class Chain:
    name: str
    networks: tuple[str, ...]
    coins: tuple[str, ...]
    explorer: str  # URL prefix before the hash
    memo: bool = False  # the coin needs a memo/tag


CHAINS = (
    Chain("evm", ("ERC20", "Ethereum", "ETH", "以太坊"), ("USDT", "USDC", "ETH"),
          "https://etherscan.io/tx/"),
    Chain("bsc", ("BEP20", "BSC", "BNB Smart Chain"), ("USDT", "BNB", "USDC"),
          "https://bscscan.com/tx/"),
    Chain("polygon", ("Polygon", "MATIC"), ("USDT", "POL"), "https://polygonscan.com/tx/"),
    Chain("tron", ("TRC20", "TRON", "波场"), ("USDT", "TRX"),
          "https://tronscan.org/#/transaction/"),
    Chain("btc", ("BTC", "Bitcoin", "比特币"), ("BTC",), "https://mempool.space/tx/"),
    Chain("sol", ("SOL", "Solana"), ("SOL", "USDT"), "https://solscan.io/tx/"),
    Chain("xrp", ("XRP", "Ripple"), ("XRP",), "https://xrpscan.com/tx/", memo=True),
    Chain("ton", ("TON",), ("TON", "USDT"), "https://tonviewer.com/transaction/", memo=True),
)


def _hex(rng: random.Random, n: int) -> str:
    return rng.randbytes(n).hex()


def txid(chain: Chain, rng: random.Random) -> str:
    """A transaction hash as customers paste it for `chain`."""
    if chain.name == "sol":
        return "".join(rng.choice(B58) for _ in range(rng.choice((87, 88))))
    raw = _hex(rng, 32)
    if rng.random() < 0.08:
        raw = raw.upper()
    if chain.name in ("evm", "bsc", "polygon"):
        return "0x" + raw if rng.random() < 0.85 else raw
    if chain.name == "xrp":
        return raw.upper()
    return raw


def address(chain: Chain, rng: random.Random) -> str:
    body = rng.randbytes(20)
    if chain.name in ("evm", "bsc", "polygon"):
        checksummed = to_checksum_address(body.hex())
        return checksummed if rng.random() < 0.7 else checksummed.lower()
    if chain.name == "tron":
        return b58encode_check(b"\x41" + body)
    if chain.name == "btc":
        kind = rng.choice(("p2pkh", "p2sh", "wpkh", "tr"))
        if kind == "p2pkh":
            return b58encode_check(b"\x00" + body)
        if kind == "p2sh":
            return b58encode_check(b"\x05" + body)
        return segwit_encode("bc", 0, body) if kind == "wpkh" else \
            segwit_encode("bc", 1, rng.randbytes(32))
    if chain.name == "xrp":
        return "r" + "".join(rng.choice(B58) for _ in range(rng.randrange(24, 34)))
    if chain.name == "ton":
        return rng.choice(("UQ", "EQ")) + "".join(
            rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(46))
    return "".join(rng.choice(B58) for _ in range(rng.choice((43, 44))))


def _amount(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return str(rng.choice((50, 100, 200, 500, 1000, 2500, 10000)))
    if style == 1:
        return f"{rng.uniform(0.001, 5):.{rng.randrange(2, 8)}f}"
    if style == 2:
        return f"{rng.uniform(100, 50000):,.2f}"
    return f"{rng.uniform(10, 3000):.2f}"


def _order(rng: random.Random) -> str:
    style = rng.randrange(5)
    if style == 0:
        return str(rng.randrange(10**15, 10**19))
    if style == 1:
        return "W" + "2024" + "".join(rng.choice(string.digits) for _ in range(12))
    if style == 2:
        return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(20))
    if style == 3:
        return f"{rng.randrange(10**8, 10**9)}-{rng.randrange(1000, 9999)}"
    return "D" + _hex(rng, 8)


def _error(rng: random.Random) -> str:
    return rng.choice((
        str(rng.randrange(1000, 99999)), f"-{rng.randrange(1000, 2200)}",
        f"E{rng.randrange(100, 9999)}", "WITHDRAW_LIMIT_EXCEEDED", "INSUFFICIENT_BALANCE",
        "ADDRESS_NOT_WHITELISTED", f"{rng.randrange(400, 599)} Bad Request",
        f"code {rng.randrange(10000, 99999)}", "RISK_CONTROL_REJECTED",
    ))


def _when(rng: random.Random) -> str:
    return rng.choice((
        f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} "
        f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
        f"{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日", "yesterday", "this morning",
        f"{rng.randrange(2, 48)} hours ago", "昨天晚上", "今天上午",
    ))


EN_TEMPLATES = (
    "My {coin} deposit has not been credited. TxID: {tx}",
    "deposit not credited {tx} on {net}",
    "Hi, I sent {amount} {coin} via {net} {when} and it still hasn't arrived.\n\n{tx}\n\n"
    "Please check.",
    "Withdrawal failed with error {err}. Order ID: {order}. The hash is {tx}",
    "I withdrew {amount} {coin} to {addr} ({net}) but the receiving wallet shows nothing. "
    "tx {tx}",
    "{tx}\nthis is my deposit, it says completed on the explorer but my balance is 0",
    "Deposit address: {addr}\nNetwork: {net}\nAmount: {amount} {coin}\nTx hash: {tx}\n"
    "UID: {uid}",
    "Please check {url}{tx} - it has {confs} confirmations already, why is my deposit pending?",
    "UID {uid}. I transferred {amount} {coin} from another exchange, transaction id {tx}, "
    "memo {memo}",
    "Where is my withdrawal?? order {order}, {amount} {coin}, {net}, sent to {addr}",
    "I forgot to add the memo when depositing {coin}. Tx: {tx} amount {amount}. "
    "Correct memo is {memo}",
    "my withdrawal has been stuck on 'processing' for {hours} hours. withdrawal id {order}",
    "Good morning, I made a deposit to my account {when}.\nTransaction:\n{tx}\nAddress used:"
    "\n{addr}\nThanks for your help",
    "Can you tell me why the deposit {tx} was rejected? Error code {err}",
    "sent {coin} on the wrong network ({net}) to {addr}, hash {tx}. can you recover it?",
    "deposit missing!!! {amount} {coin}\n{tx}",
    "The explorer link is {url}{tx}. Status success, {confs} blocks. Still not on my account "
    "(UID {uid}).",
    "Hello support, withdrawal {order} shows completed but no tx hash is displayed. "
    "Amount {amount} {coin} to {addr}.",
    "Tag/memo: {memo}\nAddress: {addr}\nTXID: {tx}\nDeposit not received after {hours} hours",
    "I deposited {amount} {coin} ({net}) {when}, here is the proof {tx}, my uid is {uid}",
    "Refund request for a failed withdrawal. Order {order}, error {err}, network {net}.",
    "why is my transfer from {addr} not showing? {tx}",
    "Hi team, my deposit on {net} is pending. {tx} was confirmed on chain {when}.",
    "Withdrawal to {addr} returned. I got the error '{err}'. Reference {order}, "
    "amount {amount} {coin}",
    "Hey, quick one - {amount} {coin} left my Ledger {when}, status Success on {url}{tx} "
    "but your app still shows 0. Acc UID {uid}",
    "URGENT: funds missing\nCoin: {coin}\nChain: {net}\nHash\n{tx}\nDestination: {addr}",
    "Dear team, kindly assist. I initiated a withdrawal (ID {order}) of {amount} {coin}; "
    "the blockchain shows {tx} but the recipient exchange says it never came.",
    "{tx} <- this one. {net}. {amount}. pls fix asap",
)
ZH_TEMPLATES = (
    "我的提现一直没到 {tx} 帮忙查一下",
    "充值未到账，交易哈希：{tx}",
    "你好，我{when}通过{net}网络充值了{amount} {coin}，到现在还没到账。\n{tx}\n麻烦核实一下",
    "提现失败，错误码 {err}，订单号 {order}，哈希 {tx}",
    "我提币到 {addr}（{net}）{amount} {coin}，对方钱包没有收到，TxID：{tx}",
    "{tx}\n这是我的充值记录，区块浏览器显示成功了但是账户余额是0",
    "充值地址：{addr}\n网络：{net}\n数量：{amount} {coin}\n交易ID：{tx}\nUID：{uid}",
    "请看一下 {url}{tx} 已经{confs}个确认了，为什么充值还在处理中？",
    "UID {uid}，我从其他交易所转了{amount} {coin}过来，交易号 {tx}，备注 {memo}",
    "我的提现去哪了？？订单 {order}，{amount} {coin}，{net}，提到 {addr}",
    "充{coin}的时候忘记填MEMO了，哈希：{tx}，数量 {amount}，正确的标签是 {memo}",
    "提现一直显示处理中，已经{hours}个小时了，提现单号 {order}",
    "客服你好，我{when}充值了一笔\n交易：\n{tx}\n充值地址：\n{addr}\n谢谢",
    "请问充值 {tx} 为什么被拒绝了？错误代码 {err}",
    "选错了网络（{net}）转到了 {addr}，哈希 {tx}，还能找回吗",
    "充值没到账！！！{amount} {coin}\n{tx}",
    "链上记录 {url}{tx} 显示成功，{confs}个区块确认了，账户里还是没有（UID {uid}）",
    "你好，提现 {order} 显示已完成但是没有交易哈希，数量 {amount} {coin}，地址 {addr}",
    "标签/Memo：{memo}\n地址：{addr}\nTXID：{tx}\n{hours}小时了还没到账",
    "我{when}用{net}充了{amount} {coin}，凭证 {tx}，我的UID是{uid}",
    "提现失败申请退回，订单 {order}，报错 {err}，网络 {net}",
    "从 {addr} 转过来的为什么没显示？{tx}",
    "你好，{net} 的充值一直在等待中，{tx} {when}就在链上确认了",
    "提现到 {addr} 被退回了，提示“{err}”，流水号 {order}，{amount} {coin}",
    "在线等，急！{when}从钱包转了{amount}个{coin}到你们平台，链上已经成功了：{url}{tx}，UID {uid}",
    "币种：{coin}\n主网：{net}\nHash值：\n{tx}\n收款地址：{addr}\n一直显示待入账",
    "您好，我的提币申请（编号 {order}）{amount} {coin} 状态是已完成，区块链上查到 {tx}，"
    "但是对方平台说没收到",
    "{tx} 就是这笔，{net}，{amount}，麻烦快点处理",
)


# Written after the last change to the detector and measured once, never tuned on: the
# honest measure of phrasings nobody tried it on (reported as tx_fresh_*). An earlier
# fresh set (the last four templates of each list above) found that network names alone
# were not read as context; it joined the lists once that was fixed.
FRESH_EN_TEMPLATES = (
    "---------- Forwarded message ---------\nSubject: Re: Deposit\n\nStill nothing. "
    "Hash again: {tx}\nSent from my iPhone",
    "Ref {order} / {coin} / {net}\n{tx}\nCredited? It's been {hours}h.",
    "hello?? i sent my {coin} to {addr} like u said and its been {hours} hours. "
    "txn {tx} what is going on",
    '{{"coin":"{coin}","network":"{net}","txId":"{tx}","amount":"{amount}"}} '
    "copied from my wallet history, please check",
)
FRESH_ZH_TEMPLATES = (
    "转发：\n> 请提供哈希\n好的，{tx}\n麻烦尽快",
    "我是UID{uid}，{when}充的{coin}，走的{net}，到现在余额没变。链上：{tx}",
    "为什么要这么久？？？{amount}{coin}，{tx}，已经{hours}小时了！！",
    "钱包里的记录：\n- 币种 {coin}\n- 网络 {net}\n- 数量 {amount}\n- Tx {tx}\n请核实",
)


def fresh_tx_messages(seed: int, per_template: int = 40) -> list[TxMessage]:
    """The fresh templates (see FRESH_EN_TEMPLATES), filled as `tx_messages` does."""
    rng = random.Random(seed + 2)  # noqa: S311 - reproducible test data, not key material
    return [TxMessage(_fill(template, rng.choice(CHAINS), rng), lang, index, held_out=True)
            for lang, templates in (("en", FRESH_EN_TEMPLATES), ("zh", FRESH_ZH_TEMPLATES))
            for index, template in enumerate(templates) for _ in range(per_template)]


def _fill(template: str, chain: Chain, rng: random.Random) -> str:
    values = {
        "tx": txid(chain, rng), "addr": address(chain, rng), "coin": rng.choice(chain.coins),
        "net": rng.choice(chain.networks), "amount": _amount(rng), "order": _order(rng),
        "uid": str(rng.randrange(10**7, 10**10)), "err": _error(rng), "when": _when(rng),
        "memo": str(rng.randrange(10**5, 10**10)), "url": chain.explorer,
        "confs": str(rng.randrange(1, 300)), "hours": str(rng.randrange(2, 72)),
    }
    return template.format(**values)


def tx_messages(seed: int, per_template: int = 40) -> list[TxMessage]:
    """Every template, `per_template` times, each with a random chain and values."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not key material
    out: list[TxMessage] = []
    for lang, templates in (("en", EN_TEMPLATES), ("zh", ZH_TEMPLATES)):
        for index, template in enumerate(templates):
            for _ in range(per_template):
                text = _fill(template, rng.choice(CHAINS), rng)
                out.append(TxMessage(text, lang, index, held_out=index % 4 == 3))
    return out


KEY_IN_TX_TEMPLATES = (
    "My deposit of {amount} USDT has not arrived (ERC20). Here is my private key {0} "
    "so you can check",
    "充值没到账，交易哈希 {tx}，我的私钥是 {0}",
    "Withdrawal failed, tx {tx}. support told me to send my wallet private key: {0}",
    "提现一直没到，这是钱包导出的私钥\n{0}\n请帮忙",
    "deposit missing, hash {tx}\nprivate key:\n{0}",
    "我的充值地址的私钥：{0}，交易ID {tx}",
    "UID {uid}. Deposit not credited. Secret key for the wallet is {0}",
    "{0} is my private key, the deposit {tx} did not show up",
    "Deposit of {amount} USDT not arrived. Support on Telegram said to send this for "
    "verification: {0}",
    "充值没到账，客服说要同步钱包，让我发这个：\n{0}",
    "my withdrawal {tx} is stuck, the agent asked me to validate my wallet with {0}",
    "提现卡住了，对方说需要授权验证 {0} 才能到账",
)


def key_in_tx_context(seed: int, n: int = 400) -> list[Sample]:
    """Private keys stated as keys inside deposit/withdrawal messages: must stay masked."""
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible test data, not key material
    samples: list[Sample] = []
    for _ in range(n):
        chain = rng.choice(CHAINS[:5])
        key = rng.randbytes(32)
        form = rng.choice(("hex", "0xhex", "wif"))
        value = wif(key, compressed=True) if form == "wif" else \
            ("0x" if form == "0xhex" else "") + key.hex()
        if rng.random() < 0.1:
            cut = rng.randrange(1, len(value))
            value = value[:cut] + rng.choice(ZERO_WIDTH) + value[cut:]
        template = rng.choice(KEY_IN_TX_TEMPLATES).format(
            "{0}", tx=txid(chain, rng), amount=_amount(rng),
            uid=str(rng.randrange(10**7, 10**10)))
        samples.append(_embed("private_key", template, [value]))
    return samples
