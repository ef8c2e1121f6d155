"""Random sequences of what organisers, contacts and a stranger do, run through the services
on a real database: after every step the rules still hold and the database says what a plain
model of the coalition says.

The coalition: three organisations with two contacts each, an organiser and a stranger.
Each example starts from a copy of it and takes steps one transaction each, as handlers do.
"""

from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import col, select

from models import Appeal, AppealState, Contact, Database, Disclosure, Signature
from models.appeal import TITLE_MAX
from services import appeals
from services.errors import Refusal
from tests.databases import DatabaseCopies
from tests.fuzzing import examples
from tests.service_steps import (
    Close,
    Cosign,
    Draft,
    Edit,
    Invite,
    Join,
    ModelAppeal,
    Publish,
    Revoke,
    ServicesModel,
    Status,
    Step,
    Subscribe,
    Withdraw,
    arranged,
    on_version,
)
from tests.stories import CONTACTS, ORGANISATIONS, STRANGER, CoalitionTemplate, snapshot

PEOPLE = (*CONTACTS, STRANGER)
# Appeal ids: the coalition's three (the open #1 most), those the steps may draft, and one that
# never exists.
APPEAL_IDS = st.sampled_from((1, 1, 1, 2, 3, 4, 5, 99_999))
TITLES = st.sampled_from(
    ["Free all detainees", "  Free <all> & every   one  ", "T" * TITLE_MAX, "T" * 201, "  "]
)
TEXTS = st.sampled_from(["Your Excellencies,\nFree them.", " \n "])
PERSONS = st.sampled_from(PEOPLE)
# How often each kind of step comes, relatively: signing most, since it is what the rules guard,
# and drafting and publishing often enough that there is something open to sign.
WEIGHTED: list[tuple[int, st.SearchStrategy[Step]]] = [
    (4, st.builds(Cosign, PERSONS, APPEAL_IDS, st.sampled_from(Disclosure))),
    (2, st.builds(Withdraw, PERSONS, APPEAL_IDS)),
    (2, st.builds(Draft, TITLES, TEXTS)),
    (2, st.builds(Publish, APPEAL_IDS)),
    (1, st.builds(Close, APPEAL_IDS)),
    (1, st.builds(Edit, APPEAL_IDS)),
    (1, st.builds(Status, PERSONS, APPEAL_IDS)),
    (1, st.builds(Subscribe, PERSONS, st.booleans())),
    (1, st.builds(Invite, st.integers(0, len(ORGANISATIONS) - 1))),
    (1, st.builds(Join, PERSONS, st.integers(0, 2))),
    (1, st.builds(Revoke, PERSONS)),
]
# (st.one_of would treat repeated strategies as one: each is drawn as often as it is listed.)
STEPS: st.SearchStrategy[Step] = st.sampled_from(
    [strategy for weight, strategy in WEIGHTED for _ in range(weight)]
).flatmap(lambda strategy: strategy)


# --- The property ---------------------------------------------------------------------------


@settings(max_examples=examples(20))
@given(steps=st.lists(STEPS, min_size=8, max_size=30))
async def test_any_sequence_of_steps_keeps_the_rules(
    coalition_template: CoalitionTemplate, database_copies: DatabaseCopies, steps: list[Step]
) -> None:
    model = arranged(coalition_template.coalition)
    with database_copies.copy_of(coalition_template.url) as url:
        database = Database(url)
        try:
            for number, step in enumerate(steps, start=1):
                await take(database, model, step, number)
        finally:
            await database.dispose()


async def take(database: Database, model: ServicesModel, step: Step, number: int) -> None:
    """Take one step: refused as the rules say or done as the model says, and then the rules
    still hold."""
    expected = step.expected(model)
    # Only a refusal needs the before and after: the model checks what a step did.
    before = await snapshot(database) if expected else None
    refused = await attempt(database, model, step, number)
    assert refused is expected, f"step {number}, {step}: {refused}, not {expected}"
    # Shown by --hypothesis-show-statistics: which steps were done, which refused.
    event(f"{type(step).__name__}: {refused.__name__ if refused else 'done'}")
    if refused is not None:
        assert await snapshot(database) == before, f"step {number}, {step}: refused"
    await assert_rules_hold(database, model)


async def attempt(
    database: Database, model: ServicesModel, step: Step, number: int
) -> type[Refusal] | None:
    """Take the step in one transaction, as a handler would; the refusal met, if any."""
    try:
        async with database.transaction() as session:
            await step.run(session, model, number)
    except Refusal as refusal:
        return type(refusal)
    return None


async def assert_rules_hold(database: Database, model: ServicesModel) -> None:
    """One signature per organisation and appeal; the counts the services report are the
    database's; and the database holds what the model says."""
    async with database.transaction() as session:
        doubles = await session.exec(
            select(Signature.appeal_id, Signature.organisation_id)
            .group_by(col(Signature.appeal_id), col(Signature.organisation_id))
            .having(func.count() > 1)
        )
        assert doubles.all() == []
        # Signatures by appeal and by the version of its text they were given on.
        counted = await session.exec(
            select(Signature.appeal_id, Signature.version, func.count()).group_by(
                col(Signature.appeal_id), col(Signature.version)
            )
        )
        counts = {(appeal_id, version): n for appeal_id, version, n in counted}
        for appeal_id, appeal in model.appeals.items():
            status = await appeals.appeal_status(
                session=session, appeal_id=appeal_id, organisation_id=None, include_drafts=True
            )
            everyone = sum(n for (a, _), n in counts.items() if a == appeal_id)
            current = counts.get((appeal_id, appeal.version), 0)
            assert (status.signatures, status.on_current_version) == (everyone, current)
            assert status.awaiting_reconfirmation == everyone - current
        listed = await appeals.list_appeals(session=session, include_drafts=True)
        assert {summary.id: summary.signatures for summary in listed} == {
            appeal_id: on_version(model, appeal_id, appeal.version)
            for appeal_id, appeal in model.appeals.items()
            if appeal.state is not AppealState.CLOSED
        }
        stored = (await session.exec(select(Signature))).all()
        assert {
            (s.appeal_id, s.organisation_id): (s.disclosure, s.version) for s in stored
        } == model.signatures
        stored_appeals = (await session.exec(select(Appeal))).all()
        assert {a.id: ModelAppeal(a.state, a.version) for a in stored_appeals} == model.appeals
        contacts = (await session.exec(select(Contact))).all()
        assert {c.telegram_id: c.organisation_id for c in contacts} == model.contacts
        assert {c.telegram_id: c.subscribed for c in contacts} == model.subscribed
