"""Co-signing on the real database: one signature per organisation and appeal."""

import asyncio

import pytest

from models import (
    Account,
    AppealState,
    AuditEntry,
    Contact,
    Database,
    Disclosure,
    Signature,
)
from services import audit
from services.appeals import (
    close_appeal,
)
from services.errors import (
    AlreadySigned,
    AppealNotFound,
    AppealNotOpen,
    NotSigned,
)
from services.phases import set_deadline
from services.signatures import Cosigned, cosign, withdraw
from tests.stories import (
    IRINA,
    LATER,
    NOW,
    OLEG,
    ORGANISER,
    TITLE,
    draft,
    member,
    open_appeal,
    sign,
    snapshot,
    stored,
)

CONTACTS = 200

# --- Signatures ----------------------------------------------------------------------------


async def test_cosigning_stores_one_signature_and_returns_the_count(database: Database) -> None:
    memorial = await member(database, "Memorial", IRINA)
    ovd = await member(database, "OVD-Info", OLEG)
    appeal_id = await open_appeal(database)

    first = await sign(database, appeal_id, memorial, IRINA, now=LATER)
    second = await sign(database, appeal_id, ovd, OLEG, Disclosure.ANONYMOUS, now=LATER)

    assert first == Cosigned(appeal_id, TITLE, 1)
    assert second == Cosigned(appeal_id, TITLE, 2)
    signatures = await stored(database, Signature)
    assert [
        (s.appeal_id, s.organisation_id, s.signed_by, s.disclosure, s.signed_at) for s in signatures
    ] == [
        (appeal_id, memorial, IRINA, Disclosure.PUBLIC, LATER),
        (appeal_id, ovd, OLEG, Disclosure.ANONYMOUS, LATER),
    ]


async def test_a_second_contact_of_a_signed_organisation_is_refused(database: Database) -> None:
    memorial = await member(database, "Memorial", IRINA)
    appeal_id = await open_appeal(database)
    await sign(database, appeal_id, memorial, IRINA)
    before = await snapshot(database)

    with pytest.raises(AlreadySigned) as refused:
        await sign(database, appeal_id, memorial, OLEG, Disclosure.ANONYMOUS)

    assert refused.value == AlreadySigned(appeal_id=appeal_id, organisation="Memorial")
    assert await snapshot(database) == before


async def test_a_draft_cannot_be_cosigned(database: Database) -> None:
    memorial = await member(database, "Memorial", IRINA)
    appeal_id = await draft(database)
    before = await snapshot(database)

    with pytest.raises(AppealNotFound) as refused:
        async with database.transaction() as session:
            await cosign(
                session=session,
                appeal_id=appeal_id,
                organisation_id=memorial,
                signed_by=IRINA,
                disclosure=Disclosure.PUBLIC,
                now=LATER,
            )

    assert refused.value == AppealNotFound(appeal_id=appeal_id)
    assert await snapshot(database) == before


async def test_an_appeal_that_does_not_exist_cannot_be_cosigned(database: Database) -> None:
    memorial = await member(database, "Memorial", IRINA)

    with pytest.raises(AppealNotFound) as refused:
        await sign(database, 999, memorial, IRINA)

    assert refused.value == AppealNotFound(appeal_id=999)
    assert await stored(database, Signature) == []


async def test_a_closed_appeal_cannot_be_cosigned(database: Database) -> None:
    memorial = await member(database, "Memorial", IRINA)
    appeal_id = await open_appeal(database)
    async with database.transaction() as session:
        await close_appeal(session=session, appeal_id=appeal_id, now=LATER)
    before = await snapshot(database)

    with pytest.raises(AppealNotOpen) as refused:
        async with database.transaction() as session:
            await cosign(
                session=session,
                appeal_id=appeal_id,
                organisation_id=memorial,
                signed_by=IRINA,
                disclosure=Disclosure.PUBLIC,
                now=LATER,
            )

    assert refused.value == AppealNotOpen(appeal_id=appeal_id, state=AppealState.CLOSED)
    assert await snapshot(database) == before


async def test_two_hundred_contacts_cosigning_at_once_leave_one_signature(
    database: Database,
) -> None:
    """200 /cosign at the same moment from contacts of one organisation, each in a
    transaction of its own: one is signed, every other is told it already was."""
    memorial = await member(database, "Memorial", IRINA)
    contacts = [IRINA, *await more_contacts(database, memorial, CONTACTS - 1)]
    appeal_id = await open_appeal(database)

    results = await asyncio.gather(
        *(sign(database, appeal_id, memorial, contact) for contact in contacts),
        return_exceptions=True,
    )

    signed = [r for r in results if isinstance(r, Cosigned)]
    refused = [r for r in results if isinstance(r, AlreadySigned)]
    others = [r for r in results if not isinstance(r, Cosigned | AlreadySigned)]
    assert others == []  # in particular, no "database is locked" and no serialization failure
    assert (len(signed), len(refused)) == (1, CONTACTS - 1)
    assert signed[0] == Cosigned(appeal_id, TITLE, 1)
    assert all(r == AlreadySigned(appeal_id=appeal_id, organisation="Memorial") for r in refused)
    [signature] = await stored(database, Signature)
    assert (signature.organisation_id, signature.appeal_id) == (memorial, appeal_id)
    assert signature.signed_by in contacts
    entries = await stored(database, AuditEntry)
    assert [e.action for e in entries].count("signature.added") == 1
    async with database.transaction() as session:
        assert (await audit.verify(session=session)).ok


async def test_a_signature_given_as_the_appeal_closes_is_counted_or_refused(
    database: Database,
) -> None:
    """Organisations sign while an organiser closes the appeal: each signature came before
    the close and is in its count, or after it and was refused."""
    appeal_id = await open_appeal(database)
    signers = {3000 + n: await member(database, f"Organisation {n}", 3000 + n) for n in range(20)}

    async def close() -> int:
        async with database.transaction() as session:
            return await close_appeal(session=session, appeal_id=appeal_id, now=LATER)

    signing = [sign(database, appeal_id, org, user) for user, org in signers.items()]
    # The close starts among the signatures, not after them all.
    results = await asyncio.gather(*signing[:10], close(), *signing[10:], return_exceptions=True)
    final_count = results.pop(10)

    assert [r for r in results if not isinstance(r, Cosigned | AppealNotOpen)] == []
    assert final_count == len(await stored(database, Signature))
    assert final_count == sum(isinstance(r, Cosigned) for r in results)


async def more_contacts(database: Database, organisation_id: int, count: int) -> list[int]:
    """`count` more contacts of the organisation, stored directly: joining by invite one at a
    time is not what is tested here."""
    ids = list(range(3000, 3000 + count))
    async with database.transaction() as session:
        for telegram_id in ids:
            session.add(Account(telegram_id=telegram_id, language="en"))
            session.add(Contact(telegram_id=telegram_id, organisation_id=organisation_id))
    return ids


async def test_withdrawing_removes_the_signature_once(database: Database) -> None:
    memorial = await member(database, "Memorial", IRINA)
    ovd = await member(database, "OVD-Info", OLEG)
    appeal_id = await open_appeal(database)
    await sign(database, appeal_id, memorial, IRINA)
    await sign(database, appeal_id, ovd, OLEG)

    async with database.transaction() as session:
        await withdraw(session=session, appeal_id=appeal_id, organisation_id=memorial, now=LATER)

    assert [s.organisation_id for s in await stored(database, Signature)] == [ovd]
    before = await snapshot(database)
    with pytest.raises(NotSigned) as refused:
        async with database.transaction() as session:
            await withdraw(
                session=session, appeal_id=appeal_id, organisation_id=memorial, now=LATER
            )
    assert refused.value == NotSigned(appeal_id=appeal_id, organisation="Memorial")
    assert await snapshot(database) == before
    # Having withdrawn, the organisation may sign again.
    assert (await sign(database, appeal_id, memorial, IRINA)).signatures == 2


async def test_a_signature_on_a_closed_appeal_cannot_be_withdrawn(database: Database) -> None:
    memorial = await member(database, "Memorial", IRINA)
    appeal_id = await open_appeal(database)
    await sign(database, appeal_id, memorial, IRINA)
    async with database.transaction() as session:
        await close_appeal(session=session, appeal_id=appeal_id, now=LATER)
    before = await snapshot(database)

    with pytest.raises(AppealNotOpen) as refused:
        async with database.transaction() as session:
            await withdraw(
                session=session, appeal_id=appeal_id, organisation_id=memorial, now=LATER
            )

    assert refused.value == AppealNotOpen(appeal_id=appeal_id, state=AppealState.CLOSED)
    assert await snapshot(database) == before


async def test_the_deadline_stops_signatures_before_the_scheduler_closes_the_appeal(
    database: Database,
) -> None:
    memorial = await member(database, "Memorial", IRINA)
    appeal_id = await open_appeal(database)
    async with database.transaction() as session:
        await set_deadline(
            session=session, appeal_id=appeal_id, deadline_at=LATER, actor_id=ORGANISER, now=NOW
        )

    with pytest.raises(AppealNotOpen) as refused:
        await sign(database, appeal_id, memorial, IRINA, now=LATER)

    assert refused.value == AppealNotOpen(appeal_id=appeal_id, state=AppealState.CLOSED)
    assert await stored(database, Signature) == []
