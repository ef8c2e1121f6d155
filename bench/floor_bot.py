"""The framework's floor for bench/updates.py: a bare python-telegram-bot Application, polled
by PTB's own updater, that answers "ok" to every message with the coalition bot's concurrency.

Run by bench/updates.py as `python -m bench.floor_bot` with BOT_TOKEN and TELEGRAM_API_URL set;
it serves until SIGINT or SIGTERM.
"""

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.application import CONCURRENT_UPDATES


async def answer_ok(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply "ok", whatever was said."""
    assert update.effective_message is not None
    await update.effective_message.reply_text("ok")


def main() -> None:
    api = os.environ["TELEGRAM_API_URL"]
    app = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(CONCURRENT_UPDATES)
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, answer_ok))
    app.run_polling(allowed_updates=["message"])


if __name__ == "__main__":
    main()
