"""Who is calling, and the settings people keep for themselves."""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Account, Contact, Organisation
from services.errors import NotAContact


@dataclass(frozen=True)
class Caller:
    """A Telegram account as the rules see it: its language and what it may do."""

    telegram_id: int
    language: str
    is_organiser: bool
    organisation_id: int | None = None
    organisation_name: str | None = None
    subscribed: bool = False
    timezone: str | None = None  # None: the bot's BOT_TIMEZONE

    @property
    def is_contact(self) -> bool:
        return self.organisation_id is not None


async def identify(
    *,
    session: AsyncSession,
    telegram_id: int,
    fallback_language: str,
    organiser_ids: frozenset[int],
) -> Caller:
    """Look the account up; a stranger the bot has never stored gets `fallback_language`."""
    row = (
        await session.exec(
            select(Account, Contact, Organisation)
            .outerjoin(Contact, Contact.telegram_id == Account.telegram_id)  # type: ignore[arg-type]
            .outerjoin(Organisation, Organisation.id == Contact.organisation_id)  # type: ignore[arg-type]
            .where(Account.telegram_id == telegram_id)
        )
    ).first()
    if row is None:
        return Caller(telegram_id, fallback_language, telegram_id in organiser_ids)
    account, contact, organisation = row
    is_organiser = telegram_id in organiser_ids or account.organiser
    if contact is None or organisation is None:
        return Caller(telegram_id, account.language, is_organiser, timezone=account.timezone)
    return Caller(
        telegram_id,
        account.language,
        is_organiser,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        subscribed=contact.subscribed,
        timezone=account.timezone,
    )


async def ensure_account(*, session: AsyncSession, telegram_id: int, language: str) -> Account:
    """The caller's account, created with `language` on first need."""
    account = await session.get(Account, telegram_id)
    if account is not None:
        return account
    account = Account(telegram_id=telegram_id, language=language)
    try:
        # A savepoint: if the person's first two messages are handled at once, the primary key
        # lets one create the account and the other read it.
        async with session.begin_nested():
            session.add(account)
    except IntegrityError:
        stored = await session.get(Account, telegram_id)
        assert stored is not None
        return stored
    return account


async def language_of(*, session: AsyncSession, telegram_id: int, default: str) -> str:
    """The language a person chose, or `default` for someone the bot has not stored."""
    account = await session.get(Account, telegram_id)
    return account.language if account is not None else default


async def set_language(*, session: AsyncSession, telegram_id: int, language: str) -> None:
    account = await ensure_account(session=session, telegram_id=telegram_id, language=language)
    account.language = language
    session.add(account)


async def set_timezone(
    *, session: AsyncSession, telegram_id: int, timezone: str, language: str
) -> None:
    """Show this person times in `timezone` (already checked to be a real IANA zone)."""
    account = await ensure_account(session=session, telegram_id=telegram_id, language=language)
    account.timezone = timezone
    session.add(account)


async def set_subscription(*, session: AsyncSession, telegram_id: int, subscribed: bool) -> bool:
    """Turn updates on or off; returns whether anything changed."""
    contact = await session.get(Contact, telegram_id)
    if contact is None:
        raise NotAContact()
    changed = contact.subscribed != subscribed
    contact.subscribed = subscribed
    session.add(contact)
    return changed
