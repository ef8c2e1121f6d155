"""What every handler can reach: the shared resources, through a typed callback context."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from foundation.i18n import Texts
from foundation.metrics import Metrics
from foundation.settings import Settings
from models import Database
from models.utc import utcnow

RESOURCES_KEY = "resources"


@dataclass
class Resources:
    """Opened once per process by `bot.application`, closed in its post_shutdown."""

    settings: Settings
    database: Database
    texts: dict[str, Texts]
    # Tells the outbox worker that rows were just committed, so it need not wait for its poll.
    wake_outbox: Callable[[], None]
    # After a change to a phase or a deadline: do what is now due, and re-arm the scheduler.
    timeline_changed: Callable[[], Awaitable[None]]
    # Prometheus counters, served on /metrics when METRICS_PORT is set.
    metrics: Metrics
    # The sandbox moves its clock forward; everything that asks "when is now" asks here.
    clock: Callable[[], datetime] = utcnow


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    @property
    def resources(self) -> Resources:
        return cast(Resources, self.bot_data[RESOURCES_KEY])


CoalitionApplication = Application[Any, Context, Any, Any, Any, Any]
