"""Announcements of newly opened appeals, and their Co-sign button; requests to re-confirm a
signature after an appeal's text changed."""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from handlers.appeals import sign_for_caller
from handlers.caller import Call, button
from handlers.context import CoalitionApplication
from models import Disclosure
from services import signatures


@button("cosign")
async def ask_to_confirm(call: Call) -> None:
    """A tap signs in an organisation's name: ask first, if it can sign at all."""
    appeal_id = call.number()
    assert call.caller.organisation_id is not None
    async with call.transaction() as session:
        appeal = await signatures.signable_by(
            session=session,
            appeal_id=appeal_id,
            organisation_id=call.caller.organisation_id,
            now=call.now(),
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


@button("cosign", question=True)
async def confirm(call: Call) -> None:
    """Sign, publicly, in the organisation's name."""
    await call.edit(await sign_for_caller(call, call.number(), Disclosure.PUBLIC))


@button("cosign", question=True)
async def cancel(call: Call) -> None:
    """Leave the appeal unsigned."""
    await call.edit(call.texts.t("Not signed. /cosign {id} signs it later.", id=call.number()))


@button("cosign", question=True)
async def reconfirm(call: Call) -> None:
    """The organisation's signature stands on the text the contact was shown."""
    caller = call.caller
    assert caller.organisation_id is not None
    async with call.transaction() as session:
        confirmed = await signatures.reconfirm(
            session=session,
            appeal_id=call.number(0),
            organisation_id=caller.organisation_id,
            actor_id=caller.telegram_id,
            now=call.now(),
            version=call.number(1),
        )
    await call.edit(
        call.texts.t(
            "{organisation}'s signature stands on appeal #{id} “{title}” as changed "
            "(version {version}).",
            organisation=caller.organisation_name,
            id=confirmed.appeal_id,
            title=confirmed.title,
            version=confirmed.version,
        )
    )


@button("cosign", question=True)
async def withdraw_after_change(call: Call) -> None:
    """The organisation does not sign the changed text."""
    caller = call.caller
    assert caller.organisation_id is not None
    appeal_id = call.number()
    async with call.transaction() as session:
        await signatures.withdraw(
            session=session,
            appeal_id=appeal_id,
            organisation_id=caller.organisation_id,
            now=call.now(),
            actor_id=caller.telegram_id,
        )
    await call.edit(
        call.texts.t(
            "{organisation}'s signature of appeal #{id} is withdrawn.",
            organisation=caller.organisation_name,
            id=appeal_id,
        )
    )


def register(app: CoalitionApplication) -> None:
    app.add_handler(CallbackQueryHandler(ask_to_confirm, pattern=r"^cosign:(\d+)$"))
    app.add_handler(CallbackQueryHandler(confirm, pattern=r"^cosign-confirm:(\d+)$"))
    app.add_handler(CallbackQueryHandler(cancel, pattern=r"^cosign-cancel:(\d+)$"))
    app.add_handler(CallbackQueryHandler(reconfirm, pattern=r"^reconfirm:(\d+):(\d+)$"))
    app.add_handler(
        CallbackQueryHandler(withdraw_after_change, pattern=r"^reconfirm-withdraw:(\d+)$")
    )
