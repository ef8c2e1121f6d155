"""`coalition-bot run` with its replies not paced to Telegram's 30 messages a second.

bench/updates.py runs it to measure what the bot itself costs per update: as served, the reply
rate limiter (PTB's AIORateLimiter, whose overall default is Telegram's 30 messages a second)
caps any burst at 30 updates a second, whatever the bot could do. Replies are still retried
after a 429, as served. Run as `python -m bench.unpaced_bot` with the bot's environment.
"""

import functools
import sys

from telegram.ext import AIORateLimiter

import bot.application
from bot import cli

if __name__ == "__main__":
    # build_application reads the name at call time: this is the one thing that differs.
    bot.application.AIORateLimiter = functools.partial(  # type: ignore[attr-defined,assignment]
        AIORateLimiter, overall_max_rate=0
    )
    sys.exit(cli.main(["run"]))
