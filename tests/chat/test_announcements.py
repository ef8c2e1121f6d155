"""Publishing announces the appeal; its Co-sign button asks first, because it signs for an NGO."""

from sqlmodel import select

from models import Database, Signature
from stand.local_api import LocalBotApi, SentMessage
from tests.people import Someone, appeal_number, invite_code
from tests.stories import outbox_settled, snapshot


async def announced(api: LocalBotApi, organiser: Someone) -> tuple[Someone, SentMessage]:
    """Memorial's contact, and the announcement of appeal #1 in their chat."""
    irina = Someone(api, 2001, "Irina")
    await irina.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
    appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nThe text."))
    await organiser.says(f"/publish {appeal_id}")
    return irina, await irina.next_message()


async def test_co_sign_asks_then_signs_once(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina, announcement = await announced(api, organiser)
    assert announcement.text == (
        "New appeal #1: Free them all\n"
        "Your organisation can co-sign it. /appeal 1 shows the full text."
    )
    irina.press(announcement, "Co-sign")
    question = await irina.next_message()
    assert question.text == "Co-sign appeal #1 “Free them all” as Memorial?"
    assert [b["text"] for b in question.buttons()] == ["Confirm", "Cancel"]
    async with database.transaction() as session:
        assert (await session.exec(select(Signature))).all() == []  # a tap alone signs nothing

    assert await irina.press_and_read_edit(question, "Confirm") == (
        "Memorial co-signed appeal #1 “Free them all”.\n1 organisation has signed so far."
    )
    assert question.buttons() == []
    answered = [params for method, params in api.calls if method == "answerCallbackQuery"]
    assert len(answered) == 2  # every tap is answered, so no spinner is left turning

    # Tapping Co-sign again, later, is refused at once: no Confirm for what cannot succeed.
    irina.press(announcement, "Co-sign")
    again = await irina.next_message()
    assert again.text == "Memorial has already signed appeal #1."
    assert again.buttons() == []
    async with database.transaction() as session:
        signatures = (await session.exec(select(Signature))).all()
    assert [(s.appeal_id, s.signed_by) for s in signatures] == [(1, 2001)]


async def test_co_sign_on_a_closed_appeal_says_so_at_the_first_tap(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina, announcement = await announced(api, organiser)
    await organiser.says("/close 1")
    # Every subscribed member hears that it closed, and with how many signatures.
    news = await irina.next_message()
    assert news.text == "🔒 Appeal #1 “Free them all” is closed: 0 organisations signed it."
    await outbox_settled(database, progress=True)
    before = await snapshot(database)

    irina.press(announcement, "Co-sign")

    refusal = await irina.next_message()
    assert refusal.text.startswith("Appeal #1 is closed")
    assert refusal.buttons() == []
    assert await snapshot(database) == before


async def test_a_second_question_answered_after_signing_loses_its_buttons_too(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina, announcement = await announced(api, organiser)
    irina.press(announcement, "Co-sign")
    first = await irina.next_message()
    irina.press(announcement, "Co-sign")
    second = await irina.next_message()
    await irina.press_and_read_edit(first, "Confirm")

    irina.press(second, "Confirm")

    assert (await irina.next_message()).text == "Memorial has already signed appeal #1."
    await api.wait_for_edit(second, 0)
    assert first.buttons() == []
    assert second.buttons() == []  # its question stays, and cannot be answered again
    assert second.text == "Co-sign appeal #1 “Free them all” as Memorial?"
    async with database.transaction() as session:
        assert len((await session.exec(select(Signature))).all()) == 1


async def test_cancel_leaves_the_appeal_unsigned(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina, announcement = await announced(api, organiser)
    await outbox_settled(database)
    before = await snapshot(database)
    irina.press(announcement, "Co-sign")
    question = await irina.next_message()
    assert await irina.press_and_read_edit(question, "Cancel") == (
        "Not signed. /cosign 1 signs it later."
    )
    assert await snapshot(database) == before


async def test_a_stranger_tapping_co_sign_gets_the_invite_hint(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    await announced(api, organiser)
    # A button's data replayed by someone who is not a contact (a modified client).
    stranger = Someone(api, 3001, "Stranger")
    await stranger.says("/start")
    stranger.forge(stranger.inbox()[-1], "cosign-confirm:1")
    assert (await stranger.next_message()).text == (
        "Only contacts of member organisations can use /cosign. "
        "Ask an organiser of the coalition for an invite."
    )
    async with database.transaction() as session:
        assert (await session.exec(select(Signature))).all() == []


async def test_a_closed_appeal_cannot_be_signed_from_its_announcement(
    api: LocalBotApi, organiser: Someone
) -> None:
    irina, announcement = await announced(api, organiser)
    irina.press(announcement, "Co-sign")
    question = await irina.next_message()
    await organiser.says("/close 1")
    assert (await irina.next_message()).text.startswith("🔒 Appeal #1")
    irina.press(question, "Confirm")
    assert (await irina.next_message()).text == (
        "Appeal #1 is closed: it no longer takes signatures."
    )
    await api.wait_for_edit(question, 0)
    assert question.buttons() == []


async def test_an_announcement_days_old_can_still_be_co_signed(
    api: LocalBotApi, organiser: Someone
) -> None:
    irina, announcement = await announced(api, organiser)
    irina.press(announcement, "Co-sign", days_later=True)
    question = await irina.next_message()
    assert question.text == "Co-sign appeal #1 “Free them all” as Memorial?"
    assert await irina.press_and_read_edit(question, "Confirm") == (
        "Memorial co-signed appeal #1 “Free them all”.\n1 organisation has signed so far."
    )
