"""Every state change leaves an audit entry, chained by hashes, that organisers can read."""

import asyncio
import re

from sqlalchemy import text

from models import AuditEntry, Database
from services import audit
from services.audit import VerifyResult
from stand.local_api import LocalBotApi, SentMessage
from tests.people import Someone, appeal_number, invite_code
from tests.processes import EXECUTABLE, clean_environment
from tests.stories import IRINA, ORGANISER, member, open_appeal, sign, stored

PROMOTED = 3003
LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC · (.+)")


async def story(api: LocalBotApi, organiser: Someone) -> Someone:
    """An invite used, an appeal published, signed, withdrawn and closed, a promotion and a
    broadcast: nine entries."""
    irina = Someone(api, IRINA, "Irina")
    await irina.says(f"/join {invite_code(await organiser.says('/invite Memorial'))}")
    appeal_id = appeal_number(await organiser.says("/newappeal Free them all\nThe text."))
    await organiser.says(f"/publish {appeal_id}")
    await irina.next_message()  # the announcement
    assert (await irina.says(f"/cosign {appeal_id}")).startswith("Memorial co-signed")
    await irina.says(f"/withdraw {appeal_id}")
    await organiser.says(f"/promote {PROMOTED}")
    await organiser.says("/broadcast Hold on.")
    await organiser.press_and_read_edit(organiser.inbox()[-1], "Send")
    await irina.next_message()  # the broadcast
    await organiser.sees_it_end(await organiser.next_message(), "Broadcast #1 is done")
    await organiser.says(f"/close {appeal_id}")
    assert (await irina.next_message()).text.startswith(f"🔒 Appeal #{appeal_id}")
    return irina


async def shown(organiser: Someone, command: str = "/audit") -> list[str]:
    """The /audit lines, oldest first, without their times."""
    lines = []
    for line in (await organiser.says(command)).split("\n"):
        match = LINE.fullmatch(line)
        assert match is not None, line
        lines.append(match[1])
    return lines[::-1]


async def verified(database: Database) -> VerifyResult:
    async with database.transaction() as session:
        return await audit.verify(session=session)


async def test_changes_are_recorded_with_who_made_them(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina = await story(api, organiser)
    by_organiser = f"by {ORGANISER}"
    assert await shown(organiser) == [
        f"invite.issued · organisation:1 · {by_organiser}",
        f"invite.used · organisation:1 · by {IRINA}",
        f"appeal.created · appeal:1 · {by_organiser}",
        f"appeal.published · appeal:1 · {by_organiser}",
        f"signature.added · appeal:1 · by {IRINA}",
        f"signature.withdrawn · appeal:1 · by {IRINA}",
        f"organiser.promoted · person:{PROMOTED} · {by_organiser}",
        f"broadcast.sent · broadcast:1 · {by_organiser}",
        f"appeal.closed · appeal:1 · {by_organiser}",
    ]
    assert await shown(organiser, "/audit 1") == [
        f"appeal.created · appeal:1 · {by_organiser}",
        f"appeal.published · appeal:1 · {by_organiser}",
        f"signature.added · appeal:1 · by {IRINA}",
        f"signature.withdrawn · appeal:1 · by {IRINA}",
        f"appeal.closed · appeal:1 · {by_organiser}",
    ]
    assert await organiser.says("/audit 2") == "Nothing has been recorded yet."
    [listing] = [
        params for method, params in api.calls
        if method == "sendMessage" and "invite.issued" in str(params.get("text", ""))
    ]  # fmt: skip
    assert listing.get("protect_content") == "true"

    refusal = await irina.says("/audit")
    assert "·" not in refusal
    assert "organiser" in refusal

    # Entries hold pseudonyms, never a Telegram id (as a whole word: a time's digits may
    # happen to contain "1000").
    ids = re.compile(rf"\b({IRINA}|{ORGANISER})\b")
    for entry in await stored(database, AuditEntry):
        assert not ids.search(f"{entry.actor_ref} {entry.action} {entry.object}"), entry
    assert await verified(database) == VerifyResult(entries=9)


async def test_verify_finds_an_altered_entry(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    await story(api, organiser)
    async with database.transaction() as session:
        await session.exec(text("UPDATE audit_entry SET action = 'invite.used' WHERE id = 3"))  # type: ignore[call-overload]
    assert await verified(database) == VerifyResult(entries=3, altered=3)


async def test_verify_finds_a_deleted_entry(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    await story(api, organiser)
    async with database.transaction() as session:
        await session.exec(text("DELETE FROM audit_entry WHERE id = 5"))  # type: ignore[call-overload]
    assert await verified(database) == VerifyResult(entries=5, missing=5)


async def test_a_forgotten_contact_stays_in_the_log_unnamed(
    api: LocalBotApi, organiser: Someone, database: Database
) -> None:
    irina = await story(api, organiser)
    irina.api.push_message(irina.person, "/forget")
    question = await irina.next_message()
    await irina.press_and_read_edit(question, "Confirm")

    lines = await shown(organiser)
    assert lines[1] == "invite.used · organisation:1 · by a forgotten person"
    assert lines[4:6] == [
        "signature.added · appeal:1 · by a forgotten person",
        "signature.withdrawn · appeal:1 · by a forgotten person",
    ]
    assert lines[-1] == "person.erased · person:forgotten · by a forgotten person"
    assert await verified(database) == VerifyResult(entries=10)


async def verify_from_the_command_line(database_url: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        EXECUTABLE,
        "audit",
        "verify",
        env=clean_environment(DATABASE_URL=database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode().strip(), stderr.decode().strip()


async def test_the_command_line_verifies_the_log(
    api: LocalBotApi, organiser: Someone, database: Database, database_url: str
) -> None:
    await story(api, organiser)
    assert await verify_from_the_command_line(database_url) == (
        0,
        "The audit log is intact: 9 entries.",
        "",
    )
    async with database.transaction() as session:
        await session.exec(text("UPDATE audit_entry SET object = 'appeal:2' WHERE id = 4"))  # type: ignore[call-overload]
    assert await verify_from_the_command_line(database_url) == (
        1,
        "",
        "The audit log is broken: entry 4 was altered.",
    )
    async with database.transaction() as session:
        await session.exec(text("DELETE FROM audit_entry WHERE id = 2"))  # type: ignore[call-overload]
    assert await verify_from_the_command_line(database_url) == (
        1,
        "",
        "The audit log is broken: entry 2 is missing.",
    )


async def test_the_log_is_read_a_page_at_a_time(api: LocalBotApi, organiser: Someone) -> None:
    for n in range(25):
        await organiser.says(f"/invite Organisation {n}")
    first = await shown_message(organiser, "/audit")
    assert len(first.text.splitlines()) == 20
    assert first.text.splitlines()[0].endswith("· invite.issued · organisation:25 · by 1000")
    organiser.press(first, "Older entries")
    older = await organiser.next_message()
    assert len(older.text.splitlines()) == 5
    assert older.text.splitlines()[-1].endswith("· invite.issued · organisation:1 · by 1000")
    assert older.buttons() == []


async def shown_message(organiser: Someone, command: str) -> SentMessage:
    organiser.api.push_message(organiser.person, command)
    return await organiser.next_message()


async def test_changes_made_at_once_are_chained_one_after_another(database: Database) -> None:
    """Each change appends in a transaction of its own, all at the same moment: the chain
    neither forks nor breaks (on PostgreSQL, nothing but a lock keeps them in line)."""
    appeal_id = await open_appeal(database)
    signers = {3000 + n: await member(database, f"Organisation {n}", 3000 + n) for n in range(20)}
    before = (await verified(database)).entries

    await asyncio.gather(*(sign(database, appeal_id, org, user) for user, org in signers.items()))

    assert await verified(database) == VerifyResult(entries=before + len(signers))
    entries = await stored(database, AuditEntry)
    assert [e.action for e in entries].count("signature.added") == len(signers)
