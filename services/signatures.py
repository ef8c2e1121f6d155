"""Co-signing: one signature per organisation and appeal, guaranteed by the database."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Appeal, AppealState, Disclosure, Organisation, Signature
from models.database import insert_unless_present
from services import audit
from services.appeals import count_signatures, find_appeal
from services.errors import AlreadySigned, AppealNotOpen, NotSigned, VersionSuperseded


@dataclass(frozen=True)
class Cosigned:
    appeal_id: int
    title: str
    signatures: int


async def cosign(
    *,
    session: AsyncSession,
    appeal_id: int,
    organisation_id: int,
    signed_by: int,
    disclosure: Disclosure,
    now: datetime,
) -> Cosigned:
    """Sign an open appeal in the organisation's name; returns the new count."""
    appeal = await _signable(session, appeal_id, now)
    # The unique constraint decides between concurrent taps: the one that loses inserts nothing
    # (on PostgreSQL, once the winner commits), and its transaction stays usable to word the
    # refusal.
    inserted = await session.exec(
        insert_unless_present(session, Signature)
        .values(
            appeal_id=appeal_id,
            organisation_id=organisation_id,
            disclosure=disclosure,
            signed_by=signed_by,
            signed_at=now,
            version=appeal.version,  # the text the signer was shown
        )
        .on_conflict_do_nothing(index_elements=["appeal_id", "organisation_id"])
        .returning(col(Signature.id))
    )
    if inserted.first() is None:
        raise AlreadySigned(appeal_id=appeal_id, organisation=await _name(session, organisation_id))
    await audit.record(
        session=session,
        actor_id=signed_by,
        action="signature.added",
        object=f"appeal:{appeal_id}",
        now=now,
    )
    return Cosigned(appeal_id, appeal.title, await count_signatures(session=session, appeal=appeal))


async def signable_by(
    *, session: AsyncSession, appeal_id: int, organisation_id: int, now: datetime
) -> Appeal:
    """The appeal, if the organisation could sign it now; else the refusal `cosign` would give
    (so that a Co-sign tap is not asked to confirm what cannot succeed)."""
    appeal = await _signable(session, appeal_id, now)
    signed = await session.exec(
        select(Signature.id).where(
            col(Signature.appeal_id) == appeal_id,
            col(Signature.organisation_id) == organisation_id,
        )
    )
    if signed.first() is not None:
        raise AlreadySigned(appeal_id=appeal_id, organisation=await _name(session, organisation_id))
    return appeal


async def withdraw(
    *,
    session: AsyncSession,
    appeal_id: int,
    organisation_id: int,
    now: datetime,
    actor_id: int | None = None,
) -> None:
    """Remove the organisation's signature while the appeal is open."""
    await _signable(session, appeal_id, now)
    removed = await session.exec(
        delete(Signature).where(
            col(Signature.appeal_id) == appeal_id,
            col(Signature.organisation_id) == organisation_id,
        )
    )
    if removed.rowcount == 0:
        raise NotSigned(appeal_id=appeal_id, organisation=await _name(session, organisation_id))
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="signature.withdrawn",
        object=f"appeal:{appeal_id}",
        now=now,
    )


@dataclass(frozen=True)
class Reconfirmed:
    appeal_id: int
    title: str
    version: int


async def reconfirm(
    *,
    session: AsyncSession,
    appeal_id: int,
    organisation_id: int,
    actor_id: int | None,
    now: datetime,
    version: int | None = None,
) -> Reconfirmed:
    """The organisation's signature stands on the appeal's current text. `version`: the one
    the confirming person was shown; if the text changed again since, nothing is confirmed."""
    appeal = await _signable(session, appeal_id, now)
    if version is not None and version != appeal.version:
        raise VersionSuperseded(appeal_id=appeal_id, version=version)
    moved = await session.exec(
        update(Signature)
        .where(
            col(Signature.appeal_id) == appeal_id,
            col(Signature.organisation_id) == organisation_id,
        )
        .values(version=appeal.version)
    )
    if moved.rowcount == 0:
        raise NotSigned(appeal_id=appeal_id, organisation=await _name(session, organisation_id))
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="signature.reconfirmed",
        object=f"appeal:{appeal_id}",
        now=now,
    )
    return Reconfirmed(appeal_id, appeal.title, appeal.version)


async def _signable(session: AsyncSession, appeal_id: int, now: datetime) -> Appeal:
    """The appeal, if it takes signatures now: open, and its deadline (if any) not reached,
    even in the minute before the scheduler closes it."""
    appeal = await find_appeal(
        session=session, appeal_id=appeal_id, include_drafts=False, lock="share"
    )
    past_deadline = appeal.deadline_at is not None and appeal.deadline_at <= now
    if appeal.state is not AppealState.OPEN or past_deadline:
        raise AppealNotOpen(
            appeal_id=appeal_id, state=AppealState.CLOSED if past_deadline else appeal.state
        )
    return appeal


async def _name(session: AsyncSession, organisation_id: int) -> str:
    query = select(Organisation.name).where(Organisation.id == organisation_id)
    return (await session.exec(query)).one()
