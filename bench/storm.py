"""An announcement to 2,000 contacts while the first of them answer it: one Telegram budget.

Run by hand: `.venv/bin/python -m bench.storm` (about four minutes). The project's Bot API
server runs in this process with Telegram's limits (30 messages a second overall, one a second
per chat after a burst of 3, 429 with retry_after beyond them; paid broadcasts up to 1,000 a
second), a real `coalition-bot run` beside it. The organiser publishes a draft appeal to 2,000
contacts; as the announcement reaches them, one in ten taps Co-sign, then Confirm, and one in
twenty asks /status. It prints the 429s the server answered, the bulk rate as a share of
BROADCAST_RATE, the answers' p50 and p95 (from a tap or a message to the server accepting the
bot's answer), whether everyone got the announcement once and every answer once, and the
signature count beside the confirmations. Then the same with BROADCAST_RATE=100 and paid
broadcasts. Targets: no 429, bulk >= 0.9 of the rate, answers p95 < 1 s.
"""

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import col, func, select

from bench.coalition import members
from bot import migrate
from bot.local_api import LocalBotApi
from bot.local_api.chat import Person, SentMessage
from models import Database, Signature
from services import appeals

ORGANISER_ID = 1000
EXECUTABLE = str(Path(sys.executable).with_name("coalition-bot"))
ANSWER_TIMEOUT = 60
ANNOUNCEMENT_TIMEOUT = 300  # the last of 2,000 contacts at 25 a second: 80 s


async def draft_for(database: Database, contacts: int) -> list[int]:
    members_ = await members(database, contacts)
    async with database.transaction() as session:
        await appeals.create_appeal(
            session=session,
            title="Free the detainees before the next round",
            text="Your Excellencies,\nWe call on you to act.",
            organiser_id=ORGANISER_ID,
        )
    return [member.contact_id for member in members_]


class Storm:
    """The contacts who answer the announcement, and how long each answer took."""

    def __init__(self, api: LocalBotApi, people: list[Person]) -> None:
        self.api = api
        self.tappers = people[::10]
        self.askers = people[5::20]
        self.latencies: list[float] = []
        self.confirmed = 0
        self.problems: list[str] = []

    async def _message(self, person: Person, index: int) -> SentMessage:
        async with asyncio.timeout(ANNOUNCEMENT_TIMEOUT if index == 0 else ANSWER_TIMEOUT):
            return await self.api.wait_for_message(person.user_id, index)

    async def tap(self, person: Person) -> None:
        announcement = await self._message(person, 0)
        pressed = time.monotonic()
        self.api.push_callback(person, announcement, "cosign:1")
        question = await self._message(person, 1)
        self.latencies.append(question.accepted_at - pressed)
        pressed = time.monotonic()
        self.api.push_callback(person, question, "cosign-confirm:1")
        async with asyncio.timeout(ANSWER_TIMEOUT):
            await self.api.wait_for_edit(question, 0)
        self.latencies.append(time.monotonic() - pressed)
        if "co-signed" in question.text:
            self.confirmed += 1
        else:
            self.problems.append(f"{person.user_id}: {question.text!r}")

    async def ask(self, person: Person) -> None:
        await self._message(person, 0)
        asked = time.monotonic()
        self.api.push_message(person, "/status 1")
        answer = await self._message(person, 1)
        self.latencies.append(answer.accepted_at - asked)
        if not answer.text.startswith("#1 "):
            self.problems.append(f"{person.user_id}: {answer.text!r}")

    async def run(self) -> None:
        await asyncio.gather(
            *(self.tap(person) for person in self.tappers),
            *(self.ask(person) for person in self.askers),
        )


async def run(rate: int, paid: bool, contacts: int, folder: Path) -> None:
    database_url = f"sqlite:///{folder / f'storm-{rate}.db'}"
    await asyncio.to_thread(migrate.upgrade, database_url)
    database = Database(database_url)
    ids = await draft_for(database, contacts)
    api = LocalBotApi()
    api.limits.overall_rate = 30
    api.limits.per_chat_interval = 1.0
    api.limits.per_chat_burst = 3
    await api.start()
    people = [api.meet(user_id, "Contact") for user_id in ids]
    organiser = api.meet(ORGANISER_ID, "Olena")
    environment = {
        **os.environ,
        "BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.url,
        "ORGANISER_IDS": str(ORGANISER_ID),
        "DATABASE_URL": database_url,
        "BROADCAST_RATE": str(rate),
        "PAID_BROADCASTS": "true" if paid else "false",
        "BROADCAST_CONCURRENCY": "8" if rate <= 30 else "32",
    }
    bot = await asyncio.create_subprocess_exec(
        EXECUTABLE, "run", cwd=folder, env=environment, stderr=asyncio.subprocess.DEVNULL
    )
    storm = Storm(api, people)
    try:
        await asyncio.sleep(0)
        async with asyncio.timeout(30):
            while not api.commands:  # noqa: ASYNC110 (the bot has set its menus: it is up)
                await asyncio.sleep(0.05)
        api.push_message(organiser, "/publish 1")
        await storm.run()
        async with asyncio.timeout(ANSWER_TIMEOUT):
            while sum(len(api.messages(p.user_id)) > 0 for p in people) < len(people):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # time for anything sent twice to arrive
    finally:
        bot.send_signal(signal.SIGINT)
        await bot.wait()
        await api.stop()
    announced = [
        m for p in people for m in api.messages(p.user_id) if m.text.startswith("New appeal #1")
    ]
    times = sorted(m.accepted_at for m in announced)
    bulk_rate = (len(times) - 1) / (times[-1] - times[0])
    copies = {
        sum(m.text.startswith("New appeal #1") for m in api.messages(p.user_id)) for p in people
    }
    answered = [len(api.messages(p.user_id)) for p in (*storm.tappers, *storm.askers)]
    async with database.transaction() as session:
        signatures = (
            await session.exec(
                select(func.count()).select_from(Signature).where(col(Signature.appeal_id) == 1)
            )
        ).one()
    await database.dispose()
    latencies = sorted(storm.latencies)
    p95 = latencies[int(len(latencies) * 0.95)]
    print(
        f"BROADCAST_RATE {rate:>4}{' paid' if paid else '     '}  contacts {contacts}  "
        f"429s {api.limits.throttled}  bulk {bulk_rate:6.1f}/s = {bulk_rate / rate:.2f} of the rate  "
        f"answers {len(latencies)} p50 {statistics.median(latencies) * 1000:4.0f} ms "
        f"p95 {p95 * 1000:4.0f} ms  announcement copies per contact {sorted(copies)}  "
        f"messages per answering contact {sorted(set(answered))}  "
        f"signatures {signatures} for {storm.confirmed} confirmations  "
        f"problems {len(storm.problems)}"
    )
    for problem in storm.problems[:5]:
        print("  ", problem)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=2_000)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coalition-storm-"))
    try:
        await run(25, False, arguments.contacts, folder)
        await run(100, True, arguments.contacts, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
