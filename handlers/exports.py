"""The documents an organiser sends the addressees: the signature list and the letter."""

from markupsafe import Markup
from telegram import InputFile

from foundation.i18n import LANGUAGE_NAMES
from foundation.settings import LANGUAGES
from handlers.framework import Call, UsageError, command
from handlers.menu import N_, Audience
from rendering.exports import file_names, letter, signatures_csv
from services import exports


@command(
    "export",
    N_("The signature list and the letter"),
    Audience.ORGANISER,
    arguments=N_("ID [en|fr|uk|ru]"),
    usage=N_("/export ID, or /export ID en|fr|uk|ru for the letter's language"),
)
async def export(call: Call) -> None:
    """Send the signature list (CSV) and the letter with its signatories."""
    if not 1 <= len(call.args) <= 2:
        raise UsageError()
    appeal_id = call.number()
    language = call.args[1].lower() if len(call.args) == 2 else call.caller.language
    if language not in LANGUAGES:
        raise UsageError()
    async with call.reading() as session:
        found = await exports.signatories(session=session, appeal_id=appeal_id, language=language)
    resources = call.context.resources
    csv_name, letter_name = file_names(appeal_id, language)
    caption = call.texts.tn(
        "Appeal #{id}: {n} signature.",
        "Appeal #{id}: {n} signatures.",
        len(found.signatures),
        id=appeal_id,
    )
    awaiting = len(found.signatures) - len(found.on_current_version)
    if awaiting:
        caption = call.texts.tn(
            "{caption} {n} of them awaits re-confirmation of the current text and is left "
            "out of the letter.",
            "{caption} {n} of them await re-confirmation of the current text and are left "
            "out of the letter.",
            awaiting,
            caption=caption,
        )
    if not found.wording.translated and found.wording.language != language:
        caption = call.texts.t(
            "{caption} The letter's text is in {written}: there is no translation into {asked}.",
            caption=caption,
            written=LANGUAGE_NAMES[found.wording.language],
            asked=LANGUAGE_NAMES[language],
        )
    # Protected: a member list and a letter before it is sent cannot be forwarded or saved.
    await call.context.bot.send_document(
        call.chat_id,
        InputFile(signatures_csv(found), filename=csv_name),
        caption=str(caption),
        protect_content=True,
    )
    text = letter(resources.texts[language], found)
    await call.context.bot.send_document(
        call.chat_id,
        InputFile(text.encode("utf-8"), filename=letter_name),
        caption=str(Markup.escape(found.wording.title)),
        protect_content=True,
    )
