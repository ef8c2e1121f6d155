"""The last resort: an unexpected error is logged and the person told, never shown a trace."""

import logging

from telegram import Update
from telegram.error import TelegramError

from foundation.i18n import pick_language
from handlers.context import Context

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log the failure; tell the person their request was not carried out."""
    log.error("unhandled error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_message is None:
        return
    user = update.effective_user
    resources = context.resources
    language = pick_language(
        user.language_code if user else None, resources.settings.default_language
    )
    texts = resources.texts[language]
    try:
        await update.effective_message.reply_text(
            texts.t(
                "Something went wrong on our side and nothing was saved. Please try again later."
            )
        )
    except TelegramError as error:
        log.warning("could not tell the person about the error: %s", error)
