"""Joining the coalition, help, language and subscription."""

from datetime import timedelta

from markupsafe import Markup
from telegram.ext import CommandHandler

from foundation.i18n import LANGUAGE_NAMES
from foundation.settings import LANGUAGES
from handlers.caller import (
    PRIVATE_MESSAGES,
    Call,
    UsageError,
    command,
    identify,
)
from handlers.context import CoalitionApplication
from handlers.menu import entries_for, show_menu, shown_to
from services import accounts, invites

# How far ahead the dates in /help's examples are: a date in the past would be refused.
EXAMPLE_AHEAD = timedelta(days=14)


@command("start")
async def start(call: Call) -> None:
    """Greet the caller; with an invite code from a deep link, join its organisation."""
    if call.args:
        await _join(call)
        return
    texts, caller = call.texts, call.caller
    if caller.is_organiser:
        text = texts.t("Welcome, organiser. /help lists your commands.")
    elif caller.is_contact:
        text = texts.t(
            "Welcome back. You act for {organisation}. /appeals lists the open appeals.",
            organisation=caller.organisation_name,
        )
    else:
        text = texts.t(
            "Welcome to the coalition's bot. If an organiser sent you an invite link, open it, "
            "or send /join followed by the invite code. /help lists what you can do."
        )
    await call.reply(text)


@command("join")
async def join(call: Call) -> None:
    """Become a contact of the organisation an invite code was issued for."""
    await _join(call)


async def _join(call: Call) -> None:
    if len(call.args) != 1:
        raise UsageError()
    async with call.transaction() as session:
        organisation = await invites.join(
            session=session,
            code=call.args[0],
            telegram_id=call.caller.telegram_id,
            language=call.caller.language,
            now=call.now(),
        )
    # The menu first: by the time they read the reply, their commands are there.
    caller, texts = await identify(call.update, call.context)
    await show_menu(call.context, caller, texts)
    await call.reply(
        call.texts.t(
            "You are now a contact of {organisation}: you can co-sign appeals in its name. "
            "/appeals lists the open appeals.",
            organisation=organisation,
        )
    )


@command("help")
async def help_(call: Call) -> None:
    """List the commands this caller may use."""
    texts = call.texts
    lines = [texts.t("<b>What you can do</b>")]
    for entry in entries_for(shown_to(call.caller)):
        arguments = f" {texts.plain(entry.arguments)}" if entry.arguments else ""
        lines.append(
            texts.t(
                "/{command}{arguments} — {description}",
                command=entry.command,
                arguments=arguments,
                description=texts.plain(entry.description),
            )
        )
        if entry.example:
            example = texts.plain(entry.example).format(
                date=f"{call.now() + EXAMPLE_AHEAD:%Y-%m-%d}"
            )
            lines.append(texts.t("    for example {example}", example=example))
    await call.reply(Markup("\n").join(lines))


@command("language")
async def language(call: Call) -> None:
    """Choose the language of the bot's messages."""
    if len(call.args) != 1 or call.args[0].lower() not in LANGUAGES:
        raise UsageError()
    chosen = call.args[0].lower()
    async with call.transaction() as session:
        await accounts.set_language(
            session=session, telegram_id=call.caller.telegram_id, language=chosen
        )
    caller, texts = await identify(call.update, call.context)
    await show_menu(call.context, caller, texts)
    await call.reply(texts.t("I will write to you in {language}.", language=LANGUAGE_NAMES[chosen]))


@command("subscribe")
async def subscribe(call: Call) -> None:
    """Receive announcements, broadcasts and reminders."""
    async with call.transaction() as session:
        await accounts.set_subscription(
            session=session, telegram_id=call.caller.telegram_id, subscribed=True
        )
    await call.reply(
        call.texts.t("You will receive the coalition's updates. /unsubscribe stops them.")
    )


@command("unsubscribe")
async def unsubscribe(call: Call) -> None:
    """Stop announcements, broadcasts and reminders."""
    async with call.transaction() as session:
        await accounts.set_subscription(
            session=session, telegram_id=call.caller.telegram_id, subscribed=False
        )
    await call.reply(
        call.texts.t(
            "You will no longer receive the coalition's updates. /subscribe turns them back on."
        )
    )


def register(app: CoalitionApplication) -> None:
    for name, callback in (
        ("start", start),
        ("join", join),
        ("help", help_),
        ("language", language),
        ("subscribe", subscribe),
        ("unsubscribe", unsubscribe),
    ):
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE_MESSAGES))
