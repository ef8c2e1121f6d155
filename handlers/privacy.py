"""What the bot holds about the caller (/mydata), and forgetting them on request (/forget)."""

import logging

from markupsafe import Markup
from telegram import BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler

from foundation.i18n import LANGUAGE_NAMES, Texts
from handlers.context import CoalitionApplication
from handlers.framework import Call, button, command, identify
from handlers.menu import N_, Audience, show_menu
from rendering.time_spans import shown
from services import privacy
from services.accounts import Caller
from services.privacy import StoredData

log = logging.getLogger(__name__)


def numbers(ids: tuple[int, ...]) -> str:
    """`#1, #4, #7`"""
    return ", ".join(f"#{n}" for n in ids)


def render_stored(texts: Texts, stored: StoredData, zone: str) -> Markup:
    """Everything stored about a person, in plain words."""
    if stored.is_empty:
        return texts.t("The bot stores nothing about you.")
    lines = [texts.t("<b>What the bot stores about you</b>")]
    if stored.created_at is not None and stored.language is not None:
        lines.append(
            texts.t(
                "Your account, kept since {when}: your language is {language}.",
                language=LANGUAGE_NAMES.get(stored.language, stored.language),
                when=shown(stored.created_at, zone),
            )
        )
        if stored.timezone is not None:
            lines.append(texts.t("Your time zone: {zone}.", zone=stored.timezone))
    membership = stored.membership
    if membership is not None:
        lines.append(
            texts.t(
                "You are a contact of {organisation} since {when}.",
                organisation=membership.organisation,
                when=shown(membership.since, zone),
            )
        )
        lines.append(
            texts.t("You receive the coalition's updates.")
            if membership.subscribed
            else texts.t("You do not receive the coalition's updates.")
        )
        if membership.unreachable_since is not None:
            lines.append(
                texts.t(
                    "Telegram told the bot on {when} that you had blocked it.",
                    when=shown(membership.unreachable_since, zone),
                )
            )
    for invite in stored.invites_used:
        lines.append(
            texts.t("You used an invite to {organisation}.", organisation=invite.organisation)
            if invite.used_at is None
            else texts.t(
                "You used an invite to {organisation} on {when}.",
                organisation=invite.organisation,
                when=shown(invite.used_at, zone),
            )
        )
    if stored.signed_appeals:
        lines.append(
            texts.tn(
                "You gave {n} signature in your organisation's name, on appeal {appeals}.",
                "You gave {n} signatures in your organisation's name, on appeals {appeals}.",
                len(stored.signed_appeals),
                appeals=numbers(stored.signed_appeals),
            )
        )
    if stored.queued_messages:
        lines.append(
            texts.tn(
                "{n} message to you is waiting to be sent.",
                "{n} messages to you are waiting to be sent.",
                stored.queued_messages,
            )
        )
    if stored.kept_messages:
        lines.append(
            texts.tn(
                "{n} message sent to you is kept as a record of its delivery (not its text).",
                "{n} messages sent to you are kept as a record of their delivery (not their text).",
                stored.kept_messages,
            )
        )
    if stored.appeals_created:
        lines.append(texts.t("Appeals you created: {ids}.", ids=numbers(stored.appeals_created)))
    if stored.broadcasts_created:
        lines.append(
            texts.t("Broadcasts you wrote: {ids}.", ids=numbers(stored.broadcasts_created))
        )
    if stored.phases_created:
        lines.append(texts.t("Phases you added: {ids}.", ids=numbers(stored.phases_created)))
    if stored.invites_created:
        lines.append(
            texts.tn("You issued {n} invite.", "You issued {n} invites.", stored.invites_created)
        )
    lines.append(texts.t("/forget erases all of it."))
    return Markup("\n").join(lines)


@command("mydata", N_("See what the bot stores about you"), Audience.EVERYONE)
async def my_data(call: Call) -> None:
    """Show the caller everything the bot stores about them."""
    # A writing transaction, though it only reads: it also marks the update handled, which
    # drops the update's body (it names the person) before the answer, not a moment after.
    async with call.transaction() as session:
        stored = await privacy.what_is_stored(session=session, telegram_id=call.caller.telegram_id)
    await call.reply(render_stored(call.texts, stored, call.zone))


@command("forget", N_("Erase what the bot stores about you"), Audience.EVERYONE)
async def forget(call: Call) -> None:
    """Ask before erasing: it cannot be undone."""
    texts, caller = call.texts, call.caller
    lines = [
        texts.t(
            "<b>Erase everything the bot stores about you?</b>\n"
            "Your settings, your link to your organisation and the messages queued for you "
            "are deleted, and your name is removed from what you did. This cannot be undone."
        )
    ]
    if caller.is_contact:
        lines.append(
            texts.t(
                "You will no longer act for {organisation}: to do so again you will need a "
                "new invite. Its signatures remain, in its name only.",
                organisation=caller.organisation_name,
            )
        )
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.plain("Confirm"), callback_data="forget-confirm"),
                InlineKeyboardButton(texts.plain("Cancel"), callback_data="forget-cancel"),
            ]
        ]
    )
    await call.reply(Markup("\n\n").join(lines), buttons)


@button("forget", question=True)
async def confirm(call: Call) -> None:
    """Erase the caller and reset their menu, then say so (in the language they had)."""
    async with call.transaction() as session:
        await privacy.forget(session=session, telegram_id=call.caller.telegram_id, now=call.now())
    forgotten, fallback_texts = await identify(call.update, call.context)
    await _reset_menu(call, forgotten, fallback_texts)
    texts = call.texts
    lines = [
        texts.t(
            "Done: the bot has forgotten you. Your organisation's signatures remain, "
            "in its name only."
        ),
        texts.t(
            "Messages already in this chat stay on your device: delete the chat in "
            "Telegram to remove them."
        ),
    ]
    if forgotten.is_organiser:
        lines.append(texts.t("You are still an organiser: the bot's settings name you as one."))
    await call.edit(Markup("\n").join(lines))


@button("forget", question=True)
async def cancel(call: Call) -> None:
    """Keep everything: nothing is erased."""
    await call.edit(call.texts.t("Nothing was erased."))


async def _reset_menu(call: Call, caller: Caller, texts: Texts) -> None:
    """Leave no menu chosen for a forgotten person: strangers see the default one, in the
    language Telegram reports; an organiser keeps theirs."""
    if caller.is_organiser:
        await show_menu(call.context, caller, texts)
        return
    try:
        await call.context.bot.delete_my_commands(BotCommandScopeChat(caller.telegram_id))
    except TelegramError as error:
        log.warning("menu for a forgotten person not reset: %s", error)


def register(app: CoalitionApplication) -> None:
    app.add_handler(CallbackQueryHandler(confirm, pattern=r"^forget-confirm$"))
    app.add_handler(CallbackQueryHandler(cancel, pattern=r"^forget-cancel$"))
