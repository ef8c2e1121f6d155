"""/status and /appeals on a large coalition, and the bot's peak memory.

Run by hand: `.venv/bin/python -m bench.scale` (about a minute and a half). It inserts 10,000
organisations (one contact each) and 200 open appeals with 100,000 signatures: every
organisation has signed the first appeal publicly, and the other 90,000 signatures are spread
over the other 199 appeals, public, private and anonymous in turn. A real `coalition-bot run`
serves that database through the project's Bot API server; contacts then ask, one at a time
and under Telegram's 30 messages a second, /appeals, /status of an ordinary appeal and /status
of the one all 10,000 signed. Latency runs from pushing the message to the server accepting the
reply's last message. Targets: p95 under 50 ms for each, the bot's peak RSS under 200 MB, and
/status within one message.
"""

import argparse
import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from bench.coalition import members, open_appeals, signed
from bench.updates import ORGANISER_ID, SERVED_BOT, peak_rss_mib, percentile
from bot import migrate
from bot.local_api import LocalBotApi
from bot.local_api.chat import Person
from models import Database, Disclosure

STARTUP_TIMEOUT = 60
# A reply of several messages is taken to be complete once none has come for this long.
QUIET = 1.0
# Samples are spaced to keep the replies under this many messages a second: past Telegram's 30,
# the bot's Telegram budget (bot/budget.py) holds them back, and that is what would be
# measured.
MESSAGES_PER_SECOND = 20


async def arranged(
    database_url: str, organisations: int, appeals: int, signatures: int
) -> list[int]:
    """The coalition stored; returns its contacts' Telegram ids."""
    await asyncio.to_thread(migrate.upgrade, database_url)
    database = Database(database_url)
    try:
        found = await members(database, organisations)
        appeal_ids = await open_appeals(database, appeals, organiser_id=ORGANISER_ID)
        await signed(database, appeal_ids[0], found, [Disclosure.PUBLIC])
        each = (signatures - organisations) // (appeals - 1)
        for n, appeal_id in enumerate(appeal_ids[1:]):
            start = n * each % organisations
            signers = (found + found)[start : start + each]
            await signed(database, appeal_id, signers, list(Disclosure))
    finally:
        await database.dispose()
    return [member.contact_id for member in found]


async def pages_of(api: LocalBotApi, person: Person, command: str) -> int:
    """How many messages the bot answers `command` with (it answers the same every time)."""
    read = len(api.messages(person.user_id))
    api.push_message(person, command)
    await api.wait_for_message(person.user_id, read)
    await asyncio.sleep(QUIET)
    return len(api.messages(person.user_id)) - read


async def latencies(
    api: LocalBotApi, people: "itertools.cycle[Person]", command: str, samples: int
) -> tuple[list[float], int, int]:
    """Ask `command` `samples` times, each by the next person once the last reply is in;
    returns the latencies, the messages in each reply and the longest message's length."""
    pages = await pages_of(api, next(people), command)
    measured: list[float] = []
    longest = 0
    for _ in range(samples):
        person = next(people)
        read = len(api.messages(person.user_id))
        pushed = time.monotonic()
        api.push_message(person, command)
        last = await api.wait_for_message(person.user_id, read + pages - 1)
        measured.append(last.accepted_at - pushed)
        await asyncio.sleep(max(0.0, pushed + pages / MESSAGES_PER_SECOND - time.monotonic()))
        longest = max([longest, *(len(m.text) for m in api.messages(person.user_id)[read:])])
    return measured, pages, longest


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--organisations", type=int, default=10_000)
    parser.add_argument("--appeals", type=int, default=200)
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coalition-bench-"))
    database_url = f"sqlite:///{folder / 'scale.db'}"
    api = LocalBotApi()
    await api.start()
    try:
        print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
        started = time.monotonic()
        contact_ids = await arranged(
            database_url, arguments.organisations, arguments.appeals, arguments.signatures
        )
        print(
            f"arranged {arguments.organisations} organisations, {arguments.appeals} appeals, "
            f"{arguments.signatures} signatures in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        organiser = api.meet(ORGANISER_ID, "Organiser", "en")
        people = itertools.cycle([api.meet(user_id, "Contact", "en") for user_id in contact_ids])
        environment = {
            **os.environ,
            "BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.url,
            "ORGANISER_IDS": str(ORGANISER_ID),
            "DATABASE_URL": database_url,
        }
        bot = await asyncio.create_subprocess_exec(
            *SERVED_BOT, cwd=folder, env=environment, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT):
                api.push_message(organiser, "/help")
                await api.wait_for_message(ORGANISER_ID, 0)
            for label, command in (
                ("/appeals", "/appeals"),
                ("/status of an ordinary appeal", "/status 2"),
                ("/status of the appeal all signed", "/status 1"),
            ):
                measured, pages, longest = await latencies(api, people, command, arguments.samples)
                p50, p95 = percentile(measured, 50), percentile(measured, 95)
                print(
                    f"{label:<33} p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
                    f"(target < 50)  messages per reply {pages}  "
                    f"longest {longest} characters (limit 4,096)",
                    flush=True,
                )
            rss = peak_rss_mib(bot.pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                bot.send_signal(signal.SIGINT)
            await bot.wait()
        print(
            f"bot peak RSS {rss:.0f} MiB = {rss * 1.048576:.0f} MB (target < 200 MB)  refused calls {len(api.refused)}  "
            f"load average at end: {os.getloadavg()[0]:.2f}"
        )
    finally:
        await api.stop()
        shutil.rmtree(folder)


if __name__ == "__main__":
    asyncio.run(main())
