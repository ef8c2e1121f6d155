"""Organisers alert the coalition: preview, Send, one copy each, a report; and every refusal."""

import asyncio

import pytest
from sqlmodel import col, select

from bot.application import build_application
from bot.serving import serving
from foundation.settings import Settings
from models import Broadcast, BroadcastState, Contact, Database, OutboxMessage
from stand.local_api import LocalBotApi
from stand.sandbox.clock import MovableClock
from tests.people import REPLY_TIMEOUT, Someone, invite_code
from tests.stories import broadcast_queued_to, outbox_settled
from tests.units.test_local_api_limits import ServerClock

ALERT = "Round three of the talks opens tomorrow in Istanbul.\nPlease sign appeal #1 tonight."
SHOWN = "📣 From the coalition's organisers\n\n" + ALERT
# Copies that take longer to send at Telegram's 30 a second than an answer may take to come
# (tests.people.REPLY_TIMEOUT, 10 s).
LONG_BROADCAST = 400


async def contact_of(
    api: LocalBotApi, organiser: Someone, organisation: str, user_id: int, language: str = "en"
) -> Someone:
    person = Someone(api, user_id, f"Contact {user_id}", language)
    await person.says(f"/join {invite_code(await organiser.says(f'/invite {organisation}'))}")
    return person


async def test_a_broadcast_reaches_each_subscribed_member_once_and_is_reported(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina = await contact_of(api, organiser, "Memorial", 2001)
    taras = await contact_of(api, organiser, "ZMINA", 2002, "uk")
    quiet = await contact_of(api, organiser, "Quiet NGO", 2003)
    await quiet.says("/unsubscribe")
    stranger = Someone(api, 3001, "Stranger")

    await organiser.says(f"/broadcast {ALERT}")
    preview = organiser.inbox()[-1]
    assert preview.text == (
        "Preview of broadcast #1:\n\n📣 From the coalition's organisers\n\n" + ALERT
    )
    assert [b["text"] for b in preview.buttons()] == ["Send to 2 members", "Cancel"]
    async with database.transaction() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []  # nothing before Send

    sent = await organiser.press_and_read_edit(preview, "Send")
    # The alert stays in the chat as the members see it; the buttons are gone: no second tap.
    assert sent == "Broadcast #1:\n\n📣 From the coalition's organisers\n\n" + ALERT
    assert preview.buttons() == []
    progress = await organiser.next_message()
    assert progress.text.startswith("Broadcast #1 is going out to 2 recipients.")

    alert = await irina.next_message()
    assert alert.text == "📣 From the coalition's organisers\n\n" + ALERT
    assert (await taras.next_message()).text.startswith("📣 Від організаторів коаліції")
    # The progress message becomes the report once nothing is pending.
    report = await organiser.sees_it_end(progress, "Broadcast #1 is done.")
    assert report == "Broadcast #1 is done.\nDelivered: 2\nBlocked the bot: 0\nFailed: 0"

    await outbox_settled(database)
    assert [m.text for m in irina.inbox()].count(alert.text) == 1
    assert len(quiet.inbox()) == 2  # joined, unsubscribed: no alert
    assert stranger.inbox() == []
    assert await organiser.says("/delivery 1") == report


async def test_cancel_sends_nothing_and_a_second_tap_is_refused(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    member = await contact_of(api, organiser, "Memorial", 2001)
    await organiser.says("/broadcast Not this one.")
    preview = organiser.inbox()[-1]
    assert await organiser.press_and_read_edit(preview, "Cancel") == (
        "Broadcast #1 cancelled; nothing was sent."
    )
    # A late tap (from another device, or a replayed button) on Send changes nothing.
    organiser.forge(preview, "broadcast-send:1")
    assert (await organiser.next_message()).text == "Broadcast #1 was cancelled; nothing was sent."

    await organiser.says("/broadcast This one.")
    second = organiser.inbox()[-1]
    organiser.press(second, "Send")
    organiser.press(second, "Send")  # a double tap, before the buttons disappear
    # The refusal of the second tap and the progress of the first come in either order.
    answers = [await organiser.next_message() for _ in range(2)]
    [refusal] = [m for m in answers if "already queued" in m.text]
    assert refusal.text == (
        "Broadcast #2 is already queued: it goes out once. /delivery 2 shows how far it has gone."
    )
    [progress] = [m for m in answers if m is not refusal]
    assert await organiser.sees_it_end(progress, "Broadcast #2 is done.") == (
        "Broadcast #2 is done.\nDelivered: 1\nBlocked the bot: 0\nFailed: 0"
    )
    await outbox_settled(database)
    assert [m.text for m in member.inbox()][1:] == [
        "📣 From the coalition's organisers\n\nThis one."
    ]
    async with database.transaction() as session:
        states = (await session.exec(select(Broadcast.state).order_by(col(Broadcast.id)))).all()
    assert states == [BroadcastState.CANCELLED, BroadcastState.QUEUED]


async def test_only_organisers_broadcast(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    member = await contact_of(api, organiser, "Memorial", 2001)
    assert await member.says("/broadcast Hello all") == "Only organisers can use /broadcast."
    assert await organiser.says("/broadcast   ") == (
        "Usage: /broadcast TEXT (it may span several lines)"
    )
    assert await organiser.says("/broadcast " + "x" * 3801) == (
        "A broadcast's text must be 1 to 3800 characters long."
    )
    assert await organiser.says("/delivery 7") == "There is no broadcast #7."
    await organiser.says("/broadcast Real one")
    # A member whose modified client forges the Send button's data is refused like the command.
    member.forge(member.inbox()[-1], "broadcast-send:1")
    assert (await member.next_message()).text == "Only organisers can use /broadcast."
    async with database.transaction() as session:
        assert (await session.exec(select(Broadcast.state))).all() == [BroadcastState.DRAFT]


async def test_the_engine_keeps_to_telegram_limits_and_loses_nothing(
    api: LocalBotApi, organiser: Someone, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = [await contact_of(api, organiser, f"NGO {n}", 4000 + n) for n in range(40)]
    blocked, flaky, moved = members[0], members[1], members[2]
    new_home = Someone(api, 9002, "Moved chat")
    api.limits.overall_rate = 15  # below the bot's 25 a second: Telegram will say 429
    # Telegram's clock stands still until its first 429: the sends fall in one second however
    # slow the machine, so the sixteenth is refused; then it runs on.
    ServerClock(starts_when=lambda: api.limits.throttled > 0).install(monkeypatch)
    api.limits.blocked.add(blocked.user_id)
    api.limits.server_errors[flaky.user_id] = 1
    api.limits.migrated[moved.user_id] = new_home.user_id

    await organiser.says("/broadcast Urgent: detainee transferred.")
    await organiser.press_and_read_edit(organiser.inbox()[-1], "Send")
    progress = await organiser.next_message()
    report = await organiser.sees_it_end(progress, "Broadcast #1 is done.")

    assert api.limits.throttled > 0, "the test did not reach Telegram's limit"
    expected = "📣 From the coalition's organisers\n\nUrgent: detainee transferred."
    for member in members[3:]:
        assert [m.text for m in member.inbox()].count(expected) == 1
    assert [m.text for m in flaky.inbox()].count(expected) == 1  # after a 500, retried
    assert [m.text for m in new_home.inbox()] == [expected]  # followed the migrated chat
    assert expected not in [m.text for m in blocked.inbox()]
    assert report == "Broadcast #1 is done.\nDelivered: 39\nBlocked the bot: 1\nFailed: 0"
    async with database.transaction() as session:
        contact = await session.get(Contact, blocked.user_id)
    assert contact is not None
    assert contact.subscribed is False
    assert contact.unreachable_at is not None


async def test_an_answer_goes_out_while_a_broadcast_is_still_being_sent(
    api: LocalBotApi, settings: Settings, clock: MovableClock, database: Database
) -> None:
    recipients = await broadcast_queued_to(database, LONG_BROADCAST, ALERT)
    for user_id in recipients:
        api.meet(user_id, f"Contact {user_id}")
    asker = Someone(api, recipients[-1], "Irina")  # the last to get the alert
    # Bulk sends may take the whole allowance: an answer has to take the place of one.
    greedy = settings.model_copy(update={"broadcast_rate": settings.message_rate})

    async with serving(build_application(greedy, clock=clock)):
        async with asyncio.timeout(REPLY_TIMEOUT):
            await api.wait_for_message(recipients[0], 0)  # the broadcast is going out
        api.push_message(asker.person, "/appeals")
        answer = await asker.next_message()
        while answer.text.startswith("📣"):
            answer = await asker.next_message()
        # The server numbers what each side says in the order it arrives.
        [question] = [m.message_id for m in api.said(asker.user_id)]
        copies = [m.message_id for r in recipients for m in api.messages(r) if m.text == SHOWN]

    assert answer.text == "No appeal is open for signatures right now."
    queued_when_asked = LONG_BROADCAST - sum(copy < question for copy in copies)
    still_queued = LONG_BROADCAST - sum(copy < answer.message_id for copy in copies)
    assert queued_when_asked > 0, "the test asked after the whole broadcast had gone"
    # A broadcast to LONG_BROADCAST outlasts any answer's REPLY_TIMEOUT: an answer that waited
    # for the copies queued before it would come after them all.
    assert still_queued > 0, f"the answer waited for all {queued_when_asked} queued copies"
