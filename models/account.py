"""A Telegram account the bot knows, and its link to an organisation."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, false
from sqlmodel import Field, SQLModel

from models.utc import UTCDateTime, utcnow


class Account(SQLModel, table=True):
    """A person's own settings. Created only when there is something to remember."""

    # Telegram user ids exceed 32 bits; in a private chat the chat id equals the user id.
    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    language: str = Field(max_length=8)
    # An IANA zone ("Europe/Kyiv") to show times in; none: the bot's BOT_TIMEZONE.
    timezone: str | None = Field(default=None, max_length=64)
    # Promoted from chat with /promote; the ids in ORGANISER_IDS are organisers regardless.
    # The server default is the one migration 0005 gave the rows already there.
    organiser: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # The command menu last set for them in Telegram (who it was for, and its language), so
    # that a role got any way at all (a restored database, an import) is shown at start-up.
    menu: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Contact(SQLModel, table=True):
    """A Telegram account that acts in the name of one organisation."""

    telegram_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("account.telegram_id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    subscribed: bool = True
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When Telegram said this person blocked the bot (or deleted their account).
    unreachable_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
