"""Two replicas on one PostgreSQL database: one leads (sends the outbox, runs the timeline),
and when it is killed the other takes over, without sending anything twice beyond the
in-flight bound and without repeating a reminder."""

import asyncio
import signal
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.local_api import LocalBotApi, Person
from bot.local_api.limits import Limits
from models import Database, Reminder
from models.database import stored_id
from models.utc import utcnow
from services import appeals, phases
from tests.conftest import ORGANISER_ID
from tests.databases import ON_POSTGRES
from tests.stories import broadcast_queued_to
from tests.test_cli import EXECUTABLE, clean_environment

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="replicas share a PostgreSQL database; a SQLite file serves one process"
)

RECIPIENTS = 2000
CONCURRENCY = 8  # the documented bound: at most this many messages may go out twice
RATE = 500
TEXT = "Negotiations resume on Monday: please confirm your signature."
PHASE = "Round of talks in Istanbul"
REMINDED = "Memorial has not yet signed"  # the phase reminder, not the phase's start message
TAKEOVER_WITHIN = 30.0


async def start_replica(
    api: LocalBotApi, database_url: str, cwd: Path
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        EXECUTABLE,
        "run",
        cwd=cwd,
        env=clean_environment(
            BOT_TOKEN=api.token,
            TELEGRAM_API_URL=api.url,
            ORGANISER_IDS=str(ORGANISER_ID),
            DATABASE_URL=database_url,
            BROADCAST_RATE=str(RATE),
            PAID_BROADCASTS="true",
            BROADCAST_CONCURRENCY=str(CONCURRENCY),
            REMINDER_OFFSETS="1m",
        ),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def until(condition: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 (counts to poll, no event to wait on)
            await asyncio.sleep(0.01)


async def test_the_other_replica_takes_over_when_the_leader_dies(
    tmp_path: Path, api: LocalBotApi, database_url: str
) -> None:
    # 2,000 contacts of Memorial; a broadcast queued to them; an open appeal Memorial has not
    # signed, attached to a phase whose reminder (a minute before) falls due in 15 s.
    database = Database(database_url)
    ids = await broadcast_queued_to(database, RECIPIENTS, TEXT, organiser_id=ORGANISER_ID)
    now = utcnow()
    async with database.transaction() as session:
        appeal = await appeals.create_appeal(
            session=session, title="Free them all", text="The text.", organiser_id=ORGANISER_ID
        )
        phase = await phases.add_phase(
            session=session,
            name=PHASE,
            starts_at=now + timedelta(minutes=1, seconds=15),
            organiser_id=ORGANISER_ID,
            now=now,
        )
        await phases.attach(
            session=session,
            appeal_id=stored_id(appeal.id),
            phase_id=stored_id(phase.id),
            actor_id=ORGANISER_ID,
            now=now,
        )
        await appeals.publish_appeal(session=session, appeal_id=stored_id(appeal.id), now=now)
    recipients = [api.meet(user_id, f"Contact {user_id}") for user_id in ids]
    api.meet(ORGANISER_ID, "Olena")
    # Telegram's limit for this bot's paid broadcasts is the outbox's rate: both replicas
    # together must keep it.
    api.limits = Limits(paid_rate=RATE)

    def received(person: Person, words: str) -> int:
        return sum(words in message.text for message in api.messages(person.user_id))

    def broadcasts() -> int:
        return sum(received(person, TEXT) for person in recipients)

    # The first replica leads; the second starts once the broadcast is under way, and waits.
    first = await start_replica(api, database_url, tmp_path)
    await until(lambda: broadcasts() >= RECIPIENTS // 4, 60)
    second = await start_replica(api, database_url, tmp_path)
    await asyncio.sleep(2)  # the second is up, and finds the lock taken
    first.send_signal(signal.SIGKILL)
    await first.wait()
    killed_at, at_kill = asyncio.get_running_loop().time(), broadcasts()
    assert at_kill < RECIPIENTS, "the broadcast finished before the kill: nothing was tested"

    try:
        await until(lambda: broadcasts() > at_kill, TAKEOVER_WITHIN)
        takeover = asyncio.get_running_loop().time() - killed_at
        # Everyone gets the broadcast, the announcement and the reminder.
        await until(
            lambda: (
                all(received(person, REMINDED) for person in recipients)
                and broadcasts() >= RECIPIENTS
            ),
            90,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            _, stderr = await second.communicate()
    assert second.returncode == 0, stderr.decode()

    copies = Counter(received(person, TEXT) for person in recipients)
    assert 0 not in copies, "someone never got the broadcast"
    extra = sum((n - 1) * people for n, people in copies.items())
    assert extra <= CONCURRENCY, f"{extra} duplicates, more than the in-flight bound"
    announcements = Counter(received(person, "New appeal #1") for person in recipients)
    assert announcements[0] == 0
    assert Counter(received(person, REMINDED) for person in recipients) == {1: RECIPIENTS}
    async with database.transaction() as session:
        assert len((await session.exec(select(Reminder))).all()) == 1
    await database.dispose()
    assert api.limits.throttled == 0, "the replicas together sent faster than BROADCAST_RATE"
    print(f"killed at {at_kill} of {RECIPIENTS}; took over in {takeover:.1f} s; {extra} duplicates")
