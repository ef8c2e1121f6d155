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


# The order here is the order of /help and of the menu.
MENU = (
    MenuEntry(
        "start",
        N_("Welcome and what you can do"),
        Audience.EVERYONE,
        arguments=N_("[CODE]"),
        usage=N_("/start or /start CODE"),
    ),
    MenuEntry("help", N_("The commands you can use"), Audience.EVERYONE),
    MenuEntry(
        "join",
        N_("Join your organisation with an invite code"),
        Audience.STRANGER,
        arguments=N_("CODE"),
    ),
    MenuEntry(
        "request",
        N_("Ask to join an organisation"),
        Audience.STRANGER,
        arguments=N_("NAME OF THE ORGANISATION"),
    ),
    MenuEntry(
        "appeals", N_("Open appeals and their signatures"), Audience.CONTACT | Audience.ORGANISER
    ),
    MenuEntry(
        "appeal", N_("Read an appeal"), Audience.CONTACT | Audience.ORGANISER, arguments=N_("ID")
    ),
    MenuEntry(
        "status",
        N_("Where an appeal stands"),
        Audience.CONTACT | Audience.ORGANISER,
        arguments=N_("ID"),
    ),
    MenuEntry(
        "cosign",
        N_("Co-sign an appeal for your organisation"),
        Audience.CONTACT,
        arguments=N_("ID [private|anonymous]"),
        usage=N_(
            "/cosign ID signs publicly; /cosign ID private names your organisation only to the addressees; /cosign ID anonymous counts it without naming it"
        ),
    ),
    MenuEntry(
        "withdraw",
        N_("Withdraw your organisation's signature"),
        Audience.CONTACT,
        arguments=N_("ID"),
    ),
    MenuEntry("subscribe", N_("Receive updates"), Audience.CONTACT),
    MenuEntry("unsubscribe", N_("Stop receiving updates"), Audience.CONTACT),
    MenuEntry(
        "invite",
        N_("Invite an organisation"),
        Audience.ORGANISER,
        arguments=N_("NAME OF THE ORGANISATION"),
    ),
    MenuEntry(
        "newappeal",
        N_("Draft a new appeal"),
        Audience.ORGANISER,
        arguments=N_("TITLE, then the text on the next lines"),
        usage=N_("/newappeal TITLE, with the appeal's text on the following lines"),
    ),
    MenuEntry(
        "edit",
        N_("Change an appeal's text"),
        Audience.ORGANISER,
        arguments=N_("ID NEW TITLE, then the new text on the next lines"),
        usage=N_("/edit ID NEW TITLE, with the appeal's new text on the following lines"),
    ),
    MenuEntry(
        "translate",
        N_("Add an appeal's wording in another language"),
        Audience.ORGANISER,
        arguments=N_("ID en|fr|uk|ru TITLE, then the text on the next lines"),
        usage=N_(
            "/translate ID en|fr|uk|ru TRANSLATED TITLE, with the translated text on the following lines"
        ),
    ),
    MenuEntry(
        "publish", N_("Open an appeal for signatures"), Audience.ORGANISER, arguments=N_("ID")
    ),
    MenuEntry("close", N_("Close an appeal"), Audience.ORGANISER, arguments=N_("ID")),
    MenuEntry(
        "export",
        N_("The signature list and the letter"),
        Audience.ORGANISER,
        arguments=N_("ID [en|fr|uk|ru]"),
        usage=N_("/export ID, or /export ID en|fr|uk|ru for the letter's language"),
    ),
    MenuEntry("orgs", N_("Member organisations and their contacts"), Audience.ORGANISER),
    MenuEntry(
        "revoke",
        N_("Unlink a contact from its organisation"),
        Audience.ORGANISER,
        arguments=N_("USER_ID"),
        usage=N_("/revoke USER_ID (the contact's Telegram id, as /orgs shows it)"),
    ),
    MenuEntry(
        "promote", N_("Make someone an organiser"), Audience.ORGANISER, arguments=N_("USER_ID")
    ),
    MenuEntry(
        "demote",
        N_("Make an organiser an ordinary member again"),
        Audience.ORGANISER,
        arguments=N_("USER_ID"),
    ),
    MenuEntry(
        "audit", N_("The latest recorded changes"), Audience.ORGANISER, arguments=N_("[APPEAL_ID]")
    ),
    MenuEntry(
        "broadcast",
        N_("Alert every member"),
        Audience.ORGANISER,
        arguments=N_("TEXT"),
        usage=N_("/broadcast TEXT (it may span several lines)"),
    ),
    MenuEntry("phases", N_("The negotiation timeline"), Audience.CONTACT | Audience.ORGANISER),
    MenuEntry(
        "phase",
        N_("Add or move a negotiation phase"),
        Audience.ORGANISER,
        arguments=N_("YYYY-MM-DD HH:MM NAME, or ID YYYY-MM-DD HH:MM"),
        usage=N_(
            "/phase YYYY-MM-DD HH:MM NAME adds a phase; /phase ID YYYY-MM-DD HH:MM moves one. The time may end with an offset such as +02:00."
        ),
        example=N_("/phase {date} 09:00 Talks in Geneva"),
    ),
    MenuEntry(
        "attach",
        N_("Time an appeal to a phase"),
        Audience.ORGANISER,
        arguments=N_("APPEAL_ID PHASE_ID"),
    ),
    MenuEntry(
        "deadline",
        N_("Set an appeal's signing deadline"),
        Audience.ORGANISER,
        arguments=N_("APPEAL_ID YYYY-MM-DD HH:MM"),
        example=N_("/deadline 1 {date} 18:00"),
    ),
    MenuEntry(
        "remind",
        N_("Remind the organisations that have not signed"),
        Audience.ORGANISER,
        arguments=N_("APPEAL_ID"),
    ),
    MenuEntry(
        "delivery",
        N_("How far a broadcast has gone"),
        Audience.ORGANISER,
        arguments=N_("BROADCAST_ID"),
        usage=N_("/delivery BROADCAST_ID (the number /broadcast gave the broadcast)"),
    ),
    MenuEntry("mydata", N_("See what the bot stores about you"), Audience.EVERYONE),
    MenuEntry("forget", N_("Erase what the bot stores about you"), Audience.EVERYONE),
    MenuEntry(
        "language",
        N_("Change your language"),
        Audience.EVERYONE,
        arguments=N_("en|fr|uk|ru"),
        usage=N_("/language en, fr, uk or ru"),
    ),
    MenuEntry(
        "timezone",
        N_("Show times in your time zone"),
        Audience.EVERYONE,
        arguments=N_("Area/City"),
        usage=N_("/timezone Area/City, for example /timezone Europe/Kyiv"),
    ),
)
ENTRIES = {entry.command: entry for entry in MENU}


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
    return [entry for entry in MENU if entry.audience & audience]


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
