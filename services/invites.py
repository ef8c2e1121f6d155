"""Invites: how a stranger becomes a contact of an organisation."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Contact, Invite, Organisation
from models.database import stored_id
from services import audit
from services.accounts import ensure_account
from services.errors import AlreadyContact, InviteExpired, InviteUnknown, InviteUsed
from services.organisations import find_or_create

# 24 random bytes: 192 bits, 32 URL-safe characters, within a deep link's 64 of [A-Za-z0-9_-].
CODE_BYTES = 24


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvite:
    code: str
    organisation_name: str
    organisation_is_new: bool
    expires_at: datetime


async def issue_invite(
    *,
    session: AsyncSession,
    organisation_name: str,
    organiser_id: int,
    now: datetime,
    valid_for: timedelta,
) -> IssuedInvite:
    """A new single-use code for the organisation, which is created if it is new."""
    organisation, is_new = await find_or_create(session=session, name=organisation_name)
    code, invite = await new_invite(
        session=session,
        organisation_id=stored_id(organisation.id),
        organiser_id=organiser_id,
        now=now,
        valid_for=valid_for,
    )
    return IssuedInvite(code, organisation.name, is_new, invite.expires_at)


async def new_invite(
    *,
    session: AsyncSession,
    organisation_id: int,
    organiser_id: int | None,
    now: datetime,
    valid_for: timedelta,
) -> tuple[str, Invite]:
    """A fresh code for an existing organisation (no organiser: issued from the command line).

    Returns the code itself, which is never stored, and the stored invite.
    """
    code = secrets.token_urlsafe(CODE_BYTES)
    invite = Invite(
        organisation_id=organisation_id,
        code_hash=hash_code(code),
        created_by=organiser_id,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invite)
    await session.flush()
    await audit.record(
        session=session,
        actor_id=organiser_id,
        action="invite.issued",
        object=f"organisation:{organisation_id}",
        now=now,
    )
    return code, invite


async def join(
    *, session: AsyncSession, code: str, telegram_id: int, language: str, now: datetime
) -> str:
    """Link the account to the invite's organisation; returns the organisation's name."""
    code_hash = hash_code(code.strip())
    invite = (await session.exec(select(Invite).where(Invite.code_hash == code_hash))).first()
    if invite is None:
        raise InviteUnknown()
    if invite.used_at is not None:
        raise InviteUsed()
    if invite.expires_at <= now:
        raise InviteExpired()
    await _refuse_if_contact(session, telegram_id)
    # Conditional update: of two people racing with one code, exactly one gets the row.
    claimed = await session.exec(
        update(Invite)
        .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None))
        .values(used_at=now, used_by=telegram_id)
    )
    if claimed.rowcount != 1:
        raise InviteUsed()
    await ensure_account(session=session, telegram_id=telegram_id, language=language)
    try:
        async with session.begin_nested():
            session.add(Contact(telegram_id=telegram_id, organisation_id=invite.organisation_id))
    except IntegrityError:
        # The same account joined through another code at the same moment.
        await _refuse_if_contact(session, telegram_id)
        raise
    organisation = await session.get(Organisation, invite.organisation_id)
    assert organisation is not None
    await audit.record(
        session=session,
        actor_id=telegram_id,
        action="invite.used",
        object=f"organisation:{invite.organisation_id}",
        now=now,
    )
    return organisation.name


async def _refuse_if_contact(session: AsyncSession, telegram_id: int) -> None:
    """A contact acts for one organisation: joining a second one is refused."""
    organisation = (
        await session.exec(
            select(Organisation)
            .join(Contact, col(Contact.organisation_id) == col(Organisation.id))
            .where(Contact.telegram_id == telegram_id)
        )
    ).first()
    if organisation is not None:
        raise AlreadyContact(organisation=organisation.name)
