"""`coalition-bot`: run the bot, or manage its database."""

import argparse
import logging
import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import migrate
from bot.application import build_application
from bot.config import Settings, SettingsError, load_settings
from bot.logs import configure_logging

EXIT_CONFIG = 2

NO_TOKEN = (
    "BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), "
    "then put its token in .env as BOT_TOKEN=... and run again."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coalition-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="apply pending migrations, then serve by long polling")
    database = commands.add_parser("db", help="manage the database")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser("upgrade", help="apply pending migrations")
    return parser


def _upgrade(settings: Settings) -> None:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        # Checked here: a failed aiosqlite open leaves a thread that dies noisily at exit.
        folder = Path(url.database).resolve().parent
        if not folder.is_dir():
            raise SettingsError(f"DATABASE_URL: the folder {folder} does not exist")
    try:
        migrate.upgrade(settings.database_url)
    except (SQLAlchemyError, OSError) as error:
        # The driver's own message, first line only: SQLAlchemy appends a help link.
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise SettingsError(f"DATABASE_URL: cannot open the database ({reason})") from None


def _run(settings: Settings) -> None:
    if settings.bot_token is None:
        raise SettingsError(NO_TOKEN)
    token = settings.bot_token.get_secret_value()
    configure_logging(secrets=[token])
    _upgrade(settings)
    build_application(settings).run_polling()


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = load_settings()
        if arguments.command == "run":
            _run(settings)
        else:
            configure_logging(secrets=[], level=logging.WARNING)
            _upgrade(settings)
            print("The database is up to date.")
    except SettingsError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    return 0
