"""Signing in an organisation's name: /cosign and /withdraw, the Co-sign button under
announcements and reminders, and re-confirming a signature after an appeal's text changed."""

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from foundation.i18n import Texts
from handlers.context import CoalitionApplication
from handlers.framework import Call, UsageError, button, command
from handlers.menu import N_, Audience
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


@command(
    "cosign",
    N_("Co-sign an appeal for your organisation"),
    Audience.CONTACT,
    arguments=N_("ID [private|anonymous]"),
    usage=N_(
        "/cosign ID signs publicly; /cosign ID private names your organisation only to the addressees; /cosign ID anonymous counts it without naming it"
    ),
)
async def cosign(call: Call) -> None:
    """Co-sign an open appeal in the name of the caller's organisation."""
    appeal_id = call.number()
    options = call.args[1:]
    if len(options) > 1:
        raise UsageError()
    disclosure = Disclosure.PUBLIC
    if options:
        chosen = disclosure_words(call.context.resources.texts).get(options[0].lower())
        if chosen is None:
            raise UsageError()
        disclosure = chosen
    await call.reply(await sign_for_caller(call, appeal_id, disclosure))


# The words after `/cosign ID`: English, shown in the reader's language, and understood in any.
DISCLOSURE_WORDS = {Disclosure.PRIVATE: N_("private"), Disclosure.ANONYMOUS: N_("anonymous")}


def disclosure_words(every_language: dict[str, Texts]) -> dict[str, Disclosure]:
    """Each way of writing `private` and `anonymous` the bot understands."""
    return {
        word.lower(): disclosure
        for disclosure, english in DISCLOSURE_WORDS.items()
        for texts in every_language.values()
        for word in (english, texts.plain(english))
    }


async def sign_for_caller(call: Call, appeal_id: int, disclosure: Disclosure) -> Markup:
    """Sign in the caller's organisation's name; returns what to tell them."""
    caller = call.caller
    assert caller.organisation_id is not None
    async with call.transaction() as session:
        signed = await signatures.cosign(
            session=session,
            appeal_id=appeal_id,
            organisation_id=caller.organisation_id,
            signed_by=caller.telegram_id,
            disclosure=disclosure,
            now=call.now(),
        )
    texts = call.texts
    if disclosure is Disclosure.PRIVATE:
        done = texts.t(
            "{organisation} co-signed appeal #{id} “{title}”: it is named only in the letter "
            "to the addressees, never to other members.",
            organisation=caller.organisation_name,
            id=signed.appeal_id,
            title=signed.title,
        )
    elif disclosure is Disclosure.ANONYMOUS:
        done = texts.t(
            "{organisation} co-signed appeal #{id} “{title}” anonymously: it is counted, not named.",
            organisation=caller.organisation_name,
            id=signed.appeal_id,
            title=signed.title,
        )
    else:
        done = texts.t(
            "{organisation} co-signed appeal #{id} “{title}”.",
            organisation=caller.organisation_name,
            id=signed.appeal_id,
            title=signed.title,
        )
    count = texts.tn(
        "{n} organisation has signed so far.",
        "{n} organisations have signed so far.",
        signed.signatures,
    )
    return Markup("\n").join([done, count])


@command(
    "withdraw", N_("Withdraw your organisation's signature"), Audience.CONTACT, arguments=N_("ID")
)
async def withdraw(call: Call) -> None:
    """Remove the caller's organisation's signature from an open appeal."""
    appeal_id = call.sole_number()
    caller = call.caller
    assert caller.organisation_id is not None
    async with call.transaction() as session:
        await signatures.withdraw(
            session=session,
            appeal_id=appeal_id,
            organisation_id=caller.organisation_id,
            now=call.now(),
            actor_id=call.caller.telegram_id,
        )
    await call.reply(
        call.texts.t(
            "{organisation} no longer signs appeal #{id}.",
            organisation=caller.organisation_name,
            id=appeal_id,
        )
    )
