"""Who is calling, and the settings people keep for themselves."""

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
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


# Runs for every update: plain columns on the connection, not ORM entities, and built once
# (building the statement took as much CPU as running it on SQLite).
_CALLER = (
    select(
        col(Account.language),
        col(Account.timezone),
        col(Account.organiser),
        col(Organisation.id),
        col(Organisation.name),
        col(Contact.subscribed),
    )
    .outerjoin(Contact, col(Contact.telegram_id) == col(Account.telegram_id))
    .outerjoin(Organisation, col(Organisation.id) == col(Contact.organisation_id))
    .where(col(Account.telegram_id) == bindparam("telegram_id"))
)


async def identify(
    *,
    session: AsyncSession,
    telegram_id: int,
    fallback_language: str,
    organiser_ids: frozenset[int],
) -> Caller:
    """Look the account up; a stranger the bot has never stored gets `fallback_language`."""
    found = await (await session.connection()).execute(_CALLER, {"telegram_id": telegram_id})
    row = found.first()
    if row is None:
        return Caller(telegram_id, fallback_language, telegram_id in organiser_ids)
    is_organiser = telegram_id in organiser_ids or row.organiser
    if row.id is None:  # not a contact of any organisation
        return Caller(telegram_id, row.language, is_organiser, timezone=row.timezone)
    return Caller(
        telegram_id,
        row.language,
        is_organiser,
        organisation_id=row.id,
        organisation_name=row.name,
        subscribed=row.subscribed,
        timezone=row.timezone,
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


async def menus(
    *, session: AsyncSession, organiser_ids: frozenset[int], fallback_language: str
) -> list[tuple[Caller, str | None]]:
    """Everyone who has a command menu of their own (each account, and each organiser named in
    ORGANISER_IDS), with the menu last recorded for them (None: never, or no account)."""
    query = select(col(Account.telegram_id), col(Account.menu))
    recorded: dict[int, str | None] = dict((await session.exec(query)).all())  # type: ignore[call-overload]
    found = []
    for telegram_id in sorted(recorded.keys() | organiser_ids):
        caller = await identify(
            session=session,
            telegram_id=telegram_id,
            fallback_language=fallback_language,
            organiser_ids=organiser_ids,
        )
        found.append((caller, recorded.get(telegram_id)))
    return found


async def record_menu(*, session: AsyncSession, telegram_id: int, menu: str) -> None:
    """The menu just set for this person (nothing is stored for someone without an account)."""
    await session.exec(
        update(Account).where(col(Account.telegram_id) == telegram_id).values(menu=menu)
    )
