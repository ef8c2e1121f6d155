"""SQLAlchemy's aiosqlite driver, with one trip to aiosqlite's thread per statement.

aiosqlite runs each SQLite connection on a thread of its own, and SQLAlchemy's adapter awaits
four calls on it for every query (make a cursor, execute, fetch the rows, close the cursor): four
hand-offs to the thread and back, each waking the event loop. Here the four run as one function
on that thread: bench/updates.py's bot went from 7.7 to 6.5 ms of CPU per update.
The thread stays: a statement waiting for SQLite's write lock (another process importing, a
migration) waits there, not on the event loop. Like SQLAlchemy's own adapter, this reaches into
aiosqlite's queue (`Connection._execute`); the whole test suite runs on it.
"""

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# What a statement leaves behind: its rows, their description, rowcount and lastrowid.
Outcome = tuple[collections.deque[Any], Any, int, int | None]


def _execute(
    connection: aiosqlite.Connection, operation: str, parameters: Sequence[Any] | None
) -> Outcome:
    """On aiosqlite's thread: run one statement and fetch all it returns."""
    cursor = connection._conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = collections.deque(cursor.fetchall() if description else ())
        return rows, description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _executemany(
    connection: aiosqlite.Connection, operation: str, parameters: Sequence[Sequence[Any]]
) -> Outcome:
    """On aiosqlite's thread: run one statement once per set of parameters."""
    cursor = connection._conn.cursor()
    try:
        cursor.executemany(operation, parameters)
        return collections.deque(), None, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose every statement is one trip to the connection's thread; it holds no
    aiosqlite cursor, only what the last statement returned."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]  # None before an insert, as sqlite3

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        """Nothing to close: the rows are already here."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        # No mutex as in SQLAlchemy's adapter: the thread's queue runs statements in order and
        # each is one item on it.
        self._keep(_execute, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._keep(_executemany, operation, seq_of_parameters)

    def _keep(self, run: Any, operation: str, parameters: Any) -> None:
        connection = self._connection
        try:
            outcome: Outcome = await_(connection._execute(run, connection, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._rows, self._description, self._rowcount, self._lastrowid = outcome


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect takes (`create_engine(module=...)`)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        connection = aiosqlite.connect(*arg, **kw)
        # As SQLAlchemy's own adapter: a connection nobody closed must not keep the process up.
        connection._thread.daemon = True
        # SQLAlchemy's protocol for an asyncio connection is looser than aiosqlite's types.
        return OneTripConnection(self, cast(Any, await_(connection)))
