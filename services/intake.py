"""Incoming updates: stored before they are confirmed to Telegram, handled at most once in effect."""

from datetime import datetime

from sqlalchemy import Update, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import IncomingUpdate
from models.database import insert_unless_present


class AlreadyHandled(Exception):
    """The update's effect is already stored (it was delivered or replayed twice)."""


async def receive(
    *, session: AsyncSession, updates: list[tuple[int, str]], now: datetime
) -> list[int]:
    """Store the (update_id, JSON) pairs not seen before; returns the ids that are new."""
    if not updates:
        return []
    rows = [{"update_id": i, "body": body, "received_at": now} for i, body in updates]
    # An update Telegram delivers twice (or two replicas receive) is stored once.
    statement = (
        insert_unless_present(session, IncomingUpdate)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(col(IncomingUpdate.update_id))
    )
    stored = (await session.exec(statement)).scalars().all()
    return sorted(stored)


async def claim(*, session: AsyncSession, update_id: int, now: datetime) -> None:
    """Mark the update handled in the transaction that stores its effect, or AlreadyHandled.

    An update that was never stored (none is, in a test that calls handlers directly) is let
    through.
    """
    result = await session.exec(_marked([update_id], now))
    if result.rowcount == 1:
        return
    handled = await session.exec(
        select(IncomingUpdate.handled_at).where(IncomingUpdate.update_id == update_id)
    )
    if handled.first() is not None:
        raise AlreadyHandled()


async def mark_handled(*, session: AsyncSession, update_ids: list[int], now: datetime) -> None:
    """Mark updates handled after their handlers ran (those already marked keep their time)."""
    if update_ids:
        await session.exec(_marked(update_ids, now))


def _marked(update_ids: list[int], now: datetime) -> Update:
    """Handled now, and emptied of what the person wrote: those of `update_ids` not yet so."""
    return (
        update(IncomingUpdate)
        .where(
            col(IncomingUpdate.update_id).in_(update_ids),
            col(IncomingUpdate.handled_at).is_(None),
        )
        .values(handled_at=now, body=None)
    )


async def unhandled(*, session: AsyncSession) -> list[str]:
    """The stored updates not yet handled, oldest first (after a restart: handle them now)."""
    bodies = await session.exec(
        select(IncomingUpdate.body)
        .where(col(IncomingUpdate.handled_at).is_(None))
        .order_by(col(IncomingUpdate.update_id))
    )
    return [body for body in bodies.all() if body is not None]


async def forget_handled(*, session: AsyncSession, before: datetime) -> int:
    """Drop the ids of updates handled before `before`; Telegram never re-sends one that old."""
    result = await session.exec(
        delete(IncomingUpdate).where(col(IncomingUpdate.handled_at) < before)
    )
    return result.rowcount
