"""The migrations: each one can be undone and redone, and together they build what the models say.

`bot.migrate` runs the migrations through `asyncio.run` (in models/migrations/env.py), so it is
called from plain functions, or from a thread in an async test.
"""

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from bot import migrate
from models.database import Database
from tests.databases import inspected

ALEMBIC_TABLE = "alembic_version"


def _state(url: str) -> tuple[str | None, set[str]]:
    """The revision the database is at, and its tables (Alembic's own left out)."""

    def read(connection: Connection) -> tuple[str | None, set[str]]:
        revision = MigrationContext.configure(connection).get_current_revision()
        return revision, set(inspect(connection).get_table_names()) - {ALEMBIC_TABLE}

    return asyncio.run(inspected(url, read))


def test_every_migration_can_be_undone_and_redone(empty_database_url: str) -> None:
    url = empty_database_url
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    revisions = list(reversed(list(script.walk_revisions("base", "heads"))))
    assert revisions, "no migration found"
    assert _state(url) == (None, set())

    for revision in revisions:
        migrate.upgrade(url, revision.revision)
        upgraded = _state(url)
        assert upgraded[0] == revision.revision

        migrate.downgrade(url, "-1")
        downgraded = _state(url)
        assert downgraded[0] == revision.down_revision, revision.revision
        if revision.down_revision is None:
            assert downgraded[1] == set(), "the first migration's downgrade left tables behind"

        migrate.upgrade(url, revision.revision)
        assert _state(url) == upgraded, revision.revision

    assert _state(url) == (script.get_current_head(), set(SQLModel.metadata.tables))


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def test_the_migrated_schema_is_what_the_models_describe(empty_database_url: str) -> None:
    url = empty_database_url
    await asyncio.to_thread(migrate.upgrade, url)

    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await database.dispose()

    assert differences == [], "a model changed without a migration: run `alembic revision`"
