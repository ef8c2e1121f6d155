"""Reminders that fall close together go out as one message naming everything due, in each
reader's language, and members hear when an appeal closes (on the real database)."""

from datetime import UTC, datetime, timedelta

import pytest

from foundation.i18n import load_texts
from models import Database, OutboxKind
from rendering.timeline import render_reminder
from services.payloads import ReminderPayload
from services.reminders import Fired, early_by
from tests.services.timeline_coalition import (
    DEADLINE,
    MINUTE,
    OFFSETS,
    PHASE,
    START,
    START_ISO,
    TORTURE,
    TimelineCoalition,
    close,
    closing_news,
    coalition,
    deadline,
    fire,
    moments,
    queued,
    timeline_rows,
)
from tests.stories import ALES, IRINA, MARTA, NOW, TITLE

HOUR = timedelta(hours=1)


def merged(
    organisation: str, deadline_at: str, appeals: list[tuple[int, str]], c: TimelineCoalition
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


async def the_timeline_runs(database: Database) -> list[datetime]:
    """Look at the timeline at each moment it names, as the scheduler would, until none is
    left; returns the moments looked at."""
    looked: list[datetime] = []
    while upcoming := await moments(database, looked[-1] if looked else NOW):
        looked.append(upcoming[0])
        await fire(database, upcoming[0])
    return looked


async def test_a_deadline_a_day_after_the_phase_start_sends_six_messages_not_seven(
    database: Database,
) -> None:
    """As in the sandbox: the phase in 4 days, the deadline a day later. Each reminder had a
    message of its own, and the deadline's "1 day before" came with "starts now"."""
    c = await coalition(database)
    await deadline(database, c.detainees, START + timedelta(days=1))

    await the_timeline_runs(database)

    told = [
        (row.created_at, row.payload)
        for row in await timeline_rows(database)
        if row.recipient_id == ALES
    ]
    # Five reminders and "starts now", where there were six and "starts now".
    assert len(told) == 6
    # The phase's last call, two hours before it, brings the deadline's "1 day before".
    two_hours_before = START - timedelta(hours=2)
    [(_, merged_one)] = [(at, payload) for at, payload in told if at == two_hours_before]
    assert merged_one is not None
    assert [item["occasion"] for item in merged_one["due"]] == ["phase", "deadline"]
    # "Starts now" is its own message, and never beside a reminder.
    assert [at for at, payload in told if payload is None or not payload.get("due")] == [START]
    assert len({at for at, _ in told}) == len(told)


async def test_a_reminder_due_at_a_phase_start_says_it_starts_now_in_the_same_message(
    database: Database,
) -> None:
    c = await coalition(database)
    await deadline(database, c.detainees, START + OFFSETS[-1])

    await fire(database, START)

    [reminder] = [p for person, p in await queued(database, OutboxKind.REMINDER) if person == ALES]
    assert reminder is not None
    assert reminder["due"][0] == {"occasion": "start", "phase": PHASE}
    assert reminder["due"][1]["occasion"] == "deadline"
    started = [person for person, _ in await queued(database, OutboxKind.PHASE_START)]
    assert ALES not in started  # told in the reminder
    assert IRINA in started
    assert MARTA in started


async def test_an_early_reminder_waits_for_its_own_time_when_nothing_else_is_due(
    database: Database,
) -> None:
    c = await coalition(database)
    await deadline(database, c.detainees)

    assert await fire(database, DEADLINE - OFFSETS[0] - 30 * MINUTE) == Fired()
    assert await fire(database, DEADLINE - OFFSETS[0]) == Fired(reminded=1)


def test_a_reminder_goes_early_at_most_half_way_to_the_next_and_never_past_half_a_day() -> None:
    assert [early_by(offset, OFFSETS) for offset in OFFSETS] == [12 * HOUR, 11 * HOUR, HOUR]
    assert early_by(40 * MINUTE, (40 * MINUTE, 20 * MINUTE)) == 10 * MINUTE


async def test_closing_by_hand_tells_every_subscribed_contact_the_count(database: Database) -> None:
    c = await coalition(database)

    await close(database, c.detainees)

    news = {"appeal_id": c.detainees, "title": TITLE, "signatures": 2}
    assert await closing_news(database, c.detainees) == [(IRINA, news), (ALES, news), (MARTA, news)]
    assert await fire(database, DEADLINE) == Fired()


MERGED: ReminderPayload = {
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
    earlier: ReminderPayload = {
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
