"""Reminders on the real database: before a phase, at its start, and after downtime."""

import asyncio
from datetime import timedelta

import pytest

from models import Database, Delivery, Occasion, OutboxKind
from services import reminders
from services.reminders import Fired
from tests.services.timeline_coalition import (
    CLOSED,
    DRAFTED,
    GRACE,
    MINUTE,
    OFFSETS,
    ORGANISERS,
    PHASE,
    PRISONERS,
    SECOND,
    START,
    START_ISO,
    TORTURE,
    attach_to,
    close,
    coalition,
    fire,
    ledger,
    new_phase,
    phase_reminder,
    queued,
    reminded_of_phase,
    reschedule,
    timeline_rows,
    unsubscribe,
)
from tests.stories import ALES, IRINA, MARTA, NOW, OLEG, draft, member, open_appeal, sign

# --- Reminders before a phase --------------------------------------------------------------


async def test_nothing_is_queued_before_the_first_offset(database: Database) -> None:
    await coalition(database)

    assert await fire(database, NOW) == Fired()
    assert await fire(database, START - OFFSETS[0] - SECOND) == Fired()

    assert await timeline_rows(database) == []
    assert await ledger(database) == []


async def test_a_day_before_the_phase_each_organisation_is_reminded_of_what_it_has_not_signed(
    database: Database,
) -> None:
    c = await coalition(database)
    three_days, one_day = START - timedelta(days=3), START - timedelta(days=1)
    await fire(database, three_days)

    fired = await fire(database, one_day)

    assert fired == Fired(reminded=2)
    assert await queued(database, OutboxKind.REMINDER, at=one_day) == reminded_of_phase(c)
    rows = [row for row in await timeline_rows(database) if row.created_at == one_day]
    assert [(r.recipient_id, r.chat_id, r.appeal_id, r.delivery, r.not_before) for r in rows] == [
        (IRINA, IRINA, None, Delivery.PENDING, one_day),
        (ALES, ALES, None, Delivery.PENDING, one_day),
    ]
    day, three = timedelta(days=1), timedelta(days=3)
    assert await ledger(database) == [
        (Occasion.PHASE, c.phase_id, START, three, c.memorial, True, three_days),
        (Occasion.PHASE, c.phase_id, START, three, c.ovd, True, three_days),
        (Occasion.PHASE, c.phase_id, START, day, c.memorial, True, one_day),
        (Occasion.PHASE, c.phase_id, START, day, c.ovd, True, one_day),
    ]


async def test_every_subscribed_contact_of_an_organisation_gets_the_reminder(
    database: Database,
) -> None:
    memorial = await member(database, "Memorial", IRINA)
    await member(database, "Memorial", OLEG)
    await member(database, "Memorial", ALES)
    await unsubscribe(database, ALES)
    phase_id = await new_phase(database)
    appeal_id = await open_appeal(database, TORTURE)
    await attach_to(database, appeal_id, phase_id)
    one_day = START - timedelta(days=1)

    assert await fire(database, one_day) == Fired(reminded=1, skipped=1)

    expected = phase_reminder("Memorial", [(appeal_id, TORTURE)])
    assert await queued(database, OutboxKind.REMINDER) == [(IRINA, expected), (OLEG, expected)]
    assert [
        (offset, organisation, sent) for *_, offset, organisation, sent, _ in await ledger(database)
    ] == [
        (timedelta(days=3), memorial, False),
        (timedelta(days=1), memorial, True),
    ]


async def test_two_looks_at_once_remind_once(database: Database) -> None:
    c = await coalition(database)
    one_day = START - timedelta(days=1)

    first, second = await asyncio.gather(fire(database, one_day), fire(database, one_day))

    assert first.reminded + second.reminded == 2
    assert await queued(database, OutboxKind.REMINDER) == reminded_of_phase(c)


async def test_looking_again_before_the_next_offset_queues_nothing_more(
    database: Database,
) -> None:
    c = await coalition(database)
    one_day = START - timedelta(days=1)
    await fire(database, START - timedelta(days=3))
    await fire(database, one_day)
    rows, entries = await queued(database, OutboxKind.REMINDER), await ledger(database)

    for now in (one_day, one_day, one_day + timedelta(hours=1), START - OFFSETS[2] - SECOND):
        assert await fire(database, now) == Fired()

    assert await queued(database, OutboxKind.REMINDER) == rows == reminded_of_phase(c) * 2
    assert await ledger(database) == entries


async def test_each_offset_fires_once(database: Database) -> None:
    c = await coalition(database)
    looks = [
        (START - timedelta(days=3), 2),
        (START - timedelta(days=3) + timedelta(hours=5), 0),
        (START - timedelta(days=1), 2),
        (START - timedelta(days=1) + timedelta(hours=5), 0),
        (START - timedelta(hours=2), 2),
        (START - timedelta(hours=2) + MINUTE, 0),
        (START - MINUTE, 0),
    ]

    for now, organisations in looks:
        assert (await fire(database, now)).reminded == organisations, now

    assert await queued(database, OutboxKind.REMINDER) == reminded_of_phase(c) * 3
    assert [
        (offset, organisation, sent)
        for _, _, _, offset, organisation, sent, _ in await ledger(database)
    ] == [
        (offset, organisation, True) for offset in OFFSETS for organisation in (c.memorial, c.ovd)
    ]


async def test_after_downtime_only_the_latest_of_several_due_reminders_goes_out(
    database: Database,
) -> None:
    c = await coalition(database)
    # Back 1 h 30 min before the start, with a grace long enough for the 1 d and 2 h moments:
    # one reminder per organisation, the 2 h one; the 1 d one is recorded as not sent.
    async with database.transaction() as session:
        fired = await reminders.fire_due(
            session=session,
            now=START - timedelta(minutes=90),
            offsets=OFFSETS,
            grace=timedelta(days=2),
            organiser_ids=ORGANISERS,
        )

    assert (fired.reminded, fired.skipped) == (2, 4)
    assert await queued(database, OutboxKind.REMINDER) == reminded_of_phase(c)
    assert {
        (offset, organisation, sent)
        for _, _, _, offset, organisation, sent, _ in await ledger(database)
    } == {
        (timedelta(days=3), c.memorial, False),
        (timedelta(days=3), c.ovd, False),
        (timedelta(days=1), c.memorial, False),
        (timedelta(days=1), c.ovd, False),
        (timedelta(hours=2), c.memorial, True),
        (timedelta(hours=2), c.ovd, True),
    }


async def test_an_organisation_that_has_signed_everything_meanwhile_is_not_reminded_again(
    database: Database,
) -> None:
    c = await coalition(database)
    await fire(database, START - timedelta(days=1))
    await sign(database, c.torture, c.memorial, IRINA)
    await sign(database, c.detainees, c.ovd, ALES)
    two_hours = START - timedelta(hours=2)

    assert await fire(database, two_hours) == Fired(reminded=1)

    assert await queued(database, OutboxKind.REMINDER, at=two_hours) == [
        (ALES, phase_reminder("OVD-Info", [(c.torture, TORTURE)]))
    ]


async def test_a_rescheduled_phase_is_reminded_again_for_its_new_time(database: Database) -> None:
    c = await coalition(database)
    await fire(database, START - timedelta(days=3))
    await fire(database, START - timedelta(days=1))
    moved = START + timedelta(days=3)
    moved_iso = "2026-12-09T09:00:00+00:00"
    await reschedule(database, c.phase_id, moved, now=START - timedelta(hours=23))

    # The old time's last reminder and start are no longer due.
    assert await fire(database, START - timedelta(hours=2)) == Fired()
    assert await fire(database, START - SECOND) == Fired()
    before = await queued(database, OutboxKind.REMINDER)
    # The new time's reminders come at its own offsets, once each.
    for offset in OFFSETS:
        assert await fire(database, moved - offset) == Fired(reminded=2), offset
        assert await fire(database, moved - offset + timedelta(hours=1)) == Fired()

    assert await queued(database, OutboxKind.REMINDER) == before + reminded_of_phase(
        c, moved_iso
    ) * len(OFFSETS)
    assert await queued(database, OutboxKind.PHASE_START) == []
    entries = await ledger(database)
    assert [(target, offset) for _, _, target, offset, _, _, _ in entries] == [
        (START, timedelta(days=3)),
        (START, timedelta(days=3)),
        (START, timedelta(days=1)),
        (START, timedelta(days=1)),
        *[(moved, offset) for offset in OFFSETS for _ in (c.memorial, c.ovd)],
    ]
    assert all(sent for *_, sent, _ in entries)


async def test_a_phase_without_open_appeals_reminds_nobody(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", ALES)
    phase_id = await new_phase(database)
    await open_appeal(database, PRISONERS)  # open, but timed to no phase
    drafted = await draft(database, DRAFTED)
    closed = await open_appeal(database, CLOSED)
    await attach_to(database, drafted, phase_id)
    await attach_to(database, closed, phase_id)
    await close(database, closed)

    for offset in OFFSETS:
        assert (await fire(database, START - offset)).reminded == 0

    assert await queued(database, OutboxKind.REMINDER) == []
    assert await ledger(database) == []


async def test_drafts_closed_and_unattached_appeals_are_never_named(database: Database) -> None:
    c = await coalition(database)

    for offset in OFFSETS:
        await fire(database, START - offset)

    named = {
        appeal_id
        for _, payload in await queued(database, OutboxKind.REMINDER)
        for appeal_id, _ in (payload or {})["appeals"]
    }
    assert named == {c.detainees, c.torture}


# --- The start of a phase ------------------------------------------------------------------


async def test_at_its_start_every_subscribed_contact_is_told_once(database: Database) -> None:
    c = await coalition(database)
    assert (await fire(database, START - SECOND)).phases_started == []

    fired = await fire(database, START)

    assert fired.phases_started == [c.phase_id]
    started = {"phase": PHASE, "at": START_ISO}
    assert await queued(database, OutboxKind.PHASE_START) == [
        (IRINA, started),
        (ALES, started),
        (MARTA, started),
    ]
    for now in (START, START + timedelta(hours=1), START + GRACE):
        assert (await fire(database, now)).phases_started == []
    assert len(await queued(database, OutboxKind.PHASE_START)) == 3


async def test_a_phase_moved_after_its_start_is_announced_again_at_the_new_time(
    database: Database,
) -> None:
    c = await coalition(database)
    await fire(database, START)
    moved = START + timedelta(days=1)
    await reschedule(database, c.phase_id, moved, now=START + timedelta(hours=1))

    assert (await fire(database, moved - SECOND)).phases_started == []
    assert (await fire(database, moved)).phases_started == [c.phase_id]
    assert (await fire(database, moved + MINUTE)).phases_started == []

    again = {"phase": PHASE, "at": "2026-12-07T09:00:00+00:00"}
    assert await queued(database, OutboxKind.PHASE_START, at=moved) == [
        (IRINA, again),
        (ALES, again),
        (MARTA, again),
    ]
    assert len(await queued(database, OutboxKind.PHASE_START)) == 6


async def test_a_phase_moved_before_its_start_is_announced_at_the_new_time_only(
    database: Database,
) -> None:
    c = await coalition(database)
    moved = START + timedelta(hours=12)
    await reschedule(database, c.phase_id, moved, now=START - timedelta(hours=1))

    assert (await fire(database, START)).phases_started == []
    assert await queued(database, OutboxKind.PHASE_START) == []
    assert (await fire(database, moved)).phases_started == [c.phase_id]
    assert len(await queued(database, OutboxKind.PHASE_START)) == 3


# --- Downtime ------------------------------------------------------------------------------


async def test_a_reminder_less_than_the_grace_late_still_goes_out(database: Database) -> None:
    c = await coalition(database)
    await fire(database, START - timedelta(days=3))
    late = START - timedelta(days=1) + GRACE - MINUTE

    assert await fire(database, late) == Fired(reminded=2)

    assert await queued(database, OutboxKind.REMINDER, at=late) == reminded_of_phase(c)
    assert (await ledger(database))[-2:] == [
        (Occasion.PHASE, c.phase_id, START, timedelta(days=1), c.memorial, True, late),
        (Occasion.PHASE, c.phase_id, START, timedelta(days=1), c.ovd, True, late),
    ]


async def test_a_reminder_more_than_the_grace_late_is_skipped_for_good(database: Database) -> None:
    c = await coalition(database)
    await fire(database, START - timedelta(days=3))
    before = await queued(database, OutboxKind.REMINDER)
    too_late = START - timedelta(days=1) + GRACE + MINUTE

    assert await fire(database, too_late) == Fired(skipped=2)
    assert await fire(database, too_late + timedelta(hours=2)) == Fired()

    assert await queued(database, OutboxKind.REMINDER) == before
    assert (await ledger(database))[2:] == [
        (Occasion.PHASE, c.phase_id, START, timedelta(days=1), c.memorial, False, too_late),
        (Occasion.PHASE, c.phase_id, START, timedelta(days=1), c.ovd, False, too_late),
    ]
    # The next reminder, on time, still goes out.
    two_hours = START - timedelta(hours=2)
    assert await fire(database, two_hours) == Fired(reminded=2)
    assert await queued(database, OutboxKind.REMINDER, at=two_hours) == reminded_of_phase(c)


async def test_after_a_long_downtime_every_missed_reminder_is_recorded_as_skipped(
    database: Database,
) -> None:
    c = await coalition(database)
    back = START - timedelta(hours=2) + GRACE + MINUTE  # all three more than GRACE late

    assert await fire(database, back) == Fired(skipped=6, phases_started=[c.phase_id])

    assert await queued(database, OutboxKind.REMINDER) == []
    assert {
        (offset, organisation, sent) for *_, offset, organisation, sent, _ in await ledger(database)
    } == {
        (offset, organisation, False) for offset in OFFSETS for organisation in (c.memorial, c.ovd)
    }


@pytest.mark.parametrize(
    ("late", "announced"),
    [(GRACE - MINUTE, True), (GRACE + MINUTE, False)],
    ids=["within-grace", "beyond-grace"],
)
async def test_a_phase_start_missed_during_downtime_is_announced_only_within_the_grace(
    database: Database, late: timedelta, announced: bool
) -> None:
    c = await coalition(database)

    first = await fire(database, START + late)
    second = await fire(database, START + late + timedelta(hours=1))

    assert first.phases_started == ([c.phase_id] if announced else [])
    assert second.phases_started == []
    assert len(await queued(database, OutboxKind.PHASE_START)) == (3 if announced else 0)
