"""Deadlines on the real database: reminders before them, closing at them, reminding by hand,
and the moments the scheduler wakes at."""

from datetime import timedelta
from typing import Any

import pytest

from models import AppealState, AuditEntry, Database, Occasion, OutboxKind
from services.errors import AppealNotFound, AppealNotOpen
from services.reminders import Fired
from tests.services.timeline_coalition import (
    DEADLINE,
    GRACE,
    MINUTE,
    OFFSETS,
    SECOND,
    SECOND_ORGANISER,
    START,
    TORTURE,
    appeal,
    close,
    closing_news,
    coalition,
    deadline,
    deadline_reminder,
    fire,
    ledger,
    moments,
    new_phase,
    phase_reminder,
    queued,
    remind,
)
from tests.stories import ALES, IRINA, MARTA, NOW, ORGANISER, TITLE, sign, snapshot, stored

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
