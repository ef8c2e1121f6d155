"""Co-signing on the real database: one signature per organisation and appeal."""

import asyncio

import pytest

from models import (
    AppealState,
    Database,
    Disclosure,
    Signature,
)
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
    TITLE,
    draft,
    member,
    open_appeal,
    sign,
    snapshot,
    stored,
)

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


async def test_thirty_simultaneous_taps_leave_one_signature(database: Database) -> None:
    memorial = await member(database, "Memorial", IRINA)
    appeal_id = await open_appeal(database)
    tappers = range(3000, 3030)

    results = await asyncio.gather(
        *(sign(database, appeal_id, memorial, tapper) for tapper in tappers),
        return_exceptions=True,
    )

    signed = [r for r in results if isinstance(r, Cosigned)]
    refused = [r for r in results if isinstance(r, AlreadySigned)]
    others = [r for r in results if not isinstance(r, Cosigned | AlreadySigned)]
    assert others == []  # in particular, no "database is locked"
    assert (len(signed), len(refused)) == (1, 29)
    assert signed[0] == Cosigned(appeal_id, TITLE, 1)
    assert all(r == AlreadySigned(appeal_id=appeal_id, organisation="Memorial") for r in refused)
    [signature] = await stored(database, Signature)
    assert (signature.organisation_id, signature.appeal_id) == (memorial, appeal_id)
    assert signature.signed_by in tappers


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
        await set_deadline(session=session, appeal_id=appeal_id, deadline_at=LATER, now=NOW)

    with pytest.raises(AppealNotOpen) as refused:
        await sign(database, appeal_id, memorial, IRINA, now=LATER)

    assert refused.value == AppealNotOpen(appeal_id=appeal_id, state=AppealState.CLOSED)
    assert await stored(database, Signature) == []
