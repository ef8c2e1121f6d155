"""Who belongs: the member organisations and their contacts, and who organises."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Account, Appeal, AppealState, Contact, Organisation, Signature
from models.database import stored_id
from models.utc import utcnow
from services import audit
from services.accounts import ensure_account
from services.errors import AlreadyOrganiser, ConfiguredOrganiser, ContactNotFound, NotAnOrganiser


@dataclass(frozen=True)
class ContactSummary:
    telegram_id: int
    subscribed: bool
    unreachable: bool


@dataclass(frozen=True)
class OrganisationSummary:
    id: int
    name: str
    country: str | None
    contacts: list[ContactSummary]
    open_appeals_signed: int


async def organisations(*, session: AsyncSession) -> list[OrganisationSummary]:
    """Every organisation, its contacts, and how many open appeals it has signed."""
    signed = dict(
        (
            await session.exec(
                select(Signature.organisation_id, func.count())
                .join(Appeal, col(Appeal.id) == col(Signature.appeal_id))
                .where(col(Appeal.state) == AppealState.OPEN)
                .group_by(col(Signature.organisation_id))
            )
        ).all()
    )
    contacts: dict[int, list[ContactSummary]] = {}
    for contact in (await session.exec(select(Contact).order_by(col(Contact.joined_at)))).all():
        contacts.setdefault(contact.organisation_id, []).append(
            ContactSummary(
                contact.telegram_id, contact.subscribed, contact.unreachable_at is not None
            )
        )
    # Sorted here, by code point: a PostgreSQL server's collation would order names its own way.
    rows = sorted((await session.exec(select(Organisation))).all(), key=lambda o: o.name_key)
    return [
        OrganisationSummary(
            stored_id(o.id),
            o.name,
            o.country,
            contacts.get(stored_id(o.id), []),
            signed.get(stored_id(o.id), 0),
        )
        for o in rows
    ]


async def organisers(*, session: AsyncSession, configured: frozenset[int]) -> list[int]:
    """Every organiser: the ids in ORGANISER_IDS and those promoted from chat."""
    promoted = await session.exec(select(Account.telegram_id).where(col(Account.organiser)))
    return sorted(configured | frozenset(promoted.all()))


async def revoke(
    *,
    session: AsyncSession,
    telegram_id: int,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """Unlink a contact from its organisation; returns the organisation's name.

    The organisation's signatures stay: they are the organisation's, not the contact's.
    """
    contact = await session.get(Contact, telegram_id)
    if contact is None:
        raise ContactNotFound(telegram_id=telegram_id)
    organisation = await session.get(Organisation, contact.organisation_id)
    assert organisation is not None
    await session.delete(contact)
    await _record(session, actor_id, "contact.revoked", telegram_id, now)
    return organisation.name


async def promote(
    *,
    session: AsyncSession,
    telegram_id: int,
    configured: frozenset[int],
    language: str,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> None:
    await refuse_if_organiser(session=session, telegram_id=telegram_id, configured=configured)
    account = await ensure_account(session=session, telegram_id=telegram_id, language=language)
    account.organiser = True
    session.add(account)
    await _record(session, actor_id, "organiser.promoted", telegram_id, now)


async def refuse_if_organiser(
    *, session: AsyncSession, telegram_id: int, configured: frozenset[int]
) -> None:
    """Someone promoted already, or named in ORGANISER_IDS, cannot be promoted."""
    account = await session.get(Account, telegram_id)
    if telegram_id in configured or (account is not None and account.organiser):
        raise AlreadyOrganiser(telegram_id=telegram_id)


async def demote(
    *,
    session: AsyncSession,
    telegram_id: int,
    configured: frozenset[int],
    actor_id: int | None = None,
    now: datetime | None = None,
) -> None:
    if telegram_id in configured:
        raise ConfiguredOrganiser(telegram_id=telegram_id)
    account = await session.get(Account, telegram_id)
    if account is None or not account.organiser:
        raise NotAnOrganiser(telegram_id=telegram_id)
    account.organiser = False
    session.add(account)
    await _record(session, actor_id, "organiser.demoted", telegram_id, now)


async def _record(
    session: AsyncSession, actor_id: int | None, action: str, telegram_id: int, now: datetime | None
) -> None:
    """An audit entry about a person, who is named by their pseudonym only."""
    subject = await audit.person(session=session, telegram_id=telegram_id)
    await audit.record(
        session=session, actor_id=actor_id, action=action, object=subject, now=now or utcnow()
    )
