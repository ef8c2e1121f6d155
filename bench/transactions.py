"""What the data layer alone costs per command, one at a time: the toll bench/updates.py's
throughput target has to fit in.

Run by hand: `.venv/bin/python -m bench.transactions [--database postgresql] [--floor-ms MS]`
(under a minute). On a migrated database with 1,000 member organisations and 10 open appeals,
this process runs each of the following back to back, through the project's services, and
prints the CPU time of each: this process's (aiosqlite's worker thread included, where SQLite
does all its work) and, on PostgreSQL, that of the server's process serving this one's
connection, read from /proc (bench/server_cpu.py):

- an empty read transaction (`SELECT 1`): the stack's toll for any transaction;
- identifying a caller, as every command does before its own work;
- the reads of /appeals and of /status;
- co-signing (a write transaction: the signature and its audit entry).

Every result is checked against what the benchmark stored and signed so far (the caller's
organisation, every appeal with its count, the status's count and the organisation's own
signature, each co-signature counted); anything else ends the run with one line saying what,
and no figure (bench/checks.py).

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
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import literal
from sqlmodel import select

from bench.checks import Wrong, report, shown
from bench.coalition import appeal_title, members, open_appeals
from bench.server_cpu import ServerCpu
from bench.updates import ORGANISER_ID, POSTGRES_SERVER
from bot import migrate
from models import AppealState, Database, Disclosure
from models.utc import utcnow
from services import accounts, appeals, signatures
from tests.databases import PostgresServer

WARM_UP = 100


@dataclass(frozen=True)
class Cost:
    """CPU milliseconds per run of a step: this process's, and the PostgreSQL server's (None
    on SQLite, and where /proc does not show the server's processes)."""

    here: float
    server: float | None

    @property
    def total(self) -> float:
        return self.here + (self.server or 0.0)

    def __str__(self) -> str:
        if self.server is None:
            return f"{self.here:6.3f} ms CPU"
        return f"{self.here:6.3f} ms CPU here + {self.server:6.3f} ms PostgreSQL = {self.total:6.3f} ms"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def cost_of(
    step: Callable[[], Awaitable[None]], repeats: int, server: ServerCpu | None
) -> Cost:
    """The CPU per run of `step`, after a few runs to warm caches up."""
    for _ in range(WARM_UP):
        await step()
    if server is not None:
        server.look()
        server_before = server.seconds()
    before = cpu_seconds()
    for _ in range(repeats):
        await step()
    here = (cpu_seconds() - before) * 1000 / repeats
    if server is None or not server.visible:
        return Cost(here, None)
    server.look()
    if server.ended or server.born:
        # This process's one connection is served by one backend throughout.
        raise Wrong(
            f"PostgreSQL's CPU: expected the one backend throughout, {server.born} more "
            f"started and {server.ended} ended: their time is not all counted"
        )
    return Cost(here, (server.seconds() - server_before) * 1000 / repeats)


async def measure(
    database: Database, server: ServerCpu | None, contacts: int, appeal_count: int, repeats: int
) -> dict[str, Cost]:
    found = await members(database, contacts)
    appeal_ids = await open_appeals(database, appeal_count, organiser_id=ORGANISER_ID)
    if server is not None:
        # Once this process's connection is open: its backend is followed from here on.
        await server.start()
    titles = {id_: appeal_title(n) for n, id_ in enumerate(appeal_ids, start=1)}
    looked_at = appeal_ids[0]
    people = itertools.cycle(found)
    # Every (organisation, appeal) pair once: no co-signature is refused as a repeat.
    pairs = iter([(m, a) for a in appeal_ids for m in found])
    # What has been signed so far, to check every count against.
    counts: Counter[int] = Counter()
    signers: set[tuple[int, int]] = set()

    def check(what: str, expected: object, got: object) -> None:
        if got != expected:
            raise Wrong(f"{what}: expected {shown(expected)}, got {shown(got)}")

    async def empty() -> None:
        async with database.reading() as session:
            check("SELECT 1", 1, (await session.exec(select(literal(1)))).one())

    async def identify() -> None:
        member = next(people)
        async with database.reading() as session:
            caller = await accounts.identify(
                session=session,
                telegram_id=member.contact_id,
                fallback_language="en",
                organiser_ids=frozenset({ORGANISER_ID}),
            )
        check(
            f"identifying contact {member.contact_id} (organisation, its name, organiser)",
            (member.organisation_id, member.name, False),
            (caller.organisation_id, caller.organisation_name, caller.is_organiser),
        )

    async def list_appeals() -> None:
        async with database.reading() as session:
            listed = await appeals.list_appeals(session=session, include_drafts=False)
        check(
            "/appeals' reads (appeal, title, state, signatures)",
            # Newest first, as /appeals shows them.
            [
                (id_, title, AppealState.OPEN, counts[id_])
                for id_, title in reversed(titles.items())
            ],
            [(a.id, a.title, a.state, a.signatures) for a in listed],
        )

    async def status() -> None:
        member = next(people)
        async with database.reading() as session:
            found_status = await appeals.appeal_status(
                session=session,
                appeal_id=looked_at,
                organisation_id=member.organisation_id,
                include_drafts=False,
                names=200,
            )
        signed = (member.organisation_id, looked_at) in signers
        check(
            f"/status' reads of #{looked_at} for organisation {member.organisation_id} "
            "(appeal, signatures, its own)",
            (looked_at, counts[looked_at], Disclosure.PUBLIC if signed else None),
            (found_status.id, found_status.signatures, found_status.own_disclosure),
        )

    async def cosign() -> None:
        member, appeal_id = next(pairs)
        async with database.transaction() as session:
            cosigned = await signatures.cosign(
                session=session,
                appeal_id=appeal_id,
                organisation_id=member.organisation_id,
                signed_by=member.contact_id,
                disclosure=Disclosure.PUBLIC,
                now=utcnow(),
            )
        counts[appeal_id] += 1
        signers.add((member.organisation_id, appeal_id))
        check(
            f"co-signing #{appeal_id} for organisation {member.organisation_id} "
            "(appeal, signatures)",
            (appeal_id, counts[appeal_id]),
            (cosigned.appeal_id, cosigned.signatures),
        )

    steps = {
        "an empty read transaction": empty,
        "identifying a caller": identify,
        "/appeals' reads": list_appeals,
        "/status' reads": status,
        "co-signing": cosign,
    }
    return {name: await cost_of(step, repeats, server) for name, step in steps.items()}


async def measured(arguments: argparse.Namespace) -> list[str]:
    """Every step measured; returns the lines of figures, once every result was right."""
    folder = Path(tempfile.mkdtemp(prefix="coalition-bench-"))
    server = PostgresServer(POSTGRES_SERVER)
    on_postgres = arguments.database == "postgresql"
    database_url = server.create() if on_postgres else f"sqlite:///{folder / 'transactions.db'}"
    try:
        await asyncio.to_thread(migrate.upgrade, database_url)
        database = Database(database_url)
        try:
            following = ServerCpu(database_url) if on_postgres else None
            costs = await measure(
                database, following, arguments.contacts, arguments.appeals, arguments.repeats
            )
            visible = following is None or following.visible
        finally:
            await database.dispose()
    finally:
        if on_postgres:
            server.drop(database_url)
        shutil.rmtree(folder)
    lines = [f"{name:<28} {cost}" for name, cost in costs.items()]
    if not visible:
        lines.append("PostgreSQL's own CPU is not counted: /proc does not show its processes")

    def per_update(part: Callable[[Cost], float]) -> float:
        """bench/updates.py's mix: each update identifies its caller; /appeals, /status twice
        and /cosign twice make five updates."""
        shared = costs["/appeals' reads"], costs["/status' reads"], costs["co-signing"]
        reads, status, cosign = (part(cost) for cost in shared)
        return part(costs["identifying a caller"]) + (reads + 2 * status + 2 * cosign) / 5

    mix = {"here": per_update(lambda cost: cost.here), "total": per_update(lambda cost: cost.total)}
    lines.append(
        "every result checked; the mix of bench/updates.py, identification included: "
        f"{mix['here']:.3f} ms per update in this process"
        + (
            f", {mix['total']:.3f} ms with PostgreSQL's"
            if on_postgres and visible
            else ("" if on_postgres else " (SQLite's work included: it runs in this process)")
        )
    )
    if arguments.floor_ms is not None:
        floor = arguments.floor_ms
        lines.append(
            f"with a floor of {floor} ms per update, no bot doing this could exceed "
            f"{floor / (floor + mix['here']):.2f} of the floor on one core"
            + (
                f" with PostgreSQL on another, {floor / (floor + mix['total']):.2f} with "
                "PostgreSQL on the same core"
                if on_postgres and visible
                else ""
            )
        )
    return lines


def arguments_parsed() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--floor-ms", type=float, help="the bare PTB bot's CPU per update (bench/updates.py)"
    )
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--appeals", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2_000)
    arguments = parser.parse_args()
    if WARM_UP + arguments.repeats > arguments.contacts * arguments.appeals:
        parser.error("--repeats: each co-signature is a new one, at most contacts × appeals")
    return arguments


if __name__ == "__main__":
    report(measured(arguments_parsed()))
