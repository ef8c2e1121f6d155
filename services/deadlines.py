"""Deadlines: an open appeal closes by itself when its deadline passes, once; the organisers
get the final count and every subscribed member the news."""

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Appeal, AppealState, OutboxKind
from models.database import stored_id
from services import audit, membership, outbox
from services.appeals import count_signatures, tell_members_closed
from services.payloads import CountPayload


async def close_at_deadlines(
    *, session: AsyncSession, now: datetime, organiser_ids: frozenset[int]
) -> list[int]:
    """Close every open appeal whose deadline has passed, once; returns their ids."""
    closed_now = []
    # Locked together before the first audit entry: a signer holds its appeal's row and then
    # waits for the audit chain, so taking a row after an entry could deadlock (PostgreSQL).
    for appeal in await open_appeals(session, col(Appeal.deadline_at) <= now, lock=True):
        appeal_id = stored_id(appeal.id)
        # Conditional: of two looks at the timeline, one closes the appeal and reports it.
        closed = await session.exec(
            update(Appeal)
            .where(col(Appeal.id) == appeal_id, col(Appeal.state) == AppealState.OPEN)
            .values(state=AppealState.CLOSED, closed_at=appeal.deadline_at)
        )
        if closed.rowcount != 1:
            continue
        signatures = await count_signatures(session=session, appeal=appeal)
        await tell_members_closed(session=session, appeal=appeal, signatures=signatures, now=now)
        payload = CountPayload(appeal_id=appeal_id, title=appeal.title, signatures=signatures)
        recipients = await membership.organisers(session=session, configured=organiser_ids)
        await outbox.enqueue_to(
            session=session,
            kind=OutboxKind.DEADLINE_REPORT,
            recipients=frozenset(recipients),
            payload=payload,
            now=now,
        )
        await audit.record(
            session=session,
            actor_id=None,
            action="appeal.closed",
            object=f"appeal:{appeal_id}",
            now=now,
        )
        closed_now.append(appeal_id)
    return closed_now


async def open_appeals(
    session: AsyncSession, condition: Any, *, lock: bool = False
) -> list[Appeal]:
    query = select(Appeal).where(col(Appeal.state) == AppealState.OPEN, condition)
    if lock:
        query = query.with_for_update()
    return list((await session.exec(query.order_by(col(Appeal.id)))).all())
