"""Updates from Telegram, stored before Telegram is told they arrived (so a crash loses none)."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from models.utc import UTCDateTime


class IncomingUpdate(SQLModel, table=True):
    __tablename__ = "incoming_update"

    # Telegram's own id: a second delivery of the same update finds it already here.
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    # The update as Telegram sent it (JSON), until it is handled; emptied then, since it may
    # hold a person's words.
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = Field(sa_type=UTCDateTime)
    # Set in the same transaction as the update's effect: handling it again changes nothing.
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
