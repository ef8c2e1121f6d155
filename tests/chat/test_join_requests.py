"""Join requests: a stranger asks to join an organisation; an organiser approves or rejects."""

import asyncio
from datetime import timedelta

import pytest

from models import Account, Contact, Database, JoinRequest, Organisation, RequestState
from services.errors import (
    AlreadyContact,
    OrganisationNameInvalid,
    RequestAlreadyDecided,
    RequestAlreadyPending,
    RequestNotFound,
)
from services.join_requests import Decided, decide, request_to_join
from stand.local_api import LocalBotApi, SentMessage, scope_key
from tests.people import Someone, appeal_number, invite_code
from tests.stories import IRINA, NOW, OLEG, ORGANISER, member, snapshot, stored

ASKED = "I have asked the organisers to make you a contact of Memorial. I will tell you what they decide."


async def asked_to_join(irina: Someone, organiser: Someone, name: str = "Memorial") -> SentMessage:
    """Irina asks to join; the request as the organiser receives it."""
    await irina.says(f"/request {name}")
    return await organiser.next_message()


def commands_of(api: LocalBotApi, user_id: int) -> list[str]:
    return [c["command"] for c in api.commands[scope_key({"type": "chat", "chat_id": user_id})]]


# --- Through the bot -------------------------------------------------------------------


async def test_an_approved_request_makes_the_stranger_a_contact(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nThe text."))
    await organiser.says(f"/publish {appeal_id}")
    irina = Someone(api, 2001, "Irina")
    assert await irina.says("/request   Memorial ") == ASKED

    request = await organiser.next_message()
    assert request.text == "Join request #1\nIrina (id 2001) asks to become a contact of Memorial."
    assert [(b["text"], b["callback_data"]) for b in request.buttons()] == [
        ("Approve", "join-approve:1"),
        ("Reject", "join-reject:1"),
    ]
    [pending] = await stored(database, JoinRequest)
    assert (pending.telegram_id, pending.organisation_name, pending.language) == (
        2001,
        "Memorial",
        "en",
    )
    assert (pending.state, pending.pending_for) == (RequestState.PENDING, 2001)
    assert await stored(database, Contact) == []

    assert await organiser.press_and_read_edit(request, "Approve") == (
        "Join request #1 approved by Olena (id 1000): 2001 is now a contact of Memorial.\n"
        "New organisation Memorial."
    )
    assert request.buttons() == []
    assert (await irina.next_message()).text == (
        "The organisers approved your request: you are now a contact of Memorial and can "
        "co-sign appeals in its name. /appeals lists the open appeals."
    )
    [decided] = await stored(database, JoinRequest)
    assert (decided.state, decided.pending_for, decided.decided_by) == (
        RequestState.APPROVED,
        None,
        ORGANISER,
    )
    assert decided.decided_at is not None
    [organisation] = await stored(database, Organisation)
    [contact] = await stored(database, Contact)
    assert (contact.telegram_id, contact.organisation_id) == (2001, organisation.id)
    assert "cosign" in commands_of(api, 2001)
    assert "request" not in commands_of(api, 2001)
    assert (await irina.says(f"/cosign {appeal_id}")).startswith("Memorial co-signed")


async def test_approving_for_an_existing_member_organisation_adds_a_contact(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    oleg = Someone(api, 2002, "Oleg")
    await oleg.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
    request = await asked_to_join(Someone(api, 2001, "Irina"), organiser, "memorial")
    assert await organiser.press_and_read_edit(request, "Approve") == (
        "Join request #1 approved by Olena (id 1000): 2001 is now a contact of Memorial."
    )
    [organisation] = await stored(database, Organisation)
    assert sorted(c.telegram_id for c in await stored(database, Contact)) == [2001, 2002]
    assert {c.organisation_id for c in await stored(database, Contact)} == {organisation.id}


async def test_a_rejected_request_tells_the_stranger_and_changes_nothing_else(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina = Someone(api, 2001, "Irina")
    request = await asked_to_join(irina, organiser)
    assert await organiser.press_and_read_edit(request, "Reject") == (
        "Join request #1 from 2001 to join Memorial rejected by Olena (id 1000)."
    )
    assert (await irina.next_message()).text == (
        "Thank you for your interest. The organisers did not approve your request to join Memorial."
    )
    [decided] = await stored(database, JoinRequest)
    assert (decided.state, decided.pending_for, decided.decided_by) == (
        RequestState.REJECTED,
        None,
        ORGANISER,
    )
    assert await stored(database, Organisation) == []
    assert await stored(database, Contact) == []
    assert await stored(database, Account) == []
    assert await irina.says("/cosign 1") == (
        "Only contacts of member organisations can use /cosign. "
        "Ask an organiser of the coalition for an invite."
    )
    # Decided, the request no longer blocks a new one.
    assert (await irina.says("/request ZMINA")).startswith("I have asked the organisers")


async def test_a_second_tap_after_the_decision_is_refused_in_words(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    olena = Someone(api, 3001, "Olena K")
    assert await organiser.says("/promote 3001") == "3001 is now an organiser."
    irina = Someone(api, 2001, "Irina")
    request = await asked_to_join(irina, organiser)
    # Promoted organisers are asked too.
    theirs = await olena.next_message()
    assert theirs.text == request.text
    await organiser.press_and_read_edit(request, "Approve")
    await irina.next_message()

    olena.press(theirs, "Reject")
    assert (await olena.next_message()).text == "Join request #1 has already been approved."
    organiser.forge(request, "join-reject:1")
    assert (await organiser.next_message()).text == "Join request #1 has already been approved."
    organiser.forge(request, "join-approve:99")
    assert (await organiser.next_message()).text == "There is no join request #99."
    [decided] = await stored(database, JoinRequest)
    assert (decided.state, decided.decided_by) == (RequestState.APPROVED, ORGANISER)
    assert len(await stored(database, Contact)) == 1
    assert irina.inbox()[-1].text.startswith("The organisers approved")  # told once


async def test_a_pending_request_blocks_a_second_one(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina = Someone(api, 2001, "Irina")
    await asked_to_join(irina, organiser)
    before = await snapshot(database)
    assert await irina.says("/request ZMINA") == (
        "You have already asked to join Memorial. The organisers have not decided yet; "
        "I will tell you when they do."
    )
    assert await snapshot(database) == before
    assert len(organiser.inbox()) == 1


async def test_a_contact_cannot_request_to_join(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina = Someone(api, 2001, "Irina")
    await irina.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
    assert "request" not in commands_of(api, 2001)
    before = await snapshot(database)
    assert await irina.says("/request ZMINA") == "You are already a contact of Memorial."
    assert await snapshot(database) == before


async def test_only_organisers_decide(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    oleg = Someone(api, 2002, "Oleg")
    await oleg.says(f"/join {invite_code(await organiser.says('/invite ZMINA'))}")
    await asked_to_join(Someone(api, 2001, "Irina"), organiser)
    before = await snapshot(database)
    # Callback data of their choosing, as a modified client could send.
    oleg.forge(oleg.inbox()[-1], "join-approve:1")
    assert (await oleg.next_message()).text == "Only organisers can use /invite."
    stranger = Someone(api, 2003, "Ales")
    await stranger.says("/start")
    stranger.forge(stranger.inbox()[-1], "join-reject:1")
    assert (await stranger.next_message()).text == "Only organisers can use /invite."
    assert await snapshot(database) == before


@pytest.mark.parametrize(
    ("sends", "reply"),
    [
        ("/request", "Usage: /request NAME OF THE ORGANISATION"),
        ("/request    ", "Usage: /request NAME OF THE ORGANISATION"),
        (f"/request {'x' * 201}", "An organisation's name must be 1 to 200 characters long."),
    ],
)
async def test_an_empty_or_over_long_name_is_refused_and_stores_nothing(
    api: LocalBotApi, organiser: Someone, database: Database, sends: str, reply: str
) -> None:
    before = await snapshot(database)
    assert await Someone(api, 2001, "Irina").says(sends) == reply
    assert await snapshot(database) == before
    assert organiser.inbox() == []


async def test_the_request_names_the_requester_as_telegram_does_escaped(
    api: LocalBotApi, organiser: Someone
) -> None:
    irina = Someone(api, 2001, "Irina")
    user = {**irina.person.as_user(), "first_name": "Ірина <b>&", "username": "irina_k"}
    text = "/request Memorial"
    api.push_update(
        {
            "message": {
                "message_id": 10_000,
                "from": user,
                "chat": irina.person.as_private_chat(),
                "date": 0,
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len("/request")}],
            }
        }
    )
    assert (await irina.next_message()).text == ASKED
    request = await organiser.next_message()
    assert request.text == (
        "Join request #1\nІрина <b>& (@irina_k, id 2001) asks to become a contact of Memorial."
    )
    assert "&lt;b&gt;&amp;" in request.source


async def test_the_requester_keeps_the_language_they_asked_in(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina = Someone(api, 2001, "Irina", "fr")
    request = await asked_to_join(irina, organiser)
    [pending] = await stored(database, JoinRequest)
    assert pending.language == "fr"
    await organiser.press_and_read_edit(request, "Approve")
    await irina.next_message()
    [account] = await stored(database, Account)
    assert (account.telegram_id, account.language) == (2001, "fr")


# --- The service -----------------------------------------------------------------------


async def ask(database: Database, telegram_id: int = IRINA, name: str = "Memorial") -> int:
    async with database.transaction() as session:
        request = await request_to_join(
            session=session,
            telegram_id=telegram_id,
            organisation_name=name,
            language="uk",
            now=NOW,
        )
    assert request.id is not None
    return request.id


async def decided_by(
    database: Database, request_id: int, organiser_id: int, *, approve: bool
) -> Decided:
    async with database.transaction() as session:
        return await decide(
            session=session,
            request_id=request_id,
            approve=approve,
            organiser_id=organiser_id,
            now=NOW + timedelta(hours=1),
        )


async def test_a_name_is_tidied_and_checked_as_for_invites(database: Database) -> None:
    request_id = await ask(database, name="  Human   Rights\tCentre ")
    [request] = await stored(database, JoinRequest)
    assert (request.id, request.organisation_name) == (request_id, "Human Rights Centre")
    for name in ("", " \n ", "x" * 201, "ß" * 101):
        with pytest.raises(OrganisationNameInvalid):
            await ask(database, OLEG, name)
    await ask(database, OLEG, "x" * 200)
    assert len(await stored(database, JoinRequest)) == 2


async def test_two_organisers_deciding_at_once_exactly_one_decides(database: Database) -> None:
    request_id = await ask(database)
    results = await asyncio.gather(
        decided_by(database, request_id, 1000, approve=True),
        decided_by(database, request_id, 1001, approve=False),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, Decided)]
    refused = [r for r in results if isinstance(r, RequestAlreadyDecided)]
    assert (len(won), len(refused)) == (1, 1), results
    [winner] = won
    assert refused[0].approved == winner.approved
    [request] = await stored(database, JoinRequest)
    assert request.state == (RequestState.APPROVED if winner.approved else RequestState.REJECTED)
    assert request.decided_by == (1000 if winner.approved else 1001)
    assert request.pending_for is None
    contacts = await stored(database, Contact)
    assert [c.telegram_id for c in contacts] == ([IRINA] if winner.approved else [])


async def test_two_approvals_at_once_make_one_contact(database: Database) -> None:
    request_id = await ask(database)
    results = await asyncio.gather(
        decided_by(database, request_id, 1000, approve=True),
        decided_by(database, request_id, 1001, approve=True),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Decided", "RequestAlreadyDecided"]
    assert [c.telegram_id for c in await stored(database, Contact)] == [IRINA]
    assert len(await stored(database, Organisation)) == 1
    [account] = await stored(database, Account)
    assert (account.telegram_id, account.language) == (IRINA, "uk")


async def test_two_requests_at_once_by_one_person_store_one(database: Database) -> None:
    results = await asyncio.gather(
        ask(database, IRINA, "Memorial"), ask(database, IRINA, "ZMINA"), return_exceptions=True
    )
    assert [type(r) for r in results].count(RequestAlreadyPending) == 1, results
    [request] = await stored(database, JoinRequest)
    assert request.pending_for == IRINA


async def test_an_unknown_request_is_refused(database: Database) -> None:
    with pytest.raises(RequestNotFound):
        await decided_by(database, 42, 1000, approve=True)


async def test_a_contact_cannot_ask_and_one_who_became_a_contact_is_not_approved(
    database: Database,
) -> None:
    await member(database, "ZMINA", OLEG)
    with pytest.raises(AlreadyContact) as refused:
        await ask(database, OLEG)
    assert refused.value.organisation == "ZMINA"

    request_id = await ask(database, IRINA, "Memorial")
    await member(database, "ZMINA", IRINA)  # through an invite, meanwhile
    before = await snapshot(database)
    with pytest.raises(AlreadyContact):
        await decided_by(database, request_id, 1000, approve=True)
    assert await snapshot(database) == before  # still pending: a Reject closes it
    rejected = await decided_by(database, request_id, 1000, approve=False)
    assert (rejected.approved, rejected.organisation) == (False, "Memorial")
