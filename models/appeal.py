"""An open letter the coalition co-signs, and the signatures given on it."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from models.utc import UTCDateTime, utcnow


class AppealState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Disclosure(StrEnum):
    PUBLIC = "public"  # named to members and in the letter
    PRIVATE = "private"  # named only in the letter to the addressees
    ANONYMOUS = "anonymous"  # counted, never named


TITLE_MAX = 200


def stored_as_value(enum: type[StrEnum]) -> SAEnum:
    """A portable string column holding the enum's value, without a native database type."""
    return SAEnum(
        enum, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
    )


class Appeal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=TITLE_MAX)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # The language the title and text are written in; translations add the others.
    language: str = Field(default="en", max_length=8, sa_column_kwargs={"server_default": "en"})
    state: AppealState = Field(
        default=AppealState.DRAFT, sa_type=stored_as_value(AppealState), index=True
    )
    # Telegram ids of people: emptied when that person asks the bot to forget them.
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    phase_id: int | None = Field(default=None, foreign_key="phase.id", index=True)
    # When it stops taking signatures and closes by itself.
    deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Which wording the title and text are: 1 when published, one more for each /edit after.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class AppealVersion(SQLModel, table=True):
    """A superseded wording of an open appeal: what older signatures were given on."""

    __tablename__ = "appeal_version"
    __table_args__ = (UniqueConstraint("appeal_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    appeal_id: int = Field(foreign_key="appeal.id", index=True)
    version: int
    title: str = Field(max_length=TITLE_MAX)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppealTranslation(SQLModel, table=True):
    """An appeal's wording in another of en, fr, uk, ru."""

    __tablename__ = "appeal_translation"
    __table_args__ = (UniqueConstraint("appeal_id", "language"),)

    id: int | None = Field(default=None, primary_key=True)
    appeal_id: int = Field(foreign_key="appeal.id", index=True)
    language: str = Field(max_length=8)
    title: str = Field(max_length=TITLE_MAX)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Signature(SQLModel, table=True):
    # The database, not the code, guarantees one signature per organisation and appeal.
    # Counts of the signatures standing on an appeal's current text (/appeals, /status) are
    # read from the (appeal_id, version) index alone: 100,000 signatures stay quick to count.
    # Both indexes lead with appeal_id, so appeal_id needs no index of its own.
    __table_args__ = (
        UniqueConstraint("appeal_id", "organisation_id"),
        Index("ix_signature_appeal_id_version", "appeal_id", "version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    appeal_id: int = Field(foreign_key="appeal.id")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    disclosure: Disclosure = Field(default=Disclosure.PUBLIC, sa_type=stored_as_value(Disclosure))
    # Who tapped, for the audit; emptied by /forget, the signature stays the organisation's.
    signed_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    signed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The appeal's version this signature was given on (or last re-confirmed on).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
