"""/edit changes an appeal's text: a draft's in place, an open appeal's as a new version whose
earlier signatories are asked to re-confirm. Nobody is counted under a text they never saw."""

import asyncio
import csv
import io

from models import (
    Appeal,
    AppealTranslation,
    AppealVersion,
    AuditEntry,
    Database,
    OutboxKind,
    OutboxMessage,
    Signature,
)
from services.appeals import Edited, edit_appeal
from stand.local_api import LocalBotApi, SentMessage
from tests.people import Someone, appeal_number, invite_code
from tests.stories import LATER, open_appeal, outbox_settled, snapshot, stored

TITLE = "Free them all"
TEXT = "The text."


async def contact(api: LocalBotApi, organiser: Someone, name: str, user_id: int) -> Someone:
    person = Someone(api, user_id, name)
    await person.says(f"/join {invite_code(await organiser.says(f'/invite {name}'))}")
    return person


async def signed_then_edited(
    api: LocalBotApi, organiser: Someone
) -> tuple[Someone, Someone, Someone, SentMessage, SentMessage]:
    """Appeal #1, open, signed by Memorial (Irina) and Viasna (Ales), not by OVD-Info (Oleg),
    then edited; returns the three contacts and Irina's and Ales's re-confirmation requests."""
    irina = await contact(api, organiser, "Memorial", 2001)
    ales = await contact(api, organiser, "Viasna", 2003)
    oleg = await contact(api, organiser, "OVD-Info", 2002)
    appeal_id = appeal_number(await organiser.says(f"/newappeal {TITLE}\n{TEXT}"))
    await organiser.says(f"/publish {appeal_id}")
    for person in (irina, ales, oleg):
        await person.next_message()  # the announcement
    await irina.says(f"/cosign {appeal_id}")
    await ales.says(f"/cosign {appeal_id}")
    assert await organiser.says(f"/edit {appeal_id} Free them all, now\nThe new text.") == (
        "Appeal #1 “Free them all, now” now has the new text (version 2).\n"
        "2 organisations signed an earlier text: their contacts are asked to re-confirm."
    )
    return irina, ales, oleg, await irina.next_message(), await ales.next_message()


async def test_a_draft_is_edited_in_place(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    await contact(api, organiser, "Memorial", 2001)
    await organiser.says(f"/newappeal {TITLE}\n{TEXT}")
    assert await organiser.says("/edit 1 Free them all, now\nThe new text.") == (
        "Appeal #1 “Free them all, now” now has the new text."
    )
    [appeal] = await stored(database, Appeal)
    assert (appeal.title, appeal.text, appeal.version) == ("Free them all, now", "The new text.", 1)
    assert await stored(database, AppealVersion) == []
    assert await stored(database, OutboxMessage) == []
    assert "appeal.edited" in [e.action for e in await stored(database, AuditEntry)]


async def test_signatures_on_an_earlier_text_await_re_confirmation(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina, ales, oleg, to_irina, to_ales = await signed_then_edited(api, organiser)
    assert to_irina.text == (
        "Appeal #1 “Free them all, now” was changed (version 2). Memorial's signature was "
        "given on an earlier text: confirm it stands on the new one, or withdraw it. "
        "/appeal 1 shows the new text."
    )
    assert [b["text"] for b in to_irina.buttons()] == ["Confirm", "Withdraw"]
    assert to_ales.text.startswith("Appeal #1 “Free them all, now” was changed (version 2). Viasna")
    await outbox_settled(database)
    assert len(oleg.inbox()) == 2  # the join reply and the announcement: OVD-Info did not sign
    [old] = await stored(database, AppealVersion)
    assert (old.appeal_id, old.version, old.title, old.text) == (1, 1, TITLE, TEXT)

    # Counted, but not as signing the new text, and named nowhere until confirmed.
    status = await organiser.says("/status 1")
    assert status == (
        "#1 Free them all, now\nState: open for signatures\n2 organisations have signed.\n"
        "0 on the current text; 2 await re-confirmation."
    )
    assert "#1 Free them all, now — 0 signatures" in await oleg.says("/appeals")

    assert await irina.press_and_read_edit(to_irina, "Confirm") == (
        "Memorial's signature stands on appeal #1 “Free them all, now” as changed (version 2)."
    )
    assert await ales.press_and_read_edit(to_ales, "Withdraw") == (
        "Viasna's signature of appeal #1 is withdrawn."
    )
    assert await organiser.says("/status 1") == (
        "#1 Free them all, now\nState: open for signatures\n1 organisation has signed.\n"
        "Signed publicly by:\n• Memorial"
    )
    signatures = await stored(database, Signature)
    assert [(s.signed_by, s.version) for s in signatures] == [(2001, 2)]

    # Signing after the change is signing the current text, and counts as such.
    assert (await oleg.says("/cosign 1")).endswith("2 organisations have signed so far.")
    signatures = await stored(database, Signature)
    assert sorted((s.signed_by, s.version) for s in signatures) == [(2001, 2), (2002, 2)]
    actions = [e.action for e in await stored(database, AuditEntry)]
    assert "signature.reconfirmed" in actions


async def test_a_text_changed_again_is_confirmed_only_from_the_newest_request(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina = await contact(api, organiser, "Memorial", 2001)
    await organiser.says(f"/newappeal {TITLE}\n{TEXT}")
    await organiser.says("/publish 1")
    await irina.next_message()
    await irina.says("/cosign 1")
    await organiser.says("/translate 1 fr Libérez-les tous\nLe texte.")
    assert await organiser.says("/edit 1 Second\nSecond text.") == (
        "Appeal #1 “Second” now has the new text (version 2).\n"
        "1 organisation signed an earlier text: its contacts are asked to re-confirm.\n"
        "Its translations were of the old text and are removed: /translate adds them again."
    )
    assert await stored(database, AppealTranslation) == []
    first = await irina.next_message()
    await organiser.says("/edit 1 Third\nThird text.")
    second = await irina.next_message()
    assert "(version 3)" in second.text

    irina.press(first, "Confirm")
    assert (await irina.next_message()).text == (
        "Appeal #1 was changed again after version 2: nothing was confirmed. "
        "/appeal 1 shows its current text."
    )
    assert [s.version for s in await stored(database, Signature)] == [1]
    await irina.press_and_read_edit(second, "Confirm")
    assert [s.version for s in await stored(database, Signature)] == [3]
    versions = await stored(database, AppealVersion)
    assert sorted((v.version, v.title) for v in versions) == [(1, TITLE), (2, "Second")]
    rows = await stored(database, OutboxMessage)
    assert sum(r.kind is OutboxKind.RECONFIRM for r in rows) == 2


async def test_the_export_counts_only_signatures_on_the_current_text(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina, _, _, to_irina, _ = await signed_then_edited(api, organiser)
    await irina.press_and_read_edit(to_irina, "Confirm")
    organiser.api.push_message(organiser.person, "/export 1")
    signatures = await organiser.next_message()
    letter = await organiser.next_message()
    assert signatures.text == (
        "Appeal #1: 2 signatures. 1 of them awaits re-confirmation of the current text and is "
        "left out of the letter."
    )
    assert signatures.document is not None
    rows = list(csv.reader(io.StringIO(signatures.document.content.decode("utf-8-sig"))))
    assert [(r[0], r[4], r[5]) for r in rows] == [
        ("organisation", "version", "awaiting_reconfirmation"),
        ("Memorial", "2", "no"),
        ("Viasna", "1", "yes"),
    ]
    assert letter.document is not None
    text = letter.document.content.decode("utf-8")
    assert text == "Free them all, now\n\nThe new text.\n\nSignatories:\n— Memorial\n"


async def test_refused_edits_change_nothing(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina = await contact(api, organiser, "Memorial", 2001)
    await organiser.says(f"/newappeal {TITLE}\n{TEXT}")
    await organiser.says(f"/newappeal Closed one\n{TEXT}")
    await organiser.says("/publish 2")
    await irina.next_message()  # the announcement
    await organiser.says("/close 2")
    assert (await irina.next_message()).text.startswith("🔒 Appeal #2")
    await outbox_settled(database, progress=True)
    before = await snapshot(database)

    assert await organiser.says("/edit 2 New\nNew text.") == "Appeal #2 is closed."
    assert await organiser.says("/edit 9 New\nNew text.") == (
        "There is no appeal #9. /appeals lists them."
    )
    assert await organiser.says("/edit 1 New") == (
        "Write the appeal's text on the lines after the title."
    )
    usage = "Usage: /edit ID NEW TITLE, with the appeal's new text on the following lines"
    assert await organiser.says("/edit 1") == usage
    assert await organiser.says("/edit") == usage
    assert await organiser.says("/edit x New\nNew text.") == usage
    assert await irina.says("/edit 1 New\nNew text.") == "Only organisers can use /edit."
    assert await snapshot(database) == before


async def test_two_edits_at_once_each_make_a_version(database: Database) -> None:
    """Two organisers change an open appeal at the same moment: neither edit is lost or
    refused, and every superseded wording is kept."""
    appeal_id = await open_appeal(database)

    async def edit(title: str) -> Edited:
        async with database.transaction() as session:
            return await edit_appeal(
                session=session,
                appeal_id=appeal_id,
                title=title,
                text=TEXT,
                actor_id=1000,
                now=LATER,
            )

    edits = await asyncio.gather(edit("Wording A"), edit("Wording B"))

    assert sorted(e.version for e in edits) == [2, 3]
    [appeal] = await stored(database, Appeal)
    assert appeal.version == 3
    assert sorted(v.version for v in await stored(database, AppealVersion)) == [1, 2]
