"""Announcements of newly opened appeals, and their Co-sign button; requests to re-confirm a
signature after an appeal's text changed."""

from typing import Any

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from foundation.i18n import Texts
from handlers.appeals import sign_for_caller
from handlers.caller import Call, button
from handlers.context import CoalitionApplication
from models import Disclosure
from services import signatures


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


def render_closing(texts: Texts, payload: dict[str, Any]) -> Markup:
    """What every subscribed member receives when an appeal closes, signer or not."""
    return texts.tn(
        "🔒 Appeal #{id} “{title}” is closed: {n} organisation signed it.",
        "🔒 Appeal #{id} “{title}” is closed: {n} organisations signed it.",
        int(payload["signatures"]),
        id=payload["appeal_id"],
        title=payload["title"],
    )


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


def render_reconfirmation(
    texts: Texts, payload: dict[str, Any]
) -> tuple[Markup, InlineKeyboardMarkup]:
    """What the contacts of an organisation that signed an earlier text receive."""
    appeal_id, version = int(payload["appeal_id"]), int(payload["version"])
    text = texts.t(
        "Appeal #{id} “{title}” was changed (version {version}). {organisation}'s signature was "
        "given on an earlier text: confirm it stands on the new one, or withdraw it. "
        "/appeal {id} shows the new text.",
        id=appeal_id,
        title=payload["title"],
        version=version,
        organisation=payload["organisation"],
    )
    buttons = [
        InlineKeyboardButton(
            texts.plain("Confirm"), callback_data=f"reconfirm:{appeal_id}:{version}"
        ),
        InlineKeyboardButton(
            texts.plain("Withdraw"), callback_data=f"reconfirm-withdraw:{appeal_id}"
        ),
    ]
    return text, InlineKeyboardMarkup([buttons])


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
