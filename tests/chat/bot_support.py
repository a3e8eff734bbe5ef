"""A tiny bilingual help centre in a fresh database (SQLite or PostgreSQL) with the server's
index over a lexical engine, for the bot's tests."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import _postgres_url
from kefu.core.clock import utcnow
from kefu.core.db import make_engine, make_session_factory
from kefu.core.migrate import upgrade
from kefu.kb.index import KbIndex
from kefu.kb.models import ArticleStatus, KbArticle, KbArticleVersion, KbCategory
from kefu.kb.search.engine import SearchEngine
from kefu.security.channels import add_channel

ARTICLES = {
    "reset-password": {
        "en": ("Reset your password",
               "Open **Settings → Security** and choose *Reset password*. We email you a link "
               "that works for 30 minutes.",
               ["how do i reset my password", "forgot my password", "reset login password",
                "password reset link", "change my password"]),
        "zh-CN": ("重置密码",
                  "打开 **设置 → 安全**，选择“重置密码”。"
                  "我们会向您的邮箱发送 30 分钟内有效的链接。",
                  ["忘记密码怎么办", "怎么重置密码", "登录密码忘了"]),
    },
    "deposit-not-credited": {
        "en": ("Deposit not credited",
               "Deposits are credited after the network confirmations listed on the deposit "
               "page. Check the transaction hash in a block explorer.",
               ["my deposit has not arrived", "where is my deposit", "deposit not showing",
                "usdt deposit missing", "deposit still pending"]),
        "zh-CN": ("充值未到账",
                  "充值在达到充值页面所列的网络确认数后到账。请在区块浏览器中查看交易哈希。",
                  ["充值没到账", "充值一直不到", "usdt 充值没显示"]),
    },
    "change-language": {
        "en": ("Change the language",
               "Choose English or 简体中文 at the bottom of any page.",
               ["change language", "switch to chinese", "how to change the site language",
                "language settings", "display language"]),
    },
    "verify-code-help": {
        # An article that (wrongly) asks for a code: the outbound check must stop it.
        "en": ("Identity check by chat",
               "Send us your 2FA code and your password here so we can check your account.",
               ["identity check by chat", "check my identity in chat"]),
    },
}


@dataclass
class HelpDesk:
    backend: str
    factory: async_sessionmaker[AsyncSession]
    index: KbIndex
    ids: dict[str, int]  # slug -> article id


async def load_articles(factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    now = utcnow()
    async with factory() as db:
        category = KbCategory(slug="help", title_en="Help", title_zh="帮助")
        articles = {}
        for slug, versions in ARTICLES.items():
            rows = [KbArticleVersion(lang=lang, title=title, body=body, questions=questions,
                                     updated_at=now)
                    for lang, (title, body, questions) in versions.items()]
            articles[slug] = KbArticle(slug=slug, category=category, versions=rows,
                                       status=ArticleStatus.PUBLISHED, created_at=now,
                                       updated_at=now, published_at=now)
        db.add_all(articles.values())
        await add_channel(db=db, actor=None, kind="telegram", value="@KefuExchange")
        await add_channel(db=db, actor=None, kind="web_domain", value="kefu.example")
        await db.commit()
        return {slug: a.id for slug, a in articles.items()}


def lexical() -> SearchEngine:
    return SearchEngine(use_model=False)


async def help_desk(backend: str, tmp: Path) -> AsyncIterator[HelpDesk]:
    drop = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'bot.db'}"
    else:
        url, drop = await _postgres_url()
    engine = make_engine(url)
    await upgrade(engine)
    factory = make_session_factory(engine)
    ids = await load_articles(factory)
    index = KbIndex(make_engine=lexical)
    await index.rebuild(factory)
    yield HelpDesk(backend, factory, index, ids)
    await engine.dispose()
    if drop is not None:
        await drop()


def backend_desk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[HelpDesk]:
    """For a module-scoped fixture parametrised by backend (one database each)."""
    backend = str(request.param)
    return help_desk(backend, tmp_path_factory.mktemp(backend))
