"""Two replicas on one PostgreSQL database: one leads (sends the outbox, runs the timeline),
and when it is killed the other takes over, without sending anything twice beyond the
in-flight bound and without repeating a reminder."""

import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.leadership import TRY_EVERY
from models import Database, Reminder
from models.database import stored_id
from models.utc import utcnow
from services import appeals, phases
from stand.local_api import LocalBotApi, Person
from stand.local_api.limits import Limits
from tests.databases import BACKEND, ON_POSTGRES
from tests.processes import SERVING, BotProcess, bot_process, wait_until
from tests.stories import ORGANISER, broadcast_queued_to

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="replicas share a PostgreSQL database; a SQLite file serves one process"
)

RECIPIENTS = 2000
CONCURRENCY = 8  # the documented bound: at most this many messages may go out twice
RATE = 500
TEXT = "Negotiations resume on Monday: please confirm your signature."
PHASE = "Round of talks in Istanbul"
REMINDED = "Memorial has not yet signed"  # the phase reminder, not the phase's start message
TAKEOVER_WITHIN = 30.0  # the bound, from the kill to the other replica sending
# What a replica logs once it holds the leader's lock, and once it found it taken
# (bot/leadership.py).
LEADING = "leading: this replica"
FOLLOWING = "following: another replica leads"


@asynccontextmanager
async def replica(api: LocalBotApi, database_url: str, cwd: Path) -> AsyncIterator[BotProcess]:
    """A `coalition-bot run` on the shared database."""
    async with bot_process(
        cwd,
        BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.url,
        ORGANISER_IDS=str(ORGANISER),
        DATABASE_URL=database_url,
        BROADCAST_RATE=str(RATE),
        PAID_BROADCASTS="true",
        BROADCAST_CONCURRENCY=str(CONCURRENCY),
        REMINDER_OFFSETS="1m",
    ) as bot:
        yield bot


def record_takeover(
    rootpath: Path, *, takeover_seconds: float, leading_after_seconds: float, delivered_at_kill: int
) -> None:
    """Write the measured takeover for the README's figures: to test-artifacts/ at the
    repository's root (`make test` gives each half a --basetemp inside it), one file per
    database so that the two halves never overwrite each other's."""
    artifact = rootpath / "test-artifacts" / f"replica-takeover-{BACKEND}.json"
    artifact.parent.mkdir(exist_ok=True)
    figures = {
        "database": BACKEND,
        "takeover_seconds": round(takeover_seconds, 3),
        "leading_after_seconds": round(leading_after_seconds, 3),
        "tries_every_seconds": TRY_EVERY,
        "delivered_at_kill": delivered_at_kill,
        "recipients": RECIPIENTS,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    artifact.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


async def memorial_with_a_broadcast_and_a_reminder_due(database: Database) -> range:
    """2,000 contacts of Memorial; a broadcast queued to them; an open appeal Memorial has not
    signed, attached to a phase whose reminder (a minute before) falls due in 15 s. Returns
    the contacts' ids."""
    ids = await broadcast_queued_to(database, RECIPIENTS, TEXT, organiser_id=ORGANISER)
    now = utcnow()
    async with database.transaction() as session:
        appeal = await appeals.create_appeal(
            session=session, title="Free them all", text="The text.", organiser_id=ORGANISER
        )
        phase = await phases.add_phase(
            session=session,
            name=PHASE,
            starts_at=now + timedelta(minutes=1, seconds=15),
            organiser_id=ORGANISER,
            now=now,
        )
        await phases.attach(
            session=session,
            appeal_id=stored_id(appeal.id),
            phase_id=stored_id(phase.id),
            actor_id=ORGANISER,
            now=now,
        )
        await appeals.publish_appeal(session=session, appeal_id=stored_id(appeal.id), now=now)
    return ids


async def test_the_other_replica_takes_over_when_the_leader_dies(
    tmp_path: Path, api: LocalBotApi, database_url: str, pytestconfig: pytest.Config
) -> None:
    database = Database(database_url)
    ids = await memorial_with_a_broadcast_and_a_reminder_due(database)
    recipients = [api.meet(user_id, f"Contact {user_id}") for user_id in ids]
    api.meet(ORGANISER, "Olena")
    # Telegram's limit for this bot's paid broadcasts is the outbox's rate: both replicas
    # together must keep it.
    api.limits = Limits(paid_rate=RATE)

    def received(person: Person, words: str) -> int:
        return sum(words in message.text for message in api.messages(person.user_id))

    def broadcasts() -> int:
        return sum(received(person, TEXT) for person in recipients)

    def first_sent_after(moment: float) -> float | None:
        """When the server accepted the first message sent after `moment`, to anyone."""
        return min(
            (
                message.accepted_at
                for person in [*recipients, api.people[ORGANISER]]
                for message in api.messages(person.user_id)
                if message.accepted_at > moment
            ),
            default=None,
        )

    # The first replica leads; the second starts once the broadcast is under way, and waits.
    async with replica(api, database_url, tmp_path) as first:
        await first.logged(LEADING)
        await wait_until(
            "a quarter of the broadcast delivered",
            lambda: broadcasts() >= RECIPIENTS // 4,
            within=60,
        )
        async with replica(api, database_url, tmp_path) as second:
            # Up, serving, and it found the lock taken. The kill comes just after that first
            # try: the slowest takeover, a whole TRY_EVERY before the next.
            await second.logged(FOLLOWING)
            await second.logged(SERVING)
            killed_at = time.monotonic()
            await first.kill()
            at_kill = broadcasts()
            assert at_kill < RECIPIENTS, (
                "the broadcast finished before the kill: nothing was tested"
            )

            # It leads at its next try, and sends from there.
            leading_at = await second.logged(LEADING, within=TAKEOVER_WITHIN)
            await wait_until(
                "the new leader sends",
                lambda: first_sent_after(leading_at) is not None,
                within=TAKEOVER_WITHIN,
                every=0.1,  # the moment is read from the server, not from this look
            )
            sending_at = first_sent_after(leading_at)
            assert sending_at is not None
            takeover = sending_at - killed_at
            measured = (
                f"killed at {at_kill} of {RECIPIENTS}; the other replica led "
                f"{leading_at - killed_at:.1f} s later and sent {takeover:.1f} s later"
            )
            record_takeover(
                pytestconfig.rootpath,
                takeover_seconds=takeover,
                leading_after_seconds=leading_at - killed_at,
                delivered_at_kill=at_kill,
            )
            assert takeover <= TAKEOVER_WITHIN, measured

            # Everyone gets the broadcast, the announcement and the reminder.
            await wait_until(
                f"everyone has the broadcast and the reminder ({measured})",
                lambda: (
                    all(received(person, REMINDED) for person in recipients)
                    and broadcasts() >= RECIPIENTS
                ),
                within=90,
                every=0.2,  # a look reads 6,000 messages: on the cores the server needs
            )
            await second.stop()

    copies = Counter(received(person, TEXT) for person in recipients)
    assert 0 not in copies, f"someone never got the broadcast ({measured})"
    extra = sum((n - 1) * people for n, people in copies.items())
    assert extra <= CONCURRENCY, f"{extra} duplicates, more than the in-flight bound ({measured})"
    announcements = Counter(received(person, "New appeal #1") for person in recipients)
    assert announcements[0] == 0, measured
    assert Counter(received(person, REMINDED) for person in recipients) == {1: RECIPIENTS}
    async with database.transaction() as session:
        assert len((await session.exec(select(Reminder))).all()) == 1
    await database.dispose()
    assert api.limits.throttled == 0, (
        f"the replicas together sent faster than BROADCAST_RATE ({measured})"
    )
    print(f"{measured}; {extra} duplicates")
