"""The sandbox's clock, which a person moves forward to see reminders and deadlines happen."""

from datetime import UTC, datetime, timedelta


class MovableClock:
    """The real time plus however far it has been moved forward (never back)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        if delta <= timedelta():
            raise ValueError("the clock only moves forward")
        self.offset += delta

    def timestamp(self) -> float:
        """Seconds since the epoch, as the Bot API dates messages."""
        return self().timestamp()
