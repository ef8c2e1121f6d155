"""A stranger's request to become a contact of an organisation, decided by organisers."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from models.appeal import stored_as_value
from models.utc import UTCDateTime


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class JoinRequest(SQLModel, table=True):
    __tablename__ = "join_request"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    organisation_name: str = Field(max_length=200)
    language: str = Field(max_length=8)
    state: RequestState = Field(default=RequestState.PENDING, sa_type=stored_as_value(RequestState))
    # The requester's id while the request is pending, else empty: unique, so that a person
    # has at most one pending request (NULLs never collide).
    pending_for: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, unique=True)
    )
    created_at: datetime = Field(sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
