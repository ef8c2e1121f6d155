"""SQLite statements run on aiosqlite's thread, one trip each (models/sqlite_driver.py): a
write that waits for another process's lock waits there, and the bot goes on answering."""

import asyncio
import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from models import Database, Organisation
from services.organisations import find_or_create
from tests.databases import ON_POSTGRES

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's own driver")


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

    async def add_memorial() -> None:
        async with database.transaction() as session:
            await find_or_create(session=session, name="Мемориал (Mémorial)")

    waiting = asyncio.create_task(add_memorial())
    async with asyncio.timeout(5):
        # The writer waits for the lock on its connection's thread, not on the event loop.
        assert await organisations(database) == before
    await asyncio.sleep(0.3)
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
