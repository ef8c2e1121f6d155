"""Four eyes: a privileged action one organiser asked for, waiting for a second to decide."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from models.appeal import stored_as_value
from models.join_request import RequestState
from models.utc import UTCDateTime


class ApprovalAction(StrEnum):
    BROADCAST = "broadcast"
    PROMOTE = "promote"


class Approval(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    action: ApprovalAction = Field(sa_type=stored_as_value(ApprovalAction))
    # What the action is about: a broadcast, or the person to promote. Two columns rather
    # than one, so that forgetting a person empties their id and never a broadcast's.
    broadcast_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("broadcast.id"), nullable=True)
    )
    # Telegram ids of people: emptied when that person asks the bot to forget them.
    subject_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    requested_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    state: RequestState = Field(default=RequestState.PENDING, sa_type=stored_as_value(RequestState))
    decided_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
