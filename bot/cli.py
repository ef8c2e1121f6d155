"""`coalition-bot`: run the bot, or manage its database."""

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import import_orgs, migrate
from bot.application import build_application
from bot.logs import configure_logging
from bot.serving import serve_until_stopped
from bot.webhook import Webhook
from foundation.i18n import load_texts
from foundation.settings import LANGUAGES, Settings, SettingsError, load_settings
from models import Database
from rendering.exports import file_names, letter, signatures_csv
from services import audit, exports
from services.errors import AppealNotFound
from stand.sandbox import run_sandbox

EXIT_CONFIG = 2
EXIT_NOT_FOUND = 1
EXIT_INVALID_FILE = 1
EXIT_AUDIT_BROKEN = 1

NO_TOKEN = (
    "BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), "
    "then put its token in .env as BOT_TOKEN=... and run again "
    "(or try the bot without Telegram: coalition-bot sandbox)."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coalition-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="apply pending migrations, then serve by long polling")
    run.add_argument("--webhook-url", help="serve by webhook at this https URL (WEBHOOK_URL)")
    run.add_argument("--listen", help="the webhook's address to listen on (WEBHOOK_LISTEN)")
    run.add_argument("--port", type=int, help="the webhook's port to listen on (WEBHOOK_PORT)")
    run.add_argument(
        "--secret-token", help="the secret Telegram sends with each update (WEBHOOK_SECRET)"
    )
    run.add_argument(
        "--or-sandbox",
        action="store_true",
        help="without BOT_TOKEN, start the sandbox instead (what `make run` does)",
    )
    sandbox = commands.add_parser(
        "sandbox", help="try the bot in a web page, with simulated people and no Telegram"
    )
    sandbox.add_argument(
        "--port", type=int, default=None, help="the page's port on 127.0.0.1 (SANDBOX_PORT)"
    )
    database = commands.add_parser("db", help="manage the database")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser("upgrade", help="apply pending migrations")
    export = commands.add_parser("export", help="write an appeal's signature list and letter")
    export.add_argument("appeal_id", type=int)
    export.add_argument("--lang", choices=LANGUAGES, default=None, help="the letter's language")
    export.add_argument("--out", type=Path, default=Path("."), help="the folder to write to")
    imports = commands.add_parser(
        "import-orgs",
        help=import_orgs.HELP,
        description=import_orgs.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imports.add_argument("file", type=Path, metavar="FILE.csv", help="the organisations to import")
    audit_log = commands.add_parser("audit", help="check the audit log")
    audit_commands = audit_log.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check that no entry was altered or removed")
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


def _run(settings: Settings, *, or_sandbox: bool) -> None:
    if settings.bot_token is None and or_sandbox:
        run_sandbox(settings, settings.sandbox_port)
        return
    if settings.bot_token is None:
        raise SettingsError(NO_TOKEN)
    token = settings.bot_token.get_secret_value()
    secret = settings.webhook_secret
    configure_logging(
        secrets=[token] + ([secret.get_secret_value()] if secret else []),
        log_format=settings.log_format,
    )
    _upgrade(settings)
    webhook = None
    if settings.webhook_url is not None:
        assert settings.webhook_secret is not None  # the settings require it
        webhook = Webhook(
            url=settings.webhook_url,
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            secret=settings.webhook_secret.get_secret_value(),
        )
    asyncio.run(serve_until_stopped(build_application(settings), webhook=webhook))


async def _export(settings: Settings, appeal_id: int, language: str, folder: Path) -> list[Path]:
    database = Database(settings.database_url)
    try:
        async with database.reading() as session:
            found = await exports.signatories(
                session=session, appeal_id=appeal_id, language=language
            )
    finally:
        await database.dispose()
    csv_name, letter_name = file_names(appeal_id, language)
    written = [folder / csv_name, folder / letter_name]
    written[0].write_bytes(signatures_csv(found))
    written[1].write_text(letter(load_texts()[language], found), encoding="utf-8")
    return written


async def _verify(settings: Settings) -> audit.VerifyResult:
    database = Database(settings.database_url)
    try:
        async with database.reading() as session:
            return await audit.verify(session=session)
    finally:
        await database.dispose()


def _report(result: audit.VerifyResult) -> int:
    if result.missing is not None:
        print(f"The audit log is broken: entry {result.missing} is missing.", file=sys.stderr)
        return EXIT_AUDIT_BROKEN
    if result.altered is not None:
        print(f"The audit log is broken: entry {result.altered} was altered.", file=sys.stderr)
        return EXIT_AUDIT_BROKEN
    print(f"The audit log is intact: {result.entries} entries.")
    return 0


def _import_orgs(settings: Settings, path: Path) -> None:
    if settings.bot_token is None:
        raise SettingsError(NO_TOKEN)
    token = settings.bot_token.get_secret_value()
    configure_logging(secrets=[token], level=logging.WARNING, log_format=settings.log_format)
    rows = import_orgs.read_rows(path)
    _upgrade(settings)
    username, imported = asyncio.run(import_orgs.import_rows(settings, token, rows))
    sys.stdout.buffer.write(import_orgs.links_csv(username, imported))
    sys.stdout.buffer.flush()
    for line in import_orgs.report(str(path), imported):
        print(line, file=sys.stderr)


def _run_options(arguments: argparse.Namespace) -> dict[str, object]:
    """`run`'s webhook flags, which take precedence over the environment."""
    if arguments.command != "run":
        return {}
    flags = {
        "webhook_url": arguments.webhook_url,
        "webhook_listen": arguments.listen,
        "webhook_port": arguments.port,
        "webhook_secret": arguments.secret_token,
    }
    return {name: value for name, value in flags.items() if value is not None}


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = load_settings(**_run_options(arguments))
        if arguments.command == "run":
            _run(settings, or_sandbox=arguments.or_sandbox)
            return 0
        if arguments.command == "sandbox":
            port = settings.sandbox_port if arguments.port is None else arguments.port
            if not 0 <= port <= 65535:
                raise SettingsError(f"--port: {port} is not a port (0 to 65535)")
            run_sandbox(settings, port)
            return 0
        if arguments.command == "import-orgs":
            _import_orgs(settings, arguments.file)
            return 0
        configure_logging(secrets=[], level=logging.WARNING, log_format=settings.log_format)
        _upgrade(settings)
        if arguments.command == "export":
            if not arguments.out.is_dir():
                raise SettingsError(f"--out: the folder {arguments.out} does not exist")
            language = arguments.lang or settings.default_language
            for path in asyncio.run(
                _export(settings, arguments.appeal_id, language, arguments.out)
            ):
                print(path)
        elif arguments.command == "audit":
            return _report(asyncio.run(_verify(settings)))
        else:
            print("The database is up to date.")
    except SettingsError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    except AppealNotFound as error:
        print(f"There is no appeal #{error.appeal_id}.", file=sys.stderr)
        return EXIT_NOT_FOUND
    except import_orgs.MalformedFile as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID_FILE
    return 0
