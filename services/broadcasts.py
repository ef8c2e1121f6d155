"""Broadcasts: an organiser's alert, previewed, then queued in the outbox for every member."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Broadcast, BroadcastState, OutboxKind
from models.database import storable
from services import audit, outbox, progress
from services.errors import (
    BroadcastAlreadyQueued,
    BroadcastCancelled,
    BroadcastNotFound,
    BroadcastTextInvalid,
)
from services.progress import BulkSend

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


@dataclass(frozen=True)
class Sent:
    """A broadcast queued on its organiser's Send."""

    recipients: int
    text: str
    progress_id: int  # the progress message to send the organiser (services/progress.py)


async def send_broadcast(
    *, session: AsyncSession, broadcast_id: int, organiser_id: int, chat_id: int, now: datetime
) -> Sent:
    """The organiser's Send: queue the broadcast, its progress to be shown in their chat."""
    recipients = await queue_broadcast(
        session=session, broadcast_id=broadcast_id, now=now, actor_id=organiser_id
    )
    broadcast = await session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    progress_id = await progress.track(
        session=session, chat_id=chat_id, send=BulkSend(broadcast_id=broadcast_id), now=now
    )
    return Sent(recipients, broadcast.text, progress_id)


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
    counted = await progress.tally(session=session, broadcast_id=broadcast_id)
    return DeliveryReport(
        broadcast_id=broadcast_id,
        organiser_id=broadcast.created_by,
        state=broadcast.state,
        recipients=broadcast.recipients,
        pending=counted.pending,
        sent=counted.sent,
        blocked=counted.blocked,
        failed=counted.failed,
        reasons=counted.reasons,
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
