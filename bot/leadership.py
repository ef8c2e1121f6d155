"""Which replica runs the timeline and sends the outbox: the one holding a PostgreSQL lock.

Telegram's flood limits are per bot, not per process, so a second sender would add no
throughput, only the risk of exceeding them; a second scheduler would only race the first.
So with two replicas on one PostgreSQL database, one leads (a session-level advisory lock on a
connection of its own) and the other handles updates and waits: when the leader dies, its
connection closes, PostgreSQL frees the lock, and the other takes it at its next try.
On SQLite (one process per database file) the only process leads at once.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from models import Database

log = logging.getLogger(__name__)

# pg_try_advisory_lock's key: any 64-bit number no other program on the database uses.
LOCK_KEY = 0x636F616C6974696F  # "coalitio"
# How often a follower tries to lead, and a leader checks it still holds the lock: the
# takeover after a leader dies is within this (plus the start of its work).
TRY_EVERY = 5.0


class Leadership:
    def __init__(
        self,
        *,
        database: Database,
        lead: Callable[[], Awaitable[None]],
        step_down: Callable[[], Awaitable[None]],
    ) -> None:
        self.database = database
        self._lead = lead
        self._step_down = step_down
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self.leading = False
        self.following = False

    async def start(self) -> None:
        """Lead at once if possible (the usual case: one replica), else keep trying."""
        await self._try()
        self._task = asyncio.create_task(self._watch(), name="leadership")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._resign()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(TRY_EVERY)
            if self.leading:
                await self._check()
            else:
                await self._try()

    async def _try(self) -> None:
        if self.database.engine.dialect.name != "postgresql":
            await self._begin_leading()
            return
        try:
            connection = await self.database.engine.connect()
            # Autocommit: the lock belongs to the session, and no transaction stays open.
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            locked = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
                )
            ).scalar_one()
        except (OperationalError, DBAPIError, OSError) as error:
            log.warning("leadership: the database does not answer (%s)", error)
            return
        if not locked:
            await connection.close()
            if not self.following:  # once, not at every try
                self.following = True
                log.info("following: another replica leads; trying every %.0f s", TRY_EVERY)
            return
        self._connection = connection
        await self._begin_leading()

    async def _begin_leading(self) -> None:
        self.leading, self.following = True, False
        log.info("leading: this replica runs the timeline and sends the outbox")
        await self._lead()

    async def _check(self) -> None:
        """A leader whose lock connection broke may no longer hold the lock: it steps down."""
        if self._connection is None:
            return
        try:
            await self._connection.execute(text("SELECT 1"))
        except (OperationalError, DBAPIError, OSError) as error:
            log.warning("leadership lost with the lock's connection (%s)", error)
            await self._resign()

    async def _resign(self) -> None:
        if self.leading:
            self.leading = False
            await self._step_down()
        if self._connection is not None:
            # Unlocked before the connection goes back to the pool (a pooled session would
            # keep the lock); the other replica takes it at its next try.
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
                )
                await self._connection.close()
            except (OperationalError, DBAPIError, OSError):
                await self._connection.invalidate()
            self._connection = None
