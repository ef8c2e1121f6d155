"""Announcements of newly opened appeals, and their Co-sign button."""

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from bot.context import CoalitionApplication
from bot.i18n import Texts
from handlers.appeals import sign_for_caller
from handlers.caller import Call, button
from models import Disclosure
from services import appeals


def render_announcement(
    texts: Texts, appeal_id: int, title: str
) -> tuple[Markup, InlineKeyboardMarkup]:
    """What a subscribed member receives when an appeal opens."""
    text = texts.t(
        "<b>New appeal #{id}: {title}</b>\n"
        "Your organisation can co-sign it. /appeal {id} shows the full text.",
        id=appeal_id,
        title=title,
    )
    cosign = InlineKeyboardButton(texts.plain("Co-sign"), callback_data=f"cosign:{appeal_id}")
    return text, InlineKeyboardMarkup([[cosign]])


@button("cosign")
async def ask_to_confirm(call: Call) -> None:
    """A tap signs in an organisation's name: ask first."""
    appeal_id = call.number()
    async with call.transaction() as session:
        appeal = await appeals.find_appeal(
            session=session, appeal_id=appeal_id, include_drafts=False
        )
    texts = call.texts
    question = texts.t(
        "Co-sign appeal #{id} “{title}” as {organisation}?",
        id=appeal_id,
        title=appeal.title,
        organisation=call.caller.organisation_name,
    )
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.plain("Confirm"), callback_data=f"cosign-confirm:{appeal_id}"
                ),
                InlineKeyboardButton(
                    texts.plain("Cancel"), callback_data=f"cosign-cancel:{appeal_id}"
                ),
            ]
        ]
    )
    await call.reply(question, buttons)


@button("cosign")
async def confirm(call: Call) -> None:
    """Sign, publicly, in the organisation's name."""
    await call.edit(await sign_for_caller(call, call.number(), Disclosure.PUBLIC))


@button("cosign")
async def cancel(call: Call) -> None:
    """Leave the appeal unsigned."""
    await call.edit(call.texts.t("Not signed. /cosign {id} signs it later.", id=call.number()))


def register(app: CoalitionApplication) -> None:
    app.add_handler(CallbackQueryHandler(ask_to_confirm, pattern=r"^cosign:(\d+)$"))
    app.add_handler(CallbackQueryHandler(confirm, pattern=r"^cosign-confirm:(\d+)$"))
    app.add_handler(CallbackQueryHandler(cancel, pattern=r"^cosign-cancel:(\d+)$"))
