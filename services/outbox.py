"""The outbox: bulk messages queued with their cause, and what became of each.

A worker (bot/outbox.py) takes due rows, sends them, and records the delivery here. A row is
marked sent only after Telegram confirmed it, so a crash can repeat at most the sends that were
in flight, never one already recorded.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, func, insert, literal, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Account,
    Appeal,
    Broadcast,
    BroadcastState,
    Contact,
    Delivery,
    OutboxKind,
    OutboxMessage,
)
from models.utc import UTCDateTime

ERROR_MAX = 200


async def enqueue(
    *,
    session: AsyncSession,
    kind: OutboxKind,
    now: datetime,
    broadcast_id: int | None = None,
    appeal_id: int | None = None,
) -> int:
    """One row per subscribed contact, in the caller's transaction; returns how many."""
    # Typed literals: PostgreSQL will not guess the type of a bare parameter in a SELECT list.
    recipients = sa_select(
        literal(kind.value, String()),
        literal(broadcast_id, Integer()),
        literal(appeal_id, Integer()),
        col(Contact.telegram_id),
        col(Contact.telegram_id),  # a private chat's id is its person's id
        literal(Delivery.PENDING.value, String()),
        literal(0, Integer()),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
    ).where(col(Contact.subscribed))
    columns = [
        "kind", "broadcast_id", "appeal_id", "recipient_id", "chat_id", "delivery",
        "attempts", "not_before", "created_at",
    ]  # fmt: skip
    result = await session.exec(insert(OutboxMessage).from_select(columns, recipients))
    return int(result.rowcount)


async def count_recipients(*, session: AsyncSession) -> int:
    """How many contacts a broadcast would reach now."""
    query = select(func.count()).select_from(Contact).where(col(Contact.subscribed))
    return (await session.exec(query)).one()


@dataclass(frozen=True)
class DueMessage:
    """A row to send, with what its text is made of, in its recipient's language."""

    id: int
    kind: OutboxKind
    chat_id: int
    attempts: int
    language: str
    broadcast_id: int | None
    broadcast_text: str | None
    appeal_id: int | None
    appeal_title: str | None


async def due(
    *, session: AsyncSession, now: datetime, limit: int, skip: set[int]
) -> list[DueMessage]:
    """Pending rows whose time has come, oldest first, leaving out those already in flight."""
    # Plain columns, not ORM objects: this runs for every batch the worker sends.
    query = (
        sa_select(
            col(OutboxMessage.id),
            col(OutboxMessage.kind),
            col(OutboxMessage.chat_id),
            col(OutboxMessage.attempts),
            col(Account.language),
            col(OutboxMessage.broadcast_id),
            col(Broadcast.text),
            col(OutboxMessage.appeal_id),
            col(Appeal.title),
        )
        .join(Account, col(Account.telegram_id) == col(OutboxMessage.recipient_id))
        .outerjoin(Broadcast, col(Broadcast.id) == col(OutboxMessage.broadcast_id))
        .outerjoin(Appeal, col(Appeal.id) == col(OutboxMessage.appeal_id))
        .where(
            col(OutboxMessage.delivery) == Delivery.PENDING,
            col(OutboxMessage.not_before) <= now,
            col(OutboxMessage.id).not_in(skip),
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    rows = await (await session.connection()).execute(query)
    return [
        DueMessage(
            _stored_id(id_), kind, chat_id, attempts, language, broadcast, text, appeal, title
        )
        for id_, kind, chat_id, attempts, language, broadcast, text, appeal, title in rows
    ]


async def mark_sent(*, session: AsyncSession, message_ids: list[int], now: datetime) -> None:
    """Telegram confirmed these: they are never sent again."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids))
        .values(delivery=Delivery.SENT, sent_at=now)
    )


async def mark_failed(*, session: AsyncSession, message_id: int, reason: str) -> None:
    await _set(session, message_id, delivery=Delivery.FAILED, error=reason[:ERROR_MAX])


async def mark_blocked(
    *, session: AsyncSession, message_id: int, reason: str, now: datetime
) -> None:
    """The person blocked the bot: unsubscribe them, and stop everything still queued for them."""
    message = await session.get(OutboxMessage, message_id)
    assert message is not None
    await session.exec(
        update(Contact)
        .where(col(Contact.telegram_id) == message.recipient_id)
        .values(subscribed=False, unreachable_at=now)
    )
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.recipient_id) == message.recipient_id,
            col(OutboxMessage.delivery) == Delivery.PENDING,
        )
        .values(delivery=Delivery.BLOCKED, error=reason[:ERROR_MAX])
    )


async def retry_later(
    *, session: AsyncSession, message_id: int, not_before: datetime, reason: str
) -> None:
    """Another attempt after a transient failure (5xx, network)."""
    await _set(
        session,
        message_id,
        attempts=col(OutboxMessage.attempts) + 1,
        not_before=not_before,
        error=reason[:ERROR_MAX],
    )


async def move_chat(*, session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """Telegram moved the chat (a group became a supergroup): pending rows follow it."""
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_id) == old_chat_id,
            col(OutboxMessage.delivery) == Delivery.PENDING,
        )
        .values(chat_id=new_chat_id)
    )


async def finished_broadcasts(*, session: AsyncSession) -> list[int]:
    """Queued broadcasts with nothing left pending whose organiser has not had the report."""
    pending = (
        select(OutboxMessage.id)
        .where(
            col(OutboxMessage.broadcast_id) == col(Broadcast.id),
            col(OutboxMessage.delivery) == Delivery.PENDING,
        )
        .exists()
    )
    query = select(Broadcast.id).where(
        col(Broadcast.state) == BroadcastState.QUEUED,
        col(Broadcast.reported_at).is_(None),
        ~pending,
    )
    return [_stored_id(broadcast_id) for broadcast_id in await session.exec(query)]


async def mark_reported(*, session: AsyncSession, broadcast_id: int, now: datetime) -> None:
    await session.exec(
        update(Broadcast).where(col(Broadcast.id) == broadcast_id).values(reported_at=now)
    )


async def _set(session: AsyncSession, message_id: int, **values: object) -> None:
    await session.exec(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
    )


def _stored_id(value: int | None) -> int:
    """A stored row's id (SQLModel types ids optional because they are unset before insert)."""
    assert value is not None
    return value
