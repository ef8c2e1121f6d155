"""Broadcast throughput against the local Bot API with Telegram's overall limit enforced.

Run by hand: `.venv/bin/python -m bench.broadcast` (about a minute and a half). For each limit it
starts the project's Bot API server in this process, a real `coalition-bot run` beside it with
BROADCAST_RATE set to the limit (with paid broadcasts above 30), queues one broadcast, and prints the rate the server accepted
(first to last message) as a share of the limit, the 429s it answered, and the bot's peak RSS.
Targets on a 2-core machine: >= 0.95 of the limit at 30/s, >= 0.8 at 1,000/s.
"""

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bot import migrate
from bot.config import FREE_BROADCAST_LIMIT
from bot.local_api import LocalBotApi
from models import Database
from tests.stories import broadcast_queued_to

ORGANISER_ID = 1000
EXECUTABLE = str(Path(sys.executable).with_name("coalition-bot"))


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(limit: int, recipients: int, concurrency: int, folder: Path) -> None:
    database_url = f"sqlite:///{folder / f'bench-{limit}.db'}"
    await asyncio.to_thread(migrate.upgrade, database_url)
    database = Database(database_url)
    ids = await broadcast_queued_to(
        database, recipients, "Benchmark alert.", organiser_id=ORGANISER_ID
    )
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
        await api.wait_for_message(organiser.user_id, 0)  # the final report
        rss = peak_rss_mib(bot.pid)
    finally:
        bot.send_signal(signal.SIGINT)
        await bot.wait()
        await api.stop()
    times = sorted(m.accepted_at for p in people for m in api.messages(p.user_id))
    elapsed = times[-1] - times[0]
    achieved = (len(times) - 1) / elapsed
    print(
        f"limit {limit:>5}/s  concurrency {concurrency:>3}  recipients {recipients:>6}  "
        f"sent {len(times):>6}  "
        f"in {elapsed:6.1f} s  achieved {achieved:7.1f}/s  ratio {achieved / limit:.3f}  "
        f"429s {api.limits.throttled:>3}  bot peak RSS {rss:.0f} MiB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slow-recipients", type=int, default=2_000)
    parser.add_argument("--fast-recipients", type=int, default=10_000)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coalition-bench-"))
    try:
        # At 1,000/s a send must be in flight while the previous ones travel: Telegram's
        # round trip is tens of milliseconds, so such a bot sets BROADCAST_CONCURRENCY high.
        await run(30, arguments.slow_recipients, 8, folder)
        await run(1000, arguments.fast_recipients, 128, folder)
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    asyncio.run(main())
