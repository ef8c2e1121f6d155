"""Replies to private messages and button taps no other handler took: never a silent ignore."""

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from handlers.context import CoalitionApplication, Context
from handlers.framework import PRIVATE_MESSAGES, answer_unknown_button, identify


async def unknown(update: Update, context: Context) -> None:
    """Tell the person the bot did not understand, and where to look."""
    message = update.effective_message
    assert message is not None
    _, texts = await identify(update, context)
    text = message.text or ""
    if text.startswith("/"):
        word = text.split(maxsplit=1)[0]
        reply = texts.t(
            "I do not know the command {command}. /help lists yours.", command=word[:64]
        )
    else:
        reply = texts.t("I only understand commands. /help lists yours.")
    await message.reply_text(reply)


def register(app: CoalitionApplication) -> None:
    # Must come after every area's handlers in the same group: PTB runs the first match only.
    app.add_handler(MessageHandler(PRIVATE_MESSAGES & ~filters.StatusUpdate.ALL, unknown))
    app.add_handler(CallbackQueryHandler(answer_unknown_button))
