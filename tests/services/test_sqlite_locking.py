"""SQLite through SQLAlchemy's stock aiosqlite dialect: a statement runs on aiosqlite's thread,
so a write that waits for another process's lock waits there, and the bot goes on answering;
rows, counts and constraint errors come back as SQLAlchemy promises."""

import asyncio
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from models import Database, Organisation
from services.organisations import find_or_create
from tests.databases import ON_POSTGRES

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's driver and its locking")


async def organisations(database: Database) -> list[str]:
    async with database.reading() as session:
        return list(await session.exec(select(Organisation.name).order_by(col(Organisation.id))))


async def test_while_another_process_holds_the_write_lock_readers_are_answered(
    database: Database, database_url: str
) -> None:
    before = await organisations(database)
    # Another process (`coalition-bot import-orgs`, say) in the middle of its transaction.
    importer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    importer.execute("BEGIN IMMEDIATE")
    waiting_for_the_lock = asyncio.Event()

    @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
    def _taking_the_lock(*call: Any) -> None:
        _connection, _cursor, statement, *_ = call
        if statement == "BEGIN IMMEDIATE":
            waiting_for_the_lock.set()

    async def add_memorial() -> None:
        async with database.transaction() as session:
            await find_or_create(session=session, name="Мемориал (Mémorial)")

    waiting = asyncio.create_task(add_memorial())
    async with asyncio.timeout(10):
        await waiting_for_the_lock.wait()
    # The writer waits for the lock on its connection's thread, not on the event loop: a reader
    # is answered meanwhile. Were the loop blocked, the writer would give up (busy timeout)
    # before the reader could start.
    assert await organisations(database) == before
    assert not waiting.done()

    importer.execute("ROLLBACK")
    importer.close()
    async with asyncio.timeout(10):
        await waiting
    assert await organisations(database) == [*before, "Мемориал (Mémorial)"]


async def test_rows_counts_and_constraint_errors_come_back_as_with_sqlalchemy(
    database: Database,
) -> None:
    async with database.transaction() as session:
        organisation, created = await find_or_create(session=session, name="Crimean Human Rights")
    assert created
    assert organisation.id is not None

    async with database.reading() as session:
        count = (await session.exec(select(func.count()).select_from(Organisation))).one()
        names = list(await session.exec(select(Organisation.name)))
    assert count == len(names)
    assert "Crimean Human Rights" in names

    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            session.add(Organisation(name="Crimean Human Rights", name_key=organisation.name_key))
    async with database.reading() as session:
        assert (await session.exec(select(func.count()).select_from(Organisation))).one() == count
