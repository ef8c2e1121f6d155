"""An appeal's wording in other languages, and which wording a reader gets."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Appeal, AppealTranslation
from services import audit
from services.appeals import find_appeal, tidy_wording
from services.errors import TranslationIsOriginal


@dataclass(frozen=True)
class Wording:
    title: str
    text: str
    language: str
    # False: the original, because there is no translation into the language asked for.
    translated: bool


async def translate(
    *,
    session: AsyncSession,
    appeal_id: int,
    language: str,
    title: str,
    text: str,
    organiser_id: int,
    now: datetime,
) -> bool:
    """Store (or replace) the appeal's wording in `language`; True if it replaced one."""
    # Shared: an /edit at the same moment (which drops translations) waits, or is waited for.
    appeal = await find_appeal(
        session=session, appeal_id=appeal_id, include_drafts=True, lock="share"
    )
    if language == appeal.language:
        raise TranslationIsOriginal(appeal_id=appeal_id, language=language)
    title, text = tidy_wording(title, text)
    await audit.record(
        session=session,
        actor_id=organiser_id,
        action="appeal.translated",
        object=f"appeal:{appeal_id}",
        now=now,
    )
    existing = await _translation(session, appeal_id, language)
    if existing is not None:
        existing.title, existing.text = title, text
        existing.created_by, existing.created_at = organiser_id, now
        session.add(existing)
        return True
    try:
        async with session.begin_nested():
            session.add(
                AppealTranslation(
                    appeal_id=appeal_id,
                    language=language,
                    title=title,
                    text=text,
                    created_by=organiser_id,
                    created_at=now,
                )
            )
    except IntegrityError:  # another organiser's translation landed first: this one wins
        replaced = await _translation(session, appeal_id, language)
        assert replaced is not None
        replaced.title, replaced.text = title, text
        session.add(replaced)
        return True
    return False


def wording_of(appeal: Appeal, translation: AppealTranslation | None) -> Wording:
    if translation is None:
        return Wording(appeal.title, appeal.text, appeal.language, translated=False)
    return Wording(translation.title, translation.text, translation.language, translated=True)


async def wording(*, session: AsyncSession, appeal: Appeal, language: str) -> Wording:
    """The appeal in `language` where a translation exists, else as written."""
    if language == appeal.language or appeal.id is None:
        return wording_of(appeal, None)
    return wording_of(appeal, await _translation(session, appeal.id, language))


async def _translation(
    session: AsyncSession, appeal_id: int, language: str
) -> AppealTranslation | None:
    query = select(AppealTranslation).where(
        AppealTranslation.appeal_id == appeal_id, AppealTranslation.language == language
    )
    return (await session.exec(query)).first()


async def read(
    *, session: AsyncSession, appeal_id: int, language: str, include_drafts: bool
) -> tuple[Appeal, Wording]:
    """An appeal as a reader of `language` gets it."""
    appeal = await find_appeal(session=session, appeal_id=appeal_id, include_drafts=include_drafts)
    return appeal, await wording(session=session, appeal=appeal, language=language)
