"""Join requests: a stranger asks to become a contact of an organisation; organisers decide."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Contact, JoinRequest, Organisation, RequestState
from services import audit
from services.accounts import ensure_account
from services.errors import (
    AlreadyContact,
    RequestAlreadyDecided,
    RequestAlreadyPending,
    RequestNotFound,
)
from services.organisations import find_or_create, tidy_name


@dataclass(frozen=True)
class Decided:
    """What an organiser's decision did, for the messages that tell of it."""

    request_id: int
    telegram_id: int
    # The requester's language when they asked (their account's, if they have one, wins).
    language: str
    organisation: str
    approved: bool
    organisation_is_new: bool = False


async def request_to_join(
    *, session: AsyncSession, telegram_id: int, organisation_name: str, language: str, now: datetime
) -> JoinRequest:
    """Store a pending request; at most one per person is pending at a time."""
    name, _ = tidy_name(organisation_name)
    await _refuse_if_contact(session, telegram_id)
    request = JoinRequest(
        telegram_id=telegram_id,
        organisation_name=name,
        language=language,
        pending_for=telegram_id,
        created_at=now,
    )
    try:
        # The unique `pending_for` decides, also between two requests sent at the same moment.
        async with session.begin_nested():
            session.add(request)
    except IntegrityError:
        pending = (
            await session.exec(select(JoinRequest).where(JoinRequest.pending_for == telegram_id))
        ).first()
        if pending is None:
            raise
        raise RequestAlreadyPending(organisation=pending.organisation_name) from None
    return request


async def decide(
    *, session: AsyncSession, request_id: int, approve: bool, organiser_id: int, now: datetime
) -> Decided:
    """Approve (link the requester as a contact, creating the organisation if new) or reject.

    Of two organisers deciding at once, exactly one does; the other is refused.
    """
    state = RequestState.APPROVED if approve else RequestState.REJECTED
    claimed = await session.exec(
        update(JoinRequest)
        .where(col(JoinRequest.id) == request_id, col(JoinRequest.state) == RequestState.PENDING)
        .values(state=state, pending_for=None, decided_by=organiser_id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    request = await session.get(JoinRequest, request_id, populate_existing=True)
    if request is None:
        raise RequestNotFound(request_id=request_id)
    if claimed.rowcount != 1:
        raise RequestAlreadyDecided(
            request_id=request_id, approved=request.state == RequestState.APPROVED
        )
    await audit.record(
        session=session,
        actor_id=organiser_id,
        action="join.approved" if approve else "join.rejected",
        object=f"join_request:{request_id}",
        now=now,
    )
    if not approve:
        return Decided(
            request_id, request.telegram_id, request.language, request.organisation_name, False
        )
    # Refused (and the decision undone with the transaction) if they became a contact meanwhile.
    await _refuse_if_contact(session, request.telegram_id)
    organisation, is_new = await find_or_create(session=session, name=request.organisation_name)
    assert organisation.id is not None
    await ensure_account(
        session=session, telegram_id=request.telegram_id, language=request.language
    )
    try:
        async with session.begin_nested():
            session.add(Contact(telegram_id=request.telegram_id, organisation_id=organisation.id))
    except IntegrityError:
        # They joined through an invite at the same moment.
        await _refuse_if_contact(session, request.telegram_id)
        raise
    return Decided(
        request_id, request.telegram_id, request.language, organisation.name, True, is_new
    )


async def _refuse_if_contact(session: AsyncSession, telegram_id: int) -> None:
    """A contact acts for one organisation already."""
    contact = await session.get(Contact, telegram_id, populate_existing=True)
    if contact is None:
        return
    organisation = await session.get(Organisation, contact.organisation_id)
    assert organisation is not None
    raise AlreadyContact(organisation=organisation.name)
