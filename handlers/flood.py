"""Flood control at the door: past their allowance (handlers/flood_control.py), a person is not answered."""

import logging
from datetime import UTC, datetime, timedelta

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from handlers.context import CoalitionApplication, Context, resources_of
from handlers.flood_control import FloodControl, Verdict
from handlers.framework import identify

log = logging.getLogger(__name__)

# Before every other group: an update over the allowance is stopped before any handler reads
# the database or answers; the intake still marks it handled, so it is not replayed either.
FLOOD_GROUP = -1
# Telegram dates messages to the second, rounding down.
DATE_RESOLUTION = timedelta(seconds=1)


def sender(update: Update) -> int | None:
    """Whose allowance the update counts against: what the bot answers, which is a private
    message or a button press. Edits, group messages and updates without a user pass."""
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    message = update.message
    if message is not None and message.chat.type == ChatType.PRIVATE and message.from_user:
        return message.from_user.id
    return None


def register(app: CoalitionApplication) -> None:
    resources = resources_of(app)
    settings = resources.settings
    allowances = FloodControl(
        burst=settings.flood_burst, rate=settings.flood_rate, clock=resources.clock
    )
    # Telegram's time, not the bot's clock (which the sandbox moves): what was sent before
    # this process started waited at Telegram or in the intake while the bot was down. It
    # arrives all at once, but it is a backlog, not a flood: answered in full, uncounted.
    started = datetime.now(UTC)

    async def hold_back(update: Update, context: Context) -> None:
        """Let an update within its sender's allowance through; past it, tell them once."""
        person = sender(update)
        if person is None:
            return
        message = update.message
        if message is not None and message.date < started - DATE_RESOLUTION:
            return
        verdict = allowances.admit(person)
        if verdict is Verdict.ANSWER:
            return
        if update.callback_query is not None:
            # Skipped, but answered: else the person's app shows its spinner until Telegram
            # gives up, as if the bot had hung.
            try:
                await update.callback_query.answer()
            except TelegramError as error:
                log.warning("could not answer a skipped button press: %s", error)
        if verdict is Verdict.NOTICE:
            log.info("update %d: its sender is over their allowance", update.update_id)
            await _tell(update, context)
        raise ApplicationHandlerStop

    app.add_handler(TypeHandler(Update, hold_back), group=FLOOD_GROUP)


async def _tell(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    _, texts = await identify(update, context)
    try:
        await context.bot.send_message(
            chat.id,
            texts.t(
                "You are sending me messages faster than I can answer, so I skipped some. "
                "Wait a few seconds, then send the command again."
            ),
        )
    except TelegramError as error:
        # The update is skipped all the same: the notice is a courtesy, not its answer.
        log.warning("could not tell a person they were over their allowance: %s", error)
