"""What is due on the negotiation timeline: reminders, phase starts, deadlines.

`fire_due` looks at the database and does whatever has come due, once: it may run at any moment,
as often as wanted, after any downtime. The scheduler only decides when to call it.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Appeal,
    AppealState,
    Contact,
    Occasion,
    Organisation,
    OutboxKind,
    Phase,
    Reminder,
    Signature,
)
from models.database import stored_id
from services import audit, outbox
from services.appeals import find_appeal
from services.deadlines import close_at_deadlines, open_appeals
from services.errors import AppealNotOpen
from services.payloads import DueItem, PhaseStartPayload, ReminderPayload

log = logging.getLogger(__name__)

# The earliest a reminder goes out, in the message of another one due now (see `early_by`).
EARLIEST = timedelta(hours=12)


@dataclass
class Fired:
    """What one look at the timeline did."""

    reminded: int = 0  # organisations reminded
    skipped: int = 0  # reminders too late to send
    phases_started: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)  # appeals closed at their deadline


async def fire_due(
    *,
    session: AsyncSession,
    now: datetime,
    offsets: tuple[timedelta, ...],
    grace: timedelta,
    organiser_ids: frozenset[int],
) -> Fired:
    fired = Fired()
    fired.closed = await close_at_deadlines(session=session, now=now, organiser_ids=organiser_ids)
    horizon = max(offsets) + grace
    phases = (
        await session.exec(
            select(Phase).where(
                col(Phase.starts_at) > now - horizon,
                col(Phase.starts_at) <= now + max(offsets) + EARLIEST,
            )
        )
    ).all()
    due: list[_Due] = []
    for phase in phases:
        appeals = await open_appeals(session, col(Appeal.phase_id) == phase.id)
        if appeals:
            due += await _due_before(
                session,
                Occasion.PHASE,
                phase,
                phase.starts_at,
                appeals,
                _Span(offsets, now, grace),
            )
    for appeal in await open_appeals(session, col(Appeal.deadline_at) > now):
        assert appeal.deadline_at is not None
        due += await _due_before(
            session,
            Occasion.DEADLINE,
            appeal,
            appeal.deadline_at,
            [appeal],
            _Span(offsets, now, grace),
        )
    starting = [
        phase
        for phase in phases
        if phase.starts_at <= now and await _claim_start(session, phase, now, grace)
    ]
    reminded = await _remind(session, due, starting, now, fired)
    for phase in starting:
        # Organisations reminded in this look read "starts now" in their reminder.
        payload = PhaseStartPayload(phase=phase.name, at=phase.starts_at.isoformat())
        await outbox.enqueue(
            session=session,
            kind=OutboxKind.PHASE_START,
            payload=payload,
            now=now,
            except_organisations=reminded,
        )
        fired.phases_started.append(stored_id(phase.id))
    return fired


def early_by(offset: timedelta, offsets: tuple[timedelta, ...]) -> timedelta:
    """How early the reminder `offset` before its moment may go out, with another one due now:
    half the way to the next reminder of its occasion (or to the moment itself), and never more
    than EARLIEST. "2 hours before" keeps its last call within the hour."""
    nearer = [other for other in offsets if other < offset]
    return min(EARLIEST, (offset - max(nearer, default=timedelta())) / 2)


async def remind_now(*, session: AsyncSession, appeal_id: int, actor_id: int, now: datetime) -> int:
    """An organiser's nudge: every organisation that has not signed, now; returns how many."""
    appeal = await find_appeal(session=session, appeal_id=appeal_id, include_drafts=False)
    if appeal.state is not AppealState.OPEN:
        raise AppealNotOpen(appeal_id=appeal_id, state=appeal.state)
    reminded = 0
    for organisation_id, (name, unsigned) in (await _unsigned(session, [appeal])).items():
        payload = ReminderPayload(
            organisation=name,
            due=[],  # nothing is coming: the organisers ask
            appeals=[[stored_id(appeal.id), appeal.title] for appeal in unsigned],
        )
        await _queue(session, organisation_id, payload, now)
        reminded += 1
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="appeal.reminded",
        object=f"appeal:{appeal_id}",
        now=now,
    )
    return reminded


async def next_moments(
    *, session: AsyncSession, now: datetime, offsets: tuple[timedelta, ...]
) -> list[datetime]:
    """Every future moment at which `fire_due` will have something to do."""
    targets = list((await session.exec(select(Phase.starts_at).where(Phase.starts_at > now))).all())
    targets += [
        a.deadline_at
        for a in await open_appeals(session, col(Appeal.deadline_at) > now)
        if a.deadline_at
    ]
    moments = {target - offset for target in targets for offset in (*offsets, timedelta())}
    return sorted(moment for moment in moments if moment > now)


@dataclass(frozen=True)
class _Span:
    """One look at the timeline: when, with which offsets, how early and how late."""

    offsets: tuple[timedelta, ...]
    now: datetime
    grace: timedelta


class _When(Enum):
    """Where a reminder stands at one look at the timeline."""

    IN_TIME = "in time"  # due, and less than the grace late
    LATE = "late"  # due, but more than the grace late: never sent
    SUPERSEDED = "superseded"  # due, but a later reminder of the same occasion is due too
    EARLY = "early"  # due soon (`early_by`): sent with one due now, or at its own time


@dataclass(frozen=True)
class _Due:
    """One reminder of one occasion, and the organisations that have not signed its appeals."""

    occasion: Occasion
    subject: Phase | Appeal
    target: datetime
    offset: timedelta
    when: _When
    unsigned: dict[int, tuple[str, list[Appeal]]]

    def ledger(self, organisation_id: int, now: datetime) -> Reminder:
        return Reminder(
            occasion=self.occasion,
            subject_id=stored_id(self.subject.id),
            target_at=self.target,
            offset_seconds=int(self.offset.total_seconds()),
            organisation_id=organisation_id,
            sent=self.when in (_When.IN_TIME, _When.EARLY),
            recorded_at=now,
        )

    def item(self) -> DueItem:
        """What the recipient is told is coming."""
        if isinstance(self.subject, Phase):
            return DueItem(occasion="phase", at=self.target.isoformat(), phase=self.subject.name)
        appeal_id = stored_id(self.subject.id)
        return DueItem(occasion="deadline", at=self.target.isoformat(), appeal_id=appeal_id)


async def _due_before(
    session: AsyncSession,
    occasion: Occasion,
    subject: Phase | Appeal,
    target: datetime,
    appeals: list[Appeal],
    span: "_Span",
) -> list[_Due]:
    """The reminders due before `target` now, and those that may go out early. When several are
    due at once (after downtime), only the latest goes out: the others would say the same
    thing again, less exactly."""
    now = span.now
    past = [offset for offset in span.offsets if target - offset <= now]
    early = [
        offset
        for offset in span.offsets
        if now < target - offset <= now + early_by(offset, span.offsets)
    ]
    if not past and not early:
        return []
    unsigned = await _unsigned(session, appeals)
    result = [_Due(occasion, subject, target, offset, _When.EARLY, unsigned) for offset in early]
    for offset in past:
        # Once the phase has started, "starts now" has said it all.
        if offset != min(past) or target <= now:
            when = _When.SUPERSEDED
        elif now - (target - offset) <= span.grace:
            when = _When.IN_TIME
        else:
            when = _When.LATE
        result.append(_Due(occasion, subject, target, offset, when, unsigned))
    return result


async def _remind(
    session: AsyncSession, due: list[_Due], starting: list[Phase], now: datetime, fired: Fired
) -> frozenset[int]:
    """For each organisation that has not signed, one message naming every reminder due now,
    those that may go out early with them, and the phases starting now; returns the
    organisations reminded."""
    reminded = set()
    by_organisation: dict[int, list[_Due]] = {}
    for reminder in due:
        for organisation_id in reminder.unsigned:
            by_organisation.setdefault(organisation_id, []).append(reminder)
    for organisation_id, reminders in sorted(by_organisation.items()):
        sending: list[_Due] = []
        for reminder in sorted(reminders, key=lambda r: r.when is _When.EARLY):
            if reminder.when is _When.EARLY and not sending:
                continue  # nothing due now to go with: it goes out at its own time
            # The unique ledger row is the guarantee: one reminder, however often this runs.
            if not await _record(session, reminder.ledger(organisation_id, now)):
                continue
            if reminder.when in (_When.IN_TIME, _When.EARLY):
                sending.append(reminder)
            else:
                log.warning(
                    "reminder skipped (%s): %s %s, %s before, organisation %s",
                    reminder.when.value, reminder.occasion.value, reminder.subject.id,
                    reminder.offset, organisation_id,
                )  # fmt: skip
                fired.skipped += 1
        if sending:
            payload = _payload(organisation_id, sending, starting)
            await _queue(session, organisation_id, payload, now)
            fired.reminded += 1
            reminded.add(organisation_id)
    return frozenset(reminded)


async def _claim_start(
    session: AsyncSession, phase: Phase, now: datetime, grace: timedelta
) -> bool:
    """Whether this look announces the phase's start: once per start time, within the grace."""
    # Conditional: whoever moves `start_announced_for` to this start time announces it.
    claimed = await session.exec(
        update(Phase)
        .where(
            col(Phase.id) == phase.id,
            (col(Phase.start_announced_for).is_(None))
            | (col(Phase.start_announced_for) != phase.starts_at),
        )
        .values(start_announced_for=phase.starts_at)
    )
    if claimed.rowcount != 1:
        return False
    if now - phase.starts_at > grace:
        log.warning("start of phase %s not announced: %s late", phase.id, now - phase.starts_at)
        return False
    return True


async def _unsigned(
    session: AsyncSession, appeals: list[Appeal]
) -> dict[int, tuple[str, list[Appeal]]]:
    """For each organisation with a subscribed contact, the appeals it has not signed."""
    ids = [stored_id(appeal.id) for appeal in appeals]
    organisations = (
        await session.exec(
            select(Organisation)
            .where(
                col(Organisation.id).in_(
                    select(Contact.organisation_id).where(col(Contact.subscribed))
                )
            )
            .order_by(col(Organisation.id))
        )
    ).all()
    signed = set(
        (
            await session.exec(
                select(Signature.organisation_id, Signature.appeal_id).where(
                    col(Signature.appeal_id).in_(ids)
                )
            )
        ).all()
    )
    result = {}
    for organisation in organisations:
        organisation_id = stored_id(organisation.id)
        unsigned = [a for a in appeals if (organisation_id, a.id) not in signed]
        if unsigned:
            result[organisation_id] = (organisation.name, unsigned)
    return result


async def _queue(
    session: AsyncSession, organisation_id: int, payload: ReminderPayload, now: datetime
) -> None:
    await outbox.enqueue(
        session=session,
        kind=OutboxKind.REMINDER,
        organisation_id=organisation_id,
        payload=payload,
        now=now,
    )


async def _record(session: AsyncSession, ledger: Reminder) -> bool:
    """Add the ledger row unless it is there already."""
    try:
        async with session.begin_nested():
            session.add(ledger)
    except IntegrityError:
        return False
    return True


def _payload(organisation_id: int, sending: list[_Due], starting: list[Phase]) -> ReminderPayload:
    """Fixed when queued; the worker renders it in each recipient's language and zone."""
    name = sending[0].unsigned[organisation_id][0]
    appeals = {
        stored_id(appeal.id): appeal.title
        for reminder in sending
        for appeal in reminder.unsigned[organisation_id][1]
    }
    # By time; at one time, the phase before the deadlines it brings. One occasion's reminders
    # due together after downtime say the same thing once.
    ordered = sorted(sending, key=lambda r: (r.target, r.occasion is Occasion.DEADLINE))
    items = [reminder.item() for reminder in ordered]
    started = [DueItem(occasion="start", phase=phase.name) for phase in starting]
    return ReminderPayload(
        organisation=name,
        due=started + [item for i, item in enumerate(items) if item not in items[:i]],
        appeals=[[appeal_id, title] for appeal_id, title in sorted(appeals.items())],
    )
