"""Organisers look after membership: who belongs, who may sign, who organises."""

import pytest

from models import Database
from stand.local_api import LocalBotApi, scope_key
from tests.people import Someone, appeal_number, invite_code
from tests.stories import ORGANISER, snapshot


async def joined(api: LocalBotApi, organiser: Someone, organisation: str, user_id: int) -> Someone:
    person = Someone(api, user_id, f"Contact {user_id}")
    await person.says(f"/join {invite_code(await organiser.says(f'/invite {organisation}'))}")
    return person


async def test_orgs_lists_organisations_contacts_and_signatures_protected(
    api: LocalBotApi, organiser: Someone
) -> None:
    irina = await joined(api, organiser, "Memorial", 2001)
    oleg = await joined(api, organiser, "Memorial", 2002)
    await oleg.says("/unsubscribe")
    await organiser.says("/invite ZMINA")
    appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nText."))
    await organiser.says(f"/publish {appeal_id}")
    await irina.next_message()  # the announcement
    assert (await irina.says(f"/cosign {appeal_id}")).startswith("Memorial co-signed")

    assert await organiser.says("/orgs") == (
        "2 member organisations\n"
        "Memorial — 1 open appeal signed\n"
        "   contact 2001 (subscribed)\n"
        "   contact 2002 (unsubscribed)\n"
        "ZMINA — 0 open appeals signed\n"
        "   no contact yet"
    )
    [listing] = [
        params for method, params in api.calls
        if method == "sendMessage" and str(params.get("text", "")).startswith("<b>2 member")
    ]  # fmt: skip
    assert listing.get("protect_content") == "true"


async def test_a_revoked_contact_can_no_longer_sign(api: LocalBotApi, organiser: Someone) -> None:
    irina = await joined(api, organiser, "Memorial", 2001)
    appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nText."))
    await organiser.says(f"/publish {appeal_id}")
    await irina.next_message()  # the announcement
    assert await organiser.says("/revoke 2001") == (
        "Contact 2001 no longer acts for Memorial. The organisation's signatures stay."
    )
    assert await irina.says(f"/cosign {appeal_id}") == (
        "Only contacts of member organisations can use /cosign. "
        "Ask an organiser of the coalition for an invite."
    )
    assert "cosign" not in [
        c["command"] for c in api.commands[scope_key({"type": "chat", "chat_id": 2001})]
    ]


async def test_a_promoted_organiser_organises_until_demoted(
    api: LocalBotApi, organiser: Someone
) -> None:
    olena = Someone(api, 3001, "Olena")
    assert await olena.says("/invite Memorial") == "Only organisers can use /invite."
    assert await organiser.says("/promote 3001") == "3001 is now an organiser."
    assert "invite" in [
        c["command"] for c in api.commands[scope_key({"type": "chat", "chat_id": 3001})]
    ]
    assert (await olena.says("/invite Memorial")).startswith("New organisation Memorial.")
    assert await organiser.says("/demote 3001") == "3001 is no longer an organiser."
    assert await olena.says("/invite ZMINA") == "Only organisers can use /invite."


@pytest.mark.parametrize(
    ("sends", "reply"),
    [
        ("/revoke 2999", "2999 is not a contact of any organisation. /orgs lists them."),
        ("/revoke", "Usage: /revoke USER_ID (the contact's Telegram id, as /orgs shows it)"),
        ("/revoke abc", "Usage: /revoke USER_ID (the contact's Telegram id, as /orgs shows it)"),
        ("/demote 2999", "2999 is not an organiser promoted from chat."),
        (
            f"/demote {ORGANISER}",
            f"{ORGANISER} is an organiser through ORGANISER_IDS: only the bot's configuration can change that.",
        ),
        (f"/promote {ORGANISER}", f"{ORGANISER} is already an organiser."),
        ("/promote", "Usage: /promote USER_ID"),
    ],
)
async def test_membership_refusals_name_the_problem_and_change_nothing(
    organiser: Someone, database: Database, sends: str, reply: str
) -> None:
    before = await snapshot(database)
    assert await organiser.says(sends) == reply
    assert await snapshot(database) == before


async def test_only_organisers_manage_membership(api: LocalBotApi, organiser: Someone) -> None:
    member = await joined(api, organiser, "Memorial", 2001)
    for command in ("/orgs", "/revoke 2001", "/promote 2001", "/demote 2001"):
        name = command.split()[0][1:]
        assert await member.says(command) == f"Only organisers can use /{name}."
