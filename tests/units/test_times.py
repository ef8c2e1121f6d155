"""Times as people type and read them, and the timing settings."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from foundation.i18n import Texts, load_texts
from foundation.settings import Settings, SettingsError, load_settings, parse_duration
from handlers.framework import UsageError
from handlers.timing import ImpossibleTime, parse_when
from rendering.time_spans import countdown, shown

KYIV, PARIS = "Europe/Kyiv", "Europe/Paris"


@pytest.fixture(scope="module")
def english() -> Texts:
    return load_texts()["en"]


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- Reading a time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "zone_name", "expected"),
    [
        (["2026-12-01", "14:00"], KYIV, utc(2026, 12, 1, 12, 0)),  # winter: UTC+2
        (["2026-07-14", "14:00"], KYIV, utc(2026, 7, 14, 11, 0)),  # summer: UTC+3
        (["2026-07-14", "09:30"], PARIS, utc(2026, 7, 14, 7, 30)),  # summer: UTC+2
        (["2026-01-10", "09:30"], PARIS, utc(2026, 1, 10, 8, 30)),  # winter: UTC+1
        (["2026-12-01", "00:15"], "UTC", utc(2026, 12, 1, 0, 15)),
        (["2026-12-01", "08:00"], "America/New_York", utc(2026, 12, 1, 13, 0)),
        (["2027-01-01", "01:00"], KYIV, utc(2026, 12, 31, 23, 0)),  # the day before, in UTC
        (["2028-02-29", "12:00"], "UTC", utc(2028, 2, 29, 12, 0)),  # a leap day
    ],
)
def test_a_time_without_an_offset_is_read_in_the_zone(
    words: list[str], zone_name: str, expected: datetime
) -> None:
    when, rest = parse_when(words, zone_name)

    assert when == expected
    assert when.tzinfo is UTC
    assert rest == []


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("14:00+02:00", utc(2026, 12, 1, 12, 0)),
        ("14:00+0200", utc(2026, 12, 1, 12, 0)),
        ("14:00-05:00", utc(2026, 12, 1, 19, 0)),
        ("14:00-0500", utc(2026, 12, 1, 19, 0)),
        ("14:00-05:30", utc(2026, 12, 1, 19, 30)),
        ("14:00-00:30", utc(2026, 12, 1, 14, 30)),
        ("14:00+05:45", utc(2026, 12, 1, 8, 15)),
        ("14:00+14:00", utc(2026, 12, 1, 0, 0)),
        ("14:00-12:00", utc(2026, 12, 2, 2, 0)),
        ("14:00Z", utc(2026, 12, 1, 14, 0)),
        ("14:00z", utc(2026, 12, 1, 14, 0)),
        ("14:00UTC", utc(2026, 12, 1, 14, 0)),
        ("14:00utc", utc(2026, 12, 1, 14, 0)),
    ],
)
def test_an_offset_glued_to_the_time_wins_over_the_zone(clock: str, expected: datetime) -> None:
    when, rest = parse_when(["2026-12-01", clock, "Second", "round"], KYIV)

    assert when == expected
    assert rest == ["Second", "round"]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        ("+02:00", utc(2026, 12, 1, 12, 0)),
        ("+0200", utc(2026, 12, 1, 12, 0)),
        ("-05:00", utc(2026, 12, 1, 19, 0)),
        ("Z", utc(2026, 12, 1, 14, 0)),
        ("UTC", utc(2026, 12, 1, 14, 0)),
        ("utc", utc(2026, 12, 1, 14, 0)),
    ],
)
def test_an_offset_may_be_a_separate_word(offset: str, expected: datetime) -> None:
    when, rest = parse_when(["2026-12-01", "14:00", offset, "Second", "round"], KYIV)

    assert when == expected
    assert rest == ["Second", "round"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["2026-12-01", "14:00:30"], utc(2026, 12, 1, 12, 0, 30)),
        (["2026-12-01", "14:00:30+02:00"], utc(2026, 12, 1, 12, 0, 30)),
        (["2026-12-01", "14:00:30Z"], utc(2026, 12, 1, 14, 0, 30)),
        (["2026-12-01", "14:00:30", "-05:00"], utc(2026, 12, 1, 19, 0, 30)),
    ],
)
def test_seconds_may_be_given(words: list[str], expected: datetime) -> None:
    assert parse_when(words, KYIV) == (expected, [])


def test_the_words_after_the_time_are_returned() -> None:
    when, rest = parse_when(["2026-12-01", "14:00", "Second", "round", "+02:00"], "UTC")

    assert when == utc(2026, 12, 1, 14, 0)
    assert rest == ["Second", "round", "+02:00"]


def test_a_glued_offset_leaves_a_following_offset_word_to_the_rest() -> None:
    when, rest = parse_when(["2026-12-01", "14:00Z", "+02:00"], KYIV)

    assert when == utc(2026, 12, 1, 14, 0)
    assert rest == ["+02:00"]


@pytest.mark.parametrize(
    "words",
    [
        [],
        ["2026-12-01"],
        ["14:00", "2026-12-01"],
        ["2026-12-1", "14:00"],
        ["2026/12/01", "14:00"],
        ["01.12.2026", "14:00"],
        ["tomorrow", "14:00"],
        ["2026-12-01", "1400"],
        ["2026-12-01", "2pm"],
        ["2026-12-01", "9:00"],
        ["2026-12-01", "14:00:3"],
        ["2026-12-01", "14:00:30:00"],
        ["2026-12-01", "14:00:30.5"],
        ["2026-12-01", "14:00+02"],
        ["2026-12-01", "14:00+2:00"],
        ["2026-12-01", "14:00 CET"],
        ["2026-12-01", "14:00CET"],
        ["2026-12-01T14:00"],
        ["2026-12-01T14:00", "Name"],
    ],
)
def test_a_missing_or_garbled_date_or_time_shows_the_usage(words: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_when(words, KYIV)


@pytest.mark.parametrize(
    ("words", "written"),
    [
        (["2026-02-30", "10:00"], "2026-02-30 10:00"),
        (["2027-02-29", "10:00"], "2027-02-29 10:00"),
        (["2026-13-01", "10:00"], "2026-13-01 10:00"),
        (["2026-12-00", "10:00"], "2026-12-00 10:00"),
        (["2026-12-01", "25:00"], "2026-12-01 25:00"),
        (["2026-12-01", "24:00"], "2026-12-01 24:00"),
        (["2026-12-01", "10:61"], "2026-12-01 10:61"),
        (["2026-12-01", "10:00:60"], "2026-12-01 10:00:60"),
        (["2026-12-01", "25:00+02:00"], "2026-12-01 25:00 +02:00"),
        (["2026-12-01", "14:00+15:00"], "+15:00"),
        (["2026-12-01", "14:00-15:00"], "-15:00"),
        (["2026-12-01", "14:00", "+1500"], "+1500"),
        (["2026-12-01", "14:00+02:60"], "+02:60"),
    ],
)
def test_numbers_that_make_no_date_and_time_are_impossible(
    words: list[str], written: str, english: Texts
) -> None:
    with pytest.raises(ImpossibleTime) as refused:
        parse_when(words, KYIV)

    assert refused.value.written == written
    assert refused.value.word(english) == f"There is no such date and time as {written}."


@pytest.mark.parametrize("offset", ["+14:30", "-14:30", "+14:01"])
def test_an_offset_beyond_fourteen_hours_is_impossible(offset: str) -> None:
    with pytest.raises(ImpossibleTime):
        parse_when(["2026-12-01", f"14:00{offset}"], KYIV)


def test_a_time_skipped_when_the_clocks_went_forward_is_impossible() -> None:
    # Paris went from 02:00 straight to 03:00 on 29 March 2026.
    with pytest.raises(ImpossibleTime) as refused:
        parse_when(["2026-03-29", "02:30", "Geneva"], "Europe/Paris")
    assert refused.value.written == "2026-03-29 02:30"


def test_the_written_time_is_escaped_when_worded(english: Texts) -> None:
    refused = ImpossibleTime("<b>")

    assert refused.word(english) == "There is no such date and time as &lt;b&gt;."


# --- Showing a time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone_name", "expected"),
    [
        (utc(2026, 12, 1, 12, 0), KYIV, "2026-12-01 14:00 Europe/Kyiv"),
        (utc(2026, 7, 14, 7, 30), PARIS, "2026-07-14 09:30 Europe/Paris"),
        (utc(2026, 1, 10, 7, 30), PARIS, "2026-01-10 08:30 Europe/Paris"),
        (utc(2026, 12, 31, 23, 0), KYIV, "2027-01-01 01:00 Europe/Kyiv"),
        (utc(2026, 12, 1, 12, 0), "UTC", "2026-12-01 12:00 UTC"),
        (utc(2026, 12, 1, 12, 0), "America/New_York", "2026-12-01 07:00 America/New_York"),
    ],
)
def test_a_time_is_shown_in_the_zone_it_names(
    moment: datetime, zone_name: str, expected: str
) -> None:
    assert shown(moment, zone_name) == expected


@pytest.mark.parametrize("zone_name", [KYIV, PARIS, "UTC", "Asia/Kathmandu"])
def test_a_time_shown_in_a_zone_reads_back_as_the_same_moment(zone_name: str) -> None:
    moment = utc(2026, 7, 14, 7, 30)
    date, clock, named = shown(moment, zone_name).split(" ")

    assert named == zone_name
    assert parse_when([date, clock], zone_name) == (moment, [])


# --- Countdowns ----------------------------------------------------------------------------

NOW = utc(2026, 11, 26, 9, 0)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        # A reminder "3 days before" goes out a moment after that point, and says so.
        (timedelta(days=2, hours=23, minutes=59), "in 3 days"),
        (timedelta(hours=23, minutes=59), "in 1 day"),
        (timedelta(hours=1, minutes=59), "in 2 hours"),
        (timedelta(days=2, hours=3), "in 2 days"),
        (timedelta(days=1, hours=12), "in 2 days"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(hours=22, minutes=59), "in 23 hours"),
        (timedelta(hours=5, minutes=10), "in 5 hours"),
        (timedelta(hours=1), "in 1 hour"),
        (timedelta(minutes=55), "in 1 hour"),
        (timedelta(minutes=54), "in 54 minutes"),
        (timedelta(minutes=1, seconds=20), "in 1 minute"),
        (timedelta(seconds=45), "in less than a minute"),
        (timedelta(), "in less than a minute"),
        (-timedelta(hours=5, minutes=10), "5 hours ago"),
        (-timedelta(days=3, hours=1), "3 days ago"),
        (-timedelta(seconds=45), "less than a minute ago"),
    ],
)
def test_countdown_says_how_far_a_moment_is(
    english: Texts, delta: timedelta, expected: str
) -> None:
    assert countdown(english, NOW + delta, NOW) == expected


# --- Durations and the timing settings ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", timedelta(days=3)),
        ("2h", timedelta(hours=2)),
        ("30m", timedelta(minutes=30)),
        ("6s", timedelta(seconds=6)),
        (" 12 h ", timedelta(hours=12)),
        ("999999s", timedelta(seconds=999999)),
    ],
)
def test_a_duration_is_one_number_and_one_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["3x", "", " ", "1y", "d", "3", "-1d", "1.5h", "3dh", "1d2h", "1000000s"]
)
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration such as 3d, 2h, 30m or 6s"):
        parse_duration(text)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No setting from the real environment or a `.env` file: only what a test sets."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_the_timing_settings_have_defaults(environment: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.reminder_offsets == (timedelta(days=3), timedelta(days=1), timedelta(hours=2))
    assert settings.reminder_grace == timedelta(hours=6)
    assert settings.bot_timezone == "UTC"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("6s,3s", (timedelta(seconds=6), timedelta(seconds=3))),
        ("3s,6s", (timedelta(seconds=6), timedelta(seconds=3))),
        ("2h, 3d ,1d", (timedelta(days=3), timedelta(days=1), timedelta(hours=2))),
        ("1d,24h,1d", (timedelta(days=1),)),
        ("30m,", (timedelta(minutes=30),)),
    ],
)
def test_reminder_offsets_are_read_longest_first(
    environment: pytest.MonkeyPatch, value: str, expected: tuple[timedelta, ...]
) -> None:
    environment.setenv("REMINDER_OFFSETS", value)

    assert load_settings().reminder_offsets == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("3x", "'3x' is not a duration such as 3d, 2h, 30m or 6s"),
        ("1y", "'1y' is not a duration such as 3d, 2h, 30m or 6s"),
        ("3d,soon", "'soon' is not a duration such as 3d, 2h, 30m or 6s"),
        ("", "needs at least one duration, such as 3d,1d,2h"),
        (" , ", "needs at least one duration, such as 3d,1d,2h"),
    ],
)
def test_bad_reminder_offsets_are_refused_naming_the_setting(
    environment: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    environment.setenv("REMINDER_OFFSETS", value)

    with pytest.raises(SettingsError) as refused:
        load_settings()

    assert str(refused.value) == f"REMINDER_OFFSETS: {reason}"


def test_the_reminder_grace_is_a_duration(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("REMINDER_GRACE", "90m")
    assert load_settings().reminder_grace == timedelta(minutes=90)

    environment.setenv("REMINDER_GRACE", "a while")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith("REMINDER_GRACE: 'a while' is not a duration")


@pytest.mark.parametrize("name", [KYIV, PARIS, "UTC", "America/Argentina/Buenos_Aires"])
def test_a_known_bot_timezone_is_kept(environment: pytest.MonkeyPatch, name: str) -> None:
    environment.setenv("BOT_TIMEZONE", name)

    assert load_settings().bot_timezone == name


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe/Atlantis", "", "../etc/passwd", "Kyiv"])
def test_an_unknown_bot_timezone_is_refused_naming_the_setting(
    environment: pytest.MonkeyPatch, name: str
) -> None:
    environment.setenv("BOT_TIMEZONE", name)

    with pytest.raises(SettingsError) as refused:
        load_settings()

    assert str(refused.value) == f"BOT_TIMEZONE: {name!r} is not a time zone"


@pytest.mark.parametrize(
    ("language", "deltas", "expected"),
    [
        ("fr", (timedelta(days=3), timedelta(days=1), timedelta(hours=2)),
         ["dans 3 jours", "dans 1 jour", "dans 2 heures"]),
        ("uk", (timedelta(days=3), timedelta(days=1), timedelta(hours=2), timedelta(days=5)),
         ["через 3 дні", "через 1 день", "через 2 години", "через 5 днів"]),
        ("ru", (timedelta(days=3), timedelta(days=1), timedelta(hours=2), timedelta(days=5)),
         ["через 3 дня", "через 1 день", "через 2 часа", "через 5 дней"]),
        ("uk", (timedelta(hours=1), timedelta(minutes=21, seconds=40)), ["через 1 годину", "через 21 хвилину"]),
        ("ru", (timedelta(hours=1), timedelta(minutes=21, seconds=40)), ["через 1 час", "через 21 минуту"]),
        ("ru", (-timedelta(hours=5),), ["5 часов назад"]),
        ("uk", (-timedelta(hours=5),), ["5 годин тому"]),
        ("fr", (-timedelta(minutes=1),), ["il y a 1 minute"]),
    ],
)  # fmt: skip
def test_countdowns_are_said_as_people_say_them_in_each_language(
    language: str, deltas: tuple[timedelta, ...], expected: list[str]
) -> None:
    texts = load_texts()[language]
    # Each a moment after the reminder point, as reminders are sent.
    late = timedelta(seconds=40)
    said = [countdown(texts, NOW + delta - late, NOW) if delta > timedelta() else
            countdown(texts, NOW + delta, NOW) for delta in deltas]  # fmt: skip
    assert said == expected
