"""The engine and the transaction boundary every service call runs in."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

# How long a SQLite writer waits for another one before giving up, in seconds.
SQLITE_BUSY_TIMEOUT = 30
# The execution option that marks the connections of Database.reading().
READ_ONLY = "coalition_read_only"


def async_url(database_url: str) -> URL:
    """Map a plain `sqlite:///` or `postgresql://` URL to its asyncio driver."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE so read-then-write never hits 'locked'."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that the "begin" hook below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads and then writes can fail with "database is
        # locked" without waiting; taking the write lock first makes writers queue instead.
        # One that only reads needs no lock: WAL shows it the last commit meanwhile.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_unless_present(
    session: AsyncSession, table: type[SQLModel]
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT in the session's dialect, which can skip the rows a unique constraint
    refuses (`.on_conflict_do_nothing(...)`) instead of failing the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def stored_id(value: int | None) -> int:
    """A stored row's id. SQLModel types ids optional because they are unset before insert."""
    assert value is not None, "the row has not been stored"
    return value


def storable(text: str) -> str:
    """Text without NUL characters, which PostgreSQL's text columns cannot hold; nobody means
    one (a modified client or a CSV file may still send it)."""
    return text.replace("\x00", "")


class Database:
    """Owns the engine; hands out one session per unit of work.

    On SQLite every transaction holds the write lock from its start (BEGIN IMMEDIATE below);
    PostgreSQL runs them side by side at READ COMMITTED, so what reads and then writes shared
    state locks it itself (services/audit.py, services.appeals.find_appeal).
    """

    def __init__(self, database_url: str) -> None:
        url = async_url(database_url)
        # On SQLite, this process's transactions take turns here, first come first served.
        # Left to SQLite's busy handler, which sleeps and retries, waiters miss the moments
        # the write lock is free, and some starve for seconds (bench/updates.py measured
        # half the throughput and second-long p95s under 32 concurrent updates).
        self._turns: asyncio.Lock | None = None
        if url.get_backend_name() == "sqlite":
            self.engine = create_async_engine(url)
            _prepare_sqlite(self.engine)
            self._turns = asyncio.Lock()
        else:
            self.engine = create_async_engine(url)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        reader_options: dict[str, Any] = {READ_ONLY: True}
        if url.get_backend_name() == "postgresql":
            # One snapshot for the whole read, as on SQLite: a count and the names listed
            # beside it agree even while others sign.
            reader_options["isolation_level"] = "REPEATABLE READ"
        self._readers = async_sessionmaker(
            self.engine.execution_options(**reader_options),
            class_=AsyncSession,
            expire_on_commit=False,
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
        turn = self._turns or contextlib.nullcontext()
        async with turn, self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A transaction that only reads (writing in it is a mistake SQLite may refuse), from one
        snapshot; on SQLite it neither waits for the writers nor holds them up."""
        async with self._readers() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
