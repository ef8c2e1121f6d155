"""Each person can see what the bot holds about them, and have it forgotten without a trace."""

import asyncio
import json
import re
from typing import Any

from sqlalchemy import BigInteger, Column, select
from sqlmodel import SQLModel

from models import Appeal, Broadcast, Database, Invite, Phase, Signature
from services import privacy
from services.appeals import edit_appeal
from services.broadcasts import draft_broadcast
from services.phases import add_phase
from services.privacy import StoredData
from stand.local_api import LocalBotApi, SentMessage, scope_key
from tests.people import Someone, appeal_number, invite_code
from tests.stories import (
    IRINA,
    LATER,
    NOW,
    ORGANISER,
    WEEK,
    draft,
    member,
    open_appeal,
    outbox_settled,
    sign,
    snapshot,
    stored,
)

# Telegram ids exceed 32 bits; this one is distinctive enough that any copy of it is found.
PERSON = 7_350_218_694
OTHER = 2002

NOT_A_CONTACT = (
    "Only contacts of member organisations can use /cosign. "
    "Ask an organiser of the coalition for an invite."
)
FORGOTTEN = (
    "Done: the bot has forgotten you. Your organisation's signatures remain, in its name only.\n"
    "Messages already in this chat stay on your device: delete the chat in Telegram to "
    "remove them."
)


async def contact_who_signed(
    api: LocalBotApi, organiser: Someone, database: Database
) -> tuple[Someone, Someone, int]:
    """Memorial's contact, who chose a time zone, received the announcement of an appeal and
    signed it publicly; another organisation's contact; the appeal's id."""
    person = Someone(api, PERSON, "Irina")
    await person.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
    other = Someone(api, OTHER, "Taras")
    await other.says(f"/join {invite_code(await organiser.says('/invite Civil Liberties'))}")
    appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nThe text."))
    await organiser.says(f"/publish {appeal_id}")
    await person.next_message()  # the announcement
    await other.next_message()
    await person.says("/timezone Europe/Kyiv")
    await person.says(f"/cosign {appeal_id}")
    await outbox_settled(database)
    return person, other, appeal_id


async def ask_to_forget(person: Someone) -> SentMessage:
    person.api.push_message(person.person, "/forget")
    question = await person.next_message()
    assert [(b["text"], b["callback_data"]) for b in question.buttons()] == [
        ("Confirm", "forget-confirm"),
        ("Cancel", "forget-cancel"),
    ]
    return question


def mentions(value: object, telegram_id: int) -> bool:
    """Whether a stored value is, or contains, this Telegram id."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value == telegram_id
    if isinstance(value, str | dict | list):
        return str(telegram_id) in json.dumps(value, default=str)
    return False


async def columns_holding(database: Database, telegram_id: int) -> set[str]:
    """Every `table.column` where some row holds the id, read table by table."""
    found: set[str] = set()
    async with database.transaction() as session:
        connection = await session.connection()
        for table in SQLModel.metadata.sorted_tables:
            for row in await connection.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    if mentions(value, telegram_id):
                        found.add(f"{table.name}.{column.name}")
    return found


async def test_mydata_shows_a_contact_what_is_stored(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    person, _, appeal_id = await contact_who_signed(api, organiser, database)
    lines = (await person.says("/mydata")).split("\n")
    assert lines[0] == "What the bot stores about you"
    assert re.fullmatch(
        r"Your account, kept since \d{4}-\d\d-\d\d \d\d:\d\d Europe/Kyiv: your language is "
        r"English\.",
        lines[1],
    )
    assert lines[2] == "Your time zone: Europe/Kyiv."
    assert re.fullmatch(
        r"You are a contact of Memorial since \d{4}-\d\d-\d\d \d\d:\d\d Europe/Kyiv\.", lines[3]
    )
    assert lines[4] == "You receive the coalition's updates."
    assert re.fullmatch(r"You used an invite to Memorial on .+ Europe/Kyiv\.", lines[5])
    assert lines[6:] == [
        f"You gave 1 signature in your organisation's name, on appeal #{appeal_id}.",
        "1 message sent to you is kept as a record of its delivery (not its text).",
        "/forget erases all of it.",
    ]

    # An organiser is shown what they made.
    assert (await organiser.says("/mydata")).split("\n") == [
        "What the bot stores about you",
        f"Appeals you created: #{appeal_id}.",
        "You issued 2 invites.",
        "/forget erases all of it.",
    ]


async def test_cancel_erases_nothing(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    person, _, _ = await contact_who_signed(api, organiser, database)
    before = await snapshot(database)
    question = await ask_to_forget(person)
    assert question.text.startswith("Erase everything the bot stores about you?")
    assert "You will no longer act for Memorial" in question.text
    assert await person.press_and_read_edit(question, "Cancel") == "Nothing was erased."
    assert question.buttons() == []
    assert await snapshot(database) == before


async def test_confirm_forgets_the_person_and_keeps_the_signature(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    person, other, appeal_id = await contact_who_signed(api, organiser, database)
    # The scan below is able to find the id: before, it is in all these places.
    assert await columns_holding(database, PERSON) == {
        "account.telegram_id",
        "actor.telegram_id",
        "contact.telegram_id",
        "invite.used_by",
        "signature.signed_by",
        "outbox.recipient_id",
        "outbox.chat_id",
    }
    other_before = await columns_holding(database, OTHER)
    own_menu = scope_key({"type": "chat", "chat_id": PERSON})
    assert own_menu in api.commands

    question = await ask_to_forget(person)
    assert await person.press_and_read_edit(question, "Confirm") == FORGOTTEN
    assert await columns_holding(database, PERSON) == set()
    assert await columns_holding(database, OTHER) == other_before  # no one else is touched
    assert own_menu not in api.commands  # the default menu for strangers again

    # The organisation's signature still counts, and still names it.
    status = await other.says(f"/status {appeal_id}")
    assert "1 organisation has signed." in status
    assert "• Memorial" in status
    [signature] = await stored(database, Signature)
    assert signature.signed_by is None

    # The person is a stranger again, and nothing is stored about them.
    assert await person.says(f"/cosign {appeal_id}") == NOT_A_CONTACT
    assert await person.says("/mydata") == "The bot stores nothing about you."
    assert await columns_holding(database, PERSON) == set()


async def test_an_organiser_forgotten_stays_an_organiser(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    await organiser.says("/invite Memorial")
    await organiser.says("/newappeal Free them all\nThe text.")
    question = await ask_to_forget(organiser)
    assert "You will no longer act for" not in question.text
    assert await organiser.press_and_read_edit(question, "Confirm") == (
        f"{FORGOTTEN}\nYou are still an organiser: the bot's settings name you as one."
    )
    [appeal] = await stored(database, Appeal)
    [invite] = await stored(database, Invite)
    assert (appeal.created_by, invite.created_by) == (None, None)
    assert await organiser.says("/mydata") == "The bot stores nothing about you."
    assert "/invite NAME OF THE ORGANISATION — Invite an organisation" in await organiser.says(
        "/help"
    )


async def test_every_column_holding_a_telegram_id_is_forgotten() -> None:
    """A new column for a person's id must be erased or emptied by forget()."""

    def holds_a_person(column: Column[Any]) -> bool:
        named = re.search(r"(_by|telegram_id|recipient_id|chat_id)$", column.name)
        # Telegram's update ids number updates, not people (the update's body is emptied
        # once it is handled: see test_intake).
        numbers_updates = column.name == "update_id"
        return (isinstance(column.type, BigInteger) and not numbers_updates) or named is not None

    person_columns = {
        column
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if holds_a_person(column)
    }
    assert person_columns == set(privacy.PERSON_COLUMNS)


async def test_forgetting_an_organiser_empties_what_they_created(database: Database) -> None:
    organisation_id = await member(database, "Memorial", IRINA)
    appeal_id = await open_appeal(database)
    await draft(database, "Another")
    await sign(database, appeal_id, organisation_id, IRINA)
    async with database.transaction() as session:
        await draft_broadcast(session=session, text="Hold on.", organiser_id=ORGANISER, now=NOW)
        await add_phase(
            session=session, name="Talks", starts_at=NOW + WEEK, organiser_id=ORGANISER, now=NOW
        )
    async with database.transaction() as session:
        before = await privacy.what_is_stored(session=session, telegram_id=ORGANISER)
    assert before == StoredData(
        appeals_created=(1, 2), broadcasts_created=(1,), phases_created=(1,), invites_created=1
    )

    async with database.transaction() as session:
        await privacy.forget(session=session, telegram_id=ORGANISER)

    assert [a.created_by for a in await stored(database, Appeal)] == [None, None]
    assert [b.created_by for b in await stored(database, Broadcast)] == [None]
    assert [p.created_by for p in await stored(database, Phase)] == [None]
    [invite] = await stored(database, Invite)
    assert (invite.created_by, invite.used_by) == (None, IRINA)  # the contact's stays theirs
    [signature] = await stored(database, Signature)
    assert (signature.signed_by, signature.signed_at) == (IRINA, LATER)
    async with database.transaction() as session:
        after = await privacy.what_is_stored(session=session, telegram_id=ORGANISER)
        contact = await privacy.what_is_stored(session=session, telegram_id=IRINA)
    assert after.is_empty
    assert contact.signed_appeals == (appeal_id,)
    assert contact.membership is not None
    assert contact.membership.organisation == "Memorial"


async def test_an_organiser_forgotten_while_another_edits_their_appeal(database: Database) -> None:
    """/forget empties the appeals its organiser created while another organiser edits one of
    them: both take effect, whichever commits first (on PostgreSQL the two run side by side,
    and taking their locks in different orders would abort one as a deadlock)."""
    appeal_id = await open_appeal(database)

    async def forget() -> None:
        async with database.transaction() as session:
            await privacy.forget(session=session, telegram_id=ORGANISER)

    async def edit(round: int) -> None:
        async with database.transaction() as session:
            await edit_appeal(
                session=session,
                appeal_id=appeal_id,
                title=f"Wording {round}",
                text="Text.",
                actor_id=ORGANISER + 1,
                now=LATER,
            )

    for round in range(10):
        await asyncio.gather(forget(), edit(round))

    [appeal] = await stored(database, Appeal)
    assert (appeal.created_by, appeal.title, appeal.version) == (None, "Wording 9", 11)
