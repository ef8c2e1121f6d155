"""A real `coalition-bot run` stopped in the middle of a broadcast (SIGKILL or SIGTERM), then
restarted."""

import asyncio
import signal
from collections import Counter
from pathlib import Path

from bot.local_api import LocalBotApi, Person
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
            PAID_BROADCASTS="true",
            BROADCAST_CONCURRENCY=str(CONCURRENCY),
        ),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


class Broadcast:
    """A broadcast to RECIPIENTS contacts, queued and not yet sent; Olena sent it."""

    def __init__(self, api: LocalBotApi, ids: range) -> None:
        self.api = api
        self.organiser = Someone(api, ORGANISER_ID, "Olena")
        self.recipients: list[Person] = [api.meet(user_id, f"Contact {user_id}") for user_id in ids]

    def delivered(self) -> int:
        return sum(len(self.api.messages(p.user_id)) for p in self.recipients)

    def copies(self) -> Counter[int]:
        """How many recipients got how many copies."""
        return Counter(len(self.api.messages(p.user_id)) for p in self.recipients)

    async def stop_a_third_through(self, process: asyncio.subprocess.Process, signum: int) -> int:
        """Send `signum` once a third has gone out; the process's exit code."""
        async with asyncio.timeout(60):
            while self.delivered() < RECIPIENTS // 3:  # noqa: ASYNC110 (a count to poll)
                await asyncio.sleep(0.01)
        process.send_signal(signum)
        async with asyncio.timeout(10):  # SIGTERM's bound; SIGKILL is at once
            code = await process.wait()
        assert self.delivered() < RECIPIENTS, "the broadcast finished first: nothing was tested"
        return code

    async def report_after_restart(self, api: LocalBotApi, database_url: str, cwd: Path) -> str:
        """Start the bot again; the report Olena gets once the broadcast is done."""
        process = await start_bot(api, database_url, cwd)
        try:
            async with asyncio.timeout(60):
                return (await self.organiser.next_message()).text
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()


async def queued(database_url: str, api: LocalBotApi) -> Broadcast:
    database = Database(database_url)
    ids = await broadcast_queued_to(database, RECIPIENTS, TEXT, organiser_id=ORGANISER_ID)
    await database.dispose()
    return Broadcast(api, ids)


async def test_a_killed_broadcast_resumes_and_everyone_gets_one_copy(
    tmp_path: Path, api: LocalBotApi, database_url: str
) -> None:
    broadcast = await queued(database_url, api)
    first = await start_bot(api, database_url, tmp_path)
    await broadcast.stop_a_third_through(first, signal.SIGKILL)
    at_kill = broadcast.delivered()

    report = await broadcast.report_after_restart(api, database_url, tmp_path)

    copies = broadcast.copies()
    assert 0 not in copies, "someone never got the broadcast"
    extra = sum((n - 1) * people for n, people in copies.items())
    assert extra <= CONCURRENCY, f"{extra} duplicates, more than the in-flight bound"
    print(f"killed at {at_kill} of {RECIPIENTS}; duplicates after restart: {extra}")
    assert (
        report == f"Broadcast #1 is done.\nDelivered: {RECIPIENTS}\nBlocked the bot: 0\nFailed: 0"
    )


async def test_sigterm_mid_broadcast_exits_within_10_s_and_nobody_gets_two_copies(
    tmp_path: Path, api: LocalBotApi, database_url: str
) -> None:
    """An operator's restart (systemd sends SIGTERM): the sends in flight are recorded."""
    broadcast = await queued(database_url, api)
    first = await start_bot(api, database_url, tmp_path)
    assert await broadcast.stop_a_third_through(first, signal.SIGTERM) == 0

    report = await broadcast.report_after_restart(api, database_url, tmp_path)

    assert broadcast.copies() == {1: RECIPIENTS}
    assert report.startswith(f"Broadcast #1 is done.\nDelivered: {RECIPIENTS}\n")
