"""The outbox: bulk messages queued with their cause, and what became of each.

A worker (bot/outbox.py) takes due rows, sends them, and records the delivery here. A row is
marked sent only after Telegram confirmed it, so a crash can repeat at most the sends that were
in flight, never one already recorded.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, func, insert, literal, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Account,
    Appeal,
    AppealTranslation,
    Broadcast,
    BroadcastState,
    Contact,
    Delivery,
    OutboxKind,
    OutboxMessage,
    ProgressMessage,
)
from models.database import stored_id
from models.utc import UTCDateTime
from services.payloads import Payload

ERROR_MAX = 200
# How long a claimed row stays another sender's; only a sender cut off from the database
# without dying holds one that long, since a new leader frees them all.
CLAIM_LEASE = timedelta(minutes=5)


async def enqueue(
    *,
    session: AsyncSession,
    kind: OutboxKind,
    now: datetime,
    broadcast_id: int | None = None,
    appeal_id: int | None = None,
    organisation_id: int | None = None,
    except_organisations: frozenset[int] = frozenset(),
    payload: Payload | None = None,
) -> int:
    """One row per subscribed contact (of one organisation, if given; none of those
    excepted), in the caller's transaction; returns how many."""
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
        literal(payload, JSON()),
    ).where(col(Contact.subscribed))
    if organisation_id is not None:
        recipients = recipients.where(col(Contact.organisation_id) == organisation_id)
    if except_organisations:
        recipients = recipients.where(col(Contact.organisation_id).not_in(except_organisations))
    result = await session.exec(insert(OutboxMessage).from_select(_COLUMNS, recipients))
    return int(result.rowcount)


async def enqueue_to(
    *,
    session: AsyncSession,
    kind: OutboxKind,
    recipients: frozenset[int],
    payload: Payload,
    now: datetime,
) -> None:
    """One row for each of these people (organisers, say), whether or not they subscribed."""
    for telegram_id in sorted(recipients):
        session.add(
            OutboxMessage(
                kind=kind,
                recipient_id=telegram_id,
                chat_id=telegram_id,
                not_before=now,
                created_at=now,
                payload=dict(payload),
            )
        )


_COLUMNS = [
    "kind", "broadcast_id", "appeal_id", "recipient_id", "chat_id", "delivery", "attempts",
    "not_before", "created_at", "payload",
]  # fmt: skip


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
    language: str | None  # None: someone the bot keeps no account for (an organiser, say)
    broadcast_id: int | None
    broadcast_text: str | None
    appeal_id: int | None
    appeal_title: str | None
    timezone: str | None
    payload: dict[str, Any] | None


async def due(
    *, session: AsyncSession, now: datetime, limit: int, skip: set[int]
) -> list[DueMessage]:
    """Claim pending rows whose time has come, oldest first, leaving out those already in
    flight here or claimed by another sender, and return them to send."""
    # SKIP LOCKED: two senders claiming at once each take different rows, neither waits.
    claimable = (
        select(OutboxMessage.id)
        .where(
            col(OutboxMessage.delivery) == Delivery.PENDING,
            col(OutboxMessage.not_before) <= now,
            or_(
                col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) <= now
            ),
            col(OutboxMessage.id).not_in(skip),
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list((await session.exec(claimable)).all())
    if not claimed:
        return []
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(claimed))
        .values(claimed_until=now + CLAIM_LEASE)
    )
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
            # The title in the recipient's language where the appeal was translated into it.
            func.coalesce(col(AppealTranslation.title), col(Appeal.title)).label("title"),
            col(Account.timezone),
            col(OutboxMessage.payload),
        )
        .outerjoin(Account, col(Account.telegram_id) == col(OutboxMessage.recipient_id))
        .outerjoin(Broadcast, col(Broadcast.id) == col(OutboxMessage.broadcast_id))
        .outerjoin(Appeal, col(Appeal.id) == col(OutboxMessage.appeal_id))
        .outerjoin(
            AppealTranslation,
            (col(AppealTranslation.appeal_id) == col(OutboxMessage.appeal_id))
            & (col(AppealTranslation.language) == col(Account.language)),
        )
        .where(col(OutboxMessage.id).in_(claimed))
        .order_by(col(OutboxMessage.id))
    )
    rows = await (await session.connection()).execute(query)
    messages = [
        DueMessage(
            id=stored_id(row.id),
            kind=row.kind,
            chat_id=row.chat_id,
            attempts=row.attempts,
            language=row.language,
            broadcast_id=row.broadcast_id,
            broadcast_text=row.text,
            appeal_id=row.appeal_id,
            appeal_title=row.title,
            timezone=row.timezone,
            payload=row.payload,
        )
        for row in rows
    ]
    return await _titles_in_their_language(session, messages)


# The kinds whose payload names appeals by the title they had when queued: as "title" beside
# "appeal_id", or as "appeals", a list of [id, title].
_NAMING_APPEALS = frozenset(
    {
        OutboxKind.REMINDER,
        OutboxKind.DEADLINE_REPORT,
        OutboxKind.APPEAL_CLOSED,
        OutboxKind.RECONFIRM,
    }
)


def _named(message: DueMessage) -> list[int]:
    payload = message.payload
    if message.kind not in _NAMING_APPEALS or payload is None or message.language is None:
        return []
    if "appeals" in payload:
        return [int(appeal_id) for appeal_id, _title in payload["appeals"]]
    return [int(payload["appeal_id"])]


async def _titles_in_their_language(
    session: AsyncSession, messages: list[DueMessage]
) -> list[DueMessage]:
    """Each appeal a payload names, titled in its recipient's language where the appeal was
    translated into it, as announcements are."""
    named = {appeal_id for message in messages for appeal_id in _named(message)}
    if not named:
        return messages
    languages = {message.language for message in messages if _named(message)}
    query = select(
        AppealTranslation.appeal_id, AppealTranslation.language, AppealTranslation.title
    ).where(
        col(AppealTranslation.appeal_id).in_(named), col(AppealTranslation.language).in_(languages)
    )
    titles: dict[tuple[int, str | None], str] = {
        (appeal_id, language): title for appeal_id, language, title in await session.exec(query)
    }
    if not titles:
        return messages
    return [_retitled(message, titles) if _named(message) else message for message in messages]


def _retitled(message: DueMessage, titles: dict[tuple[int, str | None], str]) -> DueMessage:
    payload = dict(message.payload or {})
    language = message.language
    if "appeals" in payload:
        payload["appeals"] = [
            [appeal_id, titles.get((int(appeal_id), language), title)]
            for appeal_id, title in payload["appeals"]
        ]
    else:
        payload["title"] = titles.get((int(payload["appeal_id"]), language), payload["title"])
    return replace(message, payload=payload)


@dataclass(frozen=True)
class Backlog:
    """What waits in the outbox: how many rows, and when the oldest of them was queued."""

    pending: int
    oldest_queued_at: datetime | None  # None: nothing is pending


async def backlog(*, session: AsyncSession) -> Backlog:
    """The pending rows, due or waiting for a retry, for the health check and the metrics."""
    query = select(func.count(), func.min(col(OutboxMessage.created_at))).where(
        col(OutboxMessage.delivery) == Delivery.PENDING
    )
    pending, oldest = (await session.exec(query)).one()
    return Backlog(pending=pending, oldest_queued_at=oldest)


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
        claimed_until=None,
        error=reason[:ERROR_MAX],
    )


async def unclaim(*, session: AsyncSession, message_ids: list[int]) -> None:
    """Give back rows this sender took but will not send now (their chat's turn had not come,
    or Telegram asked to wait): the next look takes them again."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids))
        .values(claimed_until=None)
    )


async def release_claims(*, session: AsyncSession) -> int:
    """Free every claim: a replica that starts leading is the only sender from then on, and
    what the last one had in flight (it died, or lost the lead) is sent again."""
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.claimed_until).is_not(None))
        .values(claimed_until=None)
    )
    return result.rowcount


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
    # Those with a progress message get their final figures there (services/progress.py).
    tracked = (
        select(ProgressMessage.id)
        .where(col(ProgressMessage.broadcast_id) == col(Broadcast.id))
        .exists()
    )
    query = select(Broadcast.id).where(
        col(Broadcast.state) == BroadcastState.QUEUED,
        col(Broadcast.reported_at).is_(None),
        ~pending,
        ~tracked,
    )
    return [stored_id(broadcast_id) for broadcast_id in await session.exec(query)]


async def mark_reported(*, session: AsyncSession, broadcast_id: int, now: datetime) -> None:
    await session.exec(
        update(Broadcast).where(col(Broadcast.id) == broadcast_id).values(reported_at=now)
    )


async def _set(session: AsyncSession, message_id: int, **values: object) -> None:
    await session.exec(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
    )
