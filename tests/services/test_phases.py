"""The negotiation timeline on the real database: phases, attaching appeals, deadlines."""

from datetime import UTC, datetime, timedelta

import pytest

from models import Appeal, Database, Phase
from services.appeals import close_appeal
from services.errors import (
    AppealClosed,
    AppealNotFound,
    PhaseNameInvalid,
    PhaseNotFound,
    TimeInPast,
)
from services.phases import (
    NAME_MAX,
    AttachedAppeal,
    PhaseSummary,
    add_phase,
    attach,
    list_phases,
    reschedule_phase,
    set_deadline,
)
from tests.stories import LATER, NOW, ORGANISER, TITLE, draft, open_appeal, snapshot, stored

PHASE = "Second round of talks in Geneva"
START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
RECENT = timedelta(days=7)
UNKNOWN = 999


# --- Arrangements --------------------------------------------------------------------------


async def new_phase(
    database: Database, name: str = PHASE, starts_at: datetime = START, now: datetime = NOW
) -> int:
    async with database.transaction() as session:
        phase = await add_phase(
            session=session, name=name, starts_at=starts_at, organiser_id=ORGANISER, now=now
        )
    assert phase.id is not None
    return phase.id


async def reschedule(
    database: Database, phase_id: int, starts_at: datetime, now: datetime = LATER
) -> Phase:
    async with database.transaction() as session:
        return await reschedule_phase(
            session=session, phase_id=phase_id, starts_at=starts_at, actor_id=ORGANISER, now=now
        )


async def attach_to(database: Database, appeal_id: int, phase_id: int) -> None:
    async with database.transaction() as session:
        await attach(
            session=session, appeal_id=appeal_id, phase_id=phase_id, actor_id=ORGANISER, now=NOW
        )


async def deadline(
    database: Database, appeal_id: int, deadline_at: datetime, now: datetime = LATER
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


async def phases(database: Database, now: datetime) -> list[PhaseSummary]:
    async with database.transaction() as session:
        return await list_phases(session=session, now=now, recent=RECENT)


async def appeal(database: Database, appeal_id: int) -> Appeal:
    async with database.transaction() as session:
        found = await session.get(Appeal, appeal_id)
    assert found is not None
    return found


# --- Adding a phase ------------------------------------------------------------------------


async def test_a_phase_is_stored_with_its_name_tidied(database: Database) -> None:
    phase_id = await new_phase(database, "  Second round\n of talks   in Geneva ", START)

    [phase] = await stored(database, Phase)
    assert (phase.id, phase.name, phase.starts_at, phase.created_by, phase.created_at) == (
        phase_id,
        PHASE,
        START,
        ORGANISER,
        NOW,
    )
    assert phase.start_announced_for is None


async def test_a_name_of_the_longest_length_is_kept(database: Database) -> None:
    await new_phase(database, "x" * NAME_MAX)

    [phase] = await stored(database, Phase)
    assert phase.name == "x" * NAME_MAX


@pytest.mark.parametrize(
    "name",
    ["", " \n\t ", "x" * (NAME_MAX + 1), " " + "x" * (NAME_MAX + 1) + " "],
    ids=["empty", "blank", "one-too-long", "one-too-long-padded"],
)
async def test_an_empty_or_too_long_name_is_refused(database: Database, name: str) -> None:
    before = await snapshot(database)

    with pytest.raises(PhaseNameInvalid) as refused:
        await new_phase(database, name)

    assert refused.value == PhaseNameInvalid(limit=NAME_MAX)
    assert await snapshot(database) == before


@pytest.mark.parametrize(
    "starts_at",
    [NOW, NOW - timedelta(seconds=1), NOW - timedelta(days=30)],
    ids=["now", "a-second-ago", "a-month-ago"],
)
async def test_a_phase_must_start_after_now(database: Database, starts_at: datetime) -> None:
    before = await snapshot(database)

    with pytest.raises(TimeInPast):
        await new_phase(database, starts_at=starts_at)

    assert await snapshot(database) == before


async def test_a_phase_may_start_a_second_from_now(database: Database) -> None:
    phase_id = await new_phase(database, starts_at=NOW + timedelta(seconds=1))

    assert [phase.id for phase in await stored(database, Phase)] == [phase_id]


# --- Rescheduling --------------------------------------------------------------------------


async def test_rescheduling_moves_the_phase(database: Database) -> None:
    phase_id = await new_phase(database)
    moved = START + timedelta(days=2, hours=3)

    returned = await reschedule(database, phase_id, moved)

    assert (returned.id, returned.starts_at) == (phase_id, moved)
    [phase] = await stored(database, Phase)
    assert (phase.name, phase.starts_at) == (PHASE, moved)


async def test_a_phase_can_be_moved_earlier(database: Database) -> None:
    phase_id = await new_phase(database)
    earlier = LATER + timedelta(minutes=1)

    await reschedule(database, phase_id, earlier, now=LATER)

    [phase] = await stored(database, Phase)
    assert phase.starts_at == earlier


async def test_rescheduling_an_unknown_phase_is_refused(database: Database) -> None:
    await new_phase(database)
    before = await snapshot(database)

    with pytest.raises(PhaseNotFound) as refused:
        await reschedule(database, UNKNOWN, START + timedelta(days=1))

    assert refused.value == PhaseNotFound(phase_id=UNKNOWN)
    assert await snapshot(database) == before


@pytest.mark.parametrize(
    "starts_at", [LATER, LATER - timedelta(days=1)], ids=["to-now", "to-the-past"]
)
async def test_rescheduling_to_the_past_is_refused(database: Database, starts_at: datetime) -> None:
    phase_id = await new_phase(database)
    before = await snapshot(database)

    with pytest.raises(TimeInPast):
        await reschedule(database, phase_id, starts_at, now=LATER)

    assert await snapshot(database) == before


# --- Listing -------------------------------------------------------------------------------


async def test_list_shows_upcoming_and_recently_started_phases_in_date_order(
    database: Database,
) -> None:
    looked_at = NOW + timedelta(days=20)
    later = await new_phase(database, "Final round", looked_at + timedelta(days=30))
    long_ago = await new_phase(database, "Opening session", looked_at - RECENT - timedelta(days=1))
    next_one = await new_phase(database, "Second round", looked_at + timedelta(days=2))
    recent = await new_phase(database, "First round", looked_at - timedelta(days=1))
    await new_phase(database, "Exactly a week ago", looked_at - RECENT)

    listed = await phases(database, looked_at)

    assert [(p.id, p.name, p.starts_at) for p in listed] == [
        (recent, "First round", looked_at - timedelta(days=1)),
        (next_one, "Second round", looked_at + timedelta(days=2)),
        (later, "Final round", looked_at + timedelta(days=30)),
    ]
    assert long_ago not in [p.id for p in listed]


async def test_phases_starting_together_are_listed_in_the_order_they_were_added(
    database: Database,
) -> None:
    first = await new_phase(database, "Plenary")
    second = await new_phase(database, "Side event")

    assert [p.id for p in await phases(database, NOW)] == [first, second]


async def test_list_shows_each_phase_with_its_attached_appeals_that_are_not_closed(
    database: Database,
) -> None:
    first = await new_phase(database, "First round", START)
    second = await new_phase(database, "Second round", START + timedelta(days=7))
    detainees = await open_appeal(database, TITLE)
    drafted = await draft(database, "A letter still being written")
    delivered = await open_appeal(database, "A letter already delivered")
    torture = await open_appeal(database, "End torture in detention")
    await open_appeal(database, "Timed to no phase")
    await attach_to(database, torture, first)
    await attach_to(database, detainees, first)
    await attach_to(database, drafted, first)
    await attach_to(database, delivered, first)
    await close(database, delivered)

    assert await phases(database, NOW) == [
        PhaseSummary(
            first,
            "First round",
            START,
            [
                AttachedAppeal(detainees, TITLE),
                AttachedAppeal(drafted, "A letter still being written"),
                AttachedAppeal(torture, "End torture in detention"),
            ],
        ),
        PhaseSummary(second, "Second round", START + timedelta(days=7), []),
    ]


async def test_list_is_empty_without_phases(database: Database) -> None:
    await open_appeal(database)

    assert await phases(database, NOW) == []


async def test_a_phase_leaves_the_list_once_it_started_longer_ago_than_recent(
    database: Database,
) -> None:
    phase_id = await new_phase(database, starts_at=START)

    assert [p.id for p in await phases(database, START + RECENT - timedelta(seconds=1))] == [
        phase_id
    ]
    assert await phases(database, START + RECENT) == []


# --- Attaching appeals ---------------------------------------------------------------------


async def test_an_open_appeal_or_a_draft_is_attached_and_can_move_to_another_phase(
    database: Database,
) -> None:
    first = await new_phase(database, "First round")
    second = await new_phase(database, "Second round", START + timedelta(days=1))
    opened, drafted = await open_appeal(database), await draft(database, "A draft")

    await attach_to(database, opened, first)
    await attach_to(database, drafted, first)
    assert [(await appeal(database, a)).phase_id for a in (opened, drafted)] == [first, first]

    await attach_to(database, opened, second)
    assert [(await appeal(database, a)).phase_id for a in (opened, drafted)] == [second, first]


async def test_attaching_an_unknown_appeal_is_refused(database: Database) -> None:
    phase_id = await new_phase(database)
    before = await snapshot(database)

    with pytest.raises(AppealNotFound) as refused:
        await attach_to(database, UNKNOWN, phase_id)

    assert refused.value == AppealNotFound(appeal_id=UNKNOWN)
    assert await snapshot(database) == before


async def test_attaching_to_an_unknown_phase_is_refused(database: Database) -> None:
    appeal_id = await open_appeal(database)
    before = await snapshot(database)

    with pytest.raises(PhaseNotFound) as refused:
        await attach_to(database, appeal_id, UNKNOWN)

    assert refused.value == PhaseNotFound(phase_id=UNKNOWN)
    assert await snapshot(database) == before


async def test_attaching_a_closed_appeal_is_refused(database: Database) -> None:
    phase_id = await new_phase(database)
    appeal_id = await open_appeal(database)
    await close(database, appeal_id)
    before = await snapshot(database)

    with pytest.raises(AppealClosed) as refused:
        await attach_to(database, appeal_id, phase_id)

    assert refused.value == AppealClosed(appeal_id=appeal_id)
    assert await snapshot(database) == before


# --- Deadlines -----------------------------------------------------------------------------


async def test_a_deadline_is_set_on_an_open_appeal_or_a_draft_and_can_be_moved(
    database: Database,
) -> None:
    opened, drafted = await open_appeal(database), await draft(database, "A draft")

    await deadline(database, opened, START)
    await deadline(database, drafted, START + timedelta(days=1))
    await deadline(database, opened, START + timedelta(days=2))

    assert (await appeal(database, opened)).deadline_at == START + timedelta(days=2)
    assert (await appeal(database, drafted)).deadline_at == START + timedelta(days=1)


@pytest.mark.parametrize(
    "deadline_at", [LATER, LATER - timedelta(hours=5)], ids=["now", "in-the-past"]
)
async def test_a_deadline_in_the_past_is_refused(database: Database, deadline_at: datetime) -> None:
    appeal_id = await open_appeal(database)
    before = await snapshot(database)

    with pytest.raises(TimeInPast):
        await deadline(database, appeal_id, deadline_at, now=LATER)

    assert await snapshot(database) == before


async def test_a_deadline_on_a_closed_or_unknown_appeal_is_refused(database: Database) -> None:
    appeal_id = await open_appeal(database)
    await close(database, appeal_id)
    before = await snapshot(database)

    with pytest.raises(AppealClosed) as closed:
        await deadline(database, appeal_id, START)
    with pytest.raises(AppealNotFound) as unknown:
        await deadline(database, UNKNOWN, START)

    assert closed.value == AppealClosed(appeal_id=appeal_id)
    assert unknown.value == AppealNotFound(appeal_id=UNKNOWN)
    assert await snapshot(database) == before
