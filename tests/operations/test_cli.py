"""`coalition-bot` as an operator runs it: one-line errors, migrations, and the real process."""

import asyncio
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import REDACTED, RedactingFormatter
from stand.local_api import LocalBotApi
from tests.conftest import SERVER
from tests.databases import ON_POSTGRES, sqlite_only, table_names
from tests.people import Someone, invite_code
from tests.processes import bot_serving, clean_environment, run_cli


def test_run_without_a_token_says_how_to_get_one(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("BOT_TOKEN is not set: create a bot with @BotFather")


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("DEFAULT_LANGUAGE", "de", "DEFAULT_LANGUAGE: must be one of en, fr, uk, ru"),
        ("ORGANISER_IDS", "12,olena", "ORGANISER_IDS: 'olena' is not a Telegram user id"),
        (
            "TELEGRAM_API_URL",
            "api.telegram.org",
            "TELEGRAM_API_URL: must start with http:// or https://",
        ),
        ("DATABASE_URL", "mysql://db", "DATABASE_URL: must start with sqlite:/// or postgresql://"),
        (
            "REMINDER_OFFSETS",
            "3d,1x",
            "REMINDER_OFFSETS: '1x' is not a duration such as 3d, 2h, 30m or 6s",
        ),
        (
            "REMINDER_GRACE",
            "soon",
            "REMINDER_GRACE: 'soon' is not a duration such as 3d, 2h, 30m or 6s",
        ),
        ("BOT_TIMEZONE", "Mars/Olympus", "BOT_TIMEZONE: 'Mars/Olympus' is not a time zone"),
        ("BROADCAST_RATE", "5000", "BROADCAST_RATE: Input should be less than or equal to 1000"),
        # Beyond Telegram's 30 a second only paid broadcasts go, and they cost Stars: asked
        # for by name, never slow in silence.
        (
            "BROADCAST_RATE",
            "100",
            "BROADCAST_RATE: above MESSAGE_RATE (30) only with PAID_BROADCASTS=true "
            "(Telegram's paid broadcasts)",
        ),
        (
            "PAID_BROADCASTS",
            "true",
            "PAID_BROADCASTS: only with BROADCAST_RATE above 30 "
            "(below it paid delivery costs Telegram Stars and gains nothing)",
        ),
        ("MESSAGE_RATE", "40", "MESSAGE_RATE: Input should be less than or equal to 30"),
    ],
)
def test_an_invalid_setting_is_named_in_one_line(
    tmp_path: Path, name: str, value: str, line: str
) -> None:
    result = run_cli(tmp_path, "run", BOT_TOKEN="1:x", **{name: value})
    assert (result.returncode, result.stderr) == (2, line + "\n")


@sqlite_only("a missing folder for the database file")
def test_an_unusable_database_is_named_in_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "db", "upgrade", DATABASE_URL="sqlite:////nonexistent/dir/x.db")
    assert result.returncode == 2
    assert result.stderr == "DATABASE_URL: the folder /nonexistent/dir does not exist\n"


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the server of TEST_DATABASE=postgresql")
def test_a_missing_postgresql_database_is_named_in_one_line(tmp_path: Path) -> None:
    url = SERVER.url_of("coalition_never_created")
    result = run_cli(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert (result.returncode, result.stderr) == (
        2,
        'DATABASE_URL: cannot open the database (database "coalition_never_created" does not exist)\n',
    )


def test_db_upgrade_creates_the_schema(tmp_path: Path, empty_database_url: str) -> None:
    result = run_cli(tmp_path, "db", "upgrade", DATABASE_URL=empty_database_url)
    assert (result.returncode, result.stdout) == (0, "The database is up to date.\n")
    expected = {"appeal", "signature", "organisation", "contact", "invite"}
    assert expected <= asyncio.run(table_names(empty_database_url))


@sqlite_only("the default DATABASE_URL is a SQLite file")
def test_db_upgrade_without_a_database_url_creates_coalition_db_here(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "db", "upgrade")
    assert (result.returncode, result.stdout) == (0, "The database is up to date.\n")
    tables = sqlite3.connect(tmp_path / "coalition.db").execute("SELECT name FROM sqlite_master")
    assert {"appeal", "signature", "organisation", "contact", "invite"} <= {t for (t,) in tables}


def test_python_dash_m_bot_is_the_same_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("BOT_TOKEN is not set")


async def test_the_real_process_serves_the_journey_and_never_logs_its_token(
    tmp_path: Path, api: LocalBotApi, empty_database_url: str
) -> None:
    async with bot_serving(
        tmp_path,
        BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.url,
        ORGANISER_IDS="1000",
        DATABASE_URL=empty_database_url,
    ) as process:
        organiser = Someone(api, 1000, "Olena", "en")
        invite = await organiser.says("/invite Memorial")
        member = Someone(api, 2001, "Irina", "uk")
        joined = await member.says(f"/start {invite_code(invite)}")
        assert joined.startswith("Тепер ви контакт організації «Memorial»")
    assert process.process.returncode == 0
    log = process.log
    assert "serving as @coalition_local_bot" in log
    assert api.token not in log
    assert "Traceback" not in log


def failed_request_record(token: str) -> logging.LogRecord:
    """httpx's log line of a failed request, the token in its message and its traceback."""
    try:
        raise ConnectionError(f"POST https://api.telegram.org/bot{token}/getUpdates failed")
    except ConnectionError:
        return logging.LogRecord(
            "httpx",
            logging.ERROR,
            __file__,
            1,
            "HTTP Request: %s",
            (f"/bot{token}/x",),
            sys.exc_info(),
        )


def test_the_token_is_scrubbed_from_messages_and_tracebacks() -> None:
    token = "123456:SECRET-token"
    formatter = RedactingFormatter("%(message)s", [token])
    line = formatter.format(failed_request_record(token))
    assert token not in line
    assert line.count(REDACTED) == 2
