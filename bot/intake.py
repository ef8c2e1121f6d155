"""Taking updates in without losing one at a crash.

python-telegram-bot's own poller confirms a batch to Telegram before handling it, and its
webhook answers 200 first: a crash then would drop a member's /cosign. Here each update is
stored (unique by update_id) before Telegram is told it arrived, then handed to the
Application. A handler's first transaction marks its update handled together with its effect
(`handlers.caller.Call.transaction`), so an update replayed after a restart, or delivered twice,
changes nothing the second time. Updates stored but not handled are replayed at start-up.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseUpdateProcessor

from models import Database
from services import intake

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds Telegram holds a getUpdates open
POLL_LIMIT = 100
# After a failed getUpdates, wait this long, doubling up to the maximum.
RETRY_FIRST, RETRY_MAX = 1.0, 30.0
# Telegram re-sends an unconfirmed update for about a day; ids are kept a while longer.
KEEP_HANDLED = timedelta(days=7)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
# True in an update's task once a handler's transaction has committed the mark that the update
# was handled (handlers/caller.py): settling it again would cost one more transaction for
# nothing, a quarter of those an update takes.
MARKED_HANDLED: ContextVar[bool] = ContextVar("marked_handled", default=False)


class MalformedUpdate(ValueError):
    """Not an update python-telegram-bot can read: refused rather than stored."""


class Intake:
    """Stores incoming updates, then queues them for the Application."""

    def __init__(self, *, database: Database, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock
        self._queue: asyncio.Queue[object] | None = None
        self._bot: Any = None

    def attach(self, *, queue: "asyncio.Queue[object]", bot: Any) -> None:
        """Where updates go once stored, and the bot that de-serialises them."""
        self._queue, self._bot = queue, bot

    async def take(self, raw_updates: list[Any]) -> int:
        """Store the updates, then queue those not seen before; returns how many were new."""
        read = [(self._read(raw), json.dumps(raw)) for raw in raw_updates]
        pairs = [(update.update_id, body) for update, body in read]
        async with self.database.transaction() as session:
            new = set(await intake.receive(session=session, updates=pairs, now=self.clock()))
        for update, _ in read:
            if update.update_id in new:
                await self._queued().put(update)
        return len(new)

    async def replay(self) -> int:
        """Queue what was stored but not handled before the last stop (or crash)."""
        async with self.database.transaction() as session:
            bodies = await intake.unhandled(session=session)
            forgotten = await intake.forget_handled(
                session=session, before=self.clock() - KEEP_HANDLED
            )
        for body in bodies:
            await self._queued().put(self._read(json.loads(body)))
        if bodies or forgotten:
            log.info("intake: %d updates replayed, %d old ids forgotten", len(bodies), forgotten)
        return len(bodies)

    async def settle(self, update_id: int) -> None:
        """After its handlers ran: an update whose handler stored nothing is handled too."""
        try:
            async with self.database.transaction() as session:
                await intake.claim(session=session, update_id=update_id, now=self.clock())
        except intake.AlreadyHandled:
            pass

    def _read(self, raw: object) -> Update:
        if not isinstance(raw, dict):
            raise MalformedUpdate("an update is a JSON object")
        try:
            update = Update.de_json(raw, self._bot)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise MalformedUpdate(f"not a Telegram update ({error})") from None
        update_id: object = update.update_id
        if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
            raise MalformedUpdate("an update has a non-negative integer update_id")
        return update

    def _queued(self) -> "asyncio.Queue[object]":
        assert self._queue is not None, "attach() the intake to an application first"
        return self._queue


class Poller:
    """getUpdates in a loop; an offset confirms a batch only after the batch is stored."""

    def __init__(self, *, intake: Intake, bot: Any) -> None:
        self.intake = intake
        self.bot = bot
        self._offset = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        """Stop asking; a batch fetched but not stored is not confirmed, so Telegram keeps it."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        await self.bot.delete_webhook()
        retry = RETRY_FIRST
        while True:
            try:
                batch = await self.bot.get_updates(
                    offset=self._offset,
                    limit=POLL_LIMIT,
                    timeout=POLL_TIMEOUT,
                    read_timeout=POLL_TIMEOUT + 5,
                    allowed_updates=ALLOWED_UPDATES,
                )
                if batch:
                    await self.intake.take([update.to_dict() for update in batch])
                    self._offset = batch[-1].update_id + 1
                retry = RETRY_FIRST
            except InvalidToken:
                log.error("Telegram refused the token: stopping")
                raise
            except RetryAfter as error:
                await asyncio.sleep(error.retry_after.total_seconds())  # type: ignore[union-attr]
            except (TimedOut, NetworkError, TelegramError, OSError) as error:
                log.warning("getUpdates failed (%s); trying again in %.0f s", error, retry)
                await asyncio.sleep(retry)
                retry = min(retry * 2, RETRY_MAX)


class SettlingProcessor(BaseUpdateProcessor):
    """Runs updates concurrently; after each, settles it and reports how long it took."""

    def __init__(
        self,
        max_concurrent_updates: int,
        *,
        intake: Intake,
        observe: Callable[[object, float], None] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.intake = intake
        self.observe = observe

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = asyncio.get_running_loop().time()
        MARKED_HANDLED.set(False)
        try:
            await coroutine  # in this task: what its handlers set in MARKED_HANDLED shows here
        finally:
            if self.observe is not None:
                self.observe(update, asyncio.get_running_loop().time() - started)
            if isinstance(update, Update) and not MARKED_HANDLED.get():
                try:
                    await self.intake.settle(update.update_id)
                except Exception:
                    # Not settled: handled again after a restart, where its claim (if it
                    # stored anything) keeps it from taking effect twice.
                    log.exception("update %d could not be marked handled", update.update_id)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""
