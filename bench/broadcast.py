"""Broadcast throughput against the local Bot API with Telegram's overall limit enforced.

Run by hand: `.venv/bin/python -m bench.broadcast` (about a minute and a half). For each limit it
starts the project's Bot API server in this process, a real `coalition-bot run` beside it with
BROADCAST_RATE set to the limit (with paid broadcasts above 30), queues one broadcast, and prints
the rate the server accepted (first to last message) as a share of the limit, the 429s it
answered, and the bot's peak RSS. Targets on a 2-core machine: >= 0.95 of the limit at 30/s,
>= 0.8 at 1,000/s.

Every delivery is checked once the bot has stopped: each recipient has exactly one copy, with
the broadcast's text, paid where the limit is; the organiser's report says all were delivered;
the server refused no call but the 429s it counts. Anything else ends the run with one line
saying what, and no figure (bench/checks.py).
"""

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bench.checks import (
    Expected,
    Wrong,
    check_messages,
    check_nothing_refused,
    check_reply,
    message_to,
    progress,
    report,
)
from bench.processes import peak_rss_mib
from bot import migrate
from foundation.settings import FREE_BROADCAST_LIMIT
from models import Database
from stand.local_api import LocalBotApi
from tests.stories import broadcast_queued_to

ORGANISER_ID = 1000
EXECUTABLE = str(Path(sys.executable).with_name("coalition-bot"))
TEXT = "Benchmark alert."
# As each recipient sees it.
DELIVERED = Expected(f"📣 From the coalition's organisers\n\n{TEXT}", whole=True)
# Seconds allowed beyond the time the limit itself takes, for the bot to start and report.
SLACK = 60


async def run(limit: int, recipients: int, concurrency: int, folder: Path) -> str:
    """One broadcast at `limit` a second; returns its line of figures, once checked."""
    progress(f"broadcast to {recipients} at {limit}/s: running")
    database_url = f"sqlite:///{folder / f'bench-{limit}.db'}"
    await asyncio.to_thread(migrate.upgrade, database_url)
    database = Database(database_url)
    ids = await broadcast_queued_to(database, recipients, TEXT, organiser_id=ORGANISER_ID)
    await database.dispose()
    paid = limit > FREE_BROADCAST_LIMIT  # beyond 30 a second, only Telegram's paid broadcasts
    api = LocalBotApi()
    api.limits.overall_rate = min(limit, FREE_BROADCAST_LIMIT)
    api.limits.paid_rate = limit
    api.limits.per_chat_interval = 1.0
    await api.start()
    people = [api.meet(user_id, "Contact") for user_id in ids]
    organiser = api.meet(ORGANISER_ID, "Organiser")
    environment = {
        **os.environ,
        "BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.url,
        "ORGANISER_IDS": str(ORGANISER_ID),
        "DATABASE_URL": database_url,
        "BROADCAST_RATE": str(limit),
        "PAID_BROADCASTS": "true" if paid else "false",
        "BROADCAST_CONCURRENCY": str(concurrency),
    }
    bot = await asyncio.create_subprocess_exec(
        EXECUTABLE, "run", cwd=folder, env=environment, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        done = await message_to(
            api,
            organiser.user_id,
            0,
            timeout=recipients / limit + SLACK,
            what="the organiser's report of the broadcast",
        )
        rss = peak_rss_mib(bot.pid)
    finally:
        bot.send_signal(signal.SIGINT)
        await bot.wait()
        await api.stop()
    # The bot has stopped: a copy sent twice is there by now.
    check_reply(
        "the organiser's report of the broadcast",
        Expected(
            f"Broadcast #1 is done.\nDelivered: {recipients}\nBlocked the bot: 0\nFailed: 0",
            whole=True,
        ),
        done.text,
    )
    check_messages(api, organiser.user_id, 1, what="the organiser's chat")
    for person in people:
        check_messages(api, person.user_id, 1, what=f"recipient {person.user_id}'s copies")
        [copy] = api.messages(person.user_id)
        check_reply(f"the broadcast to {person.user_id}", DELIVERED, copy.text)
        if copy.paid != paid:
            raise Wrong(
                f"the broadcast to {person.user_id}: expected it {'paid' if paid else 'free'}, "
                f"got it {'paid' if copy.paid else 'free'}"
            )
    check_nothing_refused(api, throttling_counted=True)
    times = sorted(api.messages(p.user_id)[0].accepted_at for p in people)
    elapsed = times[-1] - times[0]
    achieved = (len(times) - 1) / elapsed
    return (
        f"limit {limit:>5}/s  concurrency {concurrency:>3}  recipients {recipients:>6}  "
        f"one copy each, checked  in {elapsed:6.1f} s  achieved {achieved:7.1f}/s  "
        f"ratio {achieved / limit:.3f}  429s {api.limits.throttled:>3}  bot peak RSS {rss:.0f} MiB"
    )


async def measured(arguments: argparse.Namespace) -> list[str]:
    """Both broadcasts; returns their lines of figures, once every delivery was right."""
    folder = Path(tempfile.mkdtemp(prefix="coalition-bench-"))
    try:
        # At 1,000/s a send must be in flight while the previous ones travel: Telegram's
        # round trip is tens of milliseconds, so such a bot sets BROADCAST_CONCURRENCY high.
        return [
            await run(30, arguments.slow_recipients, 8, folder),
            await run(1000, arguments.fast_recipients, 128, folder),
        ]
    finally:
        shutil.rmtree(folder)


def arguments_parsed() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slow-recipients", type=int, default=2_000)
    parser.add_argument("--fast-recipients", type=int, default=10_000)
    return parser.parse_args()


if __name__ == "__main__":
    report(measured(arguments_parsed()))
