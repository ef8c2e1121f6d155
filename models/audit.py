"""The append-only, hash-chained record of state changes: who, what, when."""

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from models.utc import UTCDateTime


class Actor(SQLModel, table=True):
    """A person's pseudonym in the audit log. Forgetting the person deletes this row: their
    entries stay, the chain stays intact, and nothing links them back to the person."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    # 32 random hex characters, unrelated to the Telegram id.
    ref: str = Field(max_length=32, unique=True)


class AuditEntry(SQLModel, table=True):
    """One recorded state change; never a message body, a name or a title.

    `hash` is a SHA-256 over `prev_hash` and the entry's own fields; the first entry's
    `prev_hash` is 64 zeros. `prev_hash` is unique too: the chain cannot fork.
    """

    __tablename__ = "audit_entry"

    # Set by services.audit.record (the last id plus one), not by the database.
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=UTCDateTime)
    # None: the command line acted.
    actor_ref: str | None = Field(default=None, max_length=32, index=True)
    action: str = Field(max_length=32)
    # What changed: "appeal:3", "organisation:2", "person:<actor ref>".
    object: str = Field(max_length=64, index=True)
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64, unique=True)
