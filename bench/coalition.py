"""A large coalition for the benchmarks, inserted in bulk: rows go straight into the tables,
thousands per statement, since arranging 100,000 signatures through the services would take
longer than the benchmark itself."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlmodel import col

from models import (
    Account,
    Appeal,
    AppealState,
    Contact,
    Database,
    Disclosure,
    Organisation,
    Signature,
)
from models.organisation import name_key
from models.utc import utcnow

# Rows per INSERT: under SQLite's and asyncpg's limits on bound parameters per statement.
BATCH = 2_000
FIRST_CONTACT = 10_000
APPEAL_TEXT = "Your Excellencies,\nWe, the undersigned organisations, call on you to act."


@dataclass(frozen=True)
class Member:
    """A member organisation and its one contact."""

    organisation_id: int
    contact_id: int
    # The organisation's name, which the bot's replies to this contact name.
    name: str


def organisation_name(n: int) -> str:
    """The name of the `n`-th organisation `members` inserts, from 1."""
    return f"Human Rights Group {n:05d}"


def appeal_title(n: int) -> str:
    """The title of the `n`-th appeal `open_appeals` inserts, from 1."""
    return f"Appeal {n}: free the detainees of list {n}"


async def members(database: Database, count: int) -> list[Member]:
    """`count` organisations with one subscribed contact each (Telegram ids from 10,000)."""
    now = utcnow()
    names = [organisation_name(n) for n in range(1, count + 1)]
    organisation_ids = await _inserted(
        database,
        Organisation,
        [{"name": name, "name_key": name_key(name), "created_at": now} for name in names],
    )
    contact_ids = range(FIRST_CONTACT, FIRST_CONTACT + count)
    await _insert(
        database,
        Account,
        [{"telegram_id": user_id, "language": "en", "created_at": now} for user_id in contact_ids],
    )
    await _insert(
        database,
        Contact,
        [
            {"telegram_id": user_id, "organisation_id": organisation_id, "joined_at": now}
            for user_id, organisation_id in zip(contact_ids, organisation_ids, strict=True)
        ],
    )
    return [
        Member(o, c, name) for o, c, name in zip(organisation_ids, contact_ids, names, strict=True)
    ]


async def open_appeals(database: Database, count: int, *, organiser_id: int) -> list[int]:
    """`count` appeals open for signatures, oldest first; returns their ids (the `n`-th is
    titled `appeal_title(n)`)."""
    now = utcnow()
    return await _inserted(
        database,
        Appeal,
        [
            {
                "title": appeal_title(n),
                "text": APPEAL_TEXT,
                "language": "en",
                "state": AppealState.OPEN,
                "created_by": organiser_id,
                "created_at": now,
                "published_at": now,
                "version": 1,
            }
            for n in range(1, count + 1)
        ],
    )


async def signed(
    database: Database, appeal_id: int, signers: Sequence[Member], disclosures: Sequence[Disclosure]
) -> None:
    """Each of `signers` has signed the appeal, with the disclosures taken in turn."""
    now = utcnow()
    await _insert(
        database,
        Signature,
        [
            {
                "appeal_id": appeal_id,
                "organisation_id": signer.organisation_id,
                "disclosure": disclosures[n % len(disclosures)],
                "signed_by": signer.contact_id,
                "signed_at": now,
                "version": 1,
            }
            for n, signer in enumerate(signers)
        ],
    )


async def _insert(database: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with database.transaction() as session:
            connection = await session.connection()
            await connection.execute(insert(table), rows[start : start + BATCH])


async def _inserted(database: Database, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows; returns their new ids in the order given."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        async with database.transaction() as session:
            connection = await session.connection()
            result = await connection.execute(
                insert(model).returning(col(model.id), sort_by_parameter_order=True),
                rows[start : start + BATCH],
            )
            ids += result.scalars().all()
    return ids
