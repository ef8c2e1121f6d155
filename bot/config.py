"""Settings from the environment or a `.env` file, validated once at start-up."""

from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LANGUAGES = ("en", "fr", "uk", "ru")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Secret so that it never shows in a repr, a log line or a validation error.
    bot_token: SecretStr | None = None
    database_url: str = "sqlite:///coalition.db"
    telegram_api_url: str = "https://api.telegram.org"
    organiser_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_language: str = "en"
    invite_validity_days: int = Field(default=7, ge=1, le=365)
    # Telegram allows about 30 messages a second; 25 leaves room for replies to commands.
    # Up to 1,000 for bots with Telegram's paid broadcasts.
    broadcast_rate: float = Field(default=25, ge=1, le=1000)
    # Sends in flight at once; after a crash at most this many may be sent a second time.
    broadcast_concurrency: int = Field(default=8, ge=1, le=256)

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


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per the first bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        reason = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {reason}") from None
