"""Shared arrangements: a migrated database per test (SQLite, or PostgreSQL with
TEST_DATABASE=postgresql: see tests/databases.py), the local Bot API, the running bot."""

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot import migrate
from bot.application import build_application
from bot.serving import serving
from foundation.settings import Settings
from handlers.context import CoalitionApplication, resources_of
from models import Database
from stand.local_api import LocalBotApi, Person
from stand.sandbox.clock import MovableClock
from stand.sandbox.coalition import SAMPLES
from tests.databases import (
    BACKEND,
    BACKENDS,
    ON_POSTGRES,
    POSTGRES_SKIPPED,
    SERVER_URL,
    DatabaseCopies,
    PostgresServer,
)
from tests.fuzzing import (
    PROFILE,
    FuzzedBot,
    Stand,
    fresh_coalition,
    load_profile,
    serving_coalition,
    settings_for,
)
from tests.people import Someone
from tests.stories import (
    ORGANISER,
    CoalitionTemplate,
    coalition_of_three,
    draft,
    member,
    menus_shown,
    open_appeal,
    outbox_settled,
)

# Two published coalition texts in French, which the sandbox shows too.
FIXTURES = SAMPLES

SERVER = PostgresServer(SERVER_URL)


def pytest_configure() -> None:
    """The hypothesis profile HYPOTHESIS_PROFILE names (tests/fuzzing.py). On PostgreSQL, a
    server that does not answer ends the run in one line: a failure, or a pass with no tests
    where the person running it said SKIP_POSTGRES=1."""
    load_profile()
    if BACKEND not in BACKENDS:
        raise pytest.UsageError(f"TEST_DATABASE: must be one of {', '.join(BACKENDS)}")
    if not ON_POSTGRES:
        return
    reason = SERVER.unanswered()
    if reason is None:
        return
    line = f"PostgreSQL at {SERVER.where} does not answer ({reason})"
    if POSTGRES_SKIPPED:
        pytest.exit(f"{line}: SKIP_POSTGRES=1 skips the PostgreSQL half.", returncode=0)
    pytest.exit(f"{line}: start one, or say SKIP_POSTGRES=1 to skip this half.", returncode=1)


UNITS = Path(__file__).parent / "units"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL half leaves out what touches no database (tests/units/, and the modules
    marked database_free): the SQLite half runs it, and a second run would tell nothing new."""
    if not ON_POSTGRES:
        return
    once = [
        item
        for item in items
        if item.path.is_relative_to(UNITS) or item.get_closest_marker("database_free")
    ]
    config.hook.pytest_deselected(items=once)
    items[:] = [item for item in items if item not in once]


def pytest_report_header() -> list[str]:
    where = f"PostgreSQL at {SERVER.where}" if ON_POSTGRES else "SQLite files"
    return [
        f"database: {where} (TEST_DATABASE={BACKEND})",
        f"hypothesis profile: {PROFILE} (HYPOTHESIS_PROFILE)",
    ]


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head, copied for each test (migrating per test is slow)."""
    if ON_POSTGRES:
        SERVER.drop_abandoned()
        url = SERVER.create()
        try:
            migrate.upgrade(url)
            yield url
        finally:
            SERVER.finish()  # the copies first: a template in use cannot be dropped
            SERVER.drop(url)
        return
    path = tmp_path_factory.mktemp("template") / "coalition.db"
    migrate.upgrade(f"sqlite:///{path}")
    yield f"sqlite:///{path}"


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: str) -> Iterator[str]:
    """A migrated database of the test's own: a SQLite file in its folder, or a PostgreSQL
    database copied from the template and dropped afterwards."""
    if ON_POSTGRES:
        url = SERVER.copy(str(make_url(migrated_template).database))
        yield url
        SERVER.drop_soon(url)
        return
    path = tmp_path / "coalition.db"
    shutil.copy(str(make_url(migrated_template).database), path)
    yield f"sqlite:///{path}"


@pytest.fixture
def database_copies(tmp_path: Path) -> DatabaseCopies:
    """Copies made on demand, for a test that needs a fresh database many times over (a
    property test: one per example)."""
    return DatabaseCopies(SERVER if ON_POSTGRES else None, tmp_path)


@pytest.fixture
async def coalition_template(
    database_copies: DatabaseCopies, migrated_template: str
) -> AsyncIterator[CoalitionTemplate]:
    """A database holding tests.stories.coalition_of_three, arranged once, to be copied."""
    with database_copies.copy_of(migrated_template) as url:
        database = Database(url)
        try:
            coalition = await coalition_of_three(database)
        finally:
            await database.dispose()  # a database being copied must have no connection
        yield CoalitionTemplate(url, coalition)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables, for what migrates it itself."""
    if ON_POSTGRES:
        url = SERVER.create()
        yield url
        SERVER.drop_soon(url)
        return
    yield f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


# The people of the test stories are scripts that type faster than anyone, and flood control
# (handlers/flood_control.py) would hold them back, as would the one answer a second to a chat that the bot
# keeps to (bot/budget.py): every Settings a test builds gets an allowance no story reaches,
# unless it says otherwise. tests/chat/test_flood.py checks flood control with its own, and
# tests/chat/test_sending_budget.py the budget with Telegram's.
SCRIPTED_ALLOWANCE = "1000000"


@pytest.fixture(autouse=True)
def allowance_for_scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOOD_BURST", SCRIPTED_ALLOWANCE)
    monkeypatch.setenv("FLOOD_RATE", SCRIPTED_ALLOWANCE)
    monkeypatch.setenv("CHAT_BURST", SCRIPTED_ALLOWANCE)


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(api: LocalBotApi, database_url: str) -> Settings:
    """The bot's settings for a test: the local Bot API, its database, one organiser."""
    return settings_for(api, database_url, ORGANISER)


@pytest.fixture
async def running_bot(
    settings: Settings, clock: MovableClock
) -> AsyncIterator[CoalitionApplication]:
    """The Application `coalition-bot run` serves, started and stopped as it does it."""
    async with serving(build_application(settings, clock=clock)) as app:
        # Tests begin once the menus due at start-up are set: they write to the database.
        await menus_shown(app)
        yield app


@pytest.fixture
def organiser(api: LocalBotApi, running_bot: CoalitionApplication) -> Someone:
    return Someone(api, ORGANISER, "Olena", "en")


def sample(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# The coalition the fuzzers (tests/chat/test_fuzz*.py) send their updates to.
FUZZ_CONTACT, FUZZ_STRANGER = 2001, 3001


@pytest.fixture
async def fuzz_stand(
    api: LocalBotApi, migrated_template: str, database_copies: DatabaseCopies
) -> AsyncIterator[Stand]:
    """Memorial with a subscribed contact, an open appeal #1 and a draft #2, served once (the
    menus set, the appeal announced), for each example to copy; the organiser, the contact
    and a stranger."""
    people = {
        "organiser": Someone(api, ORGANISER, "Olena", "en"),
        "contact": Someone(api, FUZZ_CONTACT, "Irina", "en"),
        "stranger": Someone(api, FUZZ_STRANGER, "Stranger", "en"),
    }
    with database_copies.copy_of(migrated_template) as url:
        database = Database(url)
        try:
            await member(database, "Memorial", FUZZ_CONTACT)
            await open_appeal(database)
            await draft(database, "Still a draft")
        finally:
            await database.dispose()  # a database being copied must have no connection
        async with serving_coalition(api, people, url) as served:
            resources_of(served.bot).wake_outbox()
            await outbox_settled(served.database)
        yield Stand(api, people, url, database_copies)


@pytest.fixture
async def fuzz_coalition(fuzz_stand: Stand) -> AsyncIterator[FuzzedBot]:
    """One coalition for a whole test, which sends its updates one after another."""
    async with fresh_coalition(fuzz_stand) as coalition:
        yield coalition


@pytest.fixture
async def client(api: LocalBotApi) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose relative URLs are methods of the local Bot API."""
    async with httpx.AsyncClient(base_url=f"{api.url}/bot{api.token}/", timeout=15) as client:
        yield client


@pytest.fixture
def irina(api: LocalBotApi) -> Person:
    """Someone who has talked to the bot, so the bot may write to her."""
    return api.meet(2001, "Irina", "fr")
