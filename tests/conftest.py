"""Shared arrangements: a migrated database per test, the local Bot API, the running bot."""

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot import migrate
from bot.application import build_application
from bot.config import Settings
from bot.context import CoalitionApplication
from bot.local_api import LocalBotApi
from models import Database
from tests.clock import Clock
from tests.people import Someone

FIXTURES = Path(__file__).parent / "fixtures"
ORGANISER_ID = 1000


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "coalition.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path) -> str:
    path = tmp_path / "coalition.db"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(api: LocalBotApi, database_url: str) -> Settings:
    return Settings(
        bot_token=SecretStr(api.token),
        telegram_api_url=api.url,
        database_url=database_url,
        organiser_ids=frozenset({ORGANISER_ID}),
        default_language="en",
    )


@pytest.fixture
async def running_bot(settings: Settings, clock: Clock) -> AsyncIterator[CoalitionApplication]:
    """The Application `coalition-bot run` serves, started the way run_polling starts it."""
    app = build_application(settings, clock=clock)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=5)
    await app.start()
    yield app
    await app.updater.stop()
    await app.stop()
    assert app.post_stop is not None
    await app.post_stop(app)
    await app.shutdown()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)


@pytest.fixture
def organiser(api: LocalBotApi, running_bot: CoalitionApplication) -> Someone:
    return Someone(api, ORGANISER_ID, "Olena", "en")


def sample(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")
