"""Building the python-telegram-bot Application: one place where every handler is registered."""

import asyncio
import contextlib
import functools
import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import httpx
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults, ExtBot
from telegram.request import HTTPXRequest

from bot.budget import TelegramBudget
from bot.health import HealthServer
from bot.intake import Intake, SettlingProcessor
from bot.leadership import Leadership
from bot.outbox import OutboxWorker
from foundation.i18n import load_texts
from foundation.metrics import Metrics, command_of
from foundation.settings import Settings
from handlers import (
    approvals,
    audit,
    broadcasts,
    errors,
    fallback,
    flood,
    join_requests,
    privacy,
    signatures,
)
from handlers.context import BotData, CoalitionApplication, Context, Resources
from handlers.framework import register_commands
from handlers.menu import ENTRIES, show_default_menu, show_every_menu_due
from models import Database
from models.utc import utcnow
from scheduler import TimelineScheduler
from services import outbox

log = logging.getLogger(__name__)

# PTB 22 is moving time periods (RetryAfter.retry_after among them) from int to timedelta and
# warns on every read until a program opts in; this one reads timedeltas.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# Updates are handled concurrently so that one slow command never holds up another person's.
CONCURRENT_UPDATES = 32


@dataclass
class Program(BotData):
    """The bot_data of the bot as `coalition-bot run` serves it: the handlers' resources, and
    the parts that run beside the handlers, set by build_application."""

    outbox: OutboxWorker = field(init=False)
    intake: Intake = field(init=False)
    timeline: TimelineScheduler = field(init=False)
    leadership: Leadership = field(init=False)
    health: HealthServer | None = None  # only when METRICS_PORT is set
    # The start-up task that sets the menus due.
    menus: "asyncio.Task[None] | None" = None


def program(app: CoalitionApplication) -> Program:
    """The parts of a bot that build_application built."""
    return cast(Program, app.bot_data)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every connection pool: httpx would read the CA bundle for each."""
    return httpx.create_ssl_context()


def _request(pool_size: int) -> HTTPXRequest:
    return HTTPXRequest(connection_pool_size=pool_size, httpx_kwargs={"verify": _tls()})


def build_application(
    settings: Settings, *, clock: Callable[[], datetime] = utcnow
) -> CoalitionApplication:
    """The bot as `coalition-bot run` serves it; the end-to-end tests build it the same way."""
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is required to build the application")
    token = settings.bot_token.get_secret_value()
    api = settings.telegram_api_url
    defaults = Defaults(
        parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
    )
    database = Database(settings.database_url)
    intake = Intake(database=database, clock=clock)
    metrics = Metrics()

    # One allowance for both bots below: answers to people first, bulk sends after.
    budget = TelegramBudget(
        overall_rate=settings.message_rate,
        bulk_rate=settings.broadcast_rate,
        chat_burst=settings.chat_burst,
        on_throttled=metrics.throttled.inc,
    )

    def observe(update: object, seconds: float) -> None:
        metrics.observe_update(command_of(update, ENTRIES.keys()), seconds)

    app: CoalitionApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .context_types(ContextTypes(context=Context, bot_data=Program))
        .defaults(defaults)
        .request(_request(256))  # PTB's default pool size for replies
        .get_updates_request(_request(1))
        # Updates come in through the intake (stored first), not PTB's own poller.
        .updater(None)
        .concurrent_updates(SettlingProcessor(CONCURRENT_UPDATES, intake=intake, observe=observe))
        # A reply Telegram answers with 429 is sent again after retry_after, not lost.
        .rate_limiter(budget)
        .post_init(_open)
        .post_stop(_stop_background)
        .post_shutdown(_close)
        .build()
    )
    intake.attach(queue=app.update_queue, bot=app.bot)
    texts = load_texts()
    worker = OutboxWorker(
        database=database,
        # Its own bot and connection pool, and the same budget: bulk sends never hold up
        # replies to commands, and the two together keep Telegram's limits.
        bot=ExtBot(
            token,
            base_url=f"{api}/bot",
            base_file_url=f"{api}/file/bot",
            defaults=defaults,
            request=_request(settings.broadcast_concurrency + 1),
            get_updates_request=_request(1),
            rate_limiter=budget,
        ),
        texts=texts,
        default_language=settings.default_language,
        default_timezone=settings.bot_timezone,
        budget=budget,
        paid=settings.paid_broadcasts,
        concurrency=settings.broadcast_concurrency,
        clock=clock,
        metrics=metrics,
    )
    timeline = TimelineScheduler(
        database=database,
        offsets=settings.reminder_offsets,
        grace=settings.reminder_grace,
        organiser_ids=settings.organiser_ids,
        clock=clock,
        wake_outbox=worker.wake,
    )
    parts = program(app)
    parts.resources = Resources(
        settings=settings,
        database=database,
        texts=texts,
        wake_outbox=worker.wake,
        timeline_changed=timeline.tick,
        metrics=metrics,
        clock=clock,
    )
    parts.outbox, parts.intake, parts.timeline = worker, intake, timeline

    async def lead() -> None:
        async with database.transaction() as session:
            await outbox.release_claims(session=session)
        await worker.start()
        await timeline.start()

    async def step_down() -> None:
        timeline.stop()
        await worker.stop()

    parts.leadership = Leadership(database=database, lead=lead, step_down=step_down)
    if settings.metrics_port is not None:
        parts.health = HealthServer(
            database=database,
            metrics=metrics,
            clock=clock,
            host=settings.metrics_host,
            port=settings.metrics_port,
        )

    # Flood control first, in a group of its own that runs before group 0: an update over its
    # sender's allowance stops there, before any handler reads the database or answers.
    flood.register(app)
    # All other handlers live in group 0, where PTB runs the first that matches: every declared
    # command, then the buttons of each area that has some, then the fallback that answers
    # anything they did not take.
    register_commands(app)
    signatures.register(app)
    broadcasts.register(app)
    join_requests.register(app)
    approvals.register(app)
    privacy.register(app)
    audit.register(app)
    fallback.register(app)
    app.add_error_handler(errors.on_error)
    return app


async def _open(app: CoalitionApplication) -> None:
    """Show everyone their command menu: strangers by default, and (in the background) each
    person whose menu does not match their role yet in their chat."""
    parts = program(app)
    resources, settings = parts.resources, parts.resources.settings
    if parts.health is not None:  # first: a port already taken stops the bot before it starts
        await parts.health.start()
    await show_default_menu(app.bot, resources.texts, settings.default_language)
    menus = show_every_menu_due(
        app.bot,
        resources.database,
        resources.texts,
        organiser_ids=settings.organiser_ids,
        default_language=settings.default_language,
    )
    parts.menus = asyncio.create_task(menus, name="menus due")
    # Started after the menus: what was queued before a restart goes out from here on, and
    # what fell due on the timeline while the bot was down is done now (on the leading
    # replica: see bot/leadership.py).
    await parts.leadership.start()
    log.info("serving as @%s", app.bot.username)


async def _stop_background(app: CoalitionApplication) -> None:
    parts = program(app)
    if parts.menus is not None:
        parts.menus.cancel()  # the menus not set yet are set at the next start
        with contextlib.suppress(asyncio.CancelledError):
            await parts.menus
    await parts.leadership.stop()


async def _close(app: CoalitionApplication) -> None:
    parts = program(app)
    if parts.health is not None:  # here, not in post_stop, which is skipped if start failed
        await parts.health.stop()
    await parts.resources.database.dispose()
