"""Progress messages: what an organiser sees while a broadcast or an announcement goes out.

The organiser's "queued" message is recorded here; the outbox worker edits it with the tally
until nothing is pending, then once more with the final figures, also after a restart.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Appeal, Broadcast, Delivery, OutboxKind, OutboxMessage, ProgressMessage
from models.database import stored_id
from services import accounts


@dataclass(frozen=True)
class Tally:
    """What became of a bulk send's messages so far."""

    pending: int
    sent: int
    blocked: int
    failed: int
    # Why messages failed, as Telegram said it, with how many each.
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def recipients(self) -> int:
        return self.pending + self.sent + self.blocked + self.failed

    @property
    def handled(self) -> int:
        return self.sent + self.blocked + self.failed


@dataclass(frozen=True)
class BulkSend:
    """What a progress message follows: a broadcast, or the announcement of an appeal."""

    broadcast_id: int | None = None
    appeal_id: int | None = None
    appeal_title: str | None = None  # as written: the organiser who published it wrote it so


@dataclass(frozen=True)
class Tracked:
    """A progress message still to keep up to date, and the tally of its send."""

    id: int
    chat_id: int
    message_id: int | None  # None: not sent yet
    language: str
    send: BulkSend
    started_at: datetime
    tally: Tally


async def track(*, session: AsyncSession, chat_id: int, send: BulkSend, now: datetime) -> int:
    """In the transaction that queues the send: its progress is to be shown in this chat.
    Returns the progress message's number, for `shown` once it is sent."""
    assert (send.broadcast_id is None) != (send.appeal_id is None), "a broadcast or an appeal"
    row = ProgressMessage(
        chat_id=chat_id,
        broadcast_id=send.broadcast_id,
        appeal_id=send.appeal_id,
        started_at=now,
    )
    session.add(row)
    await session.flush()
    return stored_id(row.id)


async def shown(*, session: AsyncSession, progress_id: int, message_id: int) -> None:
    """The progress message was sent as this message: the worker edits it from now on."""
    await session.exec(
        update(ProgressMessage)
        .where(col(ProgressMessage.id) == progress_id)
        .values(message_id=message_id)
    )


async def tally(
    *, session: AsyncSession, broadcast_id: int | None = None, appeal_id: int | None = None
) -> Tally:
    """The messages of one broadcast, or of one appeal's announcement, by what became of them."""
    query = select(OutboxMessage.delivery, OutboxMessage.error, func.count())
    if broadcast_id is not None:
        query = query.where(col(OutboxMessage.broadcast_id) == broadcast_id)
    else:
        query = query.where(
            col(OutboxMessage.kind) == OutboxKind.ANNOUNCEMENT,
            col(OutboxMessage.appeal_id) == appeal_id,
        )
    counts: Counter[Delivery] = Counter()
    reasons: Counter[str] = Counter()
    rows = await session.exec(query.group_by(col(OutboxMessage.delivery), col(OutboxMessage.error)))
    for delivery, error, n in rows:
        counts[Delivery(delivery)] += n
        if delivery == Delivery.FAILED and error:
            reasons[error] += n
    return Tally(
        pending=counts[Delivery.PENDING],
        sent=counts[Delivery.SENT],
        blocked=counts[Delivery.BLOCKED],
        failed=counts[Delivery.FAILED],
        reasons=dict(reasons.most_common()),
    )


async def unfinished(*, session: AsyncSession, default_language: str) -> list[Tracked]:
    """Every progress message not yet given its final figures, oldest first."""
    query = (
        select(ProgressMessage, Appeal.title)
        .outerjoin(Appeal, col(Appeal.id) == col(ProgressMessage.appeal_id))
        .where(col(ProgressMessage.finished_at).is_(None))
        .order_by(col(ProgressMessage.id))
    )
    tracked = []
    for progress, title in (await session.exec(query)).all():
        tracked.append(
            Tracked(
                id=stored_id(progress.id),
                chat_id=progress.chat_id,
                message_id=progress.message_id,
                language=await accounts.language_of(
                    session=session, telegram_id=progress.chat_id, default=default_language
                ),
                send=BulkSend(progress.broadcast_id, progress.appeal_id, title),
                started_at=progress.started_at,
                tally=await tally(
                    session=session,
                    broadcast_id=progress.broadcast_id,
                    appeal_id=progress.appeal_id,
                ),
            )
        )
    return tracked


async def finish(*, session: AsyncSession, tracked: Tracked, now: datetime) -> None:
    """The message shows the final figures: it is edited no more, and a broadcast's organiser
    has had their report."""
    await session.exec(
        update(ProgressMessage).where(col(ProgressMessage.id) == tracked.id).values(finished_at=now)
    )
    if tracked.send.broadcast_id is not None:
        await session.exec(
            update(Broadcast)
            .where(col(Broadcast.id) == tracked.send.broadcast_id)
            .values(reported_at=now)
        )
