"""The negotiation timeline: phases, the appeals attached to them, and signing deadlines."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Appeal, AppealState, Phase
from models.database import storable, stored_id
from services import audit
from services.appeals import find_appeal
from services.errors import AppealClosed, PhaseNameInvalid, PhaseNotFound, TimeInPast

NAME_MAX = 200


@dataclass(frozen=True)
class AttachedAppeal:
    """An appeal timed to a phase that is not closed, with its signing deadline if it has one."""

    id: int
    title: str
    deadline_at: datetime | None = None


@dataclass(frozen=True)
class PhaseSummary:
    id: int
    name: str
    starts_at: datetime
    appeals: list[AttachedAppeal] = field(default_factory=list)


async def add_phase(
    *, session: AsyncSession, name: str, starts_at: datetime, organiser_id: int, now: datetime
) -> Phase:
    name = " ".join(storable(name).split())
    if not name or len(name) > NAME_MAX:
        raise PhaseNameInvalid(limit=NAME_MAX)
    if starts_at <= now:
        raise TimeInPast()
    phase = Phase(name=name, starts_at=starts_at, created_by=organiser_id, created_at=now)
    session.add(phase)
    await session.flush()
    await _record(session, organiser_id, "phase.added", f"phase:{phase.id}", now)
    return phase


async def reschedule_phase(
    *, session: AsyncSession, phase_id: int, starts_at: datetime, actor_id: int, now: datetime
) -> Phase:
    """Move a phase; its reminders and its start message are re-armed for the new time."""
    phase = await find_phase(session=session, phase_id=phase_id)
    if starts_at <= now:
        raise TimeInPast()
    phase.starts_at = starts_at
    session.add(phase)
    await _record(session, actor_id, "phase.moved", f"phase:{phase_id}", now)
    return phase


async def find_phase(*, session: AsyncSession, phase_id: int) -> Phase:
    phase = await session.get(Phase, phase_id)
    if phase is None:
        raise PhaseNotFound(phase_id=phase_id)
    return phase


async def list_phases(
    *, session: AsyncSession, now: datetime, recent: timedelta
) -> list[PhaseSummary]:
    """Upcoming phases, and those started within `recent`, in date order."""
    phases = (
        await session.exec(
            select(Phase)
            .where(col(Phase.starts_at) > now - recent)
            .order_by(col(Phase.starts_at), col(Phase.id))
        )
    ).all()
    ids = [phase.id for phase in phases]
    attached = (
        await session.exec(
            select(Appeal)
            .where(col(Appeal.phase_id).in_(ids), col(Appeal.state) != AppealState.CLOSED)
            .order_by(col(Appeal.id))
        )
    ).all()
    summaries = []
    for phase in phases:
        appeals = [
            AttachedAppeal(stored_id(a.id), a.title, a.deadline_at)
            for a in attached
            if a.phase_id == phase.id
        ]
        summaries.append(PhaseSummary(stored_id(phase.id), phase.name, phase.starts_at, appeals))
    return summaries


async def attach(
    *, session: AsyncSession, appeal_id: int, phase_id: int, actor_id: int, now: datetime
) -> tuple[Appeal, Phase]:
    """Time an appeal to a phase: its non-signers are reminded before the phase starts."""
    appeal = await _changeable_appeal(session, appeal_id)
    phase = await find_phase(session=session, phase_id=phase_id)
    appeal.phase_id = phase_id
    session.add(appeal)
    await _record(session, actor_id, "appeal.timed", f"appeal:{appeal_id} phase:{phase_id}", now)
    return appeal, phase


async def set_deadline(
    *, session: AsyncSession, appeal_id: int, deadline_at: datetime, actor_id: int, now: datetime
) -> Appeal:
    """The appeal closes by itself then; its non-signers are reminded before."""
    appeal = await _changeable_appeal(session, appeal_id)
    if deadline_at <= now:
        raise TimeInPast()
    appeal.deadline_at = deadline_at
    session.add(appeal)
    await _record(session, actor_id, "appeal.deadline_set", f"appeal:{appeal_id}", now)
    return appeal


async def _changeable_appeal(session: AsyncSession, appeal_id: int) -> Appeal:
    appeal = await find_appeal(
        session=session, appeal_id=appeal_id, include_drafts=True, lock="update"
    )
    if appeal.state is AppealState.CLOSED:
        raise AppealClosed(appeal_id=appeal_id)
    return appeal


async def _record(
    session: AsyncSession, actor_id: int, action: str, object: str, now: datetime
) -> None:
    # After the row it changes (locked or written first): every writer takes rows, then the
    # audit chain, so that two of them cannot deadlock on PostgreSQL.
    await session.flush()
    await audit.record(session=session, actor_id=actor_id, action=action, object=object, now=now)
