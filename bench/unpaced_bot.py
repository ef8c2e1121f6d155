"""`coalition-bot run` with its answers not paced to Telegram's limits.

bench/updates.py runs it to measure what the bot itself costs per update: as served, the
Telegram budget (bot/budget.py) holds answers to 30 messages a second and one a second per
chat, which caps any burst whatever the bot could do. Bulk sends still go through the budget.
Run as `python -m bench.unpaced_bot` with the bot's environment.
"""

import sys
from collections.abc import Callable, Coroutine
from typing import Any

import bot.application
from bot import cli
from bot.budget import Lane, TelegramBudget


class UnpacedAnswers(TelegramBudget):
    """The budget, but answers go at once."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if rate_limit_args is Lane.BULK:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        return await callback(*args, **kwargs)


if __name__ == "__main__":
    # build_application reads the name at call time: this is the one thing that differs.
    bot.application.TelegramBudget = UnpacedAnswers  # type: ignore[attr-defined]
    sys.exit(cli.main(["run"]))
