"""The timeline on the real database: reminders, phase starts and deadlines.

The clock is whatever `now` a test passes to the services: time moves by passing a later one,
never by sleeping.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import (
    Appeal,
    AppealState,
    AuditEntry,
    Database,
    Delivery,
    Occasion,
    OutboxKind,
    OutboxMessage,
    Reminder,
)
from services import reminders
from services.accounts import set_subscription
from services.appeals import close_appeal
from services.errors import AppealNotFound, AppealNotOpen
from services.phases import add_phase, attach, reschedule_phase, set_deadline
from services.reminders import Fired
from tests.stories import (
    ALES,
    IRINA,
    LATER,
    MARTA,
    NOW,
    OLEG,
    ORGANISER,
    TITLE,
    draft,
    member,
    open_appeal,
    sign,
    snapshot,
    stored,
)

OFFSETS = (timedelta(days=3), timedelta(days=1), timedelta(hours=2))
GRACE = timedelta(hours=6)
SECOND_ORGANISER = 1001
ORGANISERS = frozenset({ORGANISER, SECOND_ORGANISER})
DINA = 2005  # the only contact of her organisation, and unsubscribed

PHASE = "Second round of talks in Geneva"
START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # NOW + 10 days
START_ISO = "2026-12-06T09:00:00+00:00"
DEADLINE = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # NOW + 5 days 6 hours
DEADLINE_ISO = "2026-12-01T15:00:00+00:00"

TORTURE = "End torture in detention"
PRISONERS = "Exchange civilian prisoners"
DRAFTED = "A letter still being written"
CLOSED = "A letter already delivered"

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


# --- Arrangements --------------------------------------------------------------------------


@dataclass(frozen=True)
class Coalition:
    memorial: int  # IRINA, and OLEG who unsubscribed; signed the detainees appeal only
    ovd: int  # ALES; signed nothing
    viasna: int  # MARTA; signed every open appeal of the phase
    quiet: int  # DINA, unsubscribed; signed nothing
    phase_id: int  # PHASE, starting at START
    detainees: int  # open, attached to the phase
    torture: int  # open, attached
    prisoners: int  # open, not attached
    drafted: int  # a draft, attached
    closed: int  # closed, attached


async def coalition(database: Database) -> Coalition:
    memorial = await member(database, "Memorial", IRINA)
    assert await member(database, "Memorial", OLEG) == memorial
    ovd = await member(database, "OVD-Info", ALES)
    viasna = await member(database, "Viasna", MARTA)
    quiet = await member(database, "Quiet Voices", DINA)
    await unsubscribe(database, OLEG)
    await unsubscribe(database, DINA)

    phase_id = await new_phase(database)
    detainees = await open_appeal(database, TITLE)
    torture = await open_appeal(database, TORTURE)
    prisoners = await open_appeal(database, PRISONERS)
    drafted = await draft(database, DRAFTED)
    closed = await open_appeal(database, CLOSED)
    for appeal_id in (detainees, torture, drafted, closed):
        await attach_to(database, appeal_id, phase_id)
    await close(database, closed)

    await sign(database, detainees, memorial, IRINA)
    await sign(database, detainees, viasna, MARTA)
    await sign(database, torture, viasna, MARTA)
    return Coalition(
        memorial, ovd, viasna, quiet, phase_id, detainees, torture, prisoners, drafted, closed
    )


async def new_phase(database: Database, name: str = PHASE, starts_at: datetime = START) -> int:
    async with database.transaction() as session:
        phase = await add_phase(
            session=session, name=name, starts_at=starts_at, organiser_id=ORGANISER, now=NOW
        )
    assert phase.id is not None
    return phase.id


async def attach_to(database: Database, appeal_id: int, phase_id: int) -> None:
    async with database.transaction() as session:
        await attach(
            session=session, appeal_id=appeal_id, phase_id=phase_id, actor_id=ORGANISER, now=NOW
        )


async def reschedule(database: Database, phase_id: int, starts_at: datetime, now: datetime) -> None:
    async with database.transaction() as session:
        await reschedule_phase(
            session=session, phase_id=phase_id, starts_at=starts_at, actor_id=ORGANISER, now=now
        )


async def deadline(
    database: Database, appeal_id: int, deadline_at: datetime = DEADLINE, now: datetime = LATER
) -> None:
    async with database.transaction() as session:
        await set_deadline(
            session=session,
            appeal_id=appeal_id,
            deadline_at=deadline_at,
            actor_id=ORGANISER,
            now=now,
        )


async def close(database: Database, appeal_id: int) -> None:
    async with database.transaction() as session:
        await close_appeal(session=session, appeal_id=appeal_id, now=LATER)


async def unsubscribe(database: Database, telegram_id: int) -> None:
    async with database.transaction() as session:
        await set_subscription(session=session, telegram_id=telegram_id, subscribed=False)


async def fire(database: Database, now: datetime) -> Fired:
    """One look at the timeline at `now`, as the scheduler takes it."""
    async with database.transaction() as session:
        return await reminders.fire_due(
            session=session, now=now, offsets=OFFSETS, grace=GRACE, organiser_ids=ORGANISERS
        )


async def remind(database: Database, appeal_id: int, now: datetime = LATER) -> int:
    async with database.transaction() as session:
        return await reminders.remind_now(
            session=session, appeal_id=appeal_id, actor_id=ORGANISER, now=now
        )


async def moments(database: Database, now: datetime) -> list[datetime]:
    async with database.transaction() as session:
        return await reminders.next_moments(session=session, now=now, offsets=OFFSETS)


async def queued(
    database: Database, kind: OutboxKind, *, at: datetime | None = None
) -> list[tuple[int, dict[str, Any] | None]]:
    """(recipient, payload) of the rows of this kind, oldest first; those queued `at` only."""
    rows = sorted(await stored(database, OutboxMessage), key=lambda row: row.id or 0)
    return [
        (row.recipient_id, row.payload)
        for row in rows
        if row.kind is kind and (at is None or row.created_at == at)
    ]


async def timeline_rows(database: Database) -> list[OutboxMessage]:
    """Every row the timeline queued (not what publishing and closing by hand queued)."""
    by_hand = (OutboxKind.ANNOUNCEMENT, OutboxKind.APPEAL_CLOSED)
    return [row for row in await stored(database, OutboxMessage) if row.kind not in by_hand]


async def closing_news(database: Database, appeal_id: int) -> list[tuple[int, Any]]:
    """(recipient, payload) of the news that this appeal closed."""
    news = await queued(database, OutboxKind.APPEAL_CLOSED)
    return [
        (person, payload)
        for person, payload in news
        if payload and payload["appeal_id"] == appeal_id
    ]


Entry = tuple[Occasion, int, datetime, timedelta, int, bool, datetime]


async def ledger(database: Database) -> list[Entry]:
    """(occasion, subject, target, offset, organisation, sent, recorded at), in order."""
    rows = sorted(await stored(database, Reminder), key=lambda row: row.id or 0)
    return [
        (
            Occasion(row.occasion),
            row.subject_id,
            row.target_at,
            timedelta(seconds=row.offset_seconds),
            row.organisation_id,
            row.sent,
            row.recorded_at,
        )
        for row in rows
    ]


async def appeal(database: Database, appeal_id: int) -> Appeal:
    async with database.transaction() as session:
        found = await session.get(Appeal, appeal_id)
    assert found is not None
    return found


def phase_reminder(
    organisation: str, appeals: list[tuple[int, str]], at: str = START_ISO
) -> dict[str, Any]:
    return {
        "organisation": organisation,
        "due": [{"occasion": "phase", "at": at, "phase": PHASE}],
        "appeals": [[appeal_id, title] for appeal_id, title in appeals],
    }


def deadline_reminder(
    organisation: str, appeals: list[tuple[int, str]], at: str = DEADLINE_ISO
) -> dict[str, Any]:
    return {
        "organisation": organisation,
        "due": [{"occasion": "deadline", "at": at, "appeal_id": appeals[0][0]}],
        "appeals": [[appeal_id, title] for appeal_id, title in appeals],
    }


def reminded_of_phase(c: Coalition, at: str = START_ISO) -> list[tuple[int, dict[str, Any] | None]]:
    """What the arranged coalition is told before its phase: each organisation its own gaps."""
    return [
        (IRINA, phase_reminder("Memorial", [(c.torture, TORTURE)], at)),
        (ALES, phase_reminder("OVD-Info", [(c.detainees, TITLE), (c.torture, TORTURE)], at)),
    ]


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


# --- Deadlines -----------------------------------------------------------------------------


async def test_before_its_deadline_the_non_signers_of_an_appeal_are_reminded(
    database: Database,
) -> None:
    c = await coalition(database)
    await deadline(database, c.detainees)
    expected = (ALES, deadline_reminder("OVD-Info", [(c.detainees, TITLE)]))

    for offset in OFFSETS:
        moment = DEADLINE - offset
        assert await fire(database, moment - SECOND) == Fired(), offset
        assert await fire(database, moment) == Fired(reminded=1), offset
        assert await fire(database, moment + MINUTE) == Fired(), offset
        assert await queued(database, OutboxKind.REMINDER, at=moment) == [expected]

    assert await queued(database, OutboxKind.REMINDER) == [expected] * 3
    assert await ledger(database) == [
        (Occasion.DEADLINE, c.detainees, DEADLINE, offset, c.ovd, True, DEADLINE - offset)
        for offset in OFFSETS
    ]


@pytest.mark.parametrize(
    ("late", "sent"),
    [(GRACE - MINUTE, True), (GRACE + MINUTE, False)],
    ids=["within-grace", "beyond-grace"],
)
async def test_a_deadline_reminder_missed_during_downtime_goes_out_only_within_the_grace(
    database: Database, late: timedelta, sent: bool
) -> None:
    c = await coalition(database)
    await deadline(database, c.detainees)
    await fire(database, DEADLINE - timedelta(days=3))
    back = DEADLINE - timedelta(days=1) + late

    assert await fire(database, back) == (Fired(reminded=1) if sent else Fired(skipped=1))
    assert await fire(database, back + MINUTE) == Fired()

    expected = (ALES, deadline_reminder("OVD-Info", [(c.detainees, TITLE)]))
    assert await queued(database, OutboxKind.REMINDER, at=back) == ([expected] if sent else [])
    assert (await ledger(database))[-1] == (
        Occasion.DEADLINE,
        c.detainees,
        DEADLINE,
        timedelta(days=1),
        c.ovd,
        sent,
        back,
    )


async def test_a_moved_deadline_is_reminded_again_for_its_new_time(database: Database) -> None:
    c = await coalition(database)
    await deadline(database, c.detainees)
    await fire(database, DEADLINE - timedelta(days=3))
    moved = DEADLINE + timedelta(days=4)
    await deadline(database, c.detainees, moved, now=DEADLINE - timedelta(days=2))

    # The old deadline's reminders and closing are no longer due.
    for now in (DEADLINE - timedelta(days=1), DEADLINE - timedelta(hours=2), DEADLINE):
        assert await fire(database, now) == Fired(), now
    assert (await appeal(database, c.detainees)).state is AppealState.OPEN
    moment = moved - timedelta(days=3)
    assert await fire(database, moment) == Fired(reminded=1)

    assert await queued(database, OutboxKind.REMINDER, at=moment) == [
        (ALES, deadline_reminder("OVD-Info", [(c.detainees, TITLE)], "2026-12-05T15:00:00+00:00"))
    ]


async def test_at_its_deadline_an_appeal_closes_and_the_organisers_get_the_count(
    database: Database,
) -> None:
    c = await coalition(database)
    await deadline(database, c.detainees)
    assert (await fire(database, DEADLINE - SECOND)).closed == []
    assert (await appeal(database, c.detainees)).state is AppealState.OPEN

    fired = await fire(database, DEADLINE)

    assert fired.closed == [c.detainees]
    closed = await appeal(database, c.detainees)
    assert (closed.state, closed.closed_at) == (AppealState.CLOSED, DEADLINE)
    report = {"appeal_id": c.detainees, "title": TITLE, "signatures": 2}
    assert await queued(database, OutboxKind.DEADLINE_REPORT) == [
        (ORGANISER, report),
        (SECOND_ORGANISER, report),
    ]
    # Every subscribed contact is told, signer or not; the unsubscribed are not.
    told = [(IRINA, report), (ALES, report), (MARTA, report)]
    assert await closing_news(database, c.detainees) == told
    # Once: later looks neither close it again nor report it again.
    for now in (DEADLINE, DEADLINE + timedelta(hours=1), DEADLINE + timedelta(days=3)):
        assert (await fire(database, now)).closed == []
    assert len(await queued(database, OutboxKind.DEADLINE_REPORT)) == 2
    assert await closing_news(database, c.detainees) == told
    # Closed, it takes no signature and is no longer named before its phase.
    with pytest.raises(AppealNotOpen):
        await sign(database, c.detainees, c.ovd, ALES, now=DEADLINE + MINUTE)
    one_day = START - timedelta(days=1)
    await fire(database, one_day)
    assert await queued(database, OutboxKind.REMINDER, at=one_day) == [
        (IRINA, phase_reminder("Memorial", [(c.torture, TORTURE)])),
        (ALES, phase_reminder("OVD-Info", [(c.torture, TORTURE)])),
    ]


async def test_a_deadline_passed_long_ago_still_closes_the_appeal(database: Database) -> None:
    c = await coalition(database)
    await deadline(database, c.torture)
    back = DEADLINE + timedelta(days=40)

    fired = await fire(database, back)

    assert fired.closed == [c.torture]
    assert (await appeal(database, c.torture)).state is AppealState.CLOSED
    report = {"appeal_id": c.torture, "title": TORTURE, "signatures": 1}
    assert await queued(database, OutboxKind.DEADLINE_REPORT) == [
        (ORGANISER, report),
        (SECOND_ORGANISER, report),
    ]
    assert await queued(database, OutboxKind.REMINDER) == []
    assert (await fire(database, back + MINUTE)).closed == []
    assert len(await queued(database, OutboxKind.DEADLINE_REPORT)) == 2


async def test_closing_at_the_deadline_is_recorded_in_the_audit_log_by_no_person(
    database: Database,
) -> None:
    c = await coalition(database)
    await deadline(database, c.torture)

    await fire(database, DEADLINE)

    entries = await stored(database, AuditEntry)
    [closed] = [
        e for e in entries if (e.action, e.object) == ("appeal.closed", f"appeal:{c.torture}")
    ]
    assert (closed.actor_ref, closed.at) == (None, DEADLINE)


async def test_an_appeal_without_a_deadline_never_closes_by_itself(database: Database) -> None:
    c = await coalition(database)

    fired = await fire(database, NOW + timedelta(days=400))

    assert fired.closed == []
    assert (await appeal(database, c.torture)).state is AppealState.OPEN
    assert await queued(database, OutboxKind.DEADLINE_REPORT) == []


# --- Reminding by hand ---------------------------------------------------------------------


async def test_remind_now_nudges_each_organisation_that_has_not_signed(database: Database) -> None:
    c = await coalition(database)

    reminded = await remind(database, c.torture)

    assert reminded == 2
    assert await queued(database, OutboxKind.REMINDER) == [
        (IRINA, _manual("Memorial", c.torture, TORTURE)),
        (ALES, _manual("OVD-Info", c.torture, TORTURE)),
    ]
    assert await ledger(database) == []
    assert await remind(database, c.detainees) == 1


def _manual(organisation: str, appeal_id: int, title: str) -> dict[str, Any]:
    return {"organisation": organisation, "due": [], "appeals": [[appeal_id, title]]}


async def test_remind_now_refuses_a_draft_and_an_unknown_appeal(database: Database) -> None:
    c = await coalition(database)
    before = await snapshot(database)

    for appeal_id in (c.drafted, 999):
        with pytest.raises(AppealNotFound) as refused:
            await remind(database, appeal_id)
        assert refused.value == AppealNotFound(appeal_id=appeal_id)

    assert await snapshot(database) == before


async def test_remind_now_refuses_a_closed_appeal(database: Database) -> None:
    c = await coalition(database)
    before = await snapshot(database)

    with pytest.raises(AppealNotOpen) as refused:
        await remind(database, c.closed)

    assert refused.value == AppealNotOpen(appeal_id=c.closed, state=AppealState.CLOSED)
    assert await snapshot(database) == before


# --- The moments to wake up at -------------------------------------------------------------


async def test_next_moments_lists_every_future_moment_in_order(database: Database) -> None:
    c = await coalition(database)
    await new_phase(database, "Preparatory call", NOW + timedelta(days=1))
    await deadline(database, c.detainees)
    await deadline(database, c.drafted, START + timedelta(days=20))  # a draft: not yet due
    day, hours = timedelta(days=1), timedelta(hours=2)
    first = NOW + day

    assert await moments(database, NOW) == [
        first - hours,
        first,
        DEADLINE - 3 * day,
        DEADLINE - day,
        DEADLINE - hours,
        DEADLINE,
        START - 3 * day,
        START - day,
        START - hours,
        START,
    ]
    # Past moments are left out, and one that is exactly now too.
    assert await moments(database, START - day) == [START - hours, START]
    assert await moments(database, START) == []


async def test_next_moments_leaves_out_closed_appeals_and_shared_moments_once(
    database: Database,
) -> None:
    c = await coalition(database)
    await deadline(database, c.torture, START)  # the same moments as the phase
    await deadline(database, c.detainees)
    await close(database, c.detainees)

    assert await moments(database, NOW) == [
        START - timedelta(days=3),
        START - timedelta(days=1),
        START - timedelta(hours=2),
        START,
    ]
