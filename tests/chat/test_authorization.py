"""The authorization matrix (tests/authorization_matrix.py): every command, sent by each kind
of person in one coalition, gets what that person may have: the command's answer, or one line
saying why not, and then nothing else: no other message to anyone, nothing stored.

The coalition is arranged once, into a template database; each cell runs the real bot on a
copy of it, so no cell sees what another one did.
"""

import asyncio
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlmodel import select
from telegram.ext import CommandHandler

from bot.application import build_application
from foundation.settings import Settings
from handlers.context import CoalitionApplication
from handlers.menu import ENTRIES
from models import Broadcast, Database, OutboxMessage
from models.database import stored_id
from models.utc import utcnow
from services import broadcasts, membership, phases
from services.invites import issue_invite, join
from services.outbox import mark_sent
from stand.local_api import LocalBotApi
from tests.authorization_matrix import (
    DRAFT_TITLE,
    MATRIX,
    MYKOLA,
    OPEN_TITLE,
    ORGANISATION_A,
    ORGANISATION_B,
    PHASE,
    ROLES,
    STRANGER,
    TARAS,
    Allowed,
    Refused,
    Row,
)
from tests.conftest import SERVER
from tests.databases import ON_POSTGRES
from tests.people import Someone
from tests.stories import (
    IRINA,
    OLEG,
    ORGANISER,
    WEEK,
    draft,
    handled,
    member,
    open_appeal,
    sign,
    snapshot,
)

Snapshot = dict[str, list[tuple[object, ...]]]


@dataclass(frozen=True)
class MatrixCoalition:
    """The template database and what was arranged in it that commands name."""

    database_url: str
    invite_code: str  # an unused invite to organisation B


async def arrange(database_url: str) -> MatrixCoalition:
    """Olena organises; Irina acts for A, Taras for B; Oleg acted for A until revoked. Appeal #1
    is open and signed by A, #2 is a draft; broadcast #1 was delivered; phase #1 is ahead;
    Mykola was promoted; an invite to B waits to be used."""
    database = Database(database_url)
    try:
        organisation_a = await member(database, ORGANISATION_A, IRINA)
        await member(database, ORGANISATION_B, TARAS)
        await member_again(database, ORGANISATION_A, OLEG)
        appeal_id = await open_appeal(database, OPEN_TITLE)
        await sign(database, appeal_id, organisation_a, IRINA)
        await draft(database, DRAFT_TITLE)
        now = utcnow()
        async with database.transaction() as session:
            await membership.revoke(session=session, telegram_id=OLEG, actor_id=ORGANISER, now=now)
        async with database.transaction() as session:
            preview = await broadcasts.draft_broadcast(
                session=session, text="Vigil on Friday.", organiser_id=ORGANISER, now=now
            )
            await broadcasts.queue_broadcast(
                session=session, broadcast_id=preview.broadcast_id, now=now
            )
        await delivered(database)
        async with database.transaction() as session:
            await phases.add_phase(
                session=session,
                name=PHASE,
                starts_at=now + timedelta(days=30),
                organiser_id=ORGANISER,
                now=now,
            )
            await membership.promote(
                session=session,
                telegram_id=MYKOLA,
                configured=frozenset({ORGANISER}),
                language="en",
                actor_id=ORGANISER,
                now=now,
            )
            issued = await issue_invite(
                session=session,
                organisation_name=ORGANISATION_B,
                organiser_id=ORGANISER,
                now=now,
                valid_for=WEEK,
            )
        return MatrixCoalition(database_url, issued.code)
    finally:
        await database.dispose()


async def member_again(database: Database, name: str, telegram_id: int) -> None:
    """A second contact of an organisation that is already a member."""
    now = utcnow()
    async with database.transaction() as session:
        issued = await issue_invite(
            session=session,
            organisation_name=name,
            organiser_id=ORGANISER,
            now=now,
            valid_for=WEEK,
        )
    async with database.transaction() as session:
        await join(
            session=session, code=issued.code, telegram_id=telegram_id, language="en", now=now
        )


async def delivered(database: Database) -> None:
    """Everything queued so far was sent and reported, as the outbox worker would have done:
    a cell's bot then has nothing left to send that would change the database under it."""
    async with database.transaction() as session:
        queued = await session.exec(select(OutboxMessage.id))
        await mark_sent(session=session, message_ids=[stored_id(i) for i in queued], now=utcnow())
        await session.exec(update(Broadcast).values(reported_at=utcnow()))


def run_apart(database_url: str) -> MatrixCoalition:
    # A thread of its own: asyncio.run here would unset pytest-asyncio's event loop.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, arrange(database_url)).result()


@pytest.fixture(scope="session")
def coalition(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MatrixCoalition]:
    """The coalition arranged once for the whole matrix (its cells only ever touch copies)."""
    if ON_POSTGRES:
        url = SERVER.create(template=str(make_url(migrated_template).database))
        try:
            yield run_apart(url)
        finally:
            SERVER.finish()  # the copies made ahead first
            SERVER.drop(url)
        return
    path = tmp_path_factory.mktemp("coalition") / "coalition.db"
    shutil.copy(str(make_url(migrated_template).database), path)
    url = f"sqlite:///{path}"
    yield run_apart(url)


@pytest.fixture
def database_url(tmp_path: Path, coalition: MatrixCoalition) -> Iterator[str]:
    """This module's cells each run on a copy of the arranged coalition."""
    if ON_POSTGRES:
        url = SERVER.copy(str(make_url(coalition.database_url).database))
        yield url
        SERVER.drop_soon(url)
        return
    path = tmp_path / "coalition.db"
    shutil.copy(str(make_url(coalition.database_url).database), path)
    yield f"sqlite:///{path}"


CELLS = [pytest.param(row, role, id=f"{role}-{row.label}") for row in MATRIX for role in ROLES]


def changed_tables(before: Snapshot, after: Snapshot) -> frozenset[str]:
    return frozenset(table for table in before if before[table] != after[table])


@pytest.fixture
def people(api: LocalBotApi, organiser: Someone) -> dict[str, Someone]:
    # Mykola is told of what organisers are told; he never writes in these tests.
    Someone(api, MYKOLA, "Mykola", "en")
    return {
        "organiser": organiser,
        "contact": Someone(api, IRINA, "Irina", "en"),
        "other-contact": Someone(api, TARAS, "Taras", "en"),
        "revoked": Someone(api, OLEG, "Oleg", "en"),
        "stranger": Someone(api, STRANGER, "Stranger", "en"),
    }


async def check_cell(
    row: Row,
    role: str,
    people: dict[str, Someone],
    coalition: MatrixCoalition,
    database: Database,
    app: CoalitionApplication,
) -> None:
    """One cell: what the person in `role` gets from `row`'s command, judged once the bot has
    finished with it. A refusal must be the one line and nothing else, for anyone."""
    person = people[role]
    sends = row.sends.format(code=coalition.invite_code)
    match row.outcomes[role]:
        case Refused(reply=refusal):
            await person.is_refused(sends, refusal, app=app, database=database)
        case Allowed() as allowed:
            # As the cell's bot left them once started (it records the menus it set).
            await handled(app, database)
            before = await snapshot(database)
            reply = await person.says(sends)
            await handled(app, database)
            assert reply.startswith(allowed.reply), reply
            for wanted in allowed.mentions:
                assert wanted in reply
            for unwanted in allowed.omits:
                assert unwanted not in reply
            assert changed_tables(before, await snapshot(database)) == allowed.changes
    assert person.api.refused == []


@pytest.mark.parametrize(("row", "role"), CELLS)
async def test_each_person_gets_what_their_role_allows(
    row: Row,
    role: str,
    people: dict[str, Someone],
    coalition: MatrixCoalition,
    database: Database,
    running_bot: CoalitionApplication,
) -> None:
    await check_cell(row, role, people, coalition, database, running_bot)


def test_the_matrix_has_every_command_for_every_role(tmp_path: Path) -> None:
    """A command the bot answers but the matrix leaves out would go unchecked: named here."""
    settings = Settings(
        bot_token=SecretStr("123456:unused"),
        telegram_api_url="http://127.0.0.1:1",
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
    )
    answered = {
        name
        for group in build_application(settings).handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    in_matrix = {row.label.split()[0].removeprefix("/") for row in MATRIX}
    assert sorted(answered - in_matrix) == [], "commands the matrix leaves out"
    assert sorted(in_matrix - answered) == [], "rows for commands the bot does not answer"
    assert answered == set(ENTRIES), "the menu and the handlers disagree"
    for row in MATRIX:
        assert sorted(row.outcomes) == sorted(ROLES), row.label
