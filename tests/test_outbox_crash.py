"""A real `coalition-bot run` killed with SIGKILL in the middle of a broadcast, then restarted."""

import asyncio
import signal
from collections import Counter
from pathlib import Path

from bot.local_api import LocalBotApi
from models import Database
from tests.conftest import ORGANISER_ID
from tests.people import Someone
from tests.stories import broadcast_queued_to
from tests.test_cli import EXECUTABLE, clean_environment

RECIPIENTS = 2000
CONCURRENCY = 8  # the documented bound: at most this many messages may go out twice
TEXT = "Negotiations resume on Monday: please confirm your signature."


async def start_bot(api: LocalBotApi, database_url: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        EXECUTABLE,
        "run",
        cwd=cwd,
        env=clean_environment(
            BOT_TOKEN=api.token,
            TELEGRAM_API_URL=api.url,
            ORGANISER_IDS=str(ORGANISER_ID),
            DATABASE_URL=database_url,
            BROADCAST_RATE="400",
            BROADCAST_CONCURRENCY=str(CONCURRENCY),
        ),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_a_killed_broadcast_resumes_and_everyone_gets_one_copy(
    tmp_path: Path, api: LocalBotApi, database_url: str
) -> None:
    database = Database(database_url)
    ids = await broadcast_queued_to(database, RECIPIENTS, TEXT, organiser_id=ORGANISER_ID)
    await database.dispose()
    organiser = Someone(api, ORGANISER_ID, "Olena")
    recipients = [api.meet(user_id, f"Contact {user_id}") for user_id in ids]

    def delivered() -> int:
        return sum(len(api.messages(p.user_id)) for p in recipients)

    first = await start_bot(api, database_url, tmp_path)
    async with asyncio.timeout(60):
        while delivered() < RECIPIENTS // 3:  # noqa: ASYNC110 (a count to poll, no event)
            await asyncio.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    at_kill = delivered()
    assert at_kill < RECIPIENTS, "the broadcast finished before the kill: nothing was tested"

    second = await start_bot(api, database_url, tmp_path)
    try:
        async with asyncio.timeout(60):
            report = (await organiser.next_message()).text
    finally:
        second.send_signal(signal.SIGINT)
        await second.wait()

    copies = Counter(len(api.messages(p.user_id)) for p in recipients)
    assert 0 not in copies, "someone never got the broadcast"
    extra = sum((n - 1) * people for n, people in copies.items())
    assert extra <= CONCURRENCY, f"{extra} duplicates, more than the in-flight bound"
    print(f"killed at {at_kill} of {RECIPIENTS}; duplicates after restart: {extra}")
    assert (
        report == f"Broadcast #1 is done.\nDelivered: {RECIPIENTS}\nBlocked the bot: 0\nFailed: 0"
    )
