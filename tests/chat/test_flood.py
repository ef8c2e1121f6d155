"""Flood control: a person who sends commands faster than anyone types gets their allowance
answered and one polite notice, the rest is skipped and stores nothing, and everyone else is
answered as usual."""

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select
from telegram import Update

from bot.application import program
from bot.intake import SettlingProcessor
from foundation.settings import Settings, SettingsError, load_settings
from handlers.context import CoalitionApplication
from handlers.flood import sender
from handlers.flood_control import FloodControl, Verdict
from models import Database, IncomingUpdate, Organisation
from stand.local_api import LocalBotApi
from stand.sandbox.clock import MovableClock
from tests.people import REPLY_TIMEOUT, Someone
from tests.stories import IRINA, OLEG, TITLE, member, open_appeal, snapshot

# Small and slow, so that no allowance refills while a test runs however slow the machine:
# one message comes back every 100 s, unless the test moves the bot's clock.
BURST = 5
RATE = 0.01
REFILL_ONE = timedelta(seconds=1 / RATE)
REFILL_ALL = timedelta(seconds=BURST / RATE)

# How long a whole flood (a hundred updates) may take to be handled on a busy machine: a bound
# on a test that hangs, never what it measures.
HANDLED_WITHIN = 3 * REPLY_TIMEOUT

NOTICE = (
    "You are sending me messages faster than I can answer, so I skipped some. "
    "Wait a few seconds, then send the command again."
)
# Irina's answer to /status 1.
STATUS = (
    f"#1 {TITLE}\nState: open for signatures\n0 organisations have signed.\n"
    "Memorial has not signed."
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"flood_burst": BURST, "flood_rate": RATE})


@pytest.fixture
async def appeal(database: Database) -> int:
    """Appeal #1 is open; Memorial (Irina's) and Amnesty (Oleg's) joined after it was announced,
    so that what the bot sends them is only its answers."""
    opened = await open_appeal(database)
    await member(database, "Memorial", IRINA)
    await member(database, "Amnesty", OLEG)
    return opened


def flood(person: Someone, text: str, times: int) -> list[int]:
    """`person` sends `text` `times` times at once, as a runaway script would; the update ids."""
    return [person.api.push_message(person.person, text) for _ in range(times)]


class FinishedUpdates:
    """The updates a running bot is done with (its handlers returned, their replies sent), as its
    update processor reports each one to the metrics (bot.intake.SettlingProcessor.observe)."""

    def __init__(self, app: CoalitionApplication, monkeypatch: pytest.MonkeyPatch) -> None:
        self.app = app
        self.ids: set[int] = set()
        self._finished = asyncio.Event()
        processor = app.update_processor
        assert isinstance(processor, SettlingProcessor)
        report = processor.observe
        assert report is not None

        def observe(update: object, seconds: float) -> None:
            report(update, seconds)
            if isinstance(update, Update):
                self.ids.add(update.update_id)
            self._finished.set()

        monkeypatch.setattr(processor, "observe", observe)

    async def include(self, update_ids: Iterable[int]) -> None:
        """Wait until the bot is done with these updates and has written that each is handled
        (answered or skipped), which a skipped one is only a moment later (Intake.settle)."""
        await self._until(lambda: self.ids.issuperset(update_ids))
        await program(self.app).intake.flush()

    async def number(self, count: int) -> None:
        """Wait until the bot is done with `count` updates."""
        await self._until(lambda: len(self.ids) >= count)

    async def _until(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(HANDLED_WITHIN):
            while not done():
                self._finished.clear()
                await self._finished.wait()


@pytest.fixture
def finished(running_bot: CoalitionApplication, monkeypatch: pytest.MonkeyPatch) -> FinishedUpdates:
    """The updates the running bot finishes from now on."""
    return FinishedUpdates(running_bot, monkeypatch)


async def answers(
    finished: FinishedUpdates, person: Someone, text: str, times: int = 1
) -> list[str]:
    """What the bot says back once `person` has sent `text` `times` times at once."""
    before = len(person.inbox())
    await finished.include(flood(person, text, times))
    return [message.text for message in person.inbox()[before:]]


async def test_a_flood_gets_its_allowance_and_one_notice_and_stores_nothing_more(
    api: LocalBotApi, finished: FinishedUpdates, database: Database, appeal: int
) -> None:
    irina = Someone(api, IRINA, "Irina")
    before = await snapshot(database)

    got = await answers(finished, irina, f"/status {appeal}", 50)

    assert sorted(got) == sorted([STATUS] * BURST + [NOTICE])
    assert await snapshot(database) == before
    assert api.refused == []


async def test_what_was_sent_while_the_bot_was_down_is_answered_in_full(
    api: LocalBotApi, finished: FinishedUpdates, appeal: int
) -> None:
    """Irina sent her commands during a restart: they reach the bot together, but Telegram
    dated them before it started, so they are a backlog, not a flood."""
    irina = Someone(api, IRINA, "Irina")
    api.clock = lambda: time.time() - 3600  # the dates Telegram gave them, while it was down

    got = await answers(finished, irina, f"/status {appeal}", 3 * BURST)

    assert got == [STATUS] * 3 * BURST


async def test_button_presses_past_the_allowance_are_answered_so_no_spinner_hangs(
    api: LocalBotApi, finished: FinishedUpdates, appeal: int
) -> None:
    irina = Someone(api, IRINA, "Irina")
    await irina.says("/forget")
    question = irina.inbox()[-1]
    presses = 3 * BURST
    answered_before = [method for method, _ in api.calls].count("answerCallbackQuery")

    taps = [api.push_callback(irina.person, question, "forget-cancel") for _ in range(presses)]
    await finished.include(taps)

    answered = [method for method, _ in api.calls].count("answerCallbackQuery") - answered_before
    assert answered == presses
    assert [m.text for m in irina.inbox()].count(NOTICE) == 1


async def test_an_organisers_runaway_script_stores_only_what_its_allowance_let_through(
    api: LocalBotApi, finished: FinishedUpdates, organiser: Someone, database: Database
) -> None:
    sent = [api.push_message(organiser.person, f"/invite NGO {n}") for n in range(30)]
    await finished.include(sent)

    got = [message.text for message in organiser.inbox()]
    assert len(got) == BURST + 1
    assert got.count(NOTICE) == 1
    async with database.transaction() as session:
        names = (await session.exec(select(Organisation.name))).all()
        # Every update is marked handled: the skipped ones are not replayed at the next start.
        waiting = await session.exec(
            select(IncomingUpdate).where(col(IncomingUpdate.handled_at).is_(None))
        )
        assert waiting.all() == []
    assert len(names) == BURST
    assert sorted(f"New organisation {name}." for name in names) == sorted(
        text.splitlines()[0] for text in got if text != NOTICE
    )


async def test_others_are_answered_while_someone_floods(
    api: LocalBotApi, finished: FinishedUpdates, appeal: int
) -> None:
    irina, oleg = Someone(api, IRINA, "Irina"), Someone(api, OLEG, "Oleg")

    sent = flood(irina, f"/status {appeal}", 50)
    asked = api.push_message(oleg.person, f"/status {appeal}")
    sent += flood(irina, f"/status {appeal}", 50)
    answer = await oleg.next_message()
    await finished.include([*sent, asked])

    assert answer.text == STATUS.replace("Memorial", "Amnesty")
    # Oleg asked after fifty of Irina's: without flood control most of their answers would
    # have gone out before his. Only her allowance and the notice may have.
    irinas = irina.inbox()
    assert len([m for m in irinas if m.message_id < answer.message_id]) <= BURST + 1
    assert len(irinas) == BURST + 1
    assert [m.text for m in oleg.inbox()] == [answer.text]
    assert api.refused == []


async def test_the_allowance_refills_and_a_new_flood_gets_a_new_notice(
    api: LocalBotApi, finished: FinishedUpdates, clock: MovableClock, appeal: int
) -> None:
    irina = Someone(api, IRINA, "Irina")
    status = f"/status {appeal}"
    assert sorted(await answers(finished, irina, status, 20)) == sorted([STATUS] * BURST + [NOTICE])

    # Time for one more message: it is answered, the next is skipped without a second notice,
    # since the allowance has not been full again since the first.
    clock.advance(REFILL_ONE)
    assert await answers(finished, irina, status) == [STATUS]
    assert await answers(finished, irina, status) == []

    # Once it is full again the episode is over: answered as usual, and a new flood is told.
    clock.advance(REFILL_ALL)
    assert await answers(finished, irina, status) == [STATUS]
    assert sorted(await answers(finished, irina, status, 20)) == sorted(
        [STATUS] * (BURST - 1) + [NOTICE]
    )


async def test_a_stranger_is_held_back_too_and_told_in_their_language(
    api: LocalBotApi, finished: FinishedUpdates
) -> None:
    amelie = Someone(api, 3001, "Amélie", "fr")
    got = await answers(finished, amelie, "/help", 10)
    notice = (
        "Vous m’envoyez des messages plus vite que je ne peux répondre, j’en ai donc laissé "
        "certains sans réponse. Attendez quelques secondes, puis renvoyez la commande."
    )
    assert [text == notice for text in got].count(True) == 1
    assert len(got) == BURST + 1


# The bucket itself, on a clock of the test's own ------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def verdicts(control: FloodControl, person: int, times: int) -> list[Verdict]:
    return [control.admit(person) for _ in range(times)]


ANSWER, NOTICE_ONCE, SKIP = Verdict.ANSWER, Verdict.NOTICE, Verdict.SKIP


def test_the_bucket_lets_a_burst_through_then_one_at_the_rate() -> None:
    clock = FakeClock()
    control = FloodControl(burst=3, rate=0.5, clock=clock)

    assert verdicts(control, IRINA, 6) == [ANSWER, ANSWER, ANSWER, NOTICE_ONCE, SKIP, SKIP]
    assert verdicts(control, OLEG, 3) == [ANSWER, ANSWER, ANSWER]  # each person has their own
    clock.advance(1.9)
    assert verdicts(control, IRINA, 1) == [SKIP]
    clock.advance(0.1)  # two seconds: one message at 0.5 a second
    assert verdicts(control, IRINA, 2) == [ANSWER, SKIP]
    clock.advance(6)  # full again: the episode is over
    assert verdicts(control, IRINA, 5) == [ANSWER, ANSWER, ANSWER, NOTICE_ONCE, SKIP]


def test_a_clock_set_back_refills_nothing() -> None:
    clock = FakeClock()
    control = FloodControl(burst=2, rate=1, clock=clock)
    assert verdicts(control, IRINA, 3) == [ANSWER, ANSWER, NOTICE_ONCE]
    clock.advance(-3600)
    assert verdicts(control, IRINA, 1) == [SKIP]
    clock.advance(1)
    assert verdicts(control, IRINA, 2) == [ANSWER, SKIP]


def test_people_whose_allowance_is_full_are_forgotten() -> None:
    clock = FakeClock()
    control = FloodControl(burst=2, rate=1, clock=clock)
    for person in range(100):
        control.admit(person)
    assert len(control) == 100
    clock.advance(2)  # everyone's bucket is full again
    control.admit(IRINA)
    assert len(control) == 1


# Which updates count, and the settings ----------------------------------------------------

USER = {"id": IRINA, "is_bot": False, "first_name": "Irina"}


def message_in(chat: dict[str, object], **sender_of: object) -> dict[str, object]:
    return {"message_id": 1, "date": 0, "chat": chat, "text": "/help", **sender_of}


@pytest.mark.parametrize(
    ("update", "counted"),
    [
        ({"message": message_in({"id": IRINA, "type": "private"}, **{"from": USER})}, IRINA),
        (
            {
                "callback_query": {
                    "id": "1",
                    "from": USER,
                    "chat_instance": "1",
                    "data": "cosign:1",
                    "message": message_in({"id": IRINA, "type": "private"}),
                }
            },
            IRINA,
        ),
        ({"message": message_in({"id": -100, "type": "group"}, **{"from": USER})}, None),
        ({"edited_message": message_in({"id": IRINA, "type": "private"}, **{"from": USER})}, None),
        ({"channel_post": message_in({"id": -200, "type": "channel"})}, None),
    ],
    ids=["private message", "button", "group message", "edit", "channel post"],
)
def test_private_messages_and_button_presses_count_and_nothing_else(
    update: dict[str, object], counted: int | None
) -> None:
    assert sender(Update.de_json({"update_id": 1, **update}, None)) == counted


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("FLOOD_BURST", "0", "FLOOD_BURST: Input should be greater than or equal to 1"),
        ("FLOOD_RATE", "0", "FLOOD_RATE: Input should be greater than 0"),
        ("FLOOD_RATE", "often", "FLOOD_RATE: Input should be a valid number"),
    ],
)
def test_a_bad_flood_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, error: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="^" + error):
        load_settings()
