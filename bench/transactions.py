"""What the data layer alone costs per command, one at a time: the toll bench/updates.py's
throughput target has to fit in.

Run by hand: `.venv/bin/python -m bench.transactions [--database postgresql] [--floor-ms MS]`
(under a minute). On a migrated database with 1,000 member organisations and 10 open appeals,
this process runs each of the following back to back, through the project's services, and
prints the CPU time of each (this process's, aiosqlite's worker thread included):

- an empty read transaction (`SELECT 1`): the stack's toll for any transaction;
- identifying a caller, as every command does before its own work;
- the reads of /appeals and of /status;
- co-signing (a write transaction: the signature and its audit entry).

With `--floor-ms`, the bare PTB bot's CPU per update as bench/updates.py printed it, it also
prints the highest ratio to the floor a bot could reach on bench/updates.py's mix (/appeals,
/cosign, /status, /cosign, /status) if it did only these, with no Python of its own.
"""

import argparse
import asyncio
import itertools
import resource
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import literal
from sqlmodel import select

from bench.coalition import members, open_appeals
from bench.updates import ORGANISER_ID, POSTGRES_SERVER
from bot import migrate
from models import Database, Disclosure
from models.utc import utcnow
from services import accounts, appeals, signatures
from tests.databases import PostgresServer

CONTACTS = 1_000
APPEALS = 10
WARM_UP = 100
REPEATS = 2_000  # at most CONTACTS * APPEALS: each co-signature is a new one


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def cpu_ms_each(step: Callable[[], Awaitable[object]], repeats: int) -> float:
    """CPU milliseconds per run of `step`, after a few runs to warm caches up."""
    for _ in range(WARM_UP):
        await step()
    before = cpu_seconds()
    for _ in range(repeats):
        await step()
    return (cpu_seconds() - before) * 1000 / repeats


async def measure(database: Database) -> dict[str, float]:
    found = await members(database, CONTACTS)
    appeal_ids = await open_appeals(database, APPEALS, organiser_id=ORGANISER_ID)
    contacts = itertools.cycle(found)
    # Every (organisation, appeal) pair once: no co-signature is refused as a repeat.
    pairs = iter([(m, a) for a in appeal_ids for m in found])

    async def empty() -> None:
        async with database.reading() as session:
            await session.exec(select(literal(1)))

    async def identify() -> accounts.Caller:
        async with database.reading() as session:
            return await accounts.identify(
                session=session,
                telegram_id=next(contacts).contact_id,
                fallback_language="en",
                organiser_ids=frozenset({ORGANISER_ID}),
            )

    async def list_appeals() -> list[appeals.AppealSummary]:
        async with database.reading() as session:
            return await appeals.list_appeals(session=session, include_drafts=False)

    async def status() -> appeals.AppealStatus:
        async with database.reading() as session:
            return await appeals.appeal_status(
                session=session,
                appeal_id=appeal_ids[0],
                organisation_id=next(contacts).organisation_id,
                include_drafts=False,
                names=200,
            )

    async def cosign() -> signatures.Cosigned:
        member, appeal_id = next(pairs)
        async with database.transaction() as session:
            return await signatures.cosign(
                session=session,
                appeal_id=appeal_id,
                organisation_id=member.organisation_id,
                signed_by=member.contact_id,
                disclosure=Disclosure.PUBLIC,
                now=utcnow(),
            )

    steps = {
        "an empty read transaction": empty,
        "identifying a caller": identify,
        "/appeals' reads": list_appeals,
        "/status' reads": status,
        "co-signing": cosign,
    }
    return {name: await cpu_ms_each(step, REPEATS) for name, step in steps.items()}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--floor-ms", type=float, help="the bare PTB bot's CPU per update (bench/updates.py)"
    )
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coalition-bench-"))
    server = PostgresServer(POSTGRES_SERVER)
    if arguments.database == "sqlite":
        database_url = f"sqlite:///{folder / 'transactions.db'}"
    else:
        database_url = server.create()
    try:
        await asyncio.to_thread(migrate.upgrade, database_url)
        database = Database(database_url)
        try:
            figures = await measure(database)
        finally:
            await database.dispose()
    finally:
        if arguments.database == "postgresql":
            server.drop(database_url)
        shutil.rmtree(folder)
    for name, ms in figures.items():
        print(f"{name:<28} {ms:6.3f} ms CPU", flush=True)
    per_update = (
        figures["identifying a caller"]
        + (figures["/appeals' reads"] + 2 * figures["/status' reads"] + 2 * figures["co-signing"])
        / 5
    )
    print(f"the mix of bench/updates.py, identification included: {per_update:.3f} ms per update")
    if arguments.floor_ms is not None:
        ceiling = arguments.floor_ms / (arguments.floor_ms + per_update)
        print(
            f"with a floor of {arguments.floor_ms} ms per update, no bot doing this could exceed "
            f"{ceiling:.2f} of the floor on one core"
        )


if __name__ == "__main__":
    asyncio.run(main())
