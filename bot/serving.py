"""Serving the Application: updates in through the intake (polling or webhook), and a clean
stop on SIGTERM or Ctrl+C."""

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.application import program
from bot.intake import Poller
from bot.webhook import Webhook, WebhookServer
from handlers.context import CoalitionApplication

log = logging.getLogger(__name__)

# From SIGTERM to exit. Whatever is cut short then is safe: updates not handled are replayed
# at the next start, and the outbox re-sends what it had not recorded as sent.
STOP_WITHIN = 10.0


@asynccontextmanager
async def serving(
    app: CoalitionApplication, *, webhook: Webhook | None = None
) -> AsyncIterator[CoalitionApplication]:
    """Start the Application as run_polling would, inside a running event loop (the sandbox
    and the tests share the loop with other servers), and stop it the same way."""
    intake = program(app).intake
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    # What was stored but not handled when the last process stopped goes first.
    await intake.replay()
    source: Poller | WebhookServer = (
        Poller(intake=intake, bot=app.bot)
        if webhook is None
        else WebhookServer(webhook=webhook, intake=intake, bot=app.bot)
    )
    if isinstance(source, Poller):
        source.start()
    else:
        await source.start()
    try:
        yield app
    finally:
        await source.stop()  # no new updates from here
        await app.stop()  # the updates in flight finish
        await intake.flush()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def serve_until_stopped(app: CoalitionApplication, *, webhook: Webhook | None) -> None:
    """`coalition-bot run`: serve until SIGTERM or SIGINT, then stop within STOP_WITHIN."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serving(app, webhook=webhook):
        await stop.wait()
        log.info("stopping: no new updates; finishing what is in flight")
        loop.call_later(STOP_WITHIN, _give_up)


def _give_up() -> None:
    log.error("stopping took over %.0f s: exiting with work cut short", STOP_WITHIN)
    logging.shutdown()
    os._exit(1)
