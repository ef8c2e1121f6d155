"""Organisers alert the coalition: preview, Send, one copy each, a report; and every refusal."""

from sqlmodel import col, select

from bot.local_api import LocalBotApi
from models import Broadcast, BroadcastState, Contact, Database, OutboxMessage
from tests.people import Someone, invite_code
from tests.stories import outbox_settled

ALERT = "Round three of the talks opens tomorrow in Istanbul.\nPlease sign appeal #1 tonight."


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
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    members = [await contact_of(api, organiser, f"NGO {n}", 4000 + n) for n in range(40)]
    blocked, flaky, moved = members[0], members[1], members[2]
    new_home = Someone(api, 9002, "Moved chat")
    api.limits.overall_rate = 15  # below the bot's 25 a second: Telegram will say 429
    api.limits.per_chat_interval = 1.0
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


async def test_replies_do_not_wait_behind_a_broadcast(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    members = [await contact_of(api, organiser, "Memorial", 5000 + n) for n in range(60)]
    await organiser.says("/broadcast A long broadcast.")
    await organiser.press_and_read_edit(organiser.inbox()[-1], "Send")
    # At 25 messages a second the broadcast takes over two seconds; a question meanwhile
    # is answered while most of it is still queued.
    asker = members[-1]
    reply = await asker.says("/appeals")
    while reply.startswith("📣"):
        reply = (await asker.next_message()).text
    assert reply == "No appeal is open for signatures right now."
    delivered = sum(1 for m in members if any(x.text.startswith("📣") for x in m.inbox()))
    assert delivered < len(members)
    await outbox_settled(database)
