"""Settings read from `DUBAN_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set; each field is `DUBAN_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="DUBAN_", extra="ignore")

    data_dir: Path = Field(
        default=Path("duban-data"),
        description="Attachments, reports, the default outbox and the default SQLite database.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the data folder."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base of the personal links in notices (where `duban web` is reachable).",
    )
    # Government and private deployments (政务钉钉, 政务微信, private Feishu) run their own API
    # hosts; a bot address's `?base=` wins over these.
    dingtalk_api_base: str | None = Field(
        default=None, description="DingTalk bots' API host (default https://oapi.dingtalk.com)."
    )
    wecom_api_base: str | None = Field(
        default=None, description="WeCom bots' API host (default https://qyapi.weixin.qq.com)."
    )
    feishu_api_base: str | None = Field(
        default=None, description="Feishu bots' API host (default https://open.feishu.cn)."
    )
    smtp_url: str | None = Field(
        default=None,
        description=(
            "The office's mail relay as an Apprise mailto URL, used for plain e-mail addresses "
            "in campaign files. Unset: such mail is written to the outbox as .eml files."
        ),
    )
    aliyun_sms_access_key_id: str | None = Field(
        default=None, description="Aliyun AccessKey ID for `sms:` numbers (Dysmsapi SendSms)."
    )
    aliyun_sms_access_key_secret: str | None = Field(
        default=None, description="Its AccessKey secret; never written into a campaign file."
    )
    aliyun_sms_endpoint: str = Field(
        default="dysmsapi.aliyuncs.com",
        description=(
            "Dysmsapi's host, sent to over HTTPS; `http://host:port` for a plain-HTTP endpoint "
            "(a local gateway)."
        ),
    )
    mail_from: str = Field(default="duban@localhost", description="Sender of outbox mail.")
    secret_key: str | None = Field(
        default=None,
        min_length=32,
        description=(
            "Key that derives personal links. Unset: a random key is created once in the data "
            "folder. Every process of one installation must share it."
        ),
    )
    now: str | None = Field(
        default=None, description="ISO-8601 instant that replaces the clock (simulation, tests)."
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Timezone of a time given without an offset (`--now`, `DUBAN_NOW`).",
    )
    calendar_dir: Path | None = Field(
        default=None,
        description="Folder of working-calendar files (default: config/calendars).",
    )
    send_workers: int = Field(default=8, ge=1, le=64, description="Parallel sends per batch.")
    batch_size: int = Field(default=500, ge=1, description="Departments per Prefect task run.")
    upload_max_files: int = Field(
        default=20, ge=1, le=200, description="Attachments per submission."
    )
    upload_max_file_mb: int = Field(
        default=200, ge=1, description="Largest attachment, in MiB (a phone video is large)."
    )
    upload_max_total_mb: int = Field(
        default=500, ge=1, description="All attachments of one submission together, in MiB."
    )
    mail_attach_max_mb: int = Field(
        default=20,
        ge=1,
        description=(
            "Largest report sent as an attachment, in MiB (mail servers refuse larger ones); "
            "a larger report is announced with where it lies."
        ),
    )
    session_idle_minutes: int = Field(
        default=120,
        ge=1,
        description=(
            "A dashboard session left unused this long ends (it lasts 12 hours at most); "
            "signing out, or a new password, ends it at once."
        ),
    )
    signin_lock_seconds: int = Field(
        default=60,
        ge=1,
        description=(
            "After 5 wrong passwords for an account from one address (20 from one address, or "
            "for one account), sign-in waits this long; twice as long at each further wrong "
            "password, up to 16 times."
        ),
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Addresses of the reverse proxies in front of `duban web`, comma-separated (as "
            "uvicorn's FORWARDED_ALLOW_IPS): their X-Forwarded-For names the client. Unset: "
            "the client is the connection's own address."
        ),
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'duban.db').resolve()}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def thumbnails_dir(self) -> Path:
        return self.data_dir / "thumbnails"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing env."""
    return Settings()
