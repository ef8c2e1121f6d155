"""What is due on the negotiation timeline: reminders, phase starts, deadlines.

`fire_due` looks at the database and does whatever has come due, once: it may run at any moment,
as often as wanted, after any downtime. The scheduler only decides when to call it.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from services.appeals import count_signatures, find_appeal
from services.errors import AppealNotOpen

log = logging.getLogger(__name__)


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
    horizon = max(offsets) + grace
    phases = (
        await session.exec(
            select(Phase).where(
                col(Phase.starts_at) > now - horizon, col(Phase.starts_at) <= now + max(offsets)
            )
        )
    ).all()
    for phase in phases:
        appeals = await _open_appeals(session, col(Appeal.phase_id) == phase.id)
        await _remind_before(
            session, Occasion.PHASE, phase, phase.starts_at, appeals, offsets, now, grace, fired
        )
        if phase.starts_at <= now:
            await _announce_start(session, phase, now, grace, fired)
    for appeal in await _open_appeals(session, col(Appeal.deadline_at) > now):
        assert appeal.deadline_at is not None
        await _remind_before(
            session,
            Occasion.DEADLINE,
            appeal,
            appeal.deadline_at,
            [appeal],
            offsets,
            now,
            grace,
            fired,
        )
    return fired


async def remind_now(*, session: AsyncSession, appeal_id: int, actor_id: int, now: datetime) -> int:
    """An organiser's nudge: every organisation that has not signed, now; returns how many."""
    appeal = await find_appeal(session=session, appeal_id=appeal_id, include_drafts=False)
    if appeal.state is not AppealState.OPEN:
        raise AppealNotOpen(appeal_id=appeal_id, state=appeal.state)
    reminded = 0
    for organisation_id, (name, unsigned) in (await _unsigned(session, [appeal])).items():
        payload = _payload("manual", name, None, None, unsigned)
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


async def _remind_before(
    session: AsyncSession,
    occasion: Occasion,
    subject: Phase | Appeal,
    target: datetime,
    appeals: list[Appeal],
    offsets: tuple[timedelta, ...],
    now: datetime,
    grace: timedelta,
    fired: Fired,
) -> None:
    """The reminders due before `target`. When several are due at once (after downtime),
    only the latest goes out: the others would say the same thing again, less exactly."""
    due = sorted((offset for offset in offsets if target - offset <= now), reverse=True)
    for offset in due:
        latest = offset == due[-1]
        await _remind(
            session, occasion, subject, target, offset, appeals, now, grace, latest, fired
        )


async def _remind(
    session: AsyncSession,
    occasion: Occasion,
    subject: Phase | Appeal,
    target: datetime,
    offset: timedelta,
    appeals: list[Appeal],
    now: datetime,
    grace: timedelta,
    latest: bool,
    fired: Fired,
) -> None:
    """The reminder `offset` before `target`, for each organisation that has not signed."""
    moment = target - offset
    if not appeals:
        return
    in_time = latest and now - moment <= grace
    phase_name = subject.name if isinstance(subject, Phase) else None
    for organisation_id, (name, unsigned) in (await _unsigned(session, appeals)).items():
        ledger = Reminder(
            occasion=occasion,
            subject_id=stored_id(subject.id),
            target_at=target,
            offset_seconds=int(offset.total_seconds()),
            organisation_id=organisation_id,
            sent=in_time,
            recorded_at=now,
        )
        try:
            # The unique ledger row is the guarantee: one reminder, however often this runs.
            async with session.begin_nested():
                session.add(ledger)
        except IntegrityError:
            continue
        if in_time:
            await _queue(
                session,
                organisation_id,
                _payload(occasion, name, target, phase_name, unsigned),
                now,
            )
            fired.reminded += 1
        else:
            reason = "a later one is due too" if not latest else f"{now - moment} late"
            log.warning(
                "reminder skipped (%s): %s %s, %s before, organisation %s",
                reason, occasion.value, subject.id, offset, organisation_id,
            )  # fmt: skip
            fired.skipped += 1


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


def _payload(
    occasion: str,
    organisation: str,
    target: datetime | None,
    phase: str | None,
    appeals: list[Appeal],
) -> dict[str, Any]:
    """Fixed when queued; the worker renders it in each recipient's language and zone."""
    return {
        "occasion": occasion,
        "organisation": organisation,
        "at": target.isoformat() if target else None,
        "phase": phase,
        "appeals": [[stored_id(a.id), a.title] for a in appeals],
    }
