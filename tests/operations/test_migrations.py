"""The migrations: each one can be undone and redone, all of them down to nothing and up again
rebuild the same schema, and together they build what the models say, compared as a whole
(columns, types, nullability, server defaults, keys, indexes, unique, foreign-key and check
constraints), on SQLite and on PostgreSQL.

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
from tests.databases import inspected

ALEMBIC_TABLE = "alembic_version"

# One fact about the schema: (table, what, its name), e.g. ("appeal", "column", "title") or
# ("contact", "foreign key", "fk_contact_telegram_id_account"), and what the database says of it.
Fact = tuple[str, str, str]
Schema = dict[Fact, tuple[object, ...]]


def _schema(connection: Connection) -> Schema:
    """Every fact the database reports about its tables (Alembic's own left out)."""
    inspector = inspect(connection)
    facts: Schema = {}
    for table in inspector.get_table_names():
        if table == ALEMBIC_TABLE:
            continue
        for column in inspector.get_columns(table):
            facts[table, "column", column["name"]] = (
                str(column["type"]),
                column["nullable"],
                column.get("default"),  # the server default, as the database spells it
            )
        key = inspector.get_pk_constraint(table)
        facts[table, "primary key", str(key["name"])] = tuple(key["constrained_columns"])
        for index in inspector.get_indexes(table):
            columns = tuple(index["column_names"])
            facts[table, "index", index["name"] or f"unnamed on {columns}"] = (
                columns,
                tuple(index.get("expressions", ())),
                bool(index["unique"]),
            )
        for unique in inspector.get_unique_constraints(table):
            columns = tuple(unique["column_names"])
            facts[table, "unique", unique["name"] or f"unnamed on {columns}"] = columns
        for foreign in inspector.get_foreign_keys(table):
            columns = tuple(foreign["constrained_columns"])
            facts[table, "foreign key", foreign["name"] or f"unnamed on {columns}"] = (
                columns,
                foreign["referred_table"],
                tuple(foreign["referred_columns"]),
                tuple(sorted(foreign["options"].items())),  # ON DELETE, ON UPDATE
            )
        for check in inspector.get_check_constraints(table):
            text = check["sqltext"]
            facts[table, "check", check["name"] or f"unnamed: {text}"] = (text,)
    return facts


def _state(url: str) -> tuple[str | None, Schema]:
    """The revision the database is at, and its schema."""

    def read(connection: Connection) -> tuple[str | None, Schema]:
        return MigrationContext.configure(connection).get_current_revision(), _schema(connection)

    return asyncio.run(inspected(url, read))


def _differences(before: Schema, after: Schema) -> dict[Fact, tuple[object, object]]:
    """The facts that differ, each with what each schema says (None: not there)."""
    return {
        fact: (before.get(fact), after.get(fact))
        for fact in sorted(before.keys() | after.keys())
        if before.get(fact) != after.get(fact)
    }


def _tables(schema: Schema) -> set[str]:
    return {table for table, _, _ in schema}


def test_every_migration_can_be_undone_and_redone(empty_database_url: str) -> None:
    url = empty_database_url
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    revisions = list(reversed(list(script.walk_revisions("base", "heads"))))
    assert revisions, "no migration found"
    assert _state(url) == (None, {})

    for revision in revisions:
        migrate.upgrade(url, revision.revision)
        upgraded = _state(url)
        assert upgraded[0] == revision.revision

        migrate.downgrade(url, "-1")
        downgraded = _state(url)
        assert downgraded[0] == revision.down_revision, revision.revision
        if revision.down_revision is None:
            assert downgraded[1] == {}, "the first migration's downgrade left tables behind"

        migrate.upgrade(url, revision.revision)
        redone = _state(url)
        assert redone[0] == revision.revision
        assert _differences(upgraded[1], redone[1]) == {}, revision.revision

    head, schema = _state(url)
    assert head == script.get_current_head()
    assert _tables(schema) == set(SQLModel.metadata.tables)


def test_down_to_nothing_and_up_again_rebuilds_the_same_schema(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url)
    head, built = _state(url)

    migrate.downgrade(url, "base")
    assert _state(url) == (None, {}), "the downgrades left something behind"
    migrate.upgrade(url)
    again, rebuilt = _state(url)

    assert again == head
    assert _differences(built, rebuilt) == {}
    # What was compared: every table, each with its columns and its keys.
    assert _tables(built) == set(SQLModel.metadata.tables)
    assert {what for _, what, _ in built} >= {"column", "primary key", "index", "foreign key"}


def _autogenerated(connection: Connection) -> set[tuple[str, ...]]:
    """What `alembic revision --autogenerate` would write, as (operation, table, column) or
    (operation, what it is about)."""
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": True, "render_as_batch": True},
    )
    found: set[tuple[str, ...]] = set()
    for difference in compare_metadata(context, SQLModel.metadata):
        # Changes to a column come as a list of them; the others one by one.
        changes: list[Any] = difference if isinstance(difference, list) else [difference]
        for change in changes:
            operation = change[0]
            if operation.startswith("modify_"):
                found.add((operation, change[2], change[3]))
            else:
                found.add((operation, str(change[1:])))
    return found


def _with_tables_from_models(connection: Connection) -> Schema:
    """The schema the models create by themselves, in an empty database (left empty after)."""
    SQLModel.metadata.create_all(connection)
    try:
        return _schema(connection)
    finally:
        SQLModel.metadata.drop_all(connection)


def test_the_migrated_schema_is_what_the_models_describe(empty_database_url: str) -> None:
    url = empty_database_url
    from_models = asyncio.run(inspected(url, _with_tables_from_models))
    migrate.upgrade(url)

    migrated = asyncio.run(inspected(url, _schema))
    autogenerated = asyncio.run(inspected(url, _autogenerated))

    assert autogenerated == set(), "a model changed without a migration: run `alembic revision`"
    # Compared fact by fact too, which autogenerate does not do for all (check constraints, say).
    assert _differences(migrated, from_models) == {}
