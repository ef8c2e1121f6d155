"""A member NGO of the coalition."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.utc import UTCDateTime, utcnow


def name_key(name: str) -> str:
    """The form of an organisation's name that must be unique: case and spacing ignored."""
    return " ".join(name.split()).casefold()


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    # Unique so that "/invite Memorial" and "/invite  memorial" reach the same organisation.
    name_key: str = Field(max_length=200, unique=True)
    # As the letter to the addressees shows it ("Ukraine", "France"); optional.
    country: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
