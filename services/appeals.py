"""Appeals: drafting, publishing, closing, and where each one stands."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import case, delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Appeal,
    AppealState,
    AppealTranslation,
    AppealVersion,
    Disclosure,
    Organisation,
    OutboxKind,
    Signature,
)
from models.appeal import TITLE_MAX
from models.database import storable, stored_id
from services import audit, outbox, progress
from services.errors import (
    AppealClosed,
    AppealNotFound,
    AppealStateConflict,
    AppealTextMissing,
    AppealTitleInvalid,
)
from services.payloads import CountPayload, ReconfirmationPayload
from services.progress import BulkSend

# How find_appeal holds the appeal's row until commit.
RowLock = Literal["share", "update"]


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
    # The appeal's current text, whose public signatories are named (public_signatory_names).
    version: int
    signatures: int
    # How the asking organisation signed, or None if it has not (or the asker has none).
    own_disclosure: Disclosure | None
    # Public signatures on the current version only: nobody is named under a text they
    # never saw. The first few names, and how many there are in all.
    public_signatories: list[str]
    public_signatures: int
    # Signatures on the appeal's current text, and those given on an earlier one that
    # wait for their organisation to re-confirm (or withdraw) them.
    on_current_version: int
    awaiting_reconfirmation: int
    deadline_at: datetime | None = None


def tidy_wording(title: str, text: str) -> tuple[str, str]:
    """A title on one line within its limit, and a text that is not empty; else a refusal."""
    title = " ".join(storable(title).split())
    if not title or len(title) > TITLE_MAX:
        raise AppealTitleInvalid(limit=TITLE_MAX)
    text = storable(text).strip()
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


@dataclass(frozen=True)
class Edited:
    appeal_id: int
    title: str
    version: int
    # Organisations whose signature is on an earlier version, asked to re-confirm it.
    reconfirm_organisations: int
    # Translations of the old text, removed: they no longer say what the appeal says.
    dropped_translations: int = 0


async def edit_appeal(
    *, session: AsyncSession, appeal_id: int, title: str, text: str, actor_id: int, now: datetime
) -> Edited:
    """Change an appeal's wording. A draft's is replaced in place; an open appeal gets a new
    version (the old wording is kept), its translations are dropped, and the organisations
    that signed an earlier version are asked to re-confirm. A closed appeal stays as signed."""
    appeal = await find_appeal(
        session=session, appeal_id=appeal_id, include_drafts=True, lock="update"
    )
    if appeal.state is AppealState.CLOSED:
        raise AppealClosed(appeal_id=appeal_id)
    title, text = tidy_wording(title, text)
    reconfirm, dropped = 0, 0
    if appeal.state is AppealState.OPEN:
        session.add(
            AppealVersion(
                appeal_id=appeal_id,
                version=appeal.version,
                title=appeal.title,
                text=appeal.text,
                created_at=now,
            )
        )
        appeal.version += 1
        removed = await session.exec(
            delete(AppealTranslation).where(col(AppealTranslation.appeal_id) == appeal_id)
        )
        dropped = int(removed.rowcount)
        behind = (
            await session.exec(
                select(Organisation.id, Organisation.name)
                .join(Signature, col(Signature.organisation_id) == col(Organisation.id))
                .where(Signature.appeal_id == appeal_id, Signature.version < appeal.version)
                .order_by(col(Organisation.id))
            )
        ).all()
        for organisation_id, name in behind:
            # No appeal_id on the row: a second edit asks the same contacts again, and the
            # outbox allows one row per kind, appeal and recipient.
            await outbox.enqueue(
                session=session,
                kind=OutboxKind.RECONFIRM,
                organisation_id=organisation_id,
                payload=ReconfirmationPayload(
                    appeal_id=appeal_id, version=appeal.version, title=title, organisation=name
                ),
                now=now,
            )
        reconfirm = len(behind)
    appeal.title, appeal.text = title, text
    session.add(appeal)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="appeal.edited",
        object=f"appeal:{appeal_id}",
        now=now,
    )
    return Edited(appeal_id, title, appeal.version, reconfirm, dropped)


async def find_appeal(
    *, session: AsyncSession, appeal_id: int, include_drafts: bool, lock: RowLock | None = None
) -> Appeal:
    """The appeal; a draft is reported missing to those who may not see drafts.

    `lock` holds its row until commit: "update" to change its state or wording, "share" to act
    on them (sign, translate) while nobody changes them. SQLite needs none (its writers hold
    the whole database); PostgreSQL would otherwise let a signature land after the close.
    "share" is FOR KEY SHARE: it waits only for a FOR UPDATE, not for a plain UPDATE (which
    /forget makes after taking the audit chain's lock, which a signer takes after this one).
    """
    shared = lock == "share"
    appeal = await session.get(
        Appeal,
        appeal_id,
        with_for_update=None if lock is None else {"read": shared, "key_share": shared},
        populate_existing=lock is not None,
    )
    if appeal is None or (appeal.state is AppealState.DRAFT and not include_drafts):
        raise AppealNotFound(appeal_id=appeal_id)
    return appeal


@dataclass(frozen=True)
class Published:
    appeal_id: int
    title: str
    # Subscribed contacts the announcement was queued for.
    announced_to: int
    # The progress message to send the organiser (services/progress.py), when one was asked.
    progress_id: int | None = None


async def publish_appeal(
    *,
    session: AsyncSession,
    appeal_id: int,
    now: datetime,
    actor_id: int | None = None,
    progress_chat_id: int | None = None,
) -> Published:
    """Open a draft for signatures, and queue its announcement in the same transaction; with
    `progress_chat_id`, its progress is to be shown in that chat."""
    appeal = await find_appeal(
        session=session, appeal_id=appeal_id, include_drafts=True, lock="update"
    )
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
    progress_id = None
    if progress_chat_id is not None:
        progress_id = await progress.track(
            session=session,
            chat_id=progress_chat_id,
            send=BulkSend(appeal_id=appeal_id, appeal_title=appeal.title),
            now=now,
        )
    return Published(appeal_id, appeal.title, announced, progress_id)


async def close_appeal(
    *, session: AsyncSession, appeal_id: int, now: datetime, actor_id: int | None = None
) -> int:
    """Stop taking signatures; returns the final count."""
    appeal = await find_appeal(
        session=session, appeal_id=appeal_id, include_drafts=True, lock="update"
    )
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
    signatures = await count_signatures(session=session, appeal=appeal)
    await tell_members_closed(session=session, appeal=appeal, signatures=signatures, now=now)
    return signatures


async def tell_members_closed(
    *, session: AsyncSession, appeal: Appeal, signatures: int, now: datetime
) -> None:
    """Queue the news that an appeal closed, with its count, for every subscribed contact."""
    appeal_id = stored_id(appeal.id)
    await outbox.enqueue(
        session=session,
        kind=OutboxKind.APPEAL_CLOSED,
        appeal_id=appeal_id,
        payload=CountPayload(appeal_id=appeal_id, title=appeal.title, signatures=signatures),
        now=now,
    )


async def list_appeals(*, session: AsyncSession, include_drafts: bool) -> list[AppealSummary]:
    """Open appeals (and drafts, for organisers), newest first, with their counts of
    signatures on the current text."""
    states = [AppealState.OPEN, AppealState.DRAFT] if include_drafts else [AppealState.OPEN]
    # A count per appeal rather than a join grouped by appeal: each count is read from the
    # index on (appeal_id, version) alone, without visiting every signature.
    standing = (
        select(func.count())
        .select_from(Signature)
        .where(
            col(Signature.appeal_id) == col(Appeal.id),
            col(Signature.version) == col(Appeal.version),
        )
        .correlate(Appeal)
        .scalar_subquery()
    )
    rows = await session.exec(
        select(Appeal.id, Appeal.title, Appeal.state, standing)
        .where(col(Appeal.state).in_(states))
        .order_by(col(Appeal.id).desc())
    )
    return [
        AppealSummary(stored_id(appeal_id), title, AppealState(state), n)
        for appeal_id, title, state, n in rows
    ]


async def appeal_status(
    *,
    session: AsyncSession,
    appeal_id: int,
    organisation_id: int | None,
    include_drafts: bool,
    names: int = 100,
) -> AppealStatus:
    """Title, state, counts (all, on the current text, awaiting re-confirmation, public),
    whether the asker's organisation signed, and the first `names` public names on the current
    text, earliest first. Counted in the database: an appeal may have thousands of signatures."""
    appeal = await find_appeal(session=session, appeal_id=appeal_id, include_drafts=include_drafts)
    on_current = col(Signature.version) == appeal.version
    public = on_current & (col(Signature.disclosure) == Disclosure.PUBLIC)
    everyone, current, public_count = (
        await session.exec(
            select(func.count(), func.count(case((on_current, 1))), func.count(case((public, 1))))
            .select_from(Signature)
            .where(Signature.appeal_id == appeal_id)
        )
    ).one()
    own = None
    if organisation_id is not None:
        own = (
            await session.exec(
                select(Signature.disclosure).where(
                    Signature.appeal_id == appeal_id, Signature.organisation_id == organisation_id
                )
            )
        ).first()
    listed = await public_signatory_names(
        session=session, appeal_id=appeal_id, version=appeal.version, offset=0, limit=names
    )
    return AppealStatus(
        stored_id(appeal.id),
        appeal.title,
        appeal.state,
        appeal.version,
        everyone,
        None if own is None else Disclosure(own),
        listed,
        public_signatures=public_count,
        on_current_version=current,
        awaiting_reconfirmation=everyone - current,
        deadline_at=appeal.deadline_at,
    )


async def public_signatory_names(
    *, session: AsyncSession, appeal_id: int, version: int, offset: int, limit: int
) -> list[str]:
    """Names of the organisations that signed `version` of the appeal publicly, earliest first."""
    listed = await session.exec(
        select(Organisation.name)
        .join(Signature, col(Organisation.id) == col(Signature.organisation_id))
        .where(
            Signature.appeal_id == appeal_id,
            Signature.version == version,
            Signature.disclosure == Disclosure.PUBLIC,
        )
        .order_by(col(Signature.signed_at), col(Signature.id))
        .offset(offset)
        .limit(limit)
    )
    return list(listed.all())


async def count_signatures(*, session: AsyncSession, appeal: Appeal) -> int:
    """Signatures that stand on the appeal's current text: nobody is counted as having signed
    a text they never saw (those awaiting re-confirmation are left out)."""
    query = (
        select(func.count())
        .select_from(Signature)
        .where(Signature.appeal_id == appeal.id, Signature.version == appeal.version)
    )
    return (await session.exec(query)).one()
