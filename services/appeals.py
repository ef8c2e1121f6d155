"""Appeals: drafting, publishing, closing, and where each one stands."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Appeal, AppealState, Disclosure, Organisation, OutboxKind, Signature
from models.appeal import TITLE_MAX
from models.database import stored_id
from services import audit, outbox
from services.errors import (
    AppealNotFound,
    AppealStateConflict,
    AppealTextMissing,
    AppealTitleInvalid,
)


@dataclass(frozen=True)
class AppealSummary:
    id: int
    title: str
    state: AppealState
    signatures: int


@dataclass(frozen=True)
class AppealStatus:
    id: int
    title: str
    state: AppealState
    signatures: int
    # How the asking organisation signed, or None if it has not (or the asker has none).
    own_disclosure: Disclosure | None
    public_signatories: list[str]


def tidy_wording(title: str, text: str) -> tuple[str, str]:
    """A title on one line within its limit, and a text that is not empty; else a refusal."""
    title = " ".join(title.split())
    if not title or len(title) > TITLE_MAX:
        raise AppealTitleInvalid(limit=TITLE_MAX)
    text = text.strip()
    if not text:
        raise AppealTextMissing()
    return title, text


async def create_appeal(
    *, session: AsyncSession, title: str, text: str, organiser_id: int, language: str = "en"
) -> Appeal:
    """A new draft in `language`; members do not see it until it is published."""
    title, text = tidy_wording(title, text)
    appeal = Appeal(title=title, text=text, language=language, created_by=organiser_id)
    session.add(appeal)
    await session.flush()
    await audit.record(
        session=session,
        actor_id=organiser_id,
        action="appeal.created",
        object=f"appeal:{appeal.id}",
        now=appeal.created_at,
    )
    return appeal


async def find_appeal(*, session: AsyncSession, appeal_id: int, include_drafts: bool) -> Appeal:
    """The appeal; a draft is reported missing to those who may not see drafts."""
    appeal = await session.get(Appeal, appeal_id)
    if appeal is None or (appeal.state is AppealState.DRAFT and not include_drafts):
        raise AppealNotFound(appeal_id=appeal_id)
    return appeal


@dataclass(frozen=True)
class Published:
    appeal_id: int
    title: str
    # Subscribed contacts the announcement was queued for.
    announced_to: int


async def publish_appeal(
    *, session: AsyncSession, appeal_id: int, now: datetime, actor_id: int | None = None
) -> Published:
    """Open a draft for signatures, and queue its announcement in the same transaction."""
    appeal = await find_appeal(session=session, appeal_id=appeal_id, include_drafts=True)
    if appeal.state is not AppealState.DRAFT:
        raise AppealStateConflict(appeal_id=appeal_id, state=appeal.state)
    appeal.state = AppealState.OPEN
    appeal.published_at = now
    session.add(appeal)
    announced = await outbox.enqueue(
        session=session, kind=OutboxKind.ANNOUNCEMENT, appeal_id=appeal_id, now=now
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="appeal.published",
        object=f"appeal:{appeal_id}",
        now=now,
    )
    return Published(appeal_id, appeal.title, announced)


async def close_appeal(
    *, session: AsyncSession, appeal_id: int, now: datetime, actor_id: int | None = None
) -> int:
    """Stop taking signatures; returns the final count."""
    appeal = await find_appeal(session=session, appeal_id=appeal_id, include_drafts=True)
    if appeal.state is not AppealState.OPEN:
        raise AppealStateConflict(appeal_id=appeal_id, state=appeal.state)
    appeal.state = AppealState.CLOSED
    appeal.closed_at = now
    session.add(appeal)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="appeal.closed",
        object=f"appeal:{appeal_id}",
        now=now,
    )
    return await _count_signatures(session, appeal_id)


async def list_appeals(*, session: AsyncSession, include_drafts: bool) -> list[AppealSummary]:
    """Open appeals (and drafts, for organisers), newest first, with their counts."""
    states = [AppealState.OPEN, AppealState.DRAFT] if include_drafts else [AppealState.OPEN]
    count = func.count(col(Signature.id))
    rows = await session.exec(
        select(Appeal, count)
        .outerjoin(Signature, col(Signature.appeal_id) == col(Appeal.id))
        .where(col(Appeal.state).in_(states))
        .group_by(col(Appeal.id))
        .order_by(col(Appeal.id).desc())
    )
    return [
        AppealSummary(stored_id(appeal.id), appeal.title, appeal.state, n) for appeal, n in rows
    ]


async def appeal_status(
    *,
    session: AsyncSession,
    appeal_id: int,
    organisation_id: int | None,
    include_drafts: bool,
) -> AppealStatus:
    """Title, state, count, whether the asker's organisation signed, and the public names."""
    appeal = await find_appeal(session=session, appeal_id=appeal_id, include_drafts=include_drafts)
    rows = (
        await session.exec(
            select(Signature.organisation_id, Signature.disclosure, Organisation.name)
            .join(Organisation, col(Organisation.id) == col(Signature.organisation_id))
            .where(Signature.appeal_id == appeal_id)
            .order_by(col(Signature.signed_at), col(Signature.id))
        )
    ).all()
    own = next((Disclosure(d) for org_id, d, _ in rows if org_id == organisation_id), None)
    public = [name for _, d, name in rows if d is Disclosure.PUBLIC]
    return AppealStatus(stored_id(appeal.id), appeal.title, appeal.state, len(rows), own, public)


async def _count_signatures(session: AsyncSession, appeal_id: int) -> int:
    query = select(func.count()).select_from(Signature).where(Signature.appeal_id == appeal_id)
    return (await session.exec(query)).one()
