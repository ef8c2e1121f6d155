"""The outbox on the real database: what is due for whom, the fate of each message, the\norganiser's report."""

import asyncio
from datetime import timedelta

import pytest

from models import Broadcast, BroadcastState, Database, Delivery, OutboxKind
from services import outbox
from services.broadcasts import DeliveryReport
from services.errors import BroadcastNotFound
from services.outbox import ERROR_MAX, DueMessage
from services.payloads import CountPayload
from services.translations import translate
from tests.services.outbox_coalition import (
    ALERT,
    BLOCKED,
    NOT_FOUND,
    TIMEOUT,
    TITLE_FR,
    TOO_LONG,
    blocked,
    broadcast,
    cancel,
    contact,
    due,
    due_ids,
    failed,
    fates,
    finished,
    preview,
    publish,
    report,
    retry,
    row_for,
    rows,
    sent,
    speaks,
    unsubscribe,
)
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
    stored,
)

# --- What is due ---------------------------------------------------------------------------


async def test_due_messages_come_oldest_first_with_language_and_what_to_say(
    database: Database,
) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    await speaks(database, OLEG, "uk")
    appeal_id = await draft(database)
    await publish(database, appeal_id, NOW)
    broadcast_id = await broadcast(database, now=LATER)
    ids: dict[tuple[int, str], int] = {}
    for person in (IRINA, OLEG):
        ids[person, "appeal"] = await row_for(database, person, appeal_id=appeal_id)
        ids[person, "alert"] = await row_for(database, person, broadcast_id=broadcast_id)

    messages = await due(database, now=LATER)

    def announcement(person: int, language: str) -> DueMessage:
        return DueMessage(
            ids[person, "appeal"], OutboxKind.ANNOUNCEMENT, person, 0, language,
            None, None, appeal_id, TITLE, None, None,
        )  # fmt: skip

    def alert(person: int, language: str) -> DueMessage:
        return DueMessage(
            ids[person, "alert"], OutboxKind.BROADCAST, person, 0, language,
            broadcast_id, ALERT, None, None, None, None,
        )  # fmt: skip

    assert messages == sorted(
        [
            announcement(IRINA, "en"),
            announcement(OLEG, "uk"),
            alert(IRINA, "en"),
            alert(OLEG, "uk"),
        ],
        key=lambda message: message.id,
    )
    assert [m.kind for m in messages] == [OutboxKind.ANNOUNCEMENT] * 2 + [OutboxKind.BROADCAST] * 2


async def test_appeals_named_in_a_notice_are_titled_in_the_recipients_language(
    database: Database,
) -> None:
    await member(database, "Ligue des droits de l'Homme", IRINA)
    await speaks(database, IRINA, "fr")
    await member(database, "ZMINA", OLEG)
    await speaks(database, OLEG, "uk")  # no Ukrainian translation
    appeal_id = await open_appeal(database)
    async with database.transaction() as session:
        await translate(
            session=session, appeal_id=appeal_id, language="fr", title=TITLE_FR,
            text="Excellences,", organiser_id=ORGANISER, now=NOW,
        )  # fmt: skip
        report = CountPayload(appeal_id=appeal_id, title=TITLE, signatures=0)
        await outbox.enqueue_to(
            session=session, kind=OutboxKind.DEADLINE_REPORT, payload=report, now=NOW,
            recipients=frozenset({IRINA, OLEG, ORGANISER}),  # the organiser has no account
        )  # fmt: skip

    reports = [m for m in await due(database) if m.kind == OutboxKind.DEADLINE_REPORT]
    titles = {message.chat_id: (message.payload or {})["title"] for message in reports}

    assert titles == {IRINA: TITLE_FR, OLEG: TITLE, ORGANISER: TITLE}
    # What was queued stays as written: a translation made later still counts.
    queued = [row for row in await rows(database) if row.kind == OutboxKind.DEADLINE_REPORT]
    assert {(row.payload or {})["title"] for row in queued} == {TITLE}


async def test_due_honours_limit_and_leaves_out_messages_in_flight(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    await member(database, "Viasna", ALES)
    await broadcast(database)
    first, second, third = [r.id or 0 for r in await rows(database)]

    assert await due_ids(database, limit=2, skip={first}) == [second, third]
    # Claimed: left out until settled, or until a new leader frees the claims.
    assert await due_ids(database) == [first]
    assert await due_ids(database) == []
    await release_claims(database)
    assert await due_ids(database, skip={second}) == [first, third]
    await release_claims(database)
    assert await due_ids(database, skip={first, second, third}) == []


async def release_claims(database: Database) -> None:
    async with database.transaction() as session:
        await outbox.release_claims(session=session)


async def test_two_senders_claiming_at_once_take_different_rows(database: Database) -> None:
    for number, name in enumerate(["Memorial", "OVD-Info", "Viasna", "ZMINA"]):
        await member(database, name, 3000 + number)
    await broadcast(database)
    # On PostgreSQL, FOR UPDATE SKIP LOCKED; on SQLite, one writer at a time.
    one, other = await asyncio.gather(due_ids(database, limit=2), due_ids(database, limit=2))
    assert len(one) == len(other) == 2
    assert sorted(one + other) == [r.id for r in await rows(database)]


async def test_due_leaves_out_settled_messages_and_those_not_yet_due(database: Database) -> None:
    people = [IRINA, OLEG, ALES, MARTA, 2005]
    for n, person in enumerate(people):
        await member(database, f"Organisation {n}", person)
    broadcast_id = await broadcast(database, now=NOW)
    to_send, to_fail, to_block, to_retry, untouched = [
        await row_for(database, person, broadcast_id=broadcast_id) for person in people
    ]
    assert await due_ids(database, now=NOW - timedelta(microseconds=1)) == []
    assert len(await due_ids(database, now=NOW)) == 5  # due from the moment it was queued
    await release_claims(database)  # as at a restart: each look below finds them again

    await sent(database, to_send)
    await failed(database, to_fail, NOT_FOUND)
    await blocked(database, to_block)
    await retry(database, to_retry, LATER + timedelta(minutes=1))

    assert await due_ids(database, now=LATER) == [untouched]
    await release_claims(database)
    assert await due_ids(database, now=LATER + timedelta(minutes=1)) == sorted(
        [to_retry, untouched]
    )


# --- Fates ---------------------------------------------------------------------------------


async def test_marking_sent_records_the_time_of_that_row_only(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    broadcast_id = await broadcast(database, now=NOW)
    irina = await row_for(database, IRINA, broadcast_id=broadcast_id)

    await sent(database, irina, LATER)

    assert sorted((r.recipient_id, r.delivery, r.sent_at) for r in await rows(database)) == [
        (IRINA, Delivery.SENT, LATER),
        (OLEG, Delivery.PENDING, None),
    ]


async def test_a_person_who_blocked_the_bot_is_unsubscribed_and_their_queue_stopped(
    database: Database,
) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    earlier = await broadcast(database, "First alert", now=NOW)
    await sent(database, await row_for(database, IRINA, broadcast_id=earlier))
    later = await broadcast(database, "Second alert", now=NOW)
    appeal_id = await draft(database)
    await publish(database, appeal_id, NOW)

    await blocked(database, await row_for(database, IRINA, broadcast_id=later), LATER)

    irina, oleg = await contact(database, IRINA), await contact(database, OLEG)
    assert (irina.subscribed, irina.unreachable_at) == (False, LATER)
    assert (oleg.subscribed, oleg.unreachable_at) == (True, None)
    assert fates(await rows(database)) == sorted(
        [
            (IRINA, earlier, Delivery.SENT),  # already delivered: stays so
            (IRINA, later, Delivery.BLOCKED),
            (IRINA, appeal_id, Delivery.BLOCKED),  # still queued for her: stopped too
            (OLEG, earlier, Delivery.PENDING),
            (OLEG, later, Delivery.PENDING),
            (OLEG, appeal_id, Delivery.PENDING),
        ]
    )
    assert {r.error for r in await rows(database) if r.delivery is Delivery.BLOCKED} == {BLOCKED}
    # Unsubscribed, she is left out of what is queued next.
    async with database.transaction() as session:
        assert await outbox.count_recipients(session=session) == 1


async def test_a_transient_failure_is_retried_later(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    broadcast_id = await broadcast(database, now=NOW)
    irina = await row_for(database, IRINA, broadcast_id=broadcast_id)

    await retry(database, irina, NOW + timedelta(seconds=2))
    await retry(database, irina, NOW + timedelta(seconds=6))

    assert sorted(
        (r.recipient_id, r.delivery, r.attempts, r.not_before, r.error)
        for r in await rows(database)
    ) == [
        (IRINA, Delivery.PENDING, 2, NOW + timedelta(seconds=6), TIMEOUT),
        (OLEG, Delivery.PENDING, 0, NOW, None),
    ]


async def test_a_failure_reason_is_kept_short(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    broadcast_id = await broadcast(database)
    irina = await row_for(database, IRINA, broadcast_id=broadcast_id)

    await failed(database, irina, "Bad Request: " + "x" * 500)

    [row] = await rows(database)
    assert (row.delivery, row.error) == (Delivery.FAILED, ("Bad Request: " + "x" * 500)[:ERROR_MAX])


async def test_a_moved_chat_takes_only_its_pending_rows_along(database: Database) -> None:
    supergroup = -1001234567890
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    earlier = await broadcast(database, "First alert")
    await sent(database, await row_for(database, IRINA, broadcast_id=earlier))
    later = await broadcast(database, "Second alert")

    async with database.transaction() as session:
        await outbox.move_chat(session=session, old_chat_id=IRINA, new_chat_id=supergroup)

    assert sorted(
        (r.recipient_id, r.broadcast_id, r.delivery, r.chat_id) for r in await rows(database)
    ) == sorted(
        [
            (IRINA, earlier, Delivery.SENT, IRINA),
            (IRINA, later, Delivery.PENDING, supergroup),
            (OLEG, earlier, Delivery.PENDING, OLEG),
            (OLEG, later, Delivery.PENDING, OLEG),
        ]
    )


# --- When a broadcast is finished ----------------------------------------------------------


async def test_a_broadcast_is_finished_once_nothing_is_pending_until_reported(
    database: Database,
) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    await preview(database, "Still a draft")
    cancelled = (await preview(database, "Never mind")).broadcast_id
    await cancel(database, cancelled)
    broadcast_id = await broadcast(database)
    await publish(database, await draft(database))  # announcements pending for both
    irina = await row_for(database, IRINA, broadcast_id=broadcast_id)
    oleg = await row_for(database, OLEG, broadcast_id=broadcast_id)

    assert await finished(database) == []
    await sent(database, irina)
    assert await finished(database) == []
    await failed(database, oleg, NOT_FOUND)
    assert await finished(database) == [broadcast_id]
    assert await finished(database) == [broadcast_id]  # until the organiser has the report

    async with database.transaction() as session:
        await outbox.mark_reported(session=session, broadcast_id=broadcast_id, now=LATER)

    assert await finished(database) == []
    [reported] = [b for b in await stored(database, Broadcast) if b.id == broadcast_id]
    assert reported.reported_at == LATER


# --- The organiser's report ----------------------------------------------------------------


async def test_the_delivery_report_counts_each_fate_and_groups_the_reasons(
    database: Database,
) -> None:
    people = [IRINA, OLEG, ALES, MARTA, 2005, 2006, 2007]
    for n, person in enumerate(people):
        await member(database, f"Organisation {n}", person)
    broadcast_id = await broadcast(database)
    ids = [await row_for(database, person, broadcast_id=broadcast_id) for person in people]
    await sent(database, ids[0])
    await sent(database, ids[1])
    await blocked(database, ids[2])
    await failed(database, ids[3], NOT_FOUND)
    await failed(database, ids[4], TOO_LONG)
    await failed(database, ids[5], TOO_LONG)
    await retry(database, ids[6], LATER + timedelta(seconds=2))  # pending, with a reason

    progress = await report(database, broadcast_id)

    assert progress == DeliveryReport(
        broadcast_id=broadcast_id,
        organiser_id=ORGANISER,
        state=BroadcastState.QUEUED,
        recipients=7,
        pending=1,
        sent=2,
        blocked=1,
        failed=3,
        reasons={TOO_LONG: 2, NOT_FOUND: 1},
    )
    assert list(progress.reasons) == [TOO_LONG, NOT_FOUND]  # the commonest first
    assert not progress.done

    await sent(database, ids[6])

    final = await report(database, broadcast_id)
    assert (final.pending, final.sent, final.failed) == (0, 3, 3)
    assert final.done


async def test_a_draft_or_cancelled_broadcast_is_never_done(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    drafted = (await preview(database)).broadcast_id
    cancelled = (await preview(database)).broadcast_id
    await cancel(database, cancelled)

    for broadcast_id, state in [
        (drafted, BroadcastState.DRAFT),
        (cancelled, BroadcastState.CANCELLED),
    ]:
        progress = await report(database, broadcast_id)
        assert progress == DeliveryReport(broadcast_id, ORGANISER, state, 0, 0, 0, 0, 0, {})
        assert not progress.done


async def test_a_broadcast_to_nobody_is_done_at_once(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    await unsubscribe(database, IRINA)

    broadcast_id = await broadcast(database)

    progress = await report(database, broadcast_id)
    assert (progress.recipients, progress.pending, progress.done) == (0, 0, True)
    assert await finished(database) == [broadcast_id]


async def test_there_is_no_report_of_an_unknown_broadcast(database: Database) -> None:
    with pytest.raises(BroadcastNotFound) as refused:
        await report(database, 999)

    assert refused.value == BroadcastNotFound(broadcast_id=999)
