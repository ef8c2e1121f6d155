"""Broadcasts and announcements on the real database: drafting, previewing, queueing once."""

import asyncio

import pytest

from models import (
    Appeal,
    AppealState,
    Broadcast,
    BroadcastState,
    Database,
    Delivery,
    OutboxKind,
    OutboxMessage,
)
from services.appeals import Published, publish_appeal
from services.broadcasts import TEXT_MAX, Preview
from services.errors import (
    BroadcastAlreadyQueued,
    BroadcastCancelled,
    BroadcastNotFound,
    BroadcastTextInvalid,
)
from tests.services.outbox_coalition import (
    ALERT,
    STRANGER,
    Crash,
    broadcast,
    cancel,
    preview,
    publish,
    queue,
    rows,
    stranger,
    unsubscribe,
)
from tests.stories import (
    ALES,
    IRINA,
    LATER,
    NOW,
    OLEG,
    ORGANISER,
    TITLE,
    draft,
    member,
    snapshot,
    stored,
)

# --- Drafting and previewing ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", " \n\t ", "x" * (TEXT_MAX + 1), " " + "x" * (TEXT_MAX + 1) + " "],
    ids=["empty", "blank", "one-too-long", "one-too-long-padded"],
)
async def test_a_broadcast_text_that_is_empty_or_too_long_is_refused(
    database: Database, text: str
) -> None:
    await member(database, "Memorial", IRINA)
    before = await snapshot(database)

    with pytest.raises(BroadcastTextInvalid) as refused:
        await preview(database, text)

    assert refused.value == BroadcastTextInvalid(limit=TEXT_MAX)
    assert await snapshot(database) == before


async def test_a_broadcast_text_of_the_longest_length_is_kept_trimmed(database: Database) -> None:
    longest = "x" * TEXT_MAX

    drafted = await preview(database, f"\n  {longest}  \n")

    [saved] = await stored(database, Broadcast)
    assert saved.id == drafted.broadcast_id
    assert saved.text == longest


async def test_a_preview_counts_only_subscribed_contacts_and_sends_nothing(
    database: Database,
) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    await member(database, "Viasna", ALES)
    await unsubscribe(database, OLEG)
    await stranger(database, STRANGER)

    drafted = await preview(database, f"  {ALERT}\n")

    [saved] = await stored(database, Broadcast)
    assert drafted == Preview(broadcast_id=saved.id or 0, recipients=2)
    assert (
        saved.text,
        saved.state,
        saved.created_by,
        saved.created_at,
        saved.queued_at,
        saved.recipients,
        saved.reported_at,
    ) == (ALERT, BroadcastState.DRAFT, ORGANISER, NOW, None, 0, None)
    assert await stored(database, OutboxMessage) == []


# --- Queueing ------------------------------------------------------------------------------


async def test_send_queues_one_pending_row_per_subscribed_contact(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    await member(database, "Viasna", ALES)
    await unsubscribe(database, ALES)
    await stranger(database, STRANGER)
    await stranger(database, ORGANISER)  # the organiser talks to the bot but is no contact
    broadcast_id = (await preview(database)).broadcast_id

    recipients = await queue(database, broadcast_id, LATER)

    assert recipients == 2
    assert [
        (
            r.kind,
            r.broadcast_id,
            r.appeal_id,
            r.recipient_id,
            r.chat_id,
            r.delivery,
            r.attempts,
            r.not_before,
            r.created_at,
            r.sent_at,
            r.error,
        )
        for r in sorted(await rows(database), key=lambda r: r.recipient_id)
    ] == [
        (OutboxKind.BROADCAST, broadcast_id, None, person, person, Delivery.PENDING, 0, LATER, LATER, None, None)
        for person in (IRINA, OLEG)
    ]  # fmt: skip
    [saved] = await stored(database, Broadcast)
    assert (saved.state, saved.queued_at, saved.recipients) == (BroadcastState.QUEUED, LATER, 2)


async def test_a_broadcast_is_queued_only_once(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    broadcast_id = await broadcast(database)
    before = await snapshot(database)

    with pytest.raises(BroadcastAlreadyQueued) as refused:
        await queue(database, broadcast_id)

    assert refused.value == BroadcastAlreadyQueued(broadcast_id=broadcast_id)
    assert await snapshot(database) == before
    assert len(await stored(database, OutboxMessage)) == 2


async def test_simultaneous_taps_on_send_queue_the_broadcast_once(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    broadcast_id = (await preview(database)).broadcast_id

    results = await asyncio.gather(
        *(queue(database, broadcast_id) for _ in range(10)), return_exceptions=True
    )

    queued = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, BroadcastAlreadyQueued)]
    assert (queued, len(refused)) == ([2], 9)
    assert sorted(r.recipient_id for r in await stored(database, OutboxMessage)) == [IRINA, OLEG]


async def test_a_cancelled_broadcast_cannot_be_queued(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    broadcast_id = (await preview(database)).broadcast_id
    await cancel(database, broadcast_id)
    before = await snapshot(database)

    with pytest.raises(BroadcastCancelled) as refused:
        await queue(database, broadcast_id)

    assert refused.value == BroadcastCancelled(broadcast_id=broadcast_id)
    assert await snapshot(database) == before
    [saved] = await stored(database, Broadcast)
    assert (saved.state, saved.queued_at, saved.recipients) == (BroadcastState.CANCELLED, None, 0)
    assert await stored(database, OutboxMessage) == []


async def test_a_queued_broadcast_cannot_be_cancelled(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    broadcast_id = await broadcast(database)
    before = await snapshot(database)

    with pytest.raises(BroadcastAlreadyQueued) as refused:
        await cancel(database, broadcast_id)

    assert refused.value == BroadcastAlreadyQueued(broadcast_id=broadcast_id)
    assert await snapshot(database) == before


async def test_an_unknown_broadcast_can_be_neither_cancelled_nor_queued(
    database: Database,
) -> None:
    await member(database, "Memorial", IRINA)
    before = await snapshot(database)

    with pytest.raises(BroadcastNotFound) as not_cancelled:
        await cancel(database, 999)
    with pytest.raises(BroadcastNotFound) as not_queued:
        await queue(database, 999)

    assert not_cancelled.value == not_queued.value == BroadcastNotFound(broadcast_id=999)
    assert await snapshot(database) == before


# --- Announcements -------------------------------------------------------------------------


async def test_publishing_an_appeal_queues_one_announcement_per_subscribed_contact(
    database: Database,
) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    await member(database, "Viasna", ALES)
    await unsubscribe(database, OLEG)
    await stranger(database, STRANGER)
    appeal_id = await draft(database)

    published = await publish(database, appeal_id, LATER)

    assert published == Published(appeal_id, TITLE, announced_to=2)
    assert sorted(
        (r.kind, r.appeal_id, r.broadcast_id, r.recipient_id, r.chat_id, r.delivery, r.not_before)
        for r in await stored(database, OutboxMessage)
    ) == [
        (OutboxKind.ANNOUNCEMENT, appeal_id, None, person, person, Delivery.PENDING, LATER)
        for person in (IRINA, ALES)
    ]


async def test_a_publication_rolled_back_leaves_no_announcement(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    await member(database, "OVD-Info", OLEG)
    appeal_id = await draft(database)
    before = await snapshot(database)

    with pytest.raises(Crash):
        await publish_then_crash(database, appeal_id)

    assert await snapshot(database) == before  # ...and gone with it
    [appeal] = await stored(database, Appeal)
    assert (appeal.state, appeal.published_at) == (AppealState.DRAFT, None)
    assert await stored(database, OutboxMessage) == []


async def publish_then_crash(database: Database, appeal_id: int) -> None:
    async with database.transaction() as session:
        published = await publish_appeal(session=session, appeal_id=appeal_id, now=LATER)
        assert published.announced_to == 2  # queued inside the transaction...
        raise Crash
