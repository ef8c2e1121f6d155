"""An announcement to 2,000 contacts while the first of them answer it: one Telegram budget.

Run by hand: `.venv/bin/python -m bench.storm` (about four minutes). The project's Bot API
server runs in this process with Telegram's limits (30 messages a second overall, one a second
per chat after a burst of 3, 429 with retry_after beyond them; paid broadcasts up to 1,000 a
second), a real `coalition-bot run` beside it. The organiser publishes a draft appeal to 2,000
contacts; as the announcement reaches them, one in ten taps Co-sign, then Confirm, and one in
twenty asks /status. It prints the 429s the server answered, the bulk rate as a share of
BROADCAST_RATE, and the answers' p50 and p95 (from a tap or a message to the server accepting
the bot's answer). Then the same with BROADCAST_RATE=100 and paid broadcasts. Targets: no 429,
bulk >= 0.9 of the rate, answers p95 < 1 s.

Everything counted is checked: each contact got the announcement once, each answer is the one
expected (the question in the contact's organisation's name, the co-signature it confirms, the
status), nobody got a message more, there are as many signatures as confirmations, and the
server refused no call but the 429s it counts. Anything else ends the run with one line saying
what, and no figure (bench/checks.py).
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

from bench.checks import (
    Expected,
    Wrong,
    check_messages,
    check_nothing_refused,
    check_reply,
    message_to,
    progress,
    report,
    together,
)
from bench.coalition import Member, members
from bot import migrate
from models import Database, Signature
from services import appeals
from stand.local_api import LocalBotApi
from stand.local_api.chat import Person, SentMessage

ORGANISER_ID = 1000
EXECUTABLE = str(Path(sys.executable).with_name("coalition-bot"))
ANSWER_TIMEOUT = 60
ANNOUNCEMENT_TIMEOUT = 300  # the last of 2,000 contacts at 25 a second: 80 s
TITLE = "Free the detainees before the next round"
ANNOUNCEMENT = Expected(
    f"New appeal #1: {TITLE}\nYour organisation can co-sign it. /appeal 1 shows the full text.",
    whole=True,
)


async def draft_for(database: Database, contacts: int) -> list[Member]:
    """The contacts, and a draft appeal (#1) for the organiser to publish."""
    found = await members(database, contacts)
    async with database.transaction() as session:
        await appeals.create_appeal(
            session=session,
            title=TITLE,
            text="Your Excellencies,\nWe call on you to act.",
            organiser_id=ORGANISER_ID,
        )
    return found


async def signatures_of_first_appeal(database_url: str) -> int:
    """How many organisations have signed appeal #1."""
    database = Database(database_url)
    try:
        async with database.reading() as session:
            return (
                await session.exec(
                    select(func.count()).select_from(Signature).where(col(Signature.appeal_id) == 1)
                )
            ).one()
    finally:
        await database.dispose()


class Storm:
    """The contacts who answer the announcement, and how long each answer took."""

    def __init__(self, api: LocalBotApi, people: list[tuple[Person, Member]]) -> None:
        self.api = api
        self.tappers = people[::10]
        self.askers = people[5::20]
        self.latencies: list[float] = []

    async def announced(self, person: Person) -> SentMessage:
        """The announcement, once it reaches `person`, checked."""
        what = f"the announcement to {person.user_id}"
        announcement = await message_to(
            self.api, person.user_id, 0, timeout=ANNOUNCEMENT_TIMEOUT, what=what
        )
        check_reply(what, ANNOUNCEMENT, announcement.text)
        return announcement

    async def tap(self, person: Person, member: Member) -> None:
        announcement = await self.announced(person)
        what = f"Co-sign tapped by {person.user_id}"
        pressed = time.monotonic()
        self.api.push_callback(person, announcement, "cosign:1")
        question = await message_to(self.api, person.user_id, 1, timeout=ANSWER_TIMEOUT, what=what)
        self.latencies.append(question.accepted_at - pressed)
        check_reply(
            what,
            Expected(f"Co-sign appeal #1 “{TITLE}” as {member.name}?", whole=True),
            question.text,
        )
        what = f"Confirm tapped by {person.user_id}"
        pressed = time.monotonic()
        self.api.push_callback(person, question, "cosign-confirm:1")
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT):
                await self.api.wait_for_edit(question, 0)
        except TimeoutError:
            raise Wrong(f"{what}: expected an edit within {ANSWER_TIMEOUT} s, none came") from None
        self.latencies.append(time.monotonic() - pressed)
        check_reply(
            what, Expected(f"{member.name} co-signed appeal #1 “{TITLE}”.\n"), question.text
        )

    async def ask(self, person: Person, member: Member) -> None:
        await self.announced(person)
        what = f"/status 1 from {person.user_id}"
        asked = time.monotonic()
        self.api.push_message(person, "/status 1")
        answer = await message_to(self.api, person.user_id, 1, timeout=ANSWER_TIMEOUT, what=what)
        self.latencies.append(answer.accepted_at - asked)
        expected = Expected(
            f"#1 {TITLE}\nState: open for signatures\n", (f"\n{member.name} has not signed.",)
        )
        check_reply(what, expected, answer.text)

    async def run(self) -> None:
        await together(
            [
                *(self.tap(person, member) for person, member in self.tappers),
                *(self.ask(person, member) for person, member in self.askers),
            ]
        )


async def run(rate: int, paid: bool, contacts: int, folder: Path) -> str:
    """Publish to `contacts` at `rate`; returns the line of figures, once checked."""
    progress(f"BROADCAST_RATE {rate}{' paid' if paid else ''}: running")
    database_url = f"sqlite:///{folder / f'storm-{rate}.db'}"
    await asyncio.to_thread(migrate.upgrade, database_url)
    database = Database(database_url)
    try:
        found = await draft_for(database, contacts)
    finally:
        await database.dispose()
    api = LocalBotApi()
    api.limits.overall_rate = 30
    api.limits.per_chat_interval = 1.0
    api.limits.per_chat_burst = 3
    await api.start()
    people = [(api.meet(m.contact_id, "Contact"), m) for m in found]
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
        await together(storm.announced(person) for person, _ in people)
        await asyncio.sleep(2)  # time for anything sent twice to arrive
    finally:
        bot.send_signal(signal.SIGINT)
        await bot.wait()
        await api.stop()
    # The bot has stopped: a copy sent twice, or an answer nobody asked for, is there by now.
    answering = {person.user_id for person, _ in (*storm.tappers, *storm.askers)}
    for person, _ in people:
        expected = 2 if person.user_id in answering else 1
        check_messages(api, person.user_id, expected, what=f"contact {person.user_id}")
    check_nothing_refused(api, throttling_counted=True)
    signatures = await signatures_of_first_appeal(database_url)
    if signatures != len(storm.tappers):
        raise Wrong(
            f"appeal #1's signatures: expected {len(storm.tappers)}, one per confirmation, "
            f"got {signatures}"
        )
    announced = [api.messages(person.user_id)[0] for person, _ in people]
    times = sorted(m.accepted_at for m in announced)
    bulk_rate = (len(times) - 1) / (times[-1] - times[0])
    latencies = sorted(storm.latencies)
    p95 = latencies[int(len(latencies) * 0.95)]
    return (
        f"BROADCAST_RATE {rate:>4}{' paid' if paid else '     '}  contacts {contacts}  "
        f"429s {api.limits.throttled}  bulk {bulk_rate:6.1f}/s = {bulk_rate / rate:.2f} of the rate  "
        f"answers {len(latencies)} p50 {statistics.median(latencies) * 1000:4.0f} ms "
        f"p95 {p95 * 1000:4.0f} ms  checked: one announcement each, every answer once, "
        f"{signatures} signatures for as many confirmations"
    )


async def measured(arguments: argparse.Namespace) -> list[str]:
    """Both storms; returns their lines of figures, once everything counted was right."""
    folder = Path(tempfile.mkdtemp(prefix="coalition-storm-"))
    try:
        return [
            await run(25, False, arguments.contacts, folder),
            await run(100, True, arguments.contacts, folder),
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def arguments_parsed() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=2_000)
    return parser.parse_args()


if __name__ == "__main__":
    report(measured(arguments_parsed()))
