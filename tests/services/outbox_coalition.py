"""The coalition the services' outbox tests queue messages for, and the steps they take: contacts\nsubscribed and not, broadcasts drafted, queued and settled."""

from datetime import datetime

from models import (
    Contact,
    Database,
    Delivery,
    OutboxMessage,
)
from services import outbox
from services.accounts import ensure_account, set_language, set_subscription
from services.appeals import Published, publish_appeal
from services.broadcasts import (
    DeliveryReport,
    Preview,
    cancel_broadcast,
    delivery_report,
    draft_broadcast,
    queue_broadcast,
)
from services.outbox import DueMessage
from tests.stories import (
    LATER,
    NOW,
    ORGANISER,
    stored,
)

ALERT = "Tomorrow at 10:00: the hearing in the case of the detained journalists."
STRANGER = 3001  # has talked to the bot, but belongs to no organisation
BLOCKED = "Forbidden: bot was blocked by the user"
NOT_FOUND = "Bad Request: chat not found"
TOO_LONG = "Bad Request: message is too long"
TIMEOUT = "Timed out"
TITLE_FR = "Libérez tous les détenus liés au conflit"


class Crash(Exception):
    """Something going wrong later in a handler's transaction."""


async def preview(database: Database, text: str = ALERT) -> Preview:
    async with database.transaction() as session:
        return await draft_broadcast(session=session, text=text, organiser_id=ORGANISER, now=NOW)


async def queue(database: Database, broadcast_id: int, now: datetime = LATER) -> int:
    async with database.transaction() as session:
        return await queue_broadcast(session=session, broadcast_id=broadcast_id, now=now)


async def broadcast(database: Database, text: str = ALERT, now: datetime = LATER) -> int:
    """A broadcast previewed and sent; returns its id."""
    broadcast_id = (await preview(database, text)).broadcast_id
    await queue(database, broadcast_id, now)
    return broadcast_id


async def cancel(database: Database, broadcast_id: int) -> None:
    async with database.transaction() as session:
        await cancel_broadcast(session=session, broadcast_id=broadcast_id)


async def publish(database: Database, appeal_id: int, now: datetime = LATER) -> Published:
    async with database.transaction() as session:
        return await publish_appeal(session=session, appeal_id=appeal_id, now=now)


async def unsubscribe(database: Database, telegram_id: int) -> None:
    async with database.transaction() as session:
        await set_subscription(session=session, telegram_id=telegram_id, subscribed=False)


async def speaks(database: Database, telegram_id: int, language: str) -> None:
    async with database.transaction() as session:
        await set_language(session=session, telegram_id=telegram_id, language=language)


async def stranger(database: Database, telegram_id: int) -> None:
    """An account the bot stored (a language chosen), with no organisation."""
    async with database.transaction() as session:
        await ensure_account(session=session, telegram_id=telegram_id, language="ru")


async def rows(database: Database) -> list[OutboxMessage]:
    """The outbox, oldest first."""
    return sorted(await stored(database, OutboxMessage), key=lambda row: row.id or 0)


async def row_for(
    database: Database,
    recipient_id: int,
    *,
    broadcast_id: int | None = None,
    appeal_id: int | None = None,
) -> int:
    """The id of the one row queued for this person by this broadcast or appeal."""
    [row] = [
        row
        for row in await stored(database, OutboxMessage)
        if row.recipient_id == recipient_id
        and row.broadcast_id == broadcast_id
        and row.appeal_id == appeal_id
    ]
    assert row.id is not None
    return row.id


async def due(
    database: Database, now: datetime = LATER, limit: int = 100, skip: set[int] | None = None
) -> list[DueMessage]:
    async with database.transaction() as session:
        return await outbox.due(session=session, now=now, limit=limit, skip=skip or set())


async def due_ids(
    database: Database, now: datetime = LATER, limit: int = 100, skip: set[int] | None = None
) -> list[int]:
    return [message.id for message in await due(database, now, limit, skip)]


async def sent(database: Database, message_id: int, now: datetime = LATER) -> None:
    async with database.transaction() as session:
        await outbox.mark_sent(session=session, message_ids=[message_id], now=now)


async def failed(database: Database, message_id: int, reason: str) -> None:
    async with database.transaction() as session:
        await outbox.mark_failed(session=session, message_id=message_id, reason=reason)


async def blocked(database: Database, message_id: int, now: datetime = LATER) -> None:
    async with database.transaction() as session:
        await outbox.mark_blocked(session=session, message_id=message_id, reason=BLOCKED, now=now)


async def retry(database: Database, message_id: int, not_before: datetime) -> None:
    async with database.transaction() as session:
        await outbox.retry_later(
            session=session, message_id=message_id, not_before=not_before, reason=TIMEOUT
        )


async def finished(database: Database) -> list[int]:
    async with database.transaction() as session:
        return await outbox.finished_broadcasts(session=session)


async def report(database: Database, broadcast_id: int) -> DeliveryReport:
    async with database.transaction() as session:
        return await delivery_report(session=session, broadcast_id=broadcast_id)


async def contact(database: Database, telegram_id: int) -> Contact:
    async with database.transaction() as session:
        found = await session.get(Contact, telegram_id)
    assert found is not None
    return found


def fates(outbox_rows: list[OutboxMessage]) -> list[tuple[int, int | None, Delivery]]:
    return sorted((r.recipient_id, r.broadcast_id or r.appeal_id, r.delivery) for r in outbox_rows)
