"""What is due on the negotiation timeline: reminders, phase starts, deadlines.

`fire_due` looks at the database and does whatever has come due, once: it may run at any moment,
as often as wanted, after any downtime. The scheduler only decides when to call it.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from itertools import pairwise
from typing import Any

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
from services import audit, membership, outbox
from services.appeals import count_signatures, find_appeal, tell_members_closed
from services.errors import AppealNotOpen

log = logging.getLogger(__name__)

# Reminders due this close together go out as one message (see `merge_window`).
MERGE_WINDOW = timedelta(hours=1)


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
    await _close_at_deadlines(session, now, organiser_ids, fired)
    window = merge_window(offsets)
    horizon = max(offsets) + grace
    phases = (
        await session.exec(
            select(Phase).where(
                col(Phase.starts_at) > now - horizon,
                col(Phase.starts_at) <= now + max(offsets) + window,
            )
        )
    ).all()
    due: list[_Due] = []
    for phase in phases:
        appeals = await _open_appeals(session, col(Appeal.phase_id) == phase.id)
        if appeals:
            due += await _due_before(
                session,
                Occasion.PHASE,
                phase,
                phase.starts_at,
                appeals,
                _Span(offsets, now, window, grace),
            )
    for appeal in await _open_appeals(session, col(Appeal.deadline_at) > now):
        assert appeal.deadline_at is not None
        due += await _due_before(
            session,
            Occasion.DEADLINE,
            appeal,
            appeal.deadline_at,
            [appeal],
            _Span(offsets, now, window, grace),
        )
    await _remind(session, due, now, fired)
    # After the reminders: a late reminder queued in the same look is read before "starts now".
    for phase in phases:
        if phase.starts_at <= now:
            await _announce_start(session, phase, now, grace, fired)
    return fired


def merge_window(offsets: tuple[timedelta, ...]) -> timedelta:
    """How far ahead a reminder may go out early, in the message of one due now: an hour, but
    never so far that one occasion's own reminders would merge."""
    ordered = sorted(set(offsets))
    gaps = [later - earlier for earlier, later in pairwise(ordered)]
    return min([MERGE_WINDOW, *(gap / 2 for gap in gaps)])


async def remind_now(*, session: AsyncSession, appeal_id: int, actor_id: int, now: datetime) -> int:
    """An organiser's nudge: every organisation that has not signed, now; returns how many."""
    appeal = await find_appeal(session=session, appeal_id=appeal_id, include_drafts=False)
    if appeal.state is not AppealState.OPEN:
        raise AppealNotOpen(appeal_id=appeal_id, state=appeal.state)
    reminded = 0
    for organisation_id, (name, unsigned) in (await _unsigned(session, [appeal])).items():
        payload = {
            "organisation": name,
            "due": [],  # nothing is coming: the organisers ask
            "appeals": [[stored_id(appeal.id), appeal.title] for appeal in unsigned],
        }
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
        for a in await _open_appeals(session, col(Appeal.deadline_at) > now)
        if a.deadline_at
    ]
    moments = {target - offset for target in targets for offset in (*offsets, timedelta())}
    return sorted(moment for moment in moments if moment > now)


async def _close_at_deadlines(
    session: AsyncSession, now: datetime, organiser_ids: frozenset[int], fired: Fired
) -> None:
    # Locked together before the first audit entry: a signer holds its appeal's row and then
    # waits for the audit chain, so taking a row after an entry could deadlock (PostgreSQL).
    for appeal in await _open_appeals(session, col(Appeal.deadline_at) <= now, lock=True):
        appeal_id = stored_id(appeal.id)
        # Conditional: of two looks at the timeline, one closes the appeal and reports it.
        closed = await session.exec(
            update(Appeal)
            .where(col(Appeal.id) == appeal_id, col(Appeal.state) == AppealState.OPEN)
            .values(state=AppealState.CLOSED, closed_at=appeal.deadline_at)
        )
        if closed.rowcount != 1:
            continue
        signatures = await count_signatures(session=session, appeal=appeal)
        await tell_members_closed(session=session, appeal=appeal, signatures=signatures, now=now)
        payload = {"appeal_id": appeal_id, "title": appeal.title, "signatures": signatures}
        recipients = await membership.organisers(session=session, configured=organiser_ids)
        await outbox.enqueue_to(
            session=session,
            kind=OutboxKind.DEADLINE_REPORT,
            recipients=frozenset(recipients),
            payload=payload,
            now=now,
        )
        await audit.record(
            session=session,
            actor_id=None,
            action="appeal.closed",
            object=f"appeal:{appeal_id}",
            now=now,
        )
        fired.closed.append(appeal_id)


@dataclass(frozen=True)
class _Span:
    """One look at the timeline: when, with which offsets, how early and how late."""

    offsets: tuple[timedelta, ...]
    now: datetime
    window: timedelta
    grace: timedelta


class _When(Enum):
    """Where a reminder stands at one look at the timeline."""

    IN_TIME = "in time"  # due, and less than the grace late
    LATE = "late"  # due, but more than the grace late: never sent
    SUPERSEDED = "superseded"  # due, but a later reminder of the same occasion is due too
    EARLY = "early"  # due within the merge window: sent with another, or at its own time


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

    def item(self) -> dict[str, Any]:
        """What the recipient is told is coming."""
        if isinstance(self.subject, Phase):
            return {"occasion": "phase", "at": self.target.isoformat(), "phase": self.subject.name}
        appeal_id = stored_id(self.subject.id)
        return {"occasion": "deadline", "at": self.target.isoformat(), "appeal_id": appeal_id}


async def _due_before(
    session: AsyncSession,
    occasion: Occasion,
    subject: Phase | Appeal,
    target: datetime,
    appeals: list[Appeal],
    span: "_Span",
) -> list[_Due]:
    """The reminders due before `target` by the end of the merge window. When several are
    due at once (after downtime), only the latest goes out: the others would say the same
    thing again, less exactly."""
    now = span.now
    due = sorted(
        (offset for offset in span.offsets if target - offset <= now + span.window), reverse=True
    )
    if not due:
        return []
    unsigned = await _unsigned(session, appeals)
    result = []
    for offset in due:
        moment = target - offset
        if moment > now:
            when = _When.EARLY
        elif offset != due[-1]:
            when = _When.SUPERSEDED
        else:
            when = _When.IN_TIME if now - moment <= span.grace else _When.LATE
        result.append(_Due(occasion, subject, target, offset, when, unsigned))
    return result


async def _remind(session: AsyncSession, due: list[_Due], now: datetime, fired: Fired) -> None:
    """For each organisation that has not signed, one message naming every reminder due now,
    and those due within the merge window."""
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
            await _queue(session, organisation_id, _payload(organisation_id, sending), now)
            fired.reminded += 1


async def _announce_start(
    session: AsyncSession, phase: Phase, now: datetime, grace: timedelta, fired: Fired
) -> None:
    # Conditional: whoever moves `start_announced_for` to this start time queues the message.
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
        return
    if now - phase.starts_at > grace:
        log.warning("start of phase %s not announced: %s late", phase.id, now - phase.starts_at)
        return
    payload = {"phase": phase.name, "at": phase.starts_at.isoformat()}
    await outbox.enqueue(session=session, kind=OutboxKind.PHASE_START, payload=payload, now=now)
    fired.phases_started.append(stored_id(phase.id))


async def _open_appeals(
    session: AsyncSession, condition: Any, *, lock: bool = False
) -> list[Appeal]:
    query = select(Appeal).where(col(Appeal.state) == AppealState.OPEN, condition)
    if lock:
        query = query.with_for_update()
    return list((await session.exec(query.order_by(col(Appeal.id)))).all())


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
    session: AsyncSession, organisation_id: int, payload: dict[str, Any], now: datetime
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


def _payload(organisation_id: int, sending: list[_Due]) -> dict[str, Any]:
    """Fixed when queued; the worker renders it in each recipient's language and zone."""
    name = sending[0].unsigned[organisation_id][0]
    appeals = {
        stored_id(appeal.id): appeal.title
        for reminder in sending
        for appeal in reminder.unsigned[organisation_id][1]
    }
    # By time; at one time, the phase before the deadlines it brings.
    ordered = sorted(sending, key=lambda r: (r.target, r.occasion is Occasion.DEADLINE))
    return {
        "organisation": name,
        "due": [reminder.item() for reminder in ordered],
        "appeals": [[appeal_id, title] for appeal_id, title in sorted(appeals.items())],
    }
