"""Organisers keep the negotiation timeline; members are reminded at the right moments."""

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.application import build_application, program
from bot.serving import serving
from foundation.settings import Settings
from handlers.context import CoalitionApplication
from models import Database, Phase, Reminder
from stand.local_api import LocalBotApi, SentMessage
from stand.sandbox.clock import MovableClock
from tests.people import REPLY_TIMEOUT, Someone, appeal_number, invite_code
from tests.processes import bot_serving
from tests.stories import ORGANISER


def later(clock: MovableClock, **delta: float) -> str:
    """A time to type, `delta` from the bot's now, in UTC."""
    return f"{clock() + timedelta(**delta):%Y-%m-%d %H:%M}"


async def test_an_organiser_plans_a_phase_and_members_see_it(
    api: LocalBotApi, organiser: Someone, clock: MovableClock, database: Database
) -> None:
    irina = Someone(api, 2001, "Irina")
    await irina.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
    appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nText."))
    await organiser.says(f"/publish {appeal_id}")
    await irina.next_message()  # the announcement

    added = await organiser.says(f"/phase {later(clock, days=5)} Istanbul round")
    assert re.fullmatch(
        r"Added phase #1 “Istanbul round”: it starts \d{4}-\d\d-\d\d \d\d:\d\d UTC "
        r"\(in 5 days\)\. /attach APPEAL 1 times an appeal to it\.",
        added,
    ), added
    assert "phase #1" in added
    assert await organiser.says(f"/attach {appeal_id} 1") == (
        f"Appeal #{appeal_id} “Free them all” is timed to phase #1 “Istanbul round”: "
        "organisations that have not signed it are reminded before the phase starts."
    )
    timeline = await irina.says("/phases")
    assert timeline.startswith("Negotiation timeline\n#1 Istanbul round — ")
    assert f"   • #{appeal_id} Free them all" in timeline

    # Irina reads times in Kyiv; the phase moves; the organiser's offset is honoured.
    assert (await irina.says("/timezone Europe/Kyiv")).startswith(
        "Times are now shown in Europe/Kyiv: it is "
    )
    moved = await organiser.says("/phase 1 2030-06-01 14:00+02:00")
    assert moved == (
        "Moved phase #1 “Istanbul round”: it now starts 2030-06-01 12:00 UTC "
        f"({_countdown(moved)}). Its reminders follow the new time."
    )
    assert "#1 Istanbul round — 2030-06-01 15:00 Europe/Kyiv" in await irina.says("/phases")
    async with database.transaction() as session:
        [phase] = (await session.exec(select(Phase))).all()
    assert phase.starts_at.isoformat() == "2030-06-01T12:00:00+00:00"

    deadline = await organiser.says(f"/deadline {appeal_id} 2030-05-31 18:00")
    assert deadline.startswith(
        f"Appeal #{appeal_id} “Free them all” closes for signatures 2030-05-31 18:00 UTC (in "
    )
    # The deadline is shown wherever the appeal is, to the organiser and the members alike.
    closes = "Signatures close 2030-05-31 21:00 Europe/Kyiv (in "
    assert f"   • #{appeal_id} Free them all: {closes}" in await irina.says("/phases")
    assert closes in await irina.says(f"/appeal {appeal_id}")
    assert closes in await irina.says(f"/status {appeal_id}")
    assert "Signatures close 2030-05-31 18:00 UTC (in " in await organiser.says(
        f"/status {appeal_id}"
    )
    await organiser.says(f"/close {appeal_id}")
    # The news that it closed reaches her through the outbox, before her next answer or after.
    assert (await irina.next_message()).text.startswith(f"🔒 Appeal #{appeal_id}")
    assert "Signatures close" not in await irina.says(f"/status {appeal_id}")


def _countdown(reply: str) -> str:
    match = re.search(r"\((in [^)]*)\)", reply)
    assert match
    return match[1]


@pytest.mark.parametrize(
    ("sends", "reply"),
    [
        (
            "/phase",
            "Usage: /phase YYYY-MM-DD HH:MM NAME adds a phase; /phase ID YYYY-MM-DD HH:MM moves one. The time may end with an offset such as +02:00.",
        ),
        (
            "/phase 2030-06-01 14:00",
            "Usage: /phase YYYY-MM-DD HH:MM NAME adds a phase; /phase ID YYYY-MM-DD HH:MM moves one. The time may end with an offset such as +02:00.",
        ),
        (
            "/phase 1st of June Istanbul",
            "Usage: /phase YYYY-MM-DD HH:MM NAME adds a phase; /phase ID YYYY-MM-DD HH:MM moves one. The time may end with an offset such as +02:00.",
        ),
        ("/phase 2030-02-30 14:00 Geneva", "There is no such date and time as 2030-02-30 14:00."),
        ("/phase 2030-06-01 24:30 Geneva", "There is no such date and time as 2030-06-01 24:30."),
        ("/phase 2020-06-01 14:00 Geneva", "That time has already passed: give one in the future."),
        ("/phase 9 2030-06-01 14:00", "There is no phase #9. /phases lists them."),
        ("/attach 1", "Usage: /attach APPEAL_ID PHASE_ID"),
        ("/attach 1 9", "There is no phase #9. /phases lists them."),
        ("/attach 7 1", "There is no appeal #7. /appeals lists them."),
        ("/deadline 1 2020-01-01 10:00", "That time has already passed: give one in the future."),
        ("/deadline 1 tomorrow", "Usage: /deadline APPEAL_ID YYYY-MM-DD HH:MM"),
        ("/remind 7", "There is no appeal #7. /appeals lists them."),
        (
            "/timezone Mars/Olympus",
            "There is no time zone Mars/Olympus. Write it as Area/City, for example /timezone Europe/Kyiv.",
        ),
        ("/timezone", "Usage: /timezone Area/City, for example /timezone Europe/Kyiv"),
    ],
)
async def test_bad_times_and_ids_are_refused_in_one_line(
    organiser: Someone, sends: str, reply: str
) -> None:
    await organiser.says("/newappeal Free them all\nText.")
    await organiser.says("/phase 2030-06-01 14:00 Istanbul round")
    assert await organiser.says(sends) == reply


async def test_only_organisers_keep_the_timeline(api: LocalBotApi, organiser: Someone) -> None:
    member = Someone(api, 2001, "Irina")
    await member.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
    for command in (
        "/phase 2030-06-01 14:00 X",
        "/attach 1 1",
        "/deadline 1 2030-06-01 14:00",
        "/remind 1",
    ):
        name = command.split()[0][1:]
        assert await member.says(command) == f"Only organisers can use /{name}."


async def test_remind_nudges_only_the_organisations_that_have_not_signed(
    api: LocalBotApi, organiser: Someone
) -> None:
    signer = Someone(api, 2001, "Irina")
    await signer.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
    late = Someone(api, 2002, "Taras", "uk")
    await late.says(f"/join {invite_code(await organiser.says('/invite ZMINA'))}")
    appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nText."))
    await organiser.says(f"/publish {appeal_id}")
    await signer.next_message()
    await late.next_message()
    await signer.says(f"/cosign {appeal_id}")

    assert await organiser.says(f"/remind {appeal_id}") == (
        f"Reminded 1 organisation that has not signed appeal #{appeal_id}."
    )
    reminder = await late.next_message()
    assert reminder.text == (
        f"⏰ Організатори просять організацію «ZMINA» розглянути підписання:\n• #{appeal_id} Free them all"
    )
    assert [b["callback_data"] for b in reminder.buttons()] == [f"cosign:{appeal_id}"]
    assert not any(m.text.startswith("⏰") for m in signer.inbox())


async def test_across_a_restart_each_reminder_and_the_start_go_out_once(
    api: LocalBotApi, settings: Settings, clock: MovableClock, database: Database
) -> None:
    """Reminders two hours and one hour ahead, on the bot's movable clock; the bot is down
    across the second one's moment and back within the grace."""
    timed = settings.model_copy(
        update={
            "reminder_offsets": (timedelta(hours=2), timedelta(hours=1)),
            "reminder_grace": timedelta(minutes=30),
        }
    )
    organiser = Someone(api, ORGANISER, "Olena")
    member = Someone(api, 2001, "Irina")
    async with serving(build_application(timed, clock=clock)) as bot:
        await member.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
        appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nText."))
        await organiser.says(f"/publish {appeal_id}")
        await member.next_message()  # the announcement
        starts = (clock() + timedelta(hours=3)).replace(second=0, microsecond=0)
        await organiser.says(f"/phase {starts:%Y-%m-%d %H:%M} Geneva round")
        await organiser.says(f"/attach {appeal_id} 1")
        await time_comes(bot, clock, starts - timedelta(hours=2))
        first = await member.next_message()

    clock.advance(timedelta(hours=1, minutes=20))  # down from two hours before to 40 minutes
    async with serving(build_application(timed, clock=clock)) as bot:
        second = await member.next_message()  # at start-up: missed, but within the grace
        await time_comes(bot, clock, starts)
        started = await member.next_message()

    assert first.text.startswith("⏰ Geneva round starts ")
    assert first.text.endswith(f"Memorial has not yet signed:\n• #{appeal_id} Free them all")
    assert second.text.startswith("⏰ Geneva round starts ")
    assert started.text == "🔔 Geneva round starts now."
    texts = [m.text for m in member.inbox()]
    assert texts[-3:] == [first.text, second.text, started.text]
    assert sum(text.startswith("⏰") for text in texts) == 2  # neither reminder twice
    async with database.transaction() as session:
        ledger = (await session.exec(select(Reminder).order_by(col(Reminder.id)))).all()
    assert [(r.offset_seconds, r.sent) for r in ledger] == [(7200, True), (3600, True)]


async def time_comes(bot: CoalitionApplication, clock: MovableClock, moment: datetime) -> None:
    """Move the bot's clock to `moment` and have it look at the timeline, as the sandbox's
    clock buttons do (its scheduler wakes on the machine's clock)."""
    clock.advance(moment - clock())
    await program(bot).timeline.tick()


# The real process's scheduler: the reminder is due this long before the phase, which starts
# this long after it is typed (time enough to type it and attach the appeal).
OFFSET = timedelta(seconds=10)
LEAD = timedelta(seconds=16)


async def test_a_real_process_wakes_for_each_moment_and_a_restart_repeats_nothing(
    tmp_path: Path, api: LocalBotApi, database_url: str
) -> None:
    """A real `coalition-bot run`, its scheduler on the machine's clock: the reminder goes out
    at its moment and the phase's start at its own, never before; restarted in between, the
    bot announces the start once and does not remind again."""
    settings = dict(
        BOT_TOKEN=api.token,
        TELEGRAM_API_URL=api.url,
        ORGANISER_IDS=str(ORGANISER),
        DATABASE_URL=database_url,
        REMINDER_OFFSETS=f"{OFFSET.seconds}s",
        REMINDER_GRACE="10m",  # however long the restart takes, the start is still announced
    )
    organiser = Someone(api, ORGANISER, "Olena")
    member = Someone(api, 2001, "Irina")
    async with bot_serving(tmp_path, **settings):
        await member.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
        appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nText."))
        await organiser.says(f"/publish {appeal_id}")
        await member.next_message()  # the announcement
        reminded = len(member.inbox())  # the place of the reminder in her chat
        starts = (datetime.now(UTC) + LEAD).replace(microsecond=0)
        await organiser.says(f"/phase {starts:%Y-%m-%d %H:%M:%S} Geneva round")
        await organiser.says(f"/attach {appeal_id} 1")
        reminder = await message_at(api, member, reminded, starts - OFFSET)
    # Up again before the phase starts or after: either way its start is announced once (by
    # this process, or by the last one if it took that long to stop).
    async with bot_serving(tmp_path, **settings):
        started = await message_at(api, member, reminded + 1, starts)

    assert reminder.text.startswith("⏰ Geneva round starts ")
    assert reminder.text.endswith(f"Memorial has not yet signed:\n• #{appeal_id} Free them all")
    # Dated by the server in whole seconds, like the moments: never before its moment.
    assert reminder.date >= (starts - OFFSET).timestamp()
    assert started.text == "🔔 Geneva round starts now."
    assert started.date >= starts.timestamp()
    texts = [m.text for m in member.inbox()]
    assert texts[-2:] == [reminder.text, started.text]
    assert sum(text.startswith(("⏰", "🔔")) for text in texts) == 2  # neither one twice
    database = Database(database_url)
    async with database.transaction() as session:
        ledger = (await session.exec(select(Reminder).order_by(col(Reminder.id)))).all()
    await database.dispose()
    assert [(r.offset_seconds, r.sent) for r in ledger] == [(OFFSET.seconds, True)]


async def message_at(
    api: LocalBotApi, person: Someone, index: int, moment: datetime
) -> SentMessage:
    """The `index`-th message to `person`, due at `moment`: waited for until then, and for as
    long as any answer may take after it."""
    due_in = max(0.0, (moment - datetime.now(UTC)).total_seconds())
    async with asyncio.timeout(due_in + REPLY_TIMEOUT):
        return await api.wait_for_message(person.user_id, index)
