"""What organisers, contacts and a stranger do through the services, step by step, for the
property tests (tests/services/test_any_sequence_of_steps.py): each step says which refusal the rules
expect, takes its action in a handler's transaction, and updates a plain model of the coalition.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from models import AppealState, Disclosure
from models.appeal import TITLE_MAX
from services import accounts, appeals, invites, membership, signatures
from services.errors import (
    AlreadyContact,
    AlreadySigned,
    AppealClosed,
    AppealNotFound,
    AppealNotOpen,
    AppealStateConflict,
    AppealTextMissing,
    AppealTitleInvalid,
    ContactNotFound,
    InviteUnknown,
    InviteUsed,
    NotAContact,
    NotSigned,
    Refusal,
)
from tests.stories import CONTACTS, NOW, ORGANISATIONS, ORGANISER, WEEK, CoalitionOfThree


@dataclass
class ModelAppeal:
    state: AppealState
    version: int = 1


@dataclass
class ServicesModel:
    """What the rules say the database holds after the steps so far."""

    organisations: list[int]  # ids, in the order of ORGANISATIONS
    contacts: dict[int, int]  # Telegram id → organisation id
    subscribed: dict[int, bool]  # Telegram id → subscription, for contacts
    appeals: dict[int, ModelAppeal] = field(default_factory=dict)
    # (appeal id, organisation id) → the disclosure and the version signed.
    signatures: dict[tuple[int, int], tuple[Disclosure, int]] = field(default_factory=dict)
    # Invite codes in the order issued: the organisation's id, and whether it was used.
    codes: list[tuple[str, int, bool]] = field(default_factory=list)

    def visible(self, appeal_id: int) -> ModelAppeal | None:
        """The appeal as members see it: drafts are missing to them."""
        appeal = self.appeals.get(appeal_id)
        return None if appeal is None or appeal.state is AppealState.DRAFT else appeal

    def in_state(self, appeal_id: int, state: AppealState) -> type[Refusal] | None:
        """Why an organiser's step on an appeal that must be in `state` is refused, if it is."""
        appeal = self.appeals.get(appeal_id)
        if appeal is None:
            return AppealNotFound
        return None if appeal.state is state else AppealStateConflict

    def signing(self, person: int, appeal_id: int, *, signed: bool) -> type[Refusal] | None:
        """Why a contact's signing (`signed`: withdrawing) is refused, if it is."""
        organisation = self.contacts.get(person)
        if organisation is None:
            return NotAContact
        appeal = self.visible(appeal_id)
        if appeal is None:
            return AppealNotFound
        if appeal.state is not AppealState.OPEN:
            return AppealNotOpen
        if ((appeal_id, organisation) in self.signatures) != signed:
            return NotSigned if signed else AlreadySigned
        return None


def arranged(coalition: CoalitionOfThree) -> ServicesModel:
    """The model of the coalition as tests.stories arranged it."""
    ids = coalition.organisations
    return ServicesModel(
        organisations=ids,
        contacts={person: ids[place] for person, place in CONTACTS.items()},
        subscribed=dict.fromkeys(CONTACTS, True),
        appeals={
            coalition.opened: ModelAppeal(AppealState.OPEN, version=2),
            coalition.drafted: ModelAppeal(AppealState.DRAFT),
            coalition.closed: ModelAppeal(AppealState.CLOSED),
        },
        signatures={
            (coalition.opened, ids[0]): (Disclosure.PUBLIC, 1),
            (coalition.closed, ids[1]): (Disclosure.PUBLIC, 1),
        },
    )


# --- Steps: each says which refusal the rules expect, runs, and updates the model. ---------


@dataclass(frozen=True)
class Draft:
    title: str
    text: str

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        if not 0 < len(" ".join(self.title.split())) <= TITLE_MAX:
            return AppealTitleInvalid
        return None if self.text.strip() else AppealTextMissing

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        appeal = await appeals.create_appeal(
            session=session, title=self.title, text=self.text, organiser_id=ORGANISER
        )
        assert appeal.id is not None
        assert appeal.id not in model.appeals
        model.appeals[appeal.id] = ModelAppeal(AppealState.DRAFT)


@dataclass(frozen=True)
class Publish:
    appeal_id: int

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        return model.in_state(self.appeal_id, AppealState.DRAFT)

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        published = await appeals.publish_appeal(
            session=session, appeal_id=self.appeal_id, now=at(step), actor_id=ORGANISER
        )
        # The announcement is queued for every subscribed contact, and for nobody else.
        assert published.announced_to == sum(model.subscribed.values())
        model.appeals[self.appeal_id].state = AppealState.OPEN


@dataclass(frozen=True)
class Close:
    appeal_id: int

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        return model.in_state(self.appeal_id, AppealState.OPEN)

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        final = await appeals.close_appeal(
            session=session, appeal_id=self.appeal_id, now=at(step), actor_id=ORGANISER
        )
        appeal = model.appeals[self.appeal_id]
        assert final == on_version(model, self.appeal_id, appeal.version)
        appeal.state = AppealState.CLOSED


@dataclass(frozen=True)
class Edit:
    appeal_id: int

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        appeal = model.appeals.get(self.appeal_id)
        if appeal is None:
            return AppealNotFound
        return AppealClosed if appeal.state is AppealState.CLOSED else None

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        edited = await appeals.edit_appeal(
            session=session,
            appeal_id=self.appeal_id,
            title=f"Free them all (step {step})",
            text="Your Excellencies,\nA new wording.",
            actor_id=ORGANISER,
            now=at(step),
        )
        appeal = model.appeals[self.appeal_id]
        if appeal.state is AppealState.OPEN:
            appeal.version += 1
        assert edited.version == appeal.version
        # Every organisation that signed was shown an earlier text: all are asked again.
        signed = [key for key in model.signatures if key[0] == self.appeal_id]
        assert edited.reconfirm_organisations == len(signed)


@dataclass(frozen=True)
class Cosign:
    person: int
    appeal_id: int
    disclosure: Disclosure

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        return model.signing(self.person, self.appeal_id, signed=False)

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        organisation = await organisation_of(session, self.person)
        signed = await signatures.cosign(
            session=session,
            appeal_id=self.appeal_id,
            organisation_id=organisation,
            signed_by=self.person,
            disclosure=self.disclosure,
            now=at(step),
        )
        version = model.appeals[self.appeal_id].version
        model.signatures[self.appeal_id, organisation] = (self.disclosure, version)
        assert signed.signatures == on_version(model, self.appeal_id, version)


@dataclass(frozen=True)
class Withdraw:
    person: int
    appeal_id: int

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        return model.signing(self.person, self.appeal_id, signed=True)

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        organisation = await organisation_of(session, self.person)
        await signatures.withdraw(
            session=session,
            appeal_id=self.appeal_id,
            organisation_id=organisation,
            now=at(step),
            actor_id=self.person,
        )
        del model.signatures[self.appeal_id, organisation]


@dataclass(frozen=True)
class Status:
    """A member asks where an appeal stands (it changes nothing)."""

    person: int
    appeal_id: int

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        return None if model.visible(self.appeal_id) else AppealNotFound

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        organisation = model.contacts.get(self.person)
        found = await appeals.appeal_status(
            session=session,
            appeal_id=self.appeal_id,
            organisation_id=organisation,
            include_drafts=False,
        )
        own = model.signatures.get((self.appeal_id, organisation or 0))
        assert found.own_disclosure == (own[0] if own else None)


@dataclass(frozen=True)
class Subscribe:
    person: int
    on: bool

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        return None if self.person in model.contacts else NotAContact

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        changed = await accounts.set_subscription(
            session=session, telegram_id=self.person, subscribed=self.on
        )
        assert changed == (model.subscribed[self.person] != self.on)
        model.subscribed[self.person] = self.on


@dataclass(frozen=True)
class Invite:
    """An organiser issues an invite code for one of the organisations (never refused)."""

    organisation: int

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        return None

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        issued = await invites.issue_invite(
            session=session,
            organisation_name=ORGANISATIONS[self.organisation],
            organiser_id=ORGANISER,
            now=at(step),
            valid_for=WEEK,
        )
        assert not issued.organisation_is_new
        model.codes.append((issued.code, model.organisations[self.organisation], False))


@dataclass(frozen=True)
class Join:
    """Someone joins with the n-th code issued in this example, or a made-up one."""

    person: int
    code: int

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        if self.code >= len(model.codes):
            return InviteUnknown
        if model.codes[self.code][2]:
            return InviteUsed
        return AlreadyContact if self.person in model.contacts else None

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        known = self.code < len(model.codes)
        code, organisation, _ = model.codes[self.code] if known else ("made-up-code", 0, False)
        await invites.join(
            session=session, code=code, telegram_id=self.person, language="en", now=at(step)
        )
        model.codes[self.code] = (code, organisation, True)
        model.contacts[self.person] = organisation
        model.subscribed[self.person] = True


@dataclass(frozen=True)
class Revoke:
    person: int

    def expected(self, model: ServicesModel) -> type[Refusal] | None:
        return None if self.person in model.contacts else ContactNotFound

    async def run(self, session: AsyncSession, model: ServicesModel, step: int) -> None:
        await membership.revoke(
            session=session, telegram_id=self.person, actor_id=ORGANISER, now=at(step)
        )
        del model.contacts[self.person]
        del model.subscribed[self.person]


Step = (
    Draft | Publish | Close | Edit | Cosign | Withdraw | Status | Subscribe | Invite | Join | Revoke
)


def at(step: int) -> datetime:
    """When the n-th step happens: a minute after the one before."""
    return NOW + timedelta(minutes=step)


def on_version(model: ServicesModel, appeal_id: int, version: int) -> int:
    return sum(1 for (a, _), (_, v) in model.signatures.items() if a == appeal_id and v == version)


async def organisation_of(session: AsyncSession, person: int) -> int:
    """The organisation a person signs for, found as the handlers find it."""
    caller = await accounts.identify(
        session=session,
        telegram_id=person,
        fallback_language="en",
        organiser_ids=frozenset({ORGANISER}),
    )
    if caller.organisation_id is None:
        # The handlers refuse someone who is no contact before any service runs.
        raise NotAContact()
    return caller.organisation_id
