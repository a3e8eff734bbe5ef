"""Typed settings, read once from the environment (prefix KEFU_) when the app is built."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    base_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("var")
    database_url: str = ""
    # Connections per process (PostgreSQL). Past a few per CPU core of the database,
    # more connections only add context switches: requests wait in the pool instead.
    db_pool_size: int = Field(default=10, gt=0)
    db_max_overflow: int = Field(default=10, ge=0)
    redis_url: str = ""
    # Space-separated origins whose pages may open the live console stream; empty: the
    # base URL's origin only.
    live_allowed_origins: str = ""
    secret_key: str = PLACEHOLDER
    uid_signing_secret: str = PLACEHOLDER
    # Embedded default runs jobs inside the web process; scale-out sets this false and
    # runs `kefu worker` processes instead.
    run_jobs_in_process: bool = True
    job_poll_seconds: float = 0.5
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Kefu Support <support@kefu.example>"
    # Email replies are DKIM-signed (d= the mailbox's domain) when a key file is given.
    mail_dkim_selector: str = "kefu"
    mail_dkim_key_file: Path | None = None
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_attachments_per_message: int = Field(default=5, gt=0)
    agent_totp_required: bool = False
    session_hours: int = 12
    login_attempts_per_minute: int = 10
    # Chat abuse limits: new visitors and chats per client address an hour, messages per
    # visitor a minute. A benchmark driving thousands of chats from one address raises them.
    chat_visitors_per_ip_hour: int = Field(default=120, gt=0)
    chat_chats_per_ip_hour: int = Field(default=60, gt=0)
    chat_messages_per_minute: int = Field(default=60, gt=0)
    # Seconds an agent has to accept an offered chat before it goes to the next agent.
    chat_offer_seconds: int = Field(default=30, gt=0)
    seed_demo: bool = True
    # Space-separated addresses of reverse proxies whose X-Forwarded-Proto is believed
    # ("*": any peer, only when nothing but the proxy can reach the app). A request they
    # say arrived over HTTPS gets HSTS.
    trusted_proxies: str = ""
    # Space-separated origins allowed to frame /help/embed/* (exchange product pages).
    help_embed_frame_ancestors: str = ""
    # Exchange backend adapter. Empty URL in development/test = the in-app fake at
    # /_fake_exchange; empty in production = no self-service freeze.
    exchange_api_url: str = ""
    exchange_api_secret: str = ""
    exchange_allow_loopback: bool = False  # honoured only in development/test
    exchange_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    # The chat bot's optional composer: an OpenAI-compatible chat-completions endpoint
    # (base URL such as https://api.openai.com/v1 or a self-hosted model) that phrases
    # answers from the retrieved articles. Off unless a URL and a model are set.
    # The bot answers only from this confidence up (below it a person takes over);
    # 0.88 was chosen on held-out Banking77 train (docs/chat.md, "The bot").
    chat_bot_min_confidence: float = Field(default=0.88, ge=0, le=1)
    chat_composer_url: str | None = None
    chat_composer_key: str | None = None
    chat_composer_model: str | None = None
    chat_composer_timeout_seconds: float = Field(default=4.0, gt=0, le=30)

    @model_validator(mode="after")
    def _defaults_and_secrets(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'kefu.db'}"
        if self.environment == "production":
            for name in ("secret_key", "uid_signing_secret"):
                value = getattr(self, name)
                if value == PLACEHOLDER or len(value) < 32:
                    raise ValueError(f"KEFU_{name.upper()} must be set to a real secret")
            if self.exchange_api_url and (self.exchange_api_secret in ("", PLACEHOLDER)
                                          or len(self.exchange_api_secret) < 32):
                raise ValueError("KEFU_EXCHANGE_API_SECRET must be set to a real secret")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def attachments_dir(self) -> Path:
        # Deliberately outside any folder the web server serves.
        return self.data_dir / "attachments"

    @property
    def mail_log_path(self) -> Path:
        return self.data_dir / "mail.log"

    @property
    def cookie_secure(self) -> bool:
        return self.base_url.startswith("https://")


@lru_cache
def get_settings() -> Settings:
    return Settings()
