"""What the bot holds about one person, and forgetting them on request.

Members include people at personal risk: each can see everything stored under their Telegram
id, and have it erased. Their organisation's signatures stay, attributed to it alone.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, delete, func, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Account,
    Actor,
    Appeal,
    AppealTranslation,
    Approval,
    Broadcast,
    Contact,
    Delivery,
    Invite,
    JoinRequest,
    Organisation,
    OutboxMessage,
    Phase,
    ProgressMessage,
    Signature,
)
from models.utc import utcnow
from services import audit


def _column(model: type[SQLModel], name: str) -> Column[Any]:
    table: Table = model.__table__  # type: ignore[attr-defined]  # set by table=True
    return table.c[name]


# Every column that holds a person's Telegram id, in one of two lists. A new such column must
# be added to one of them: tests/chat/test_privacy.py fails for any BigInteger column left out.

# Rows that are the person, or a message to them: deleted (a contact before its account).
ERASED_ROWS: tuple[Column[Any], ...] = (
    _column(Contact, "telegram_id"),
    _column(Account, "telegram_id"),
    _column(OutboxMessage, "recipient_id"),
    _column(OutboxMessage, "chat_id"),  # a private chat's id is its person's id
    _column(ProgressMessage, "chat_id"),
    _column(JoinRequest, "telegram_id"),
    _column(JoinRequest, "pending_for"),
    # Their audit entries stay, under a pseudonym that no longer leads to them.
    _column(Actor, "telegram_id"),
)
# Rows that belong to the coalition and only name the person: the name is emptied.
EMPTIED_COLUMNS: tuple[Column[Any], ...] = (
    _column(Signature, "signed_by"),
    _column(Invite, "used_by"),
    _column(Invite, "created_by"),
    _column(Appeal, "created_by"),
    _column(Broadcast, "created_by"),
    _column(Phase, "created_by"),
    _column(AppealTranslation, "created_by"),
    _column(JoinRequest, "decided_by"),
    _column(Approval, "subject_id"),
    _column(Approval, "requested_by"),
    _column(Approval, "decided_by"),
)
PERSON_COLUMNS = frozenset(ERASED_ROWS + EMPTIED_COLUMNS)


@dataclass(frozen=True)
class Membership:
    """The person's link to the organisation they act for."""

    organisation: str
    since: datetime
    subscribed: bool
    # When Telegram said they blocked the bot; None if it never did.
    unreachable_since: datetime | None


@dataclass(frozen=True)
class UsedInvite:
    organisation: str
    used_at: datetime | None


@dataclass(frozen=True)
class StoredData:
    """Everything stored under one Telegram id."""

    # From their account; all None when the bot keeps no account for them.
    language: str | None = None
    timezone: str | None = None
    created_at: datetime | None = None
    membership: Membership | None = None
    invites_used: tuple[UsedInvite, ...] = ()
    # The appeals on which they gave their organisation's signature.
    signed_appeals: tuple[int, ...] = ()
    # Outbox messages to them: still to send, and kept as a record of their delivery.
    queued_messages: int = 0
    kept_messages: int = 0
    # What they made as an organiser.
    appeals_created: tuple[int, ...] = ()
    broadcasts_created: tuple[int, ...] = ()
    phases_created: tuple[int, ...] = ()
    invites_created: int = 0

    @property
    def is_empty(self) -> bool:
        return self == StoredData()


async def what_is_stored(*, session: AsyncSession, telegram_id: int) -> StoredData:
    """Everything the bot holds about this person, as they may ask to see it."""
    account = await session.get(Account, telegram_id)
    membership_row = (
        await session.exec(
            select(Contact, Organisation)
            .join(Organisation, col(Organisation.id) == col(Contact.organisation_id))
            .where(col(Contact.telegram_id) == telegram_id)
        )
    ).first()
    membership = None
    if membership_row is not None:
        contact, organisation = membership_row
        membership = Membership(
            organisation=organisation.name,
            since=contact.joined_at,
            subscribed=contact.subscribed,
            unreachable_since=contact.unreachable_at,
        )
    invites_used = await session.exec(
        select(Organisation.name, Invite.used_at)
        .join(Organisation, col(Organisation.id) == col(Invite.organisation_id))
        .where(col(Invite.used_by) == telegram_id)
        .order_by(col(Invite.id))
    )
    deliveries = await session.exec(
        select(OutboxMessage.delivery, func.count())
        .where(_is_theirs(telegram_id))
        .group_by(col(OutboxMessage.delivery))
    )
    by_delivery = {Delivery(delivery): n for delivery, n in deliveries}
    queued = by_delivery.pop(Delivery.PENDING, 0)
    invites_created = await session.exec(
        select(func.count()).select_from(Invite).where(col(Invite.created_by) == telegram_id)
    )
    return StoredData(
        language=account.language if account else None,
        timezone=account.timezone if account else None,
        created_at=account.created_at if account else None,
        membership=membership,
        invites_used=tuple(UsedInvite(name, used_at) for name, used_at in invites_used),
        signed_appeals=await _ids(session, Signature.appeal_id, Signature.signed_by, telegram_id),
        queued_messages=queued,
        kept_messages=sum(by_delivery.values()),
        appeals_created=await _ids(session, Appeal.id, Appeal.created_by, telegram_id),
        broadcasts_created=await _ids(session, Broadcast.id, Broadcast.created_by, telegram_id),
        phases_created=await _ids(session, Phase.id, Phase.created_by, telegram_id),
        invites_created=invites_created.one(),
    )


async def forget(*, session: AsyncSession, telegram_id: int, now: datetime | None = None) -> None:
    """Erase the person: their account, their link to an organisation and the messages to
    them are deleted, and their id is emptied wherever it names them. Their organisation's
    signatures stay, attributed to the organisation only."""
    # The coalition's rows first, the audit chain after: every other writer locks its rows
    # (an appeal being edited, say) before the chain, and the same order cannot deadlock.
    for column in EMPTIED_COLUMNS:
        await session.exec(
            update(column.table).where(column == telegram_id).values({column.name: None})
        )
    await audit.record(
        session=session,
        actor_id=telegram_id,
        action="person.erased",
        object=await audit.person(session=session, telegram_id=telegram_id),
        now=now or utcnow(),
    )
    for column in ERASED_ROWS:
        await session.exec(delete(column.table).where(column == telegram_id))


def _is_theirs(telegram_id: int) -> Any:
    return (col(OutboxMessage.recipient_id) == telegram_id) | (
        col(OutboxMessage.chat_id) == telegram_id
    )


async def _ids(session: AsyncSession, wanted: Any, by: Any, telegram_id: int) -> tuple[int, ...]:
    query = select(wanted).where(col(by) == telegram_id).order_by(col(wanted))
    return tuple(await session.exec(query))
