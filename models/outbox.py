"""Bulk messages: broadcasts, and the outbox every bulk message waits in until it is sent."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.appeal import stored_as_value
from models.utc import UTCDateTime, utcnow


class BroadcastState(StrEnum):
    DRAFT = "draft"  # previewed, waiting for the organiser's Send or Cancel
    QUEUED = "queued"
    CANCELLED = "cancelled"


class Broadcast(SQLModel, table=True):
    """An organiser's alert to all subscribed contacts."""

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    state: BroadcastState = Field(
        default=BroadcastState.DRAFT, sa_type=stored_as_value(BroadcastState)
    )
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    queued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recipients: int = 0
    # Set once the organiser has been sent the final report, so it goes out once.
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxKind(StrEnum):
    BROADCAST = "broadcast"
    ANNOUNCEMENT = "announcement"
    REMINDER = "reminder"
    PHASE_START = "phase_start"
    DEADLINE_REPORT = "deadline_report"
    APPEAL_CLOSED = "appeal_closed"  # to every subscribed contact, signers or not
    RECONFIRM = "reconfirm"  # an appeal's text changed under an organisation's signature


class Delivery(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"


class OutboxMessage(SQLModel, table=True):
    """One bulk message to one contact, written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (
        # A cause cannot put the same message twice in one person's queue.
        UniqueConstraint("broadcast_id", "recipient_id"),
        UniqueConstraint("kind", "appeal_id", "recipient_id"),
        Index("ix_outbox_due", "delivery", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: OutboxKind = Field(sa_type=stored_as_value(OutboxKind))
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", index=True)
    appeal_id: int | None = Field(default=None, foreign_key="appeal.id")
    recipient_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    delivery: Delivery = Field(default=Delivery.PENDING, sa_type=stored_as_value(Delivery))
    attempts: int = 0
    not_before: datetime = Field(sa_type=UTCDateTime)
    # Taken by a sender until then (claimed with FOR UPDATE SKIP LOCKED on PostgreSQL): no
    # other sender takes it meanwhile. Cleared when a replica starts leading.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why a message was blocked or failed, as Telegram said it (never the message body).
    error: str | None = Field(default=None, max_length=200)
    # What a reminder or report is about (appeal ids and titles, times), fixed when queued.
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ProgressMessage(SQLModel, table=True):
    """A message in an organiser's chat that shows how far a bulk send has gone: a broadcast,
    or the announcement of an appeal. The outbox worker edits it until nothing is pending."""

    __tablename__ = "progress_message"

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id")
    appeal_id: int | None = Field(default=None, foreign_key="appeal.id")  # its announcement
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    # None until the handler has sent it; if it never does (a crash), the worker sends it.
    message_id: int | None = None
    started_at: datetime = Field(sa_type=UTCDateTime)
    # Set with the last edit, the final figures: then it is edited no more.
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
