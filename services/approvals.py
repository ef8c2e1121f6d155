"""Four eyes: with APPROVALS_REQUIRED=2, a broadcast to all members and a promotion wait
until a second organiser approves. Whoever asked cannot approve it themselves."""

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Approval, ApprovalAction, Broadcast, BroadcastState, RequestState
from services import audit, broadcasts, membership, outbox
from services.errors import (
    ApprovalAlreadyDecided,
    ApprovalNotFound,
    BroadcastAlreadyQueued,
    BroadcastCancelled,
    BroadcastNotFound,
    NotAnOrganiser,
    SecondOrganiserNeeded,
)


@dataclass(frozen=True)
class Requested:
    """A pending approval, with what the other organisers are shown of it."""

    approval_id: int
    # The broadcast's text and how many it would reach now; empty for a promotion.
    text: str = ""
    recipients: int = 0


@dataclass(frozen=True)
class Decision:
    """What a second organiser's decision did, for the messages that tell of it."""

    approval_id: int
    action: ApprovalAction
    broadcast_id: int | None
    subject_id: int | None
    requested_by: int | None
    approved: bool
    # Queued messages, for an approved broadcast.
    recipients: int = 0


async def request_broadcast(
    *, session: AsyncSession, broadcast_id: int, requested_by: int, now: datetime
) -> Requested:
    """Send, when two must agree: the draft stays a draft until a second organiser approves."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise BroadcastNotFound(broadcast_id=broadcast_id)
    if broadcast.state == BroadcastState.CANCELLED:
        raise BroadcastCancelled(broadcast_id=broadcast_id)
    if broadcast.state != BroadcastState.DRAFT:
        raise BroadcastAlreadyQueued(broadcast_id=broadcast_id)
    approval = Approval(
        action=ApprovalAction.BROADCAST,
        broadcast_id=broadcast_id,
        requested_by=requested_by,
        created_at=now,
    )
    approval_id = await _store(session, approval, f"broadcast:{broadcast_id}", now)
    recipients = await outbox.count_recipients(session=session)
    return Requested(approval_id, broadcast.text, recipients)


async def request_promotion(
    *,
    session: AsyncSession,
    telegram_id: int,
    configured: frozenset[int],
    requested_by: int,
    now: datetime,
) -> Requested:
    """/promote, when two must agree: refused at once if they already organise."""
    await membership.refuse_if_organiser(
        session=session, telegram_id=telegram_id, configured=configured
    )
    approval = Approval(
        action=ApprovalAction.PROMOTE,
        subject_id=telegram_id,
        requested_by=requested_by,
        created_at=now,
    )
    subject = await audit.person(session=session, telegram_id=telegram_id)
    return Requested(await _store(session, approval, subject, now))


async def _store(session: AsyncSession, approval: Approval, about: str, now: datetime) -> int:
    session.add(approval)
    await session.flush()
    assert approval.id is not None
    await audit.record(
        session=session,
        actor_id=approval.requested_by,
        action="approval.requested",
        object=f"approval:{approval.id}/{about}",
        now=now,
    )
    return approval.id


async def decide(
    *,
    session: AsyncSession,
    approval_id: int,
    approve: bool,
    organiser_id: int,
    configured: frozenset[int],
    language: str,
    now: datetime,
) -> Decision:
    """A second organiser approves (the action is done) or rejects (nothing is done).

    Of two organisers deciding at once, exactly one does; the other is refused.
    """
    if organiser_id not in await membership.organisers(session=session, configured=configured):
        raise NotAnOrganiser(telegram_id=organiser_id)
    approval = await session.get(Approval, approval_id)
    if approval is None:
        raise ApprovalNotFound(approval_id=approval_id)
    if approval.requested_by == organiser_id:
        raise SecondOrganiserNeeded(approval_id=approval_id)
    state = RequestState.APPROVED if approve else RequestState.REJECTED
    claimed = await session.exec(
        update(Approval)
        .where(col(Approval.id) == approval_id, col(Approval.state) == RequestState.PENDING)
        .values(state=state, decided_by=organiser_id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    approval = await session.get(Approval, approval_id, populate_existing=True)
    assert approval is not None
    if claimed.rowcount != 1:
        raise ApprovalAlreadyDecided(
            approval_id=approval_id, approved=approval.state == RequestState.APPROVED
        )
    await audit.record(
        session=session,
        actor_id=organiser_id,
        action="approval.approved" if approve else "approval.rejected",
        object=f"approval:{approval_id}",
        now=now,
    )
    decision = Decision(
        approval_id,
        approval.action,
        approval.broadcast_id,
        approval.subject_id,
        approval.requested_by,
        approve,
    )
    if not approve:
        if approval.broadcast_id is not None:
            # A rejected broadcast cannot be sent later by another route: its draft is closed.
            await session.exec(
                update(Broadcast)
                .where(
                    col(Broadcast.id) == approval.broadcast_id,
                    col(Broadcast.state) == BroadcastState.DRAFT,
                )
                .values(state=BroadcastState.CANCELLED)
            )
        return decision
    if approval.action == ApprovalAction.BROADCAST:
        assert approval.broadcast_id is not None
        recipients = await broadcasts.queue_broadcast(
            session=session,
            broadcast_id=approval.broadcast_id,
            now=now,
            actor_id=organiser_id,
        )
        return replace(decision, recipients=recipients)
    if approval.subject_id is None:
        # The person asked the bot to forget them meanwhile: there is no one to promote.
        raise ApprovalNotFound(approval_id=approval_id)
    await membership.promote(
        session=session,
        telegram_id=approval.subject_id,
        configured=configured,
        language=language,
        actor_id=organiser_id,
        now=now,
    )
    return decision
