"""The timeline's coalition and the steps the services' timeline tests take on it: four
organisations, a phase, appeals in every state; reminders, phase starts and deadlines.

The clock is whatever `now` a test passes to the services: time moves by passing a later one,
never by sleeping.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from models import (
    Appeal,
    Database,
    Occasion,
    OutboxKind,
    OutboxMessage,
    Reminder,
)
from services import reminders
from services.accounts import set_subscription
from services.appeals import close_appeal
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


@dataclass(frozen=True)
class TimelineCoalition:
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


async def coalition(database: Database) -> TimelineCoalition:
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
    return TimelineCoalition(
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


def reminded_of_phase(
    c: TimelineCoalition, at: str = START_ISO
) -> list[tuple[int, dict[str, Any] | None]]:
    """What the arranged coalition is told before its phase: each organisation its own gaps."""
    return [
        (IRINA, phase_reminder("Memorial", [(c.torture, TORTURE)], at)),
        (ALES, phase_reminder("OVD-Info", [(c.detainees, TITLE), (c.torture, TORTURE)], at)),
    ]
