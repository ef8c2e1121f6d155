"""Taking updates in without losing one at a crash.

python-telegram-bot's own poller confirms a batch to Telegram before handling it, and its
webhook answers 200 first: a crash then would drop a member's /cosign. Here each update is
stored (unique by update_id) before Telegram is told it arrived, then handed to the
Application. A handler's first transaction marks its update handled together with its effect
(`handlers.framework.Call.transaction`), so an update replayed after a restart, or delivered twice,
changes nothing the second time; one whose handlers stored nothing is marked afterwards, with
others (`Intake.settle`). Updates stored but not handled are replayed at start-up.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
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
# Seconds an update handled without storing anything waits to be marked handled, together
# with the others handled meanwhile (one transaction for many instead of one each).
SETTLE_WITHIN = 0.5
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


class MalformedUpdate(ValueError):
    """Not an update python-telegram-bot can read: refused rather than stored."""


class Intake:
    """Stores incoming updates, then queues them for the Application."""

    def __init__(self, *, database: Database, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock
        self._queue: asyncio.Queue[object] | None = None
        self._bot: Any = None
        # Updates handled without a transaction of their own, not yet marked (see settle).
        self._settled: list[int] = []
        self._writing: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def attach(self, *, queue: "asyncio.Queue[object]", bot: Any) -> None:
        """Where updates go once stored, and the bot that de-serialises them."""
        self._queue, self._bot = queue, bot

    async def take(self, raw_updates: list[Any]) -> int:
        """Store the updates, then queue those not seen before; returns how many were new."""
        return await self.take_read([self._read(raw) for raw in raw_updates])

    async def take_read(self, updates: list[Update]) -> int:
        """`take` for updates python-telegram-bot has already read (getUpdates returns them)."""
        pairs = [(update.update_id, json.dumps(update.to_dict())) for update in updates]
        # Marks of updates settled meanwhile go in the same transaction, for free.
        settled, self._settled = self._settled, []
        try:
            async with self.database.transaction() as session:
                new = set(await intake.receive(session=session, updates=pairs, now=self.clock()))
                await intake.mark_handled(session=session, update_ids=settled, now=self.clock())
        except BaseException:
            self._settled += settled
            raise
        for update in updates:
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

    def settle(self, update_id: int) -> None:
        """After its handlers ran: the update is handled, whether or not a handler stored
        anything (one that did marked it in its transaction).

        Nothing depends on the mark but a replay after a crash, which at worst answers a
        question twice: marks wait up to SETTLE_WITHIN to be written together.
        """
        self._settled.append(update_id)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_settled(), name="settled updates")

    async def flush(self) -> None:
        """Write the marks still waiting (at stop, once no update is in flight)."""
        # The marks waiting to be written together need not wait any longer: the stop is now.
        self._stopping.set()
        if self._writing is not None:
            await self._writing
        await self._write_settled()

    async def _write_settled(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), SETTLE_WITHIN)
        settled, self._settled = self._settled, []
        if not settled:
            return
        try:
            async with self.database.transaction() as session:
                await intake.mark_handled(session=session, update_ids=settled, now=self.clock())
        except Exception:
            # Tried again with the next one settled; meanwhile a restart would replay them.
            log.exception("%d updates could not be marked handled", len(settled))
            self._settled += settled

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
                    await self.intake.take_read(list(batch))
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
        try:
            await coroutine
        finally:
            if self.observe is not None:
                self.observe(update, asyncio.get_running_loop().time() - started)
            if isinstance(update, Update):
                # One a handler marked already is left as it is (services.intake.mark_handled).
                self.intake.settle(update.update_id)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""
