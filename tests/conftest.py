"""Shared arrangements: a migrated database per test, the local Bot API, the running bot."""

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot import migrate
from bot.application import build_application, serving
from bot.config import Settings
from bot.context import CoalitionApplication
from bot.local_api import LocalBotApi
from bot.sandbox.clock import MovableClock
from models import Database
from tests.people import Someone

FIXTURES = Path(__file__).parent.parent / "bot" / "sandbox" / "samples"
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
def clock() -> MovableClock:
    return MovableClock()


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
async def running_bot(
    settings: Settings, clock: MovableClock
) -> AsyncIterator[CoalitionApplication]:
    """The Application `coalition-bot run` serves, started the way run_polling starts it."""
    async with serving(build_application(settings, clock=clock)) as app:
        yield app


@pytest.fixture
def organiser(api: LocalBotApi, running_bot: CoalitionApplication) -> Someone:
    return Someone(api, ORGANISER_ID, "Olena", "en")


def sample(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")
