"""The coalition arranged through the services, one transaction per step as handlers do."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update
from sqlmodel import SQLModel, col
from sqlmodel import select as select_model

from bot.application import program
from handlers.context import CoalitionApplication
from models import (
    Account,
    Contact,
    Database,
    Delivery,
    Disclosure,
    Organisation,
    OutboxMessage,
    ProgressMessage,
)
from models.database import stored_id
from models.utc import utcnow
from services.appeals import (
    close_appeal,
    create_appeal,
    edit_appeal,
    publish_appeal,
)
from services.broadcasts import draft_broadcast, queue_broadcast
from services.invites import IssuedInvite, issue_invite, join
from services.signatures import Cosigned, cosign
from tests.processes import wait_until

ORGANISER = 1000
IRINA, OLEG, ALES, MARTA = 2001, 2002, 2003, 2004

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
LATER = NOW + timedelta(hours=2)

TITLE = "Free all detainees held in connection with the conflict"
TEXT = "Your Excellencies,\nWe, the undersigned organisations, call on you to free them."

Row = TypeVar("Row", bound=SQLModel)


# --- Arrangements: each step is one transaction, as a handler would run it. ---------------


async def invite(database: Database, name: str, *, now: datetime = NOW) -> IssuedInvite:
    async with database.transaction() as session:
        return await issue_invite(
            session=session,
            organisation_name=name,
            organiser_id=ORGANISER,
            now=now,
            valid_for=WEEK,
        )


async def member(database: Database, name: str, telegram_id: int) -> int:
    """An organisation of the coalition with one contact; returns the organisation's id."""
    issued = await invite(database, name)
    async with database.transaction() as session:
        await join(
            session=session, code=issued.code, telegram_id=telegram_id, language="en", now=NOW
        )
    async with database.transaction() as session:
        contact = await session.get(Contact, telegram_id)
    assert contact is not None
    return contact.organisation_id


# A coalition of three organisations with two contacts each, and a stranger, for the property
# tests (tests/services/test_any_sequence_of_steps.py, tests/chat/test_any_conversation.py).
ORGANISATIONS = ("Memorial", "OVD-Info", "Truth Hounds")
CONTACTS = {2001: 0, 2002: 0, 2003: 1, 2004: 1, 2005: 2, 2006: 2}  # → place in ORGANISATIONS
STRANGER = 3001
# Titles with what HTML must escape, shown in most replies about the coalition's appeals.
OPEN_TITLE = "Free all detainees & “hostages” <now>"
DRAFT_TITLE = "Still a draft"
CLOSED_TITLE = "Already <b>closed</b> & signed"


@dataclass(frozen=True)
class CoalitionOfThree:
    organisations: list[int]  # ids, in the order of ORGANISATIONS
    # An open appeal in its second wording, signed publicly by Memorial (by 2001) on the first:
    # Memorial's signature waits for re-confirmation.
    opened: int
    drafted: int  # a draft
    closed: int  # a closed appeal, signed publicly by OVD-Info (by 2003)


@dataclass(frozen=True)
class CoalitionTemplate:
    """A database holding coalition_of_three, for a test to copy (tests.databases)."""

    url: str
    coalition: CoalitionOfThree


async def coalition_of_three(database: Database) -> CoalitionOfThree:
    """ORGANISATIONS, each with its two CONTACTS, subscribed as after joining; an open appeal
    whose text changed after Memorial signed it, a draft, and a closed appeal that OVD-Info
    signed; all that was to be sent about them, sent."""
    for telegram_id, place in CONTACTS.items():
        issued = await invite(database, ORGANISATIONS[place])
        async with database.transaction() as session:
            await join(
                session=session, code=issued.code, telegram_id=telegram_id, language="en", now=NOW
            )
    async with database.transaction() as session:
        ids = dict((await session.exec(select_model(Organisation.name, Organisation.id))).all())
    organisations = [stored_id(ids[name]) for name in ORGANISATIONS]
    opened = await open_appeal(database, OPEN_TITLE)
    await sign(database, opened, organisations[0], 2001)
    async with database.transaction() as session:
        await edit_appeal(
            session=session,
            appeal_id=opened,
            title=OPEN_TITLE,
            text=TEXT + "\nNow.",
            actor_id=ORGANISER,
            now=LATER,
        )
    drafted = await draft(database, DRAFT_TITLE)
    closed = await open_appeal(database, CLOSED_TITLE)
    await sign(database, closed, organisations[1], 2003)
    async with database.transaction() as session:
        await close_appeal(session=session, appeal_id=closed, now=LATER)
        # The announcements and the request to re-confirm went out long ago.
        await session.exec(update(OutboxMessage).values(delivery=Delivery.SENT, sent_at=NOW))
    return CoalitionOfThree(organisations, opened, drafted, closed)


async def draft(database: Database, title: str = TITLE) -> int:
    async with database.transaction() as session:
        appeal = await create_appeal(
            session=session, title=title, text=TEXT, organiser_id=ORGANISER
        )
    assert appeal.id is not None
    return appeal.id


async def open_appeal(database: Database, title: str = TITLE) -> int:
    appeal_id = await draft(database, title)
    async with database.transaction() as session:
        await publish_appeal(session=session, appeal_id=appeal_id, now=NOW)
    return appeal_id


async def sign(
    database: Database,
    appeal_id: int,
    organisation_id: int,
    signed_by: int,
    disclosure: Disclosure = Disclosure.PUBLIC,
    now: datetime = LATER,
) -> Cosigned:
    async with database.transaction() as session:
        return await cosign(
            session=session,
            appeal_id=appeal_id,
            organisation_id=organisation_id,
            signed_by=signed_by,
            disclosure=disclosure,
            now=now,
        )


async def stored(database: Database, model: type[Row]) -> list[Row]:
    async with database.transaction() as session:
        return list((await session.exec(select_model(model))).all())


# The intake's record of which updates arrived and were handled: every update changes it.
NOT_STATE = {"incoming_update"}


async def snapshot(database: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the intake's, to show that a refusal stored nothing."""
    async with database.transaction() as session:
        connection = await session.connection()
        return {
            table.name: [
                tuple(row)
                for row in (
                    await connection.execute(select(table).order_by(*table.primary_key.columns))
                ).all()
            ]
            for table in SQLModel.metadata.sorted_tables
            if table.name not in NOT_STATE
        }


# What the outbox worker records in its own time, a second or more after the step that queued
# the work may have ended (deliveries, the progress message's last figures): no step's doing.
WORKER_COLUMNS = {
    "outbox": {"delivery", "attempts", "not_before", "claimed_until", "sent_at", "error"},
    "progress_message": {"finished_at"},
}


async def state_of_steps(database: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the intake's, less what the outbox worker records: what a
    step did, whenever the worker catches up."""
    tables = await snapshot(database)
    for table, recorded in WORKER_COLUMNS.items():
        names = list(SQLModel.metadata.tables[table].columns.keys())
        kept = [i for i, name in enumerate(names) if name not in recorded]
        tables[table] = [tuple(row[i] for i in kept) for row in tables[table]]
    return tables


async def outbox_settled(database: Database, *, progress: bool = False) -> None:
    """Wait until the outbox worker has recorded the fate of every queued message (and, with
    `progress`, shown the final figures in every progress message, a second or more later)."""

    async def settled() -> bool:
        async with database.transaction() as session:
            pending = await session.exec(
                select_model(OutboxMessage).where(OutboxMessage.delivery == Delivery.PENDING)
            )
            showing = await session.exec(
                select_model(ProgressMessage).where(col(ProgressMessage.finished_at).is_(None))
            )
            return pending.first() is None and (not progress or showing.first() is None)

    await wait_until("the outbox settled", settled, within=10, every=0.02)


FIRST_RECIPIENT = 10_000


async def broadcast_queued_to(
    database: Database, recipients: int, text: str, *, organiser_id: int = ORGANISER
) -> range:
    """`recipients` subscribed contacts of one organisation, and a broadcast to them already
    queued by an organiser; returns their Telegram ids. Rows are added directly: fast enough
    for the thousands a crash test or a benchmark needs."""
    ids = range(FIRST_RECIPIENT, FIRST_RECIPIENT + recipients)
    async with database.transaction() as session:
        organisation = Organisation(name="Memorial", name_key="memorial")
        session.add(organisation)
        await session.flush()
        assert organisation.id is not None
        for user_id in ids:
            session.add(Account(telegram_id=user_id, language="en"))
            session.add(Contact(telegram_id=user_id, organisation_id=organisation.id))
    async with database.transaction() as session:
        preview = await draft_broadcast(
            session=session, text=text, organiser_id=organiser_id, now=utcnow()
        )
        await queue_broadcast(session=session, broadcast_id=preview.broadcast_id, now=utcnow())
    return ids


async def menus_shown(app: CoalitionApplication) -> None:
    """Wait until the bot has set the menus it sets in the background at start-up."""
    menus = program(app).menus
    assert menus is not None, "the bot has not started"
    await menus


async def handled(app: CoalitionApplication, database: Database) -> None:
    """Wait until the bot has finished with every update it took in (its handlers returned:
    the Application marks each one done on its queue then) and the outbox has recorded the
    fate of every message they queued; at once when nothing is in flight."""
    async with asyncio.timeout(10):
        await app.update_queue.join()
    await outbox_settled(database)
