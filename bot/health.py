"""`/healthz` and `/metrics` over HTTP, for an orchestrator's probes and a Prometheus scrape.

Served on METRICS_HOST:METRICS_PORT (loopback by default) while the bot runs. Both ask the
database for the outbox backlog at each request, so a scrape also shows whether it answers.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from foundation.metrics import Metrics
from foundation.settings import SettingsError
from models import Database
from services import outbox

log = logging.getLogger(__name__)

# A probe that hangs is no answer: past this, the database counts as unreachable.
DATABASE_TIMEOUT = 5.0


@dataclass(frozen=True)
class OutboxState:
    pending: int
    oldest_pending_seconds: float | None  # None: nothing is pending


class HealthServer:
    """The HTTP server; `port` is the bound one once started (0 asks for any free port)."""

    def __init__(
        self,
        *,
        database: Database,
        metrics: Metrics,
        clock: Callable[[], datetime],
        host: str,
        port: int,
    ) -> None:
        self.database = database
        self.metrics = metrics
        self.clock = clock
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        # No access log: a scrape every few seconds would drown the bot's own lines.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as error:
            await runner.cleanup()
            raise SettingsError(
                f"METRICS_PORT: cannot listen on {self.host}:{self.port} ({error.strerror})"
            ) from None
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        """Stop serving; nothing to do if it never started."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _: web.Request) -> web.Response:
        state = await self._outbox_state()
        if state is None:
            body = {"database": "unreachable", "backlog": None, "oldest_pending_seconds": None}
            return web.json_response(body, status=503)
        return web.json_response(
            {
                "database": "ok",
                "backlog": state.pending,
                "oldest_pending_seconds": state.oldest_pending_seconds,
            }
        )

    async def _metrics(self, _: web.Request) -> web.Response:
        await self._outbox_state()
        response = web.Response(body=self.metrics.exposition())
        # Set as is: the `content_type` argument refuses a value carrying parameters.
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def _outbox_state(self) -> OutboxState | None:
        """The backlog now, also set on the gauges; None if the database did not answer."""
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT):
                async with self.database.reading() as session:
                    backlog = await outbox.backlog(session=session)
        except Exception as error:
            # Any failure to read means the same to a probe; the reason goes to the log only.
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.warning("health check: the database did not answer (%s)", reason)
            self.metrics.outbox_unknown()
            return None
        age = None
        if backlog.oldest_queued_at is not None:
            seconds = (self.clock() - backlog.oldest_queued_at).total_seconds()
            age = round(max(seconds, 0.0), 3)
        self.metrics.set_outbox(pending=backlog.pending, oldest_pending_seconds=age)
        return OutboxState(pending=backlog.pending, oldest_pending_seconds=age)
