"""Negotiation phases appeals are timed to, and the reminders already sent for them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.appeal import stored_as_value
from models.utc import UTCDateTime, utcnow


class Phase(SQLModel, table=True):
    """A dated step of the negotiations; its date moves, and reminders follow it."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The start time whose "starts now" message was queued: a reschedule re-arms it.
    start_announced_for: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Occasion(StrEnum):
    PHASE = "phase"
    DEADLINE = "deadline"


class Reminder(SQLModel, table=True):
    """One reminder (occasion, offset, organisation) for one date of its occasion.

    Inserted in the transaction that queues its messages: the unique constraint is what makes
    a reminder go out once across restarts, and a new date (a reschedule) a new reminder.
    """

    __table_args__ = (
        UniqueConstraint(
            "occasion", "subject_id", "target_at", "offset_seconds", "organisation_id"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    occasion: Occasion = Field(sa_type=stored_as_value(Occasion))
    subject_id: int  # the phase's or the appeal's id
    target_at: datetime = Field(sa_type=UTCDateTime)  # the phase start or deadline it was for
    offset_seconds: int
    organisation_id: int = Field(foreign_key="organisation.id")
    # False when it was too late (more than REMINDER_GRACE) and deliberately not sent.
    sent: bool = True
    recorded_at: datetime = Field(sa_type=UTCDateTime)
