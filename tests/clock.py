"""A clock the tests move by hand, instead of sleeping."""

from datetime import UTC, datetime, timedelta


class Clock:
    """The real time plus however far a test has moved it forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
