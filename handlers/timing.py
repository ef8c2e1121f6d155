"""Times as people type and read them: parsed in a zone, shown in theirs, with countdowns."""

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from markupsafe import Markup

from foundation.i18n import Texts
from foundation.settings import zone
from handlers.framework import BadInput, UsageError

# 2026-12-01 14:00 (or 14:00:30), optionally followed by an offset: +02:00, -0500, Z or UTC.
_WHEN = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"(?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<offset>[+-]\d{2}:?\d{2}|Z|UTC)?", re.I)
_OFFSET = re.compile(r"(?:([+-]\d{2}):?(\d{2})|Z|UTC)", re.IGNORECASE)
# Offsets reach 14 hours: a day's margin at each end of what a datetime holds.
FIRST_SHOWN = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
LAST_SHOWN = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


class ImpossibleTime(BadInput):
    """The numbers do not make a date and time (2026-02-30, 25:00)."""

    def __init__(self, written: str) -> None:
        super().__init__(written)
        self.written = written

    def word(self, texts: Texts) -> Markup:
        return texts.t("There is no such date and time as {written}.", written=self.written)


def parse_when(words: list[str], zone_name: str) -> tuple[datetime, list[str]]:
    """A time from the first words (date, time, optional offset), in UTC, and the words left.

    Without an offset the time is read in `zone_name`.
    """
    if len(words) < 2 or not _WHEN.fullmatch(words[0]):
        raise UsageError()
    clock = _CLOCK.fullmatch(words[1])
    if clock is None:
        raise UsageError()
    rest = words[2:]
    offset_text = clock["offset"] or ""
    if not offset_text and rest and _OFFSET.fullmatch(rest[0]):
        offset_text, rest = rest[0], rest[1:]
    written = " ".join([words[0], clock["time"], offset_text]).strip()
    try:
        local = datetime.fromisoformat(f"{words[0]}T{clock['time']}")
    except ValueError:
        raise ImpossibleTime(written) from None
    if offset_text:
        moment = _in_range(local.replace(tzinfo=_fixed_offset(offset_text)), written)
        return moment, rest
    reading = zone(zone_name)
    moment = _in_range(local.replace(tzinfo=reading), written)
    if moment.astimezone(reading).replace(tzinfo=None) != local:
        raise ImpossibleTime(written)  # skipped when the clocks went forward
    return moment, rest


def _in_range(moment: datetime, written: str) -> datetime:
    """The moment in UTC, if every time zone can show it: at the ends of year 1 and year 9999
    a zone's clock would fall outside what a datetime holds."""
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        raise ImpossibleTime(written) from None
    if not FIRST_SHOWN <= in_utc <= LAST_SHOWN:
        raise ImpossibleTime(written)
    return in_utc


def _fixed_offset(text: str) -> tzinfo:
    match = _OFFSET.fullmatch(text)
    assert match is not None
    if match[1] is None:
        return UTC
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or abs(hours) * 60 + minutes > 14 * 60:
        raise ImpossibleTime(text)
    sign = -1 if match[1].startswith("-") else 1
    return timezone(timedelta(hours=hours, minutes=sign * minutes))
