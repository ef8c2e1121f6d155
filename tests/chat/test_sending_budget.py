"""One Telegram budget, end to end: an announcement goes out while its first readers sign and ask,
on the project's Bot API server with Telegram's limits on; paid broadcasts; the progress message."""

import asyncio
import bisect
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from itertools import pairwise

import httpx
import pytest
from sqlmodel import col, func, select

from bot.application import build_application
from bot.serving import serving
from foundation.i18n import load_texts
from foundation.settings import Settings
from models import Account, Broadcast, Contact, Database, Organisation, Signature
from models.organisation import name_key
from models.utc import utcnow
from rendering.broadcasts import Pace, render_progress
from services import appeals, progress
from services.progress import BulkSend, Tally
from stand.local_api import LocalBotApi
from stand.local_api.chat import Person
from stand.local_api.html import message_text
from stand.sandbox.clock import MovableClock
from tests.people import Someone
from tests.stories import ORGANISER, broadcast_queued_to, outbox_settled
from tests.units.test_local_api_limits import ServerClock

FIRST_CONTACT = 20_000
TELEGRAM_CHAT_BURST = 3
# Telegram's limits as its Bot FAQ gives them, not the bot's own constants: a wrong margin in
# bot/budget.py fails the tests that measure sends against these.
TELEGRAMS_CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
TELEGRAMS_RATE = 30  # messages a second in all, paid broadcasts aside
ANNOUNCED = "New appeal #1"


async def organisations_with_a_contact_each(database: Database, count: int) -> range:
    """`count` member organisations, one subscribed contact each, and a draft appeal #1."""
    ids = range(FIRST_CONTACT, FIRST_CONTACT + count)
    async with database.transaction() as session:
        for user_id in ids:
            name = f"Human Rights Group {user_id}"
            organisation = Organisation(name=name, name_key=name_key(name))
            session.add(organisation)
            await session.flush()
            assert organisation.id is not None
            session.add(Account(telegram_id=user_id, language="en"))
            session.add(Contact(telegram_id=user_id, organisation_id=organisation.id))
        await appeals.create_appeal(
            session=session,
            title="Free the detainees",
            text="Your Excellencies,\nWe call on you to act.",
            organiser_id=ORGANISER,
        )
    return ids


def telegrams_limits(api: LocalBotApi) -> None:
    api.limits.overall_rate = 30
    api.limits.per_chat_interval = 1.0
    api.limits.per_chat_burst = TELEGRAM_CHAT_BURST


StartBot = Callable[..., Awaitable[None]]


@pytest.fixture
async def start_bot(settings: Settings, clock: MovableClock) -> AsyncIterator[StartBot]:
    """Serve the bot with settings of the test's choosing: `await start_bot(**changes)`."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**changes: object) -> None:
            telegrams = settings.model_copy(update={"chat_burst": TELEGRAM_CHAT_BURST, **changes})
            app = build_application(telegrams, clock=clock)
            await stack.enter_async_context(serving(app))

        yield start


async def signs_on_arrival(api: LocalBotApi, person: Person) -> str:
    """Taps Co-sign as soon as the announcement arrives, then Confirm; what the bot answered."""
    announcement = await api.wait_for_message(person.user_id, 0)
    api.push_callback(person, announcement, "cosign:1")
    question = await api.wait_for_message(person.user_id, 1)
    api.push_callback(person, question, "cosign-confirm:1")
    await api.wait_for_edit(question, 0)
    return question.text


async def asks_on_arrival(api: LocalBotApi, person: Person) -> str:
    await api.wait_for_message(person.user_id, 0)
    api.push_message(person, "/status 1")
    return (await api.wait_for_message(person.user_id, 1)).text


async def test_answers_arrive_during_an_announcement_and_telegram_refuses_nothing(
    api: LocalBotApi, database: Database, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await organisations_with_a_contact_each(database, 200)
    people = [api.meet(user_id, f"Contact {user_id}") for user_id in ids]
    telegrams_limits(api)
    await start_bot()
    organiser = Someone(api, ORGANISER, "Olena")
    signers, askers = people[::10], people[5::20]

    progress_text = await organiser.says("/publish 1")
    async with asyncio.timeout(90):
        signed, asked = await asyncio.gather(
            asyncio.gather(*(signs_on_arrival(api, p) for p in signers)),
            asyncio.gather(*(asks_on_arrival(api, p) for p in askers)),
        )
    progress = organiser.inbox()[-1]
    final = await organiser.sees_it_end(progress, "Appeal #1", timeout=90)

    assert api.limits.throttled_why == [], "Telegram answered 429"
    assert api.refused == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert all(text.startswith("Human Rights Group") and "co-signed" in text for text in signed)
    assert all(text.startswith("#1 Free the detainees") for text in asked)
    for person in people:  # everyone reached once; the answering got each answer once
        texts = [m.text for m in api.messages(person.user_id)]
        assert sum(t.startswith(ANNOUNCED) for t in texts) == 1
        assert len(texts) == (2 if person in signers or person in askers else 1)
    async with database.transaction() as session:
        count = (
            await session.exec(
                select(func.count()).select_from(Signature).where(col(Signature.appeal_id) == 1)
            )
        ).one()
    assert count == len(signers)
    # The progress message moved while the announcement went out, then gave the final figures.
    assert progress_text.startswith("Appeal #1 “Free the detainees” is open for signatures")
    assert "░" in progress_text
    edits = [
        params["text"]
        for method, params in api.calls
        if method == "editMessageText" and int(params["message_id"]) == progress.message_id
    ]
    assert any("▓" in text and "Still to send" in text for text in edits), edits
    assert any(re.search(r"\n\d+ a second; about \d+ seconds left$", text) for text in edits)
    assert final == (
        "Appeal #1 “Free the detainees” is open for signatures; it is announced to 200 members.\n"
        "Delivered: 200\nBlocked the bot: 0\nFailed: 0"
    )


async def test_paid_broadcasts_go_beyond_thirty_a_second_and_none_is_refused(
    api: LocalBotApi, database: Database, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await organisations_with_a_contact_each(database, 150)
    people = [api.meet(user_id, f"Contact {user_id}") for user_id in ids]
    api.limits.overall_rate = TELEGRAMS_RATE  # unless a send carries allow_paid_broadcast
    # Telegram's clock stands still: every send falls in one of its seconds, however fast or
    # slow the machine (the bot's pace itself: tests/units/test_budget.py, on a clock of its own).
    ServerClock().install(monkeypatch)
    await start_bot(broadcast_rate=100, paid_broadcasts=True)
    organiser = Someone(api, ORGANISER, "Olena")

    await organiser.says("/publish 1")
    async with asyncio.timeout(60):
        await asyncio.gather(*(api.wait_for_message(p.user_id, 0) for p in people))

    announcements = [api.messages(p.user_id)[0] for p in people]
    assert all(m.paid for m in announcements)
    assert most_in_any_second([m.accepted_at for m in announcements]) == len(people)
    assert api.limits.throttled == 0
    assert api.refused == []
    assert not organiser.inbox()[0].paid  # answers are never paid for


async def asks_twice_on_arrival(api: LocalBotApi, person: Person) -> list[str]:
    """Asks `/status 1` twice at once as soon as the announcement arrives; the answers."""
    await api.wait_for_message(person.user_id, 0)
    api.push_message(person, "/status 1")
    api.push_message(person, "/status 1")
    return [(await api.wait_for_message(person.user_id, n)).text for n in (1, 2)]


def most_in_any_second(times: list[float]) -> int:
    """The most sends that arrived within one second of each other."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


async def test_no_chat_gets_two_messages_within_a_second_nor_the_bot_over_thirty_a_second(
    api: LocalBotApi, database: Database, start_bot: StartBot
) -> None:
    """Telegram's limits measured where Telegram measures them, on the sends as the server
    received them: the announcement to sixty members, and each one's two questions answered
    as it arrives, with the bot allowed no burst in a chat."""
    ids = await organisations_with_a_contact_each(database, 60)
    people = [api.meet(user_id, f"Contact {user_id}") for user_id in ids]
    await start_bot(chat_burst=1)
    organiser = Someone(api, ORGANISER, "Olena")

    await organiser.says("/publish 1")
    async with asyncio.timeout(90):
        answered = await asyncio.gather(*(asks_twice_on_arrival(api, p) for p in people))

    assert all(text.startswith("#1 Free the detainees") for texts in answered for text in texts)
    arrivals = {chat: [m.accepted_at for m in api.messages(chat)] for chat in api.people}
    gaps = [later - sooner for times in arrivals.values() for sooner, later in pairwise(times)]
    assert min(gaps) >= TELEGRAMS_CHAT_INTERVAL
    assert most_in_any_second([t for times in arrivals.values() for t in times]) <= TELEGRAMS_RATE
    assert api.refused == []


@pytest.mark.parametrize("sent_before_the_crash", [True, False])
async def test_a_progress_message_left_by_a_stopped_bot_is_finished_by_the_next(
    api: LocalBotApi, database: Database, start_bot: StartBot, sent_before_the_crash: bool
) -> None:
    # A bot queued a broadcast to 30 and stopped: either after sending its progress message,
    # or (a crash) before; the new process has only the database to go on.
    ids = await broadcast_queued_to(database, 30, "Vigil tonight.", organiser_id=ORGANISER)
    for user_id in ids:
        api.meet(user_id, f"Contact {user_id}")
    organiser = Someone(api, ORGANISER, "Olena")
    message_id = None
    if sent_before_the_crash:
        async with httpx.AsyncClient(base_url=f"{api.url}/bot{api.token}/") as client:
            sent = await client.post("sendMessage", json={"chat_id": ORGANISER, "text": "…"})
        message_id = sent.json()["result"]["message_id"]
    async with database.transaction() as session:
        progress_id = await progress.track(
            session=session,
            chat_id=ORGANISER,
            send=BulkSend(broadcast_id=1),
            now=utcnow() - timedelta(minutes=1),
        )
        if message_id is not None:
            await progress.shown(session=session, progress_id=progress_id, message_id=message_id)

    await start_bot()
    shown = await organiser.next_message()
    report = await organiser.sees_it_end(shown, "Broadcast #1 is done.")

    assert report == "Broadcast #1 is done.\nDelivered: 30\nBlocked the bot: 0\nFailed: 0"
    assert (shown.message_id == message_id) is sent_before_the_crash
    # Once the progress message is finished, the broadcast counts as reported: no report of its
    # own follows (services.outbox.finished_broadcasts), and none was sent before.
    await outbox_settled(database, progress=True)
    async with database.transaction() as session:
        [reported_at] = (await session.exec(select(Broadcast.reported_at))).all()
    assert reported_at is not None
    assert len(organiser.inbox()) == 1
    assert api.refused == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Broadcast #4 is going out to 2000 recipients.\n"
               "▓▓▓▓▓▓░░░░░░░░░░░░░░ 30%\n"
               "Delivered: 580\nBlocked the bot: 15\nFailed: 5\nStill to send: 1400\n"
               "25 a second; about 1 minute left"),
        ("fr", "Diffusion #4 en cours d’envoi à 2000 destinataires.\n"
               "▓▓▓▓▓▓░░░░░░░░░░░░░░ 30%\n"
               "Livrés : 580\nOnt bloqué le bot : 15\nÉchecs : 5\nReste à envoyer : 1400\n"
               "25 par seconde ; reste environ 1 minute"),
        ("uk", "Розсилка #4 надсилається 2000 одержувачам.\n"
               "▓▓▓▓▓▓░░░░░░░░░░░░░░ 30%\n"
               "Доставлено: 580\nЗаблокували бота: 15\nНе вдалося: 5\nЩе надіслати: 1400\n"
               "25 за секунду; залишилося близько 1 хвилини"),
    ],
)  # fmt: skip
def test_a_progress_message_reads_well_in_each_language(language: str, expected: str) -> None:
    texts = load_texts()[language]
    tally = Tally(pending=1400, sent=580, blocked=15, failed=5)

    shown = render_progress(texts, BulkSend(broadcast_id=4), tally, Pace(25, timedelta(seconds=56)))

    assert message_text(str(shown), "HTML") == expected
