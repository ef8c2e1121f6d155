"""The bot's Prometheus metrics, on a registry of each application's own.

Not the global default registry: several applications in one process (the tests build one per
test) would otherwise register the same names twice.
"""

import math
import re
from collections.abc import Collection

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram import Update

# A command at the start of a message, with or without @botname.
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s|$)")


class Metrics:
    """What the bot counts while serving; the outbox gauges are set at each scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "coalition_updates_handled_total",
            "Updates handled, by command (without the slash), `button` or `other`.",
            ["command"],
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "coalition_handler_seconds",
            "Time spent handling an update, by command.",
            ["command"],
            registry=self.registry,
        )
        self.sent = Counter(
            "coalition_messages_sent_total",
            "Outbox messages Telegram confirmed, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "coalition_telegram_429_total",
            "Requests Telegram refused with 429 (everything the bot sends then paused as told).",
            registry=self.registry,
        )
        self.blocked = Counter(
            "coalition_recipients_blocked_total",
            "Recipients found to have blocked the bot (403), then unsubscribed.",
            registry=self.registry,
        )
        self.failed = Counter(
            "coalition_messages_failed_total",
            "Outbox messages given up on: refused with 400, or still failing after retries.",
            registry=self.registry,
        )
        self.backlog = Gauge(
            "coalition_outbox_backlog",
            "Outbox messages pending at the last scrape (NaN: the database did not answer).",
            registry=self.registry,
        )
        self.oldest_pending_seconds = Gauge(
            "coalition_outbox_oldest_pending_seconds",
            "Age of the oldest pending outbox message at the last scrape; 0 when none is.",
            registry=self.registry,
        )

    def observe_update(self, command: str, seconds: float) -> None:
        """Count one handled update and how long its handler took."""
        self.updates.labels(command=command).inc()
        self.handler_seconds.labels(command=command).observe(seconds)

    def set_outbox(self, *, pending: int, oldest_pending_seconds: float | None) -> None:
        """The outbox as the database reported it for this scrape."""
        self.backlog.set(pending)
        self.oldest_pending_seconds.set(oldest_pending_seconds or 0.0)

    def outbox_unknown(self) -> None:
        """The database did not answer this scrape."""
        # NaN rather than the last reading: a stale number would pass for a live one.
        self.backlog.set(math.nan)
        self.oldest_pending_seconds.set(math.nan)

    def exposition(self) -> bytes:
        """Everything in the Prometheus text format."""
        return generate_latest(self.registry)


def command_of(update: object, known: Collection[str]) -> str:
    """The label an update is counted under: a known command's name, `button` for a tap,
    `other` for anything else (never what a person typed: labels must stay few)."""
    if isinstance(update, Update):
        if update.callback_query is not None:
            return "button"
        message = update.message
        command = _COMMAND.match(message.text or "") if message is not None else None
        if command is not None and command[1].lower() in known:
            return command[1].lower()
    return "other"
