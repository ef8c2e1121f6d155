"""Reminders that fall close together go out as one message naming everything due, in each
reader's language, and members hear when an appeal closes (on the real database)."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import load_texts
from handlers.phases import render_reminder
from models import Database, OutboxKind
from services.reminders import Fired, merge_window
from tests.stories import ALES, IRINA, MARTA, TITLE
from tests.test_reminders import (
    DEADLINE,
    MINUTE,
    OFFSETS,
    PHASE,
    START,
    START_ISO,
    TORTURE,
    Coalition,
    close,
    closing_news,
    coalition,
    deadline,
    fire,
    queued,
)

HOUR = timedelta(hours=1)


def merged(
    organisation: str, deadline_at: str, appeals: list[tuple[int, str]], c: Coalition
) -> dict[str, object]:
    """A reminder of the phase start and the detainees appeal's deadline in one message."""
    return {
        "organisation": organisation,
        "due": [
            {"occasion": "phase", "at": START_ISO, "phase": PHASE},
            {"occasion": "deadline", "at": deadline_at, "appeal_id": c.detainees},
        ],
        "appeals": [[appeal_id, title] for appeal_id, title in appeals],
    }


async def test_a_deadline_at_the_phase_start_is_reminded_in_the_same_three_messages(
    database: Database,
) -> None:
    c = await coalition(database)
    await deadline(database, c.detainees, START)

    for offset in OFFSETS:
        assert await fire(database, START - offset) == Fired(reminded=2), offset

    # Memorial signed the detainees appeal: only the phase concerns it.
    ovd = merged("OVD-Info", START_ISO, [(c.detainees, TITLE), (c.torture, TORTURE)], c)
    told = await queued(database, OutboxKind.REMINDER)
    assert [person for person, _ in told] == [IRINA, ALES] * 3
    assert [payload for person, payload in told if person == ALES] == [ovd] * 3


async def test_a_deadline_half_an_hour_after_the_phase_start_goes_out_early_with_it(
    database: Database,
) -> None:
    c = await coalition(database)
    half_past = START + 30 * MINUTE
    await deadline(database, c.detainees, half_past)
    three_days = START - OFFSETS[0]

    assert await fire(database, three_days) == Fired(reminded=2)
    assert await fire(database, three_days + 30 * MINUTE) == Fired()

    ovd = merged("OVD-Info", half_past.isoformat(), [(c.detainees, TITLE), (c.torture, TORTURE)], c)
    assert (ALES, ovd) in await queued(database, OutboxKind.REMINDER, at=three_days)
    assert len(await queued(database, OutboxKind.REMINDER)) == 2


async def test_a_deadline_hours_after_the_phase_start_keeps_reminders_of_its_own(
    database: Database,
) -> None:
    c = await coalition(database)
    await deadline(database, c.detainees, START + 5 * HOUR)
    three_days = START - OFFSETS[0]

    assert await fire(database, three_days) == Fired(reminded=2)
    assert await fire(database, three_days + 5 * HOUR) == Fired(reminded=1)

    [(person, payload)] = await queued(database, OutboxKind.REMINDER, at=three_days + 5 * HOUR)
    assert person == ALES
    assert payload is not None
    assert [item["occasion"] for item in payload["due"]] == ["deadline"]


async def test_an_early_reminder_waits_for_its_own_time_when_nothing_else_is_due(
    database: Database,
) -> None:
    c = await coalition(database)
    await deadline(database, c.detainees)

    assert await fire(database, DEADLINE - OFFSETS[0] - 30 * MINUTE) == Fired()
    assert await fire(database, DEADLINE - OFFSETS[0]) == Fired(reminded=1)


def test_the_merge_window_is_an_hour_but_never_joins_one_occasions_own_reminders() -> None:
    assert merge_window(OFFSETS) == HOUR
    assert merge_window((timedelta(hours=1), timedelta(minutes=20))) == 20 * MINUTE
    assert merge_window((timedelta(days=1),)) == HOUR


async def test_closing_by_hand_tells_every_subscribed_contact_the_count(database: Database) -> None:
    c = await coalition(database)

    await close(database, c.detainees)

    news = {"appeal_id": c.detainees, "title": TITLE, "signatures": 2}
    assert await closing_news(database, c.detainees) == [(IRINA, news), (ALES, news), (MARTA, news)]
    assert await fire(database, DEADLINE) == Fired()


MERGED = {
    "organisation": "Общество «Память и право»",
    "due": [
        {"occasion": "phase", "at": "2027-02-10T09:00:00+00:00", "phase": "Geneva round"},
        {"occasion": "deadline", "at": "2027-02-10T09:30:00+00:00", "appeal_id": 1},
    ],
    "appeals": [[1, "Free them all"]],
}
THREE_DAYS_BEFORE = datetime(2027, 2, 7, 9, 0, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "⏰ <b>Geneva round</b> starts 2027-02-10 11:00 Europe/Kyiv (in 3 days).\n"
            "⏰ Signatures for appeal #1 close 2027-02-10 11:30 Europe/Kyiv (in 3 days).\n"
            "Общество «Память и право» has not yet signed:",
        ),
        (
            "fr",
            "⏰ <b>Geneva round</b> commence le 2027-02-10 11:00 Europe/Kyiv (dans 3 jours).\n"
            "⏰ L’appel #1 reçoit des signatures jusqu’au 2027-02-10 11:30 Europe/Kyiv "
            "(dans 3 jours).\n"
            "L’organisation « Общество “Память и право” » n’a pas encore signé :",
        ),
        (
            "uk",
            "⏰ <b>Geneva round</b> починається 2027-02-10 11:00 Europe/Kyiv (через 3 дні).\n"
            "⏰ Підписи під зверненням #1 приймаються до 2027-02-10 11:30 Europe/Kyiv "
            "(через 3 дні).\n"
            "Організація «Общество „Память и право“» ще не підписала:",
        ),
        (
            "ru",
            "⏰ <b>Geneva round</b> начинается 2027-02-10 11:00 Europe/Kyiv (через 3 дня).\n"
            "⏰ Подписи под обращением #1 принимаются до 2027-02-10 11:30 Europe/Kyiv "
            "(через 3 дня).\n"
            "Организация «Общество „Память и право“» ещё не подписала:",
        ),
    ],
)
def test_one_message_names_everything_due_in_each_language(language: str, expected: str) -> None:
    text, buttons = render_reminder(
        load_texts()[language], MERGED, "Europe/Kyiv", THREE_DAYS_BEFORE
    )

    assert text == f"{expected}\n• #1 Free them all"
    assert [[button.callback_data for button in row] for row in buttons.inline_keyboard] == [
        ["cosign:1"]
    ]


def test_a_reminder_queued_before_the_upgrade_still_reads_as_it_did() -> None:
    earlier = {
        "occasion": "deadline",
        "organisation": "Memorial",
        "at": "2027-02-10T09:30:00+00:00",
        "phase": None,
        "appeals": [[1, "Free them all"]],
    }

    text, _ = render_reminder(load_texts()["en"], earlier, "UTC", THREE_DAYS_BEFORE)

    assert text == (
        "⏰ Signatures for appeal #1 close 2027-02-10 09:30 UTC (in 3 days).\n"
        "Memorial has not yet signed:\n• #1 Free them all"
    )
