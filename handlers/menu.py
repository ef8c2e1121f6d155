"""The commands, who may use each, and the per-person command menu Telegram shows."""

import asyncio
import logging
from dataclasses import dataclass
from enum import Flag, auto

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from foundation.i18n import Texts
from foundation.settings import LANGUAGES
from handlers.context import Context
from models import Database
from services import accounts
from services.accounts import Caller

log = logging.getLogger(__name__)

# Menus set a second at start-up: a restored database may have thousands to set.
MENUS_A_SECOND = 20


class Audience(Flag):
    STRANGER = auto()  # not (yet) a contact of any organisation
    CONTACT = auto()
    ORGANISER = auto()
    EVERYONE = STRANGER | CONTACT | ORGANISER


def N_(message: str) -> str:
    """Marks a text for translation where it is defined; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class MenuEntry:
    """One command: who may use it, and how /help, the menu and refusals describe it."""

    command: str
    description: str
    audience: Audience
    # As /help shows them after the command; None: it takes none, and ignores any it is given.
    arguments: str | None = None
    # What a refusal of its arguments says, where "/command ARGUMENTS" would not be enough.
    usage: str | None = None
    # For the commands that take dates: what one typed in full looks like, {date} a date
    # two weeks ahead.
    example: str | None = None


# Every command, in the order /help and the menu show them: by area, in the order
# handlers.AREAS lists them (arrange), then in the order each area's module declares them.
ENTRIES: dict[str, MenuEntry] = {}
# The module that declared each command.
_AREAS: dict[str, str] = {}


def declare(entry: MenuEntry, area: str) -> None:
    """Add a command to the menu; each is declared once, with its handler (handlers.framework)."""
    assert entry.command not in ENTRIES, f"/{entry.command} is declared twice"
    ENTRIES[entry.command] = entry
    _AREAS[entry.command] = area


def arrange(areas: list[str]) -> None:
    """Put the commands in the order of their areas (module names); each must be one of them."""
    unlisted = {name for name, area in _AREAS.items() if area not in areas}
    assert not unlisted, f"declared outside handlers.AREAS: {sorted(unlisted)}"
    ordered = sorted(ENTRIES.values(), key=lambda entry: areas.index(_AREAS[entry.command]))
    ENTRIES.clear()
    ENTRIES.update((entry.command, entry) for entry in ordered)


def audience_of(caller: Caller) -> Audience:
    audience = Audience.CONTACT if caller.is_contact else Audience.STRANGER
    return audience | Audience.ORGANISER if caller.is_organiser else audience


def shown_to(caller: Caller) -> Audience:
    """Whose commands the person's menu and /help show: an organiser's leave out /join and
    /request, which are for people not yet in the coalition (they still work)."""
    audience = audience_of(caller)
    return audience & ~Audience.STRANGER if caller.is_organiser else audience


def may_use(caller: Caller, command: str) -> bool:
    return bool(ENTRIES[command].audience & audience_of(caller))


def entries_for(audience: Audience) -> list[MenuEntry]:
    return [entry for entry in ENTRIES.values() if entry.audience & audience]


def _bot_commands(texts: Texts, audience: Audience) -> list[BotCommand]:
    return [BotCommand(e.command, texts.plain(e.description)) for e in entries_for(audience)]


async def show_default_menu(bot: Bot, texts: dict[str, Texts], default_language: str) -> None:
    """What people the bot does not know yet see, in each language Telegram may report."""
    for language in LANGUAGES:
        commands = _bot_commands(texts[language], Audience.STRANGER)
        await bot.set_my_commands(commands, BotCommandScopeDefault(), language)
    fallback = _bot_commands(texts[default_language], Audience.STRANGER)
    await bot.set_my_commands(fallback, BotCommandScopeDefault())


def menu_key(caller: Caller) -> str:
    """What a person's menu is made of: whose commands, and in which language."""
    shown = shown_to(caller)
    roles = (Audience.STRANGER, Audience.CONTACT, Audience.ORGANISER)
    whose = ",".join(str(role.name).lower() for role in roles if role in shown)
    return f"{whose}/{caller.language}"


async def show_menu(context: Context, caller: Caller, texts: Texts) -> None:
    """This person's own menu: their commands, in their language; recorded as shown."""
    resources = context.resources
    await _show(context.bot, resources.database, caller, texts)


async def show_every_menu_due(
    bot: Bot,
    database: Database,
    texts: dict[str, Texts],
    *,
    organiser_ids: frozenset[int],
    default_language: str,
) -> None:
    """At start-up: the menu of everyone whose role or language changed since theirs was set,
    however it changed (an import, a restored database, the sandbox's seeding)."""
    async with database.reading() as session:
        everyone = await accounts.menus(
            session=session, organiser_ids=organiser_ids, fallback_language=default_language
        )
    due = [caller for caller, recorded in everyone if recorded != menu_key(caller)]
    for number, caller in enumerate(due, start=1):
        await _show(bot, database, caller, texts[caller.language])
        if number % MENUS_A_SECOND == 0:
            await asyncio.sleep(1)


async def _show(bot: Bot, database: Database, caller: Caller, texts: Texts) -> None:
    commands = _bot_commands(texts, shown_to(caller))
    try:
        await bot.set_my_commands(commands, BotCommandScopeChat(caller.telegram_id))
    except TelegramError as error:
        # Telegram refuses a chat scope for someone who never wrote to the bot: not fatal.
        log.warning("menu for %s not set: %s", caller.telegram_id, error)
        return
    async with database.transaction() as session:
        await accounts.record_menu(
            session=session, telegram_id=caller.telegram_id, menu=menu_key(caller)
        )
