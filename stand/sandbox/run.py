"""Starting the sandbox: the project's Bot API server and the page on one loopback port, the
bot against them on a fresh SQLite file, and the simulated coalition in it."""

import asyncio
import errno
import logging
import signal
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from bot import migrate
from bot.application import build_application, program
from bot.logs import configure_logging
from bot.serving import serving
from foundation.i18n import load_texts, pick_language
from foundation.settings import Settings, SettingsError
from stand.local_api import LocalBotApi
from stand.sandbox.clock import MovableClock
from stand.sandbox.coalition import MEMBERS, ORGANISER, gather
from stand.sandbox.page import SandboxPage, TheBot
from stand.sandbox.welcome import welcome

HOST = "127.0.0.1"
# What the bot says at start-up and each minute is noise beside the page.
LOG_LEVEL = logging.WARNING


def run_sandbox(settings: Settings, port: int) -> None:
    """Serve the sandbox until Ctrl+C or SIGTERM; everything in it is forgotten then."""
    with tempfile.TemporaryDirectory(prefix="coalition-sandbox-") as folder:
        database_url = f"sqlite:///{Path(folder) / 'sandbox.db'}"
        migrate.upgrade(database_url)
        asyncio.run(_serve(settings, port, database_url))


async def _serve(settings: Settings, port: int, database_url: str) -> None:
    stop = _stop_on_signals()
    clock = MovableClock()
    api = LocalBotApi(host=HOST, port=port, clock=clock.timestamp)
    configure_logging(secrets=[api.token], level=LOG_LEVEL)
    page = SandboxPage(api, clock)
    try:
        await api.start(extend=page.install)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise SettingsError(
                f"SANDBOX_PORT: {HOST}:{port} is in use; choose another with --port"
            ) from None
        raise
    try:
        for person in (ORGANISER, *MEMBERS):
            api.meet(person.user_id, person.name, person.language)
        sandbox_settings = settings.model_copy(
            update={
                "bot_token": SecretStr(api.token),
                "telegram_api_url": api.url,
                "database_url": database_url,
                "organiser_ids": frozenset({ORGANISER.user_id}),
            }
        )
        app = build_application(sandbox_settings, clock=clock)
        resources = program(app).resources
        await gather(
            database=resources.database,
            now=clock(),
            invite_validity=timedelta(days=settings.invite_validity_days),
        )
        async with serving(app):
            page.bot = TheBot(
                database=resources.database,
                default_language=sandbox_settings.default_language,
                organiser_ids=sandbox_settings.organiser_ids,
                offsets=sandbox_settings.reminder_offsets,
                timeline_changed=program(app).timeline.tick,
            )
            # Before the banner: the page, opened after it, shows the welcome at once.
            language = pick_language(ORGANISER.language, sandbox_settings.default_language)
            await app.bot.send_message(ORGANISER.user_id, welcome(load_texts()[language]))
            print(
                f"Sandbox: open http://{HOST}:{api.port} in a browser. The bot, its Telegram "
                "and its people are simulated on this machine: nothing leaves it. "
                "Ctrl+C stops it and forgets everything.",
                flush=True,
            )
            await stop.wait()
            print("Sandbox stopped.", file=sys.stderr)
    finally:
        await api.stop()


def _stop_on_signals() -> asyncio.Event:
    """Set by Ctrl+C or SIGTERM, from the start: one that comes early still stops cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop
