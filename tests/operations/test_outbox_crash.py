"""A real `coalition-bot run` stopped in the middle of a broadcast (SIGKILL or SIGTERM), then
restarted."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from models import Database
from stand.local_api import LocalBotApi, Person
from tests.processes import BotProcess, bot_process, wait_until
from tests.stories import ORGANISER, broadcast_queued_to

RECIPIENTS = 2000
CONCURRENCY = 8  # the documented bound: at most this many messages may go out twice
TEXT = "Negotiations resume on Monday: please confirm your signature."


class Broadcast:
    """A broadcast to RECIPIENTS contacts, queued and not yet sent; Olena sent it."""

    def __init__(self, api: LocalBotApi, database_url: str, cwd: Path, ids: range) -> None:
        self.api = api
        self.database_url = database_url
        self.cwd = cwd
        api.meet(ORGANISER, "Olena")
        self.recipients: list[Person] = [api.meet(user_id, f"Contact {user_id}") for user_id in ids]

    @asynccontextmanager
    async def sending(self) -> AsyncIterator[BotProcess]:
        """The bot, sending it."""
        async with bot_process(
            self.cwd,
            BOT_TOKEN=self.api.token,
            TELEGRAM_API_URL=self.api.url,
            ORGANISER_IDS=str(ORGANISER),
            DATABASE_URL=self.database_url,
            BROADCAST_RATE="400",
            PAID_BROADCASTS="true",
            BROADCAST_CONCURRENCY=str(CONCURRENCY),
        ) as bot:
            yield bot

    def delivered(self) -> int:
        return sum(len(self.api.messages(p.user_id)) for p in self.recipients)

    def copies(self) -> Counter[int]:
        """How many recipients got how many copies."""
        return Counter(len(self.api.messages(p.user_id)) for p in self.recipients)

    async def a_third_delivered(self) -> None:
        await wait_until(
            "a third of the broadcast delivered",
            lambda: self.delivered() >= RECIPIENTS // 3,
            within=60,
        )

    async def report_after_restart(self) -> str:
        """Start the bot again; the report Olena gets once the broadcast is done."""
        async with self.sending() as bot:
            # Her first message; longer to come than an answer (Someone.next_message's wait):
            # the bot starts, then sends what is left.
            async with asyncio.timeout(60):
                report = await self.api.wait_for_message(ORGANISER, 0)
            await bot.stop()
        return report.text


async def queued(api: LocalBotApi, database_url: str, cwd: Path) -> Broadcast:
    database = Database(database_url)
    ids = await broadcast_queued_to(database, RECIPIENTS, TEXT, organiser_id=ORGANISER)
    await database.dispose()
    return Broadcast(api, database_url, cwd, ids)


async def test_a_killed_broadcast_resumes_and_everyone_gets_one_copy(
    tmp_path: Path, api: LocalBotApi, database_url: str
) -> None:
    broadcast = await queued(api, database_url, tmp_path)
    async with broadcast.sending() as bot:
        await broadcast.a_third_delivered()
        await bot.kill()
    at_kill = broadcast.delivered()
    assert at_kill < RECIPIENTS, "the broadcast finished before the kill: nothing was tested"

    report = await broadcast.report_after_restart()

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
    broadcast = await queued(api, database_url, tmp_path)
    async with broadcast.sending() as bot:
        await broadcast.a_third_delivered()
        await bot.stop()  # exit 0 within 10 s, having said it stops
    assert broadcast.delivered() < RECIPIENTS, "the broadcast finished first: nothing was tested"

    report = await broadcast.report_after_restart()

    assert broadcast.copies() == {1: RECIPIENTS}
    assert report.startswith(f"Broadcast #1 is done.\nDelivered: {RECIPIENTS}\n")
