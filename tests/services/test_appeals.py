"""Appeals on the real database: drafting, publishing, closing, and where each stands."""

from datetime import timedelta

import pytest

from models import (
    Appeal,
    AppealState,
    Database,
    Disclosure,
)
from services.appeals import (
    AppealStatus,
    AppealSummary,
    Published,
    appeal_status,
    close_appeal,
    create_appeal,
    list_appeals,
    publish_appeal,
)
from services.errors import (
    AppealNotFound,
    AppealStateConflict,
    AppealTextMissing,
    AppealTitleInvalid,
)
from services.signatures import withdraw
from tests.stories import (
    ALES,
    IRINA,
    LATER,
    MARTA,
    OLEG,
    ORGANISER,
    TEXT,
    TITLE,
    draft,
    member,
    open_appeal,
    sign,
    snapshot,
    stored,
)

# --- Appeals -------------------------------------------------------------------------------


async def test_a_new_appeal_is_a_tidied_draft(database: Database) -> None:
    async with database.transaction() as session:
        appeal = await create_appeal(
            session=session,
            title="  Free   them\tall ",
            text="\n  Text.  \n",
            organiser_id=ORGANISER,
        )

    [saved] = await stored(database, Appeal)
    assert saved.id == appeal.id
    assert (saved.title, saved.text, saved.state) == ("Free them all", "Text.", AppealState.DRAFT)
    assert (saved.created_by, saved.published_at, saved.closed_at) == (ORGANISER, None, None)


@pytest.mark.parametrize("title", ["", "   \n\t", "t" * 201])
async def test_an_empty_or_too_long_title_is_refused(database: Database, title: str) -> None:
    before = await snapshot(database)

    with pytest.raises(AppealTitleInvalid) as refused:
        async with database.transaction() as session:
            await create_appeal(session=session, title=title, text=TEXT, organiser_id=ORGANISER)

    assert refused.value == AppealTitleInvalid(limit=200)
    assert await snapshot(database) == before


async def test_a_title_of_exactly_200_characters_is_accepted(database: Database) -> None:
    appeal_id = await draft(database, "t" * 200)

    [saved] = await stored(database, Appeal)
    assert (saved.id, saved.title) == (appeal_id, "t" * 200)


@pytest.mark.parametrize("text", ["", "  \n \t\n"])
async def test_an_appeal_without_text_is_refused(database: Database, text: str) -> None:
    before = await snapshot(database)

    with pytest.raises(AppealTextMissing):
        async with database.transaction() as session:
            await create_appeal(session=session, title=TITLE, text=text, organiser_id=ORGANISER)

    assert await snapshot(database) == before


async def test_publishing_opens_a_draft_once(database: Database) -> None:
    appeal_id = await draft(database)

    async with database.transaction() as session:
        published = await publish_appeal(session=session, appeal_id=appeal_id, now=LATER)

    assert published == Published(appeal_id, TITLE, announced_to=0)  # nobody subscribed yet
    [saved] = await stored(database, Appeal)
    assert (saved.state, saved.published_at) == (AppealState.OPEN, LATER)
    before = await snapshot(database)
    with pytest.raises(AppealStateConflict) as refused:
        async with database.transaction() as session:
            await publish_appeal(session=session, appeal_id=appeal_id, now=LATER)
    assert refused.value == AppealStateConflict(appeal_id=appeal_id, state=AppealState.OPEN)
    assert await snapshot(database) == before


async def test_a_closed_appeal_cannot_be_published_again(database: Database) -> None:
    appeal_id = await open_appeal(database)
    async with database.transaction() as session:
        await close_appeal(session=session, appeal_id=appeal_id, now=LATER)
    before = await snapshot(database)

    with pytest.raises(AppealStateConflict) as refused:
        async with database.transaction() as session:
            await publish_appeal(session=session, appeal_id=appeal_id, now=LATER)

    assert refused.value == AppealStateConflict(appeal_id=appeal_id, state=AppealState.CLOSED)
    assert await snapshot(database) == before


async def test_closing_returns_the_final_count(database: Database) -> None:
    memorial = await member(database, "Memorial", IRINA)
    ovd = await member(database, "OVD-Info", OLEG)
    viasna = await member(database, "Viasna", ALES)
    appeal_id = await open_appeal(database)
    await sign(database, appeal_id, memorial, IRINA)
    await sign(database, appeal_id, ovd, OLEG, Disclosure.ANONYMOUS)
    await sign(database, appeal_id, viasna, ALES)
    async with database.transaction() as session:
        await withdraw(session=session, appeal_id=appeal_id, organisation_id=viasna, now=LATER)

    closing_time = LATER + timedelta(days=1)
    async with database.transaction() as session:
        final = await close_appeal(session=session, appeal_id=appeal_id, now=closing_time)

    assert final == 2
    [saved] = await stored(database, Appeal)
    assert (saved.state, saved.closed_at) == (AppealState.CLOSED, closing_time)


async def test_a_draft_cannot_be_closed(database: Database) -> None:
    appeal_id = await draft(database)
    before = await snapshot(database)

    with pytest.raises(AppealStateConflict) as refused:
        async with database.transaction() as session:
            await close_appeal(session=session, appeal_id=appeal_id, now=LATER)

    assert refused.value == AppealStateConflict(appeal_id=appeal_id, state=AppealState.DRAFT)
    assert await snapshot(database) == before


async def test_listing_hides_drafts_unless_asked_and_never_shows_closed_appeals(
    database: Database,
) -> None:
    memorial = await member(database, "Memorial", IRINA)
    closed = await open_appeal(database, "Closed one")
    opened = await open_appeal(database, "Open one")
    drafted = await draft(database, "Draft one")
    await sign(database, opened, memorial, IRINA)
    async with database.transaction() as session:
        await close_appeal(session=session, appeal_id=closed, now=LATER)

    async with database.transaction() as session:
        for_members = await list_appeals(session=session, include_drafts=False)
    async with database.transaction() as session:
        for_organisers = await list_appeals(session=session, include_drafts=True)

    assert for_members == [AppealSummary(opened, "Open one", AppealState.OPEN, 1)]
    assert for_organisers == [
        AppealSummary(drafted, "Draft one", AppealState.DRAFT, 0),
        AppealSummary(opened, "Open one", AppealState.OPEN, 1),
    ]


async def test_status_counts_anonymous_signatures_but_names_only_public_ones(
    database: Database,
) -> None:
    memorial = await member(database, "Memorial", IRINA)
    ovd = await member(database, "OVD-Info", OLEG)
    viasna = await member(database, "Viasna", ALES)
    silent = await member(database, "Silent Watch", MARTA)
    appeal_id = await open_appeal(database)
    await sign(database, appeal_id, memorial, IRINA, now=LATER)
    await sign(
        database, appeal_id, ovd, OLEG, Disclosure.ANONYMOUS, now=LATER + timedelta(minutes=1)
    )
    await sign(database, appeal_id, viasna, ALES, now=LATER + timedelta(minutes=2))

    statuses: dict[int | None, AppealStatus] = {}
    for asker in (memorial, ovd, silent, None):
        async with database.transaction() as session:
            statuses[asker] = await appeal_status(
                session=session, appeal_id=appeal_id, organisation_id=asker, include_drafts=False
            )

    assert statuses[ovd] == AppealStatus(
        id=appeal_id,
        title=TITLE,
        state=AppealState.OPEN,
        version=1,
        signatures=3,
        own_disclosure=Disclosure.ANONYMOUS,
        public_signatories=["Memorial", "Viasna"],
        public_signatures=2,
        on_current_version=3,
        awaiting_reconfirmation=0,
    )
    assert statuses[memorial].own_disclosure is Disclosure.PUBLIC
    assert statuses[silent].own_disclosure is None
    assert statuses[None].own_disclosure is None
    assert {s.signatures for s in statuses.values()} == {3}
    assert all(s.public_signatories == ["Memorial", "Viasna"] for s in statuses.values())


async def test_status_names_the_earliest_public_signatories_it_is_asked_for(
    database: Database,
) -> None:
    memorial = await member(database, "Memorial", IRINA)
    viasna = await member(database, "Viasna", ALES)
    ovd = await member(database, "OVD-Info", OLEG)
    appeal_id = await open_appeal(database)
    await sign(database, appeal_id, viasna, ALES, now=LATER)
    await sign(database, appeal_id, memorial, IRINA, now=LATER + timedelta(minutes=1))
    await sign(database, appeal_id, ovd, OLEG, Disclosure.PRIVATE, now=LATER + timedelta(minutes=2))

    async with database.transaction() as session:
        status = await appeal_status(
            session=session,
            appeal_id=appeal_id,
            organisation_id=memorial,
            include_drafts=False,
            names=1,
        )

    assert status.public_signatories == ["Viasna"]
    assert (status.public_signatures, status.signatures) == (2, 3)
    assert status.own_disclosure is Disclosure.PUBLIC


async def test_a_draft_has_no_status_for_members(database: Database) -> None:
    appeal_id = await draft(database)

    with pytest.raises(AppealNotFound):
        async with database.transaction() as session:
            await appeal_status(
                session=session, appeal_id=appeal_id, organisation_id=None, include_drafts=False
            )
    async with database.transaction() as session:
        status = await appeal_status(
            session=session, appeal_id=appeal_id, organisation_id=None, include_drafts=True
        )

    assert (status.state, status.signatures, status.public_signatories) == (
        AppealState.DRAFT,
        0,
        [],
    )
