"""The audit log: one entry per state change, each chained to the one before by its hash.

Entries name people only by a pseudonymous actor ref. Forgetting a person deletes the
mapping from their Telegram id to that ref, so their entries (and the chain) stay intact
while nothing links them back to the person.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Actor, AuditEntry

GENESIS = "0" * 64
PERSON = "person:"
# The key of the PostgreSQL advisory lock that queues appends to the chain; any number that no
# other advisory lock in this database uses ("audit" in ASCII).
CHAIN_LOCK = 0x6175646974


def entry_hash(
    *, prev_hash: str, id: int, at: datetime, actor_ref: str | None, action: str, object: str
) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the entry's own fields."""
    fields = {
        "id": id,
        "at": at.astimezone(UTC).isoformat(),
        "actor_ref": actor_ref,
        "action": action,
        "object": object,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


# Built once, as they run for most updates that change anything: on SQLite, building a
# statement can cost as much CPU as running it.
_ACTOR_REF = select(Actor.ref).where(col(Actor.telegram_id) == bindparam("telegram_id"))
_LAST_LINK = select(AuditEntry.id, AuditEntry.hash).order_by(col(AuditEntry.id).desc()).limit(1)


async def actor_ref(*, session: AsyncSession, telegram_id: int) -> str:
    """The person's pseudonym in the log, created on first use."""
    params = {"telegram_id": telegram_id}
    found = (await session.exec(_ACTOR_REF, params=params)).first()
    if found is not None:
        return found
    actor = Actor(telegram_id=telegram_id, ref=secrets.token_hex(16))
    try:
        # A savepoint: if the person's first two actions run at once, the unique telegram_id
        # lets one create the pseudonym and the other read it.
        async with session.begin_nested():
            session.add(actor)
    except IntegrityError:
        return (await session.exec(_ACTOR_REF, params=params)).one()
    return actor.ref


async def person(*, session: AsyncSession, telegram_id: int) -> str:
    """The object naming a person an action was done to, by their pseudonym."""
    return PERSON + await actor_ref(session=session, telegram_id=telegram_id)


async def record(
    *, session: AsyncSession, actor_id: int | None, action: str, object: str, now: datetime
) -> AuditEntry:
    """Append an entry in the caller's transaction (it is undone if the change is).

    Reading the last entry and appending after it must not interleave with another writer:
    on SQLite every transaction starts with BEGIN IMMEDIATE (models/database.py), so writers
    are serialised; on PostgreSQL a lock held until commit does it. The unique prev_hash
    makes a fork fail rather than pass unnoticed.
    """
    if session.get_bind().dialect.name == "postgresql":
        # READ COMMITTED lets two writers read the same last entry: queue them until commit.
        await session.exec(select(func.pg_advisory_xact_lock(CHAIN_LOCK)))
    ref = None if actor_id is None else await actor_ref(session=session, telegram_id=actor_id)
    # An empty log: the first entry is 1, chained to the genesis hash.
    last_id, prev_hash = (await session.exec(_LAST_LINK)).first() or (0, GENESIS)
    entry_id = last_id + 1
    entry = AuditEntry(
        id=entry_id,
        at=now,
        actor_ref=ref,
        action=action,
        object=object,
        prev_hash=prev_hash,
        hash=entry_hash(
            prev_hash=prev_hash, id=entry_id, at=now, actor_ref=ref, action=action, object=object
        ),
    )
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class Line:
    """An entry as organisers see it."""

    id: int
    at: datetime
    action: str
    # A person's object shows their Telegram id ("person:123"), or "person:forgotten".
    object: str
    # The actor's Telegram id; None with `forgotten` False: no person acted (the schedule, the
    # command line).
    actor_id: int | None
    forgotten: bool


async def latest(
    *, session: AsyncSession, limit: int, offset: int = 0, object_prefix: str | None = None
) -> list[Line]:
    """The newest entries first; `object_prefix` keeps those about one thing ("appeal:3")
    or under it ("appeal:3/...")."""
    query = (
        select(AuditEntry, Actor.telegram_id)
        .outerjoin(Actor, col(Actor.ref) == col(AuditEntry.actor_ref))
        .order_by(col(AuditEntry.id).desc())
        .limit(limit)
        .offset(offset)
    )
    if object_prefix is not None:
        query = query.where(
            (col(AuditEntry.object) == object_prefix)
            | col(AuditEntry.object).startswith(object_prefix + "/", autoescape=True)
        )
    rows = (await session.exec(query)).all()
    refs = {e.object.removeprefix(PERSON) for e, _ in rows if e.object.startswith(PERSON)}
    people = dict(
        (
            await session.exec(select(Actor.ref, Actor.telegram_id).where(col(Actor.ref).in_(refs)))
        ).all()
    )
    lines = []
    for entry, telegram_id in rows:
        shown = entry.object
        if shown.startswith(PERSON):
            target = people.get(shown.removeprefix(PERSON))
            shown = f"{PERSON}{target if target is not None else 'forgotten'}"
        forgotten = entry.actor_ref is not None and telegram_id is None
        lines.append(Line(entry.id, entry.at, entry.action, shown, telegram_id, forgotten))
    return lines


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    # The first entry whose fields or link to its predecessor no longer match its hash.
    altered: int | None = None
    # The first id missing from the sequence 1, 2, 3...
    missing: int | None = None

    @property
    def ok(self) -> bool:
        return self.altered is None and self.missing is None


async def verify(*, session: AsyncSession) -> VerifyResult:
    """Walk the chain from the first entry. Deleting the newest entries cannot be detected
    from the log alone: compare the count with one kept elsewhere."""
    expected_id, prev_hash, count = 1, GENESIS, 0
    entries = await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
    for entry in entries:
        count += 1
        if entry.id != expected_id:
            return VerifyResult(count, missing=expected_id)
        computed = entry_hash(
            prev_hash=entry.prev_hash,
            id=entry.id,
            at=entry.at,
            actor_ref=entry.actor_ref,
            action=entry.action,
            object=entry.object,
        )
        if entry.prev_hash != prev_hash or entry.hash != computed:
            return VerifyResult(count, altered=entry.id)
        expected_id, prev_hash = entry.id + 1, entry.hash
    return VerifyResult(count)
