"""Broadcasts: an organiser's alert, previewed, then queued in the outbox for every member."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Broadcast, BroadcastState, Delivery, OutboxKind, OutboxMessage
from models.database import storable
from services import audit, outbox
from services.errors import (
    BroadcastAlreadyQueued,
    BroadcastCancelled,
    BroadcastNotFound,
    BroadcastTextInvalid,
)

# Room is left for the heading each recipient sees above the organiser's text.
TEXT_MAX = 3800


@dataclass(frozen=True)
class Preview:
    broadcast_id: int
    recipients: int


@dataclass(frozen=True)
class DeliveryReport:
    broadcast_id: int
    organiser_id: int | None  # None once that organiser asked the bot to forget them
    state: BroadcastState
    recipients: int
    pending: int
    sent: int
    blocked: int
    failed: int
    # Why messages failed, as Telegram said it, with how many each.
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state is BroadcastState.QUEUED and self.pending == 0


async def draft_broadcast(
    *, session: AsyncSession, text: str, organiser_id: int, now: datetime
) -> Preview:
    """Store the text for the organiser's preview; nothing is sent before Send."""
    text = storable(text).strip()
    if not text or len(text) > TEXT_MAX:
        raise BroadcastTextInvalid(limit=TEXT_MAX)
    broadcast = Broadcast(text=text, created_by=organiser_id, created_at=now)
    session.add(broadcast)
    await session.flush()
    assert broadcast.id is not None
    return Preview(broadcast.id, await outbox.count_recipients(session=session))


async def queue_broadcast(
    *, session: AsyncSession, broadcast_id: int, now: datetime, actor_id: int | None = None
) -> int:
    """Send: a draft becomes queued, with one outbox row per subscribed contact."""
    # Conditional: of two taps on Send, exactly one moves the draft on.
    moved = await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.state) == BroadcastState.DRAFT)
        .values(state=BroadcastState.QUEUED, queued_at=now)
    )
    if moved.rowcount != 1:
        await _refuse_state(session, broadcast_id)
    recipients = await outbox.enqueue(
        session=session, kind=OutboxKind.BROADCAST, broadcast_id=broadcast_id, now=now
    )
    await session.exec(
        update(Broadcast).where(col(Broadcast.id) == broadcast_id).values(recipients=recipients)
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="broadcast.sent",
        object=f"broadcast:{broadcast_id}",
        now=now,
    )
    return recipients


async def cancel_broadcast(*, session: AsyncSession, broadcast_id: int) -> None:
    moved = await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.state) == BroadcastState.DRAFT)
        .values(state=BroadcastState.CANCELLED)
    )
    if moved.rowcount != 1:
        await _refuse_state(session, broadcast_id)


async def delivery_report(*, session: AsyncSession, broadcast_id: int) -> DeliveryReport:
    """How far a broadcast has gone: sent, blocked, failed and still pending, with reasons."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise BroadcastNotFound(broadcast_id=broadcast_id)
    counts: Counter[Delivery] = Counter()
    reasons: Counter[str] = Counter()
    rows = await session.exec(
        select(OutboxMessage.delivery, OutboxMessage.error, func.count())
        .where(col(OutboxMessage.broadcast_id) == broadcast_id)
        .group_by(col(OutboxMessage.delivery), col(OutboxMessage.error))
    )
    for delivery, error, n in rows:
        counts[Delivery(delivery)] += n
        if delivery == Delivery.FAILED and error:
            reasons[error] += n
    return DeliveryReport(
        broadcast_id=broadcast_id,
        organiser_id=broadcast.created_by,
        state=broadcast.state,
        recipients=broadcast.recipients,
        pending=counts[Delivery.PENDING],
        sent=counts[Delivery.SENT],
        blocked=counts[Delivery.BLOCKED],
        failed=counts[Delivery.FAILED],
        reasons=dict(reasons.most_common()),
    )


async def _refuse_state(session: AsyncSession, broadcast_id: int) -> None:
    state = (
        await session.exec(select(Broadcast.state).where(col(Broadcast.id) == broadcast_id))
    ).first()
    if state is None:
        raise BroadcastNotFound(broadcast_id=broadcast_id)
    if state == BroadcastState.CANCELLED:
        raise BroadcastCancelled(broadcast_id=broadcast_id)
    raise BroadcastAlreadyQueued(broadcast_id=broadcast_id)
