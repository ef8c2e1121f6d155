"""Settings from the environment or a `.env` file, validated once at start-up."""

import re
from datetime import timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LANGUAGES = ("en", "fr", "uk", "ru")
# How the log is written: lines for people, or JSON objects for a collector.
LogFormat = Literal["text", "json"]
# Telegram's messages a second for a bot, beyond which only paid broadcasts go.
FREE_BROADCAST_LIMIT = 30
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """`3d`, `2h`, `30m` or `6s` (one number, one unit)."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*([dhms])\s*", text)
    if match is None:
        raise ValueError(f"{text.strip()!r} is not a duration such as 3d, 2h, 30m or 6s")
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def zone(name: str) -> ZoneInfo:
    """An IANA time zone such as Europe/Kyiv; ValueError if there is none by that name."""
    if not re.fullmatch(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*", name):
        raise ValueError(f"{name!r} is not a time zone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone") from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Secret so that it never shows in a repr, a log line or a validation error.
    bot_token: SecretStr | None = None
    database_url: str = "sqlite:///coalition.db"
    telegram_api_url: str = "https://api.telegram.org"
    organiser_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_language: str = "en"
    invite_validity_days: int = Field(default=7, ge=1, le=365)
    # What this process may send a second, answers and unpaid bulk sends together (bot/budget.py):
    # Telegram allows a bot about 30, so replicas split it.
    message_rate: int = Field(default=FREE_BROADCAST_LIMIT, ge=1, le=FREE_BROADCAST_LIMIT)
    # Bulk sends a second: within MESSAGE_RATE, leaving room for answers; up to 1,000 with
    # Telegram's paid broadcasts, which cost Telegram Stars and so are asked for by name.
    broadcast_rate: float = Field(default=25, ge=1, le=1000)
    paid_broadcasts: bool = False
    # Messages to one chat at once before one a second applies (bot/budget.py).
    chat_burst: int = Field(default=3, ge=1)
    # Sends in flight at once; after a crash at most this many may be sent a second time.
    broadcast_concurrency: int = Field(default=8, ge=1, le=256)
    # Times people type are read in this zone unless they carry an offset such as +02:00.
    bot_timezone: str = "UTC"
    # Before each phase start and each deadline; "3d,1d,2h".
    reminder_offsets: Annotated[tuple[timedelta, ...], NoDecode] = (
        timedelta(days=3),
        timedelta(days=1),
        timedelta(hours=2),
    )
    # A reminder missed while the bot was down still goes out if it is less late than this.
    reminder_grace: Annotated[timedelta, NoDecode] = timedelta(hours=6)
    # Four eyes: 2 holds a broadcast to all members and a promotion until a second organiser
    # approves; 1 lets the sender's own confirmation suffice.
    approvals_required: int = Field(default=1, ge=1, le=2)
    # Flood control, per person: messages and button presses at once, then a second. Beyond
    # them the bot skips what the person sends and tells them once (handlers/flood.py).
    flood_burst: int = Field(default=10, ge=1)
    flood_rate: float = Field(default=1, gt=0)
    # Where the sandbox (`make run` without BOT_TOKEN) serves its page, on 127.0.0.1.
    sandbox_port: int = Field(default=8080, ge=0, le=65535)
    # /healthz and /metrics; None: not served. Loopback by default: they are for this host's
    # probes and scraper, and say how busy the bot is.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # `json`: one JSON object a line, for a log collector; `text` for people reading it.
    log_format: LogFormat = "text"
    # Webhook mode: Telegram posts updates to WEBHOOK_URL (https), which a reverse proxy
    # forwards to WEBHOOK_LISTEN:WEBHOOK_PORT; unset, the bot polls.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # Telegram sends it in every request's X-Telegram-Bot-Api-Secret-Token header.
    webhook_secret: SecretStr | None = None

    @field_validator("organiser_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"{part!r} is not a Telegram user id")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("reminder_offsets", mode="before")
    @classmethod
    def _offsets(cls, value: object) -> object:
        if isinstance(value, str):
            offsets = tuple(parse_duration(part) for part in value.split(",") if part.strip())
            if not offsets:
                raise ValueError("needs at least one duration, such as 3d,1d,2h")
            return tuple(sorted(set(offsets), reverse=True))
        return value

    @field_validator("reminder_grace", mode="before")
    @classmethod
    def _grace(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("bot_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _http_root(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value.replace("postgres://", "postgresql://", 1)

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must start with https:// (Telegram posts only to https)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()
        ):
            raise ValueError("must be 16 to 256 of the characters A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _broadcasts_fit_the_allowance(self) -> "Settings":
        if self.paid_broadcasts and self.broadcast_rate <= FREE_BROADCAST_LIMIT:
            raise ValueError(
                f"PAID_BROADCASTS: only with BROADCAST_RATE above {FREE_BROADCAST_LIMIT} "
                "(below it paid delivery costs Telegram Stars and gains nothing)"
            )
        if not self.paid_broadcasts and self.broadcast_rate > self.message_rate:
            raise ValueError(
                f"BROADCAST_RATE: above MESSAGE_RATE ({self.message_rate}) only with "
                "PAID_BROADCASTS=true (Telegram's paid broadcasts)"
            )
        return self

    @model_validator(mode="after")
    def _webhook_has_secret(self) -> "Settings":
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET: required with WEBHOOK_URL")
        return self


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per the first bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        reason = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings names them itself
            raise SettingsError(reason) from None
        raise SettingsError(f"{str(first['loc'][0]).upper()}: {reason}") from None
