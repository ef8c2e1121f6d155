"""Organisations and invites, on the real database: how a stranger becomes a contact."""

import asyncio
import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import String
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from models import (
    Account,
    Contact,
    Database,
    Invite,
    Organisation,
)
from services.errors import (
    AlreadyContact,
    InviteExpired,
    InviteUnknown,
    InviteUsed,
    OrganisationNameInvalid,
)
from services.invites import join
from tests.databases import sqlite_files
from tests.stories import (
    IRINA,
    LATER,
    NOW,
    OLEG,
    WEEK,
    invite,
    member,
    snapshot,
    stored,
)

# --- Invites -------------------------------------------------------------------------------


async def test_inviting_the_same_organisation_twice_creates_it_once(database: Database) -> None:
    first = await invite(database, "Memorial")
    second = await invite(database, "  memorial ")
    third = await invite(database, "MEMORIAL")

    assert (first.organisation_name, first.organisation_is_new) == ("Memorial", True)
    assert (second.organisation_name, second.organisation_is_new) == ("Memorial", False)
    assert (third.organisation_name, third.organisation_is_new) == ("Memorial", False)
    organisations = await stored(database, Organisation)
    assert [(o.name, o.name_key) for o in organisations] == [("Memorial", "memorial")]
    invites = await stored(database, Invite)
    assert len(invites) == 3
    assert {i.organisation_id for i in invites} == {organisations[0].id}
    assert len({first.code, second.code, third.code}) == 3


async def test_spacing_inside_a_name_is_tidied_and_ignored(database: Database) -> None:
    first = await invite(database, "  Human   Rights\tCentre ")
    second = await invite(database, "human rights centre")

    assert first.organisation_name == "Human Rights Centre"
    assert first.organisation_is_new
    assert not second.organisation_is_new
    assert [o.name for o in await stored(database, Organisation)] == ["Human Rights Centre"]


async def test_an_over_long_name_is_refused_and_nothing_changes(database: Database) -> None:
    before = await snapshot(database)

    with pytest.raises(OrganisationNameInvalid) as refused:
        await invite(database, "x" * 201)

    assert refused.value == OrganisationNameInvalid(limit=200)
    assert await snapshot(database) == before


async def test_a_name_whose_folded_key_would_overflow_its_column_is_refused(
    database: Database,
) -> None:
    # "ß" folds to "ss": 200 characters of name, 394 of key, over the 200 the column holds.
    before = await snapshot(database)
    with pytest.raises(OrganisationNameInvalid):
        await invite(database, "Straße " + "ß" * 193)
    assert await snapshot(database) == before

    issued = await invite(database, "ß" * 100)
    [organisation] = await stored(database, Organisation)
    column = SQLModel.metadata.tables["organisation"].c.name_key.type
    assert isinstance(column, AutoString)
    assert isinstance(column.impl_instance, String)
    assert len(organisation.name_key) == column.impl_instance.length == 200
    assert issued.organisation_name == organisation.name


async def test_an_invite_code_is_long_url_safe_and_only_its_hash_is_stored(
    database: Database, database_url: str
) -> None:
    issued = await invite(database, "Memorial")

    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", issued.code)
    assert issued.expires_at == NOW + WEEK
    [stored_invite] = await stored(database, Invite)
    assert stored_invite.code_hash == hashlib.sha256(issued.code.encode()).hexdigest()
    assert stored_invite.created_at == NOW
    assert stored_invite.expires_at == NOW + WEEK
    assert (stored_invite.used_at, stored_invite.used_by) == (None, None)
    # The code itself is in no column of any table...
    for table, rows in (await snapshot(database)).items():
        for row in rows:
            assert not any(issued.code in str(value) for value in row), (table, row)
    # ...nor anywhere in a SQLite database's files (a PostgreSQL server's are not ours to read).
    await database.dispose()
    for file in sqlite_files(database_url):
        assert issued.code.encode() not in file.read_bytes(), file


async def test_joining_makes_the_account_a_contact_of_the_organisation(
    database: Database,
) -> None:
    issued = await invite(database, "Memorial")

    async with database.transaction() as session:
        joined = await join(
            session=session, code=issued.code, telegram_id=IRINA, language="uk", now=LATER
        )

    assert joined == "Memorial"
    [organisation] = await stored(database, Organisation)
    [account] = await stored(database, Account)
    [contact] = await stored(database, Contact)
    assert (account.telegram_id, account.language) == (IRINA, "uk")
    assert (contact.telegram_id, contact.organisation_id) == (IRINA, organisation.id)
    assert contact.subscribed
    [used] = await stored(database, Invite)
    assert (used.used_at, used.used_by) == (LATER, IRINA)


async def test_a_code_with_surrounding_spaces_still_works(database: Database) -> None:
    issued = await invite(database, "Memorial")

    async with database.transaction() as session:
        joined = await join(
            session=session, code=f"  {issued.code}\n", telegram_id=IRINA, language="en", now=NOW
        )

    assert joined == "Memorial"


async def test_a_used_code_is_refused_and_nothing_changes(database: Database) -> None:
    issued = await invite(database, "Memorial")
    async with database.transaction() as session:
        await join(session=session, code=issued.code, telegram_id=IRINA, language="en", now=NOW)
    before = await snapshot(database)

    with pytest.raises(InviteUsed):
        async with database.transaction() as session:
            await join(
                session=session, code=issued.code, telegram_id=OLEG, language="en", now=LATER
            )

    assert await snapshot(database) == before
    assert [c.telegram_id for c in await stored(database, Contact)] == [IRINA]


async def test_an_unknown_code_is_refused_and_nothing_changes(database: Database) -> None:
    issued = await invite(database, "Memorial")
    before = await snapshot(database)

    with pytest.raises(InviteUnknown):
        async with database.transaction() as session:
            await join(
                session=session, code=issued.code[:-1], telegram_id=IRINA, language="en", now=NOW
            )

    assert await snapshot(database) == before
    assert await stored(database, Account) == []


async def test_an_expired_code_is_refused_and_nothing_changes(database: Database) -> None:
    issued = await invite(database, "Memorial")
    before = await snapshot(database)

    with pytest.raises(InviteExpired):
        async with database.transaction() as session:
            await join(
                session=session,
                code=issued.code,
                telegram_id=IRINA,
                language="en",
                now=NOW + WEEK + timedelta(seconds=1),
            )

    assert await snapshot(database) == before


async def test_a_code_works_until_the_moment_it_expires(database: Database) -> None:
    issued = await invite(database, "Memorial")

    with pytest.raises(InviteExpired):
        async with database.transaction() as session:
            await join(
                session=session, code=issued.code, telegram_id=IRINA, language="en", now=NOW + WEEK
            )
    async with database.transaction() as session:
        joined = await join(
            session=session,
            code=issued.code,
            telegram_id=IRINA,
            language="en",
            now=NOW + WEEK - timedelta(seconds=1),
        )

    assert joined == "Memorial"


async def test_a_contact_cannot_join_a_second_organisation(database: Database) -> None:
    await member(database, "Memorial", IRINA)
    other = await invite(database, "OVD-Info")
    before = await snapshot(database)

    with pytest.raises(AlreadyContact) as refused:
        async with database.transaction() as session:
            await join(session=session, code=other.code, telegram_id=IRINA, language="en", now=NOW)

    assert refused.value == AlreadyContact(organisation="Memorial")
    assert await snapshot(database) == before
    unused = [i for i in await stored(database, Invite) if i.used_by is None]
    assert len(unused) == 1
    assert unused[0].used_at is None
    # The refused code is still good for someone else.
    async with database.transaction() as session:
        joined = await join(
            session=session, code=other.code, telegram_id=OLEG, language="en", now=NOW
        )
    assert joined == "OVD-Info"


async def test_two_people_racing_with_one_code_only_one_joins(database: Database) -> None:
    issued = await invite(database, "Memorial")

    async def attempt(telegram_id: int) -> str:
        async with database.transaction() as session:
            return await join(
                session=session, code=issued.code, telegram_id=telegram_id, language="en", now=NOW
            )

    results = await asyncio.gather(attempt(IRINA), attempt(OLEG), return_exceptions=True)

    joined = [r for r in results if r == "Memorial"]
    refused = [r for r in results if isinstance(r, InviteUsed)]
    assert (len(joined), len(refused)) == (1, 1), results
    winner = IRINA if results[0] == "Memorial" else OLEG
    assert [c.telegram_id for c in await stored(database, Contact)] == [winner]
    [used] = await stored(database, Invite)
    assert used.used_by == winner
