"""A single-use, expiring code that makes a stranger a contact of an organisation."""

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from models.utc import UTCDateTime


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    # Only a SHA-256 of the code is kept: a leaked database does not leak usable invites.
    code_hash: str = Field(max_length=64, unique=True)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
