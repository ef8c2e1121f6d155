"""The database the suite runs on: SQLite files, or databases of its own on a PostgreSQL server.

TEST_DATABASE=postgresql (default sqlite) selects the server at TEST_POSTGRES_URL. There the
suite creates a template database, migrates it once, gives each test a copy and drops
everything it created.
"""

import asyncio
import itertools
import os
import re
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from models.database import Database, async_url

T = TypeVar("T")

BACKENDS = ("sqlite", "postgresql")
BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
ON_POSTGRES = BACKEND == "postgresql"
SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Without a server the PostgreSQL half fails, unless the person running it says to skip it.
POSTGRES_SKIPPED = os.environ.get("SKIP_POSTGRES") == "1"
# How long the first connection may take before the server is taken to be absent, in seconds.
CONNECT_TIMEOUT = 5
# Copies of the template made ahead (about 0.1 s and 7 MB each), so that a run of quick tests
# rarely waits for one.
SPARE_COPIES = 12


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """For a test about SQLite itself, which has no counterpart on PostgreSQL."""
    return pytest.mark.skipif(ON_POSTGRES, reason=f"about SQLite: {reason}")


# Each test database is named PREFIX<process id>_<n>, n counted across the process: a benchmark
# run inside the suite's process has a server of its own, whose names must not repeat the suite's.
PREFIX = "coalition_test_"
_NUMBERS = itertools.count(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class PostgresServer:
    """Creates and drops whole databases, each statement on its own autocommit connection."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        # The process id keeps two runs at once (two checkouts, say) out of each other's way.
        self._names = (f"{PREFIX}{os.getpid()}_{n}" for n in _NUMBERS)
        # Copies are made ahead, and databases dropped, in this thread while the tests run.
        self._background = ThreadPoolExecutor(max_workers=1)
        self._pending: list[Future[object]] = []
        self._spares: dict[str, deque[Future[str]]] = {}

    @property
    def where(self) -> str:
        return f"{self.url.host or 'localhost'}:{self.url.port or 5432}"

    def unanswered(self) -> str | None:
        """Why the server cannot be used, in a few words; None if it answers."""
        try:
            self.execute("SELECT 1")
        except ConnectionRefusedError:
            return "connection refused"
        except TimeoutError:
            return f"nothing within {CONNECT_TIMEOUT} s"
        except OSError as error:
            return error.strerror or str(error)
        except Exception as error:  # the driver's own: a refused login, say
            return str(getattr(error, "orig", None) or error).splitlines()[0]
        return None

    def create(self, *, template: str = "template0") -> str:
        """A new database copied from `template` (template0: an empty one); returns its URL."""
        name = next(self._names)
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url_of(name)

    def copy(self, template: str, *, spares_ahead: int = SPARE_COPIES) -> str:
        """A new copy of the database `template`, made ahead while earlier tests ran."""
        spares = self._spares.setdefault(template, deque())
        url = spares.popleft().result() if spares else self.create(template=template)
        while len(spares) < spares_ahead:
            spares.append(self._background.submit(self.create, template=template))
        return url

    def drop_soon(self, database_url: str) -> None:
        self._pending.append(self._background.submit(self.drop, database_url))

    def finish(self) -> None:
        """Drop the spare copies, once every background statement is done (or has failed)."""
        for spares in self._spares.values():
            for spare in spares:
                self.drop_soon(spare.result())
        self._spares.clear()
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def drop(self, database_url: str) -> None:
        # FORCE: a test that failed may leave a connection open (a killed bot's, say).
        name = make_url(database_url).database
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_abandoned(self) -> list[str]:
        """Drop the databases of earlier runs killed before they could (SIGKILL, a machine
        shut down): those whose process is gone. Returns their names."""
        names = self.execute(f"SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'")
        abandoned = [
            name
            for name in names
            if (match := re.fullmatch(rf"{PREFIX}(\d+)_\d+", name)) and not _alive(int(match[1]))
        ]
        for name in abandoned:
            self.drop(self.url_of(name))
        return abandoned

    def execute(self, statement: str) -> list[str]:
        """The statement's first column, if it returns rows."""
        # A thread of its own: asyncio.run in this one would unset the event loop that
        # pytest-asyncio keeps for the tests around these calls.
        with ThreadPoolExecutor(max_workers=1) as thread:
            return thread.submit(asyncio.run, self._execute(statement)).result()

    async def _execute(self, statement: str) -> list[str]:
        # CREATE and DROP DATABASE cannot run inside a transaction.
        engine = create_async_engine(
            async_url(self.url.render_as_string(hide_password=False)),
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"timeout": CONNECT_TIMEOUT},
        )
        try:
            async with engine.connect() as connection:
                result = await connection.exec_driver_sql(statement)
                return [str(row[0]) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()


class DatabaseCopies:
    """Copies of a database made on demand, for a test that needs many (a property test needs
    one per example): SQLite files in `folder`, or databases on the server."""

    # Copies of one template made ahead on the server: enough that an example rarely waits,
    # few enough that the copies nobody takes cost little.
    SPARES = 2

    def __init__(self, server: PostgresServer | None, folder: Path) -> None:
        self.server = server
        self.folder = folder
        self._numbers = itertools.count(1)

    @contextmanager
    def copy_of(self, database_url: str) -> Iterator[str]:
        """A new copy of `database_url` (to which nobody may be connected), deleted or dropped
        (in the background) once the block is done: yields its URL."""
        template = str(make_url(database_url).database)
        if self.server is not None:
            url = self.server.copy(template, spares_ahead=self.SPARES)
            try:
                yield url
            finally:
                self.server.drop_soon(url)
            return
        path = self.folder / f"copy-{next(self._numbers)}.db"
        shutil.copy(template, path)
        try:
            yield f"sqlite:///{path}"
        finally:
            for file in sqlite_files(f"sqlite:///{path}"):
                file.unlink()


def sqlite_files(database_url: str) -> list[Path]:
    """A SQLite database's files, its write-ahead log included; none on PostgreSQL, whose
    files are the server's."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return []
    path = Path(url.database)
    return sorted(path.parent.glob(path.name + "*"))


async def table_names(database_url: str) -> set[str]:
    """The tables in the database, Alembic's own included."""
    return await inspected(
        database_url, lambda connection: set(inspect(connection).get_table_names())
    )


async def inspected(database_url: str, read: Callable[[Connection], T]) -> T:
    """What `read` (synchronous: SQLAlchemy's inspector, Alembic's context) finds on a
    connection to the database."""
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await database.dispose()
