"""The command framework: each command declared once (`command`), and the frame around it: who
is calling, may they, and how a refusal is worded."""

import functools
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler, filters

from foundation.i18n import Texts, pick_language
from handlers.context import CoalitionApplication, Context
from handlers.menu import ENTRIES, Audience, MenuEntry, declare, may_use
from handlers.refusals import word_refusal
from rendering.pages import paginate
from services import accounts, intake
from services.accounts import Caller
from services.errors import Refusal

log = logging.getLogger(__name__)

# Commands are taken from new private messages only: an edited "/cosign" must not run twice,
# and nothing is said in groups, where members could be exposed.
PRIVATE_MESSAGES = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


class UsageError(Exception):
    """The command's arguments are missing or malformed: the reply shows its usage."""


class BadInput(Exception):
    """Arguments in the right form that still make no sense; it words its own reply."""

    def word(self, texts: Texts) -> Markup:
        raise NotImplementedError


@dataclass
class Call:
    """One command or button tap from one person, with what a handler needs to answer it."""

    update: Update
    context: Context
    # The message the command came in, or the one whose button was tapped (which Telegram may
    # no longer show in full when it is over 48 hours old: hence ids rather than the message).
    chat_id: int
    message_id: int
    caller: Caller
    texts: Texts
    args: list[str]
    # Whether a transaction of this call has committed the mark that its update was handled.
    claimed: bool = field(default=False, init=False)

    @property
    def body(self) -> str:
        """Everything after the command word, line breaks kept (for multi-line commands)."""
        message = self.update.effective_message
        words = (message.text or "").split(maxsplit=1) if message else []
        return words[1] if len(words) > 1 else ""

    def number(self, index: int = 0) -> int:
        """The argument at `index` as an id, or a UsageError."""
        if index >= len(self.args) or not self.args[index].isdecimal():
            raise UsageError()
        value = int(self.args[index])
        if not 0 < value < 2**31:
            raise UsageError()
        return value

    def telegram_id(self, index: int = 0) -> int:
        """The argument at `index` as a Telegram user id (they run past 32 bits)."""
        if index >= len(self.args) or not self.args[index].isdecimal():
            raise UsageError()
        value = int(self.args[index])
        if not 0 < value < 2**53:
            raise UsageError()
        return value

    def sole_number(self) -> int:
        """The one argument, as an id, or a UsageError."""
        if len(self.args) != 1:
            raise UsageError()
        return self.number()

    def now(self) -> datetime:
        return self.context.resources.clock()

    @property
    def zone(self) -> str:
        """The time zone to show this caller times in."""
        return self.caller.timezone or self.context.resources.settings.bot_timezone

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction whose commit also marks the update handled (bot/intake.py): one
        delivered twice, or replayed after a crash, raises AlreadyHandled here instead."""
        async with self.context.resources.database.transaction() as session:
            if not self.claimed:
                await intake.claim(session=session, update_id=self.update.update_id, now=self.now())
            yield session
        self.claimed = True

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A transaction for a command that only reads: it waits for no writer, and its
        update is marked handled afterwards, with others (bot/intake.py)."""
        async with self.context.resources.database.reading() as session:
            yield session

    async def reply(
        self, text: Markup, buttons: InlineKeyboardMarkup | None = None, *, protect: bool = False
    ) -> Message:
        """Answer in the chat; the buttons go under the last page, which is returned.
        `protect`: Telegram will not let it be forwarded or saved (member lists, exports)."""
        pages = paginate(text)
        for number, page in enumerate(pages, start=1):
            sent = await self.context.bot.send_message(
                self.chat_id,
                page,
                reply_markup=buttons if number == len(pages) else None,
                protect_content=protect,
            )
        return sent

    async def drop_buttons(self) -> None:
        """Take the buttons off the message a button was on, leaving its text as it is; the
        answer has gone already, so a message Telegram no longer lets edit is only logged."""
        try:
            await self.context.bot.edit_message_reply_markup(
                self.chat_id, self.message_id, reply_markup=None
            )
        except BadRequest as error:
            # "Not modified": gone already, the first of two taps edited the message.
            if "message is not modified" not in error.message.lower():
                log.warning("buttons left on message %s: %s", self.message_id, error.message)

    async def edit(self, text: Markup) -> None:
        """Replace the message a button was on (and its buttons), so it cannot be tapped again."""
        try:
            await self.context.bot.edit_message_text(
                paginate(text)[0], self.chat_id, self.message_id, reply_markup=None
            )
        except BadRequest as error:
            # A second tap sent before the first one's edit reached the app: the message
            # already says this, and Telegram refuses an edit that changes nothing.
            if "message is not modified" not in error.message.lower():
                raise


Body = Callable[[Call], Awaitable[None]]
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
# Each declared command's handler, by name.
_HANDLERS: dict[str, Callback] = {}


async def identify(update: Update, context: Context) -> tuple[Caller, Texts]:
    """The caller as the rules see them, and the texts in their language."""
    user = update.effective_user
    assert user is not None
    default = context.resources.settings.default_language
    return await identify_account(context, user.id, pick_language(user.language_code, default))


async def identify_account(
    context: Context, telegram_id: int, fallback_language: str | None = None
) -> tuple[Caller, Texts]:
    """Anyone, by Telegram id, as the rules see them, and the texts in their language."""
    resources = context.resources
    async with resources.database.reading() as session:
        caller = await accounts.identify(
            session=session,
            telegram_id=telegram_id,
            fallback_language=fallback_language or resources.settings.default_language,
            organiser_ids=resources.settings.organiser_ids,
        )
    return caller, resources.texts[caller.language]


def command(
    name: str,
    description: str,
    audience: Audience,
    *,
    arguments: str | None = None,
    usage: str | None = None,
    example: str | None = None,
) -> Callable[[Body], Callback]:
    """Declare a command, once: its name, who may use it, how /help, the menu and the refusal
    of bad arguments describe it (`N_` texts), and, decorated, its handler. The menus, /help
    and the Application's handlers (`register_commands`) all derive from the declarations.
    The frame identifies the caller, checks the audience and words refusals."""
    entry = MenuEntry(name, description, audience, arguments, usage, example)

    def wrap(body: Body) -> Callback:
        declare(entry, body.__module__)

        @functools.wraps(body)
        async def callback(update: Update, context: Context) -> None:
            message = update.effective_message
            assert message is not None
            where = (message.chat.id, message.message_id)
            await answer_call(update, context, where, name, context.args or [], body, entry, False)

        _HANDLERS[name] = callback
        return callback

    return wrap


def register_commands(app: CoalitionApplication) -> None:
    """Every declared command, as a handler of the Application."""
    for name, callback in _HANDLERS.items():
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE_MESSAGES))


def button(name: str, *, question: bool = False) -> Callable[[Body], Callback]:
    """Wrap an inline-button handler like a command: `name` is the command whose audience
    may tap it, and the pattern's groups are its arguments. On a `question` (a Confirm or
    Cancel), a refusal also takes the question's buttons off, so that no used one stays live."""

    def wrap(body: Body) -> Callback:
        @functools.wraps(body)
        async def callback(update: Update, context: Context) -> None:
            query = update.callback_query
            assert query is not None
            if not isinstance(context.match, re.Match):
                # A tap without data passes every pattern (PTB): no button of the bot's.
                await answer_unknown_button(update, context)
                return
            # Answered at once: the person's app shows a spinner until it is.
            await query.answer()
            assert query.message is not None
            where = (query.message.chat.id, query.message.message_id)
            arguments = [group for group in context.match.groups() if group is not None]
            # Only a question with buttons has buttons to take off: a forged tap may come on
            # any message, and Telegram refuses an edit that changes nothing.
            pressed = query.message
            with_buttons = isinstance(pressed, Message) and pressed.reply_markup is not None
            await answer_call(
                update, context, where, name, arguments, body, None, question and with_buttons
            )

        return callback

    return wrap


async def answer_call(
    update: Update,
    context: Context,
    where: tuple[int, int],
    name: str,
    arguments: list[str],
    body: Body,
    entry: MenuEntry | None,
    question: bool,
) -> None:
    """The frame every command and button runs in: identify the caller, refuse them if the
    command is not theirs, run the handler's body, and word its refusals. Looked up at each
    call, so that a test can plant a fault in it (tests/chat/test_planted_leak.py)."""
    caller, texts = await identify(update, context)
    chat_id, message_id = where
    call = Call(update, context, chat_id, message_id, caller, texts, arguments)

    async def refuse(text: Markup) -> None:
        await call.reply(text)
        if question:
            await call.drop_buttons()

    if not may_use(caller, name):
        await refuse(_not_allowed(texts, caller, ENTRIES[name]))
        return
    try:
        await body(call)
    except intake.AlreadyHandled:
        log.info("update %d was handled before: its effect is not repeated", update.update_id)
    except UsageError:
        if entry is not None:
            await call.reply(texts.t("Usage: {usage}", usage=usage(texts, entry)))
            return
        # Data in a button's form with a number out of range: not a button the bot made.
        await call.reply(unknown_button(texts))
    except BadInput as error:
        await refuse(error.word(texts))
    except Refusal as refusal:
        await refuse(word_refusal(texts, refusal))


def usage(texts: Texts, entry: MenuEntry) -> str:
    """How to use a command, in the reader's language."""
    if entry.usage is not None:
        return texts.plain(entry.usage)
    assert entry.arguments is not None, f"/{entry.command} refused arguments it does not take"
    return f"/{entry.command} {texts.plain(entry.arguments)}"


def unknown_button(texts: Texts) -> Markup:
    return texts.t("I do not know this button. /help lists your commands.")


async def answer_unknown_button(update: Update, context: Context) -> None:
    """Tell whoever tapped a button the bot never made (a modified client can send any data)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _, texts = await identify(update, context)
    await context.bot.send_message(query.from_user.id, unknown_button(texts))


def _not_allowed(texts: Texts, caller: Caller, entry: MenuEntry) -> Markup:
    if entry.audience == Audience.ORGANISER:
        return texts.t("Only organisers can use /{command}.", command=entry.command)
    if entry.audience == Audience.STRANGER:
        return texts.t(
            "You are already a contact of {organisation}.", organisation=caller.organisation_name
        )
    if caller.is_organiser:
        return texts.t(
            "/{command} acts in the name of the organisation you are a contact of, and you are "
            "a contact of none. To sign for your own organisation, /invite it and open the link "
            "yourself.",
            command=entry.command,
        )
    return texts.t(
        "Only contacts of member organisations can use /{command}. "
        "Ask an organiser of the coalition for an invite.",
        command=entry.command,
    )
