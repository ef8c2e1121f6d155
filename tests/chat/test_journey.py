"""The member journey end to end: the real Application over HTTP against the local Bot API."""

from sqlmodel import select

from models import Database, Disclosure, Signature
from stand.local_api import LocalBotApi
from tests.conftest import sample
from tests.people import Someone, appeal_number, invite_code

APPEAL_TITLE = "Libérez tous les détenus liés au conflit"


async def test_an_organisation_joins_signs_and_withdraws(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    # An organiser invites Memorial and drafts the appeal of 27 November 2025.
    invite = await organiser.says("/invite Memorial")
    assert "New organisation Memorial." in invite
    assert f"https://t.me/{api.bot_user['username']}?start=" in invite
    draft = await organiser.says(f"/newappeal {APPEAL_TITLE}\n{sample('appeal-2025-11-27.fr.txt')}")
    assert "Draft appeal #" in draft
    appeal_id = appeal_number(draft)

    # A contact opens the deep link and becomes Memorial's contact.
    irina = Someone(api, 2001, "Irina", "en")
    joined = await irina.says(f"/start {invite_code(invite)}")
    assert joined.startswith("You are now a contact of Memorial")

    # Drafts are invisible to members until published.
    assert await irina.says("/appeals") == "No appeal is open for signatures right now."
    assert await irina.says(f"/appeal {appeal_id}") == (
        f"There is no appeal #{appeal_id}. /appeals lists them."
    )
    published = await organiser.says(f"/publish {appeal_id}")
    assert published.startswith(
        f"Appeal #{appeal_id} “{APPEAL_TITLE}” is open for signatures; it is announced to 1 member."
    )
    # The announcement reaches Memorial's contact through the outbox, with a Co-sign button.
    announcement = await irina.next_message()
    assert announcement.text.startswith(f"New appeal #{appeal_id}: {APPEAL_TITLE}")
    assert [b["text"] for b in announcement.buttons()] == ["Co-sign"]

    listing = await irina.says("/appeals")
    assert f"#{appeal_id} {APPEAL_TITLE} — 0 signatures" in listing
    full_text = await irina.says(f"/appeal {appeal_id}")
    assert "State: open for signatures" in full_text
    assert "Vos Excellences," in full_text

    signed = await irina.says(f"/cosign {appeal_id}")
    assert signed == (
        f"Memorial co-signed appeal #{appeal_id} “{APPEAL_TITLE}”.\n"
        "1 organisation has signed so far."
    )

    # A second contact of the same organisation cannot sign again.
    second_invite = await organiser.says("/invite memorial")
    assert "Memorial is already a member." in second_invite
    oleg = Someone(api, 2002, "Oleg", "en")
    await oleg.says(f"/join {invite_code(second_invite)}")
    assert await oleg.says(f"/cosign {appeal_id}") == (
        f"Memorial has already signed appeal #{appeal_id}."
    )

    status = await oleg.says(f"/status {appeal_id}")
    assert "1 organisation has signed." in status
    assert "Memorial has signed, publicly." in status
    assert "Signed publicly by:\n• Memorial" in status

    async with database.transaction() as session:
        rows = (await session.exec(select(Signature))).all()
    assert [(r.appeal_id, r.signed_by, r.disclosure) for r in rows] == [
        (appeal_id, 2001, Disclosure.PUBLIC)
    ]

    assert await oleg.says(f"/withdraw {appeal_id}") == (
        f"Memorial no longer signs appeal #{appeal_id}."
    )
    assert "0 organisations have signed." in await irina.says(f"/status {appeal_id}")
    assert await organiser.says(f"/close {appeal_id}") == (
        f"Appeal #{appeal_id} is closed with 0 signatures."
    )
    # The news that it closed reaches every subscribed member through the outbox, before
    # Irina's next answer or after it: she reads it first.
    closed = await irina.next_message()
    assert closed.text.startswith(f"🔒 Appeal #{appeal_id} “{APPEAL_TITLE}” is closed")
    assert await irina.says(f"/cosign {appeal_id}") == (
        f"Appeal #{appeal_id} is closed: it no longer takes signatures."
    )


async def test_a_drafts_text_cannot_be_forwarded(api: LocalBotApi, organiser: Someone) -> None:
    appeal_id = appeal_number(await organiser.says(f"/newappeal {APPEAL_TITLE}\nNot public yet."))
    await organiser.says(f"/appeal {appeal_id}")
    await organiser.says(f"/publish {appeal_id}")
    await organiser.says(f"/appeal {appeal_id}")
    shown = [
        params.get("protect_content")
        for method, params in api.calls
        if method == "sendMessage" and str(params.get("text", "")).startswith(f"<b>#{appeal_id}")
    ]
    assert shown == ["true", "false"]  # the draft protected, the open appeal not
