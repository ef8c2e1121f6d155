"""What every handler can reach: the shared resources, through a typed callback context and
python-telegram-bot's bot_data."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from foundation.i18n import Texts
from foundation.metrics import Metrics
from foundation.settings import Settings
from models import Database
from models.utc import utcnow


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


@dataclass
class BotData:
    """What the Application keeps for the whole process (its bot_data): the resources, set by
    bot.application once they are open. The program keeps more there (bot.application.Program)."""

    resources: Resources = field(init=False)


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def resources(self) -> Resources:
        return self.bot_data.resources


# Its bot_data is a BotData (a bot.application.Program), which python-telegram-bot's types
# cannot say of a subclass: resources_of() reads it typed.
CoalitionApplication = Application[Any, Context, Any, Any, Any, Any]


def resources_of(app: CoalitionApplication) -> Resources:
    """The resources of a built bot."""
    return cast(BotData, app.bot_data).resources
