"""The CPU time of the PostgreSQL server's processes that serve one database, read from /proc.

The benchmarks' server runs on this machine (127.0.0.1:5432) and serves each connection with a
process of its own (a backend), a child of the server's first process whose title names the
database ("postgres: 15/main: postgres <database> 127.0.0.1(50000) idle"); /proc/<pid>/stat
gives each one's CPU time. Left out: backends of other databases (a test run's, say) and the
server's shared processes (checkpointer, WAL writer, autovacuum), whose work comes later and
belongs to no one command. /proc counts CPU time in clock ticks (mostly 10 ms): a figure per
command is as fine as the run is long. A backend's time is known only while it lives: one that
ends between two looks is counted up to the earlier one, and one that lives and ends between
two looks not at all; `ended` and `unseen()` say how many there were.
"""

import asyncio
import re

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bench.processes import children, cpu_seconds, parent, process_title
from models.database import async_url

# Connections to the database so far (counted by the server from PostgreSQL 14), and the
# process serving the asking one.
ASKED = text(
    "SELECT (SELECT sessions FROM pg_stat_database WHERE datname = :database), pg_backend_pid()"
)
# How long the server may take to end the backends of a bot that has stopped, in seconds.
ENDING = 10


class ServerCpu:
    """Follows the backends serving one database, summing the CPU each has used since the
    first look (its whole life, for one that started later)."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        assert url.database is not None
        self.database = url.database
        # Asked from another database, so that the asking is no backend of this one.
        self._other = url.set(database="postgres").render_as_string(hide_password=False)
        title = (
            rf"postgres: (?:.*?: )?\S+ {re.escape(self.database)} (?:\S+\(\d+\)|\[local\])(?: |$)"
        )
        self._title = re.compile(title)
        self._server: int | None = None
        self._sessions = 0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._others: set[int] = set()
        self._looks = 0
        self.born = 0
        self.ended = 0

    async def start(self) -> None:
        """Find the server's first process, count the connections so far, look once."""
        self._sessions, self._server = await self._ask()
        self.look()

    @property
    def visible(self) -> bool:
        """Whether /proc shows the server's processes: not when it runs on another machine."""
        return self._server is not None

    def seconds(self) -> float:
        """CPU seconds the backends have used from the first look to the last."""
        return sum(self._last[pid] - first for pid, first in self._first.items())

    def look(self) -> None:
        """Read each backend's CPU time now."""
        if self._server is None:
            return
        ours = {pid for pid in children(self._server) if self._serves(pid)}
        for pid in ours:
            cpu = cpu_seconds(pid)
            if cpu is None:  # it has just ended
                continue
            if pid not in self._first:
                self._first[pid] = cpu if self._looks == 0 else 0.0
                self.born += self._looks > 0
            self._last[pid] = cpu
        self.ended = len(self._last.keys() - ours)
        self._looks += 1

    async def follow(self, interval: float) -> None:
        """Look every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            self.look()

    async def unseen(self) -> int:
        """Once the benchmark's connections are closed: how many connections were made
        after the first look that no look saw (the server's count of them is complete once
        they have ended)."""
        if self._server is None:
            return 0
        async with asyncio.timeout(ENDING):
            while any(self._serves(pid) for pid in children(self._server)):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        sessions, _ = await self._ask()
        return sessions - self._sessions - self.born

    def _serves(self, pid: int) -> bool:
        """Whether the process is a backend of the database (a new one's title may not say
        yet: it is looked at again next time)."""
        if pid in self._first:
            return True
        if pid in self._others:
            return False
        title = process_title(pid)
        if self._title.match(title):
            return True
        if title.startswith("postgres: "):  # before that, it is not yet anyone's
            self._others.add(pid)
        return False

    async def _ask(self) -> tuple[int, int | None]:
        """The connections made to the database so far, and the server's first process (the
        parent of the backend that answers; None if /proc does not show it)."""
        engine = create_async_engine(async_url(self._other), poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                sessions, backend = (
                    await connection.execute(ASKED, {"database": self.database})
                ).one()
                return int(sessions or 0), parent(int(backend))
        finally:
            await engine.dispose()
