"""Four eyes: a second organiser approves a broadcast or a promotion; every organiser hears
of each privileged action."""

import logging

from markupsafe import Markup
from telegram import User
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler

from foundation.i18n import Texts
from handlers.context import CoalitionApplication
from handlers.framework import Call, button, identify_account
from handlers.menu import show_menu
from handlers.to_organisers import Wording, person_named, tell_organisers
from models import ApprovalAction
from services import approvals
from services.approvals import Decision, Requested

log = logging.getLogger(__name__)

# Whoever may /broadcast decides; the service checks again that they organise, and that
# they are not the organiser who asked. No menu entry of its own.
DECIDERS = "broadcast"


def two_needed(call: Call) -> bool:
    return call.context.resources.settings.approvals_required >= 2


async def ask_second_organiser(call: Call, requested: Requested, wording: Wording) -> None:
    """Every organiser but the one who asked gets the request, with Approve and Reject."""
    # Not sent yet: a broadcast awaiting approval cannot be forwarded or saved.
    await tell_organisers(
        call,
        wording,
        exclude={call.caller.telegram_id},
        decide=f"approval:{requested.approval_id}",
        protect=True,
    )


def broadcast_request(call: Call, broadcast_id: int, requested: Requested) -> Wording:
    requester = _caller(call)
    return lambda texts: texts.tn(
        "<b>Approval #{id}</b>\n{organiser} asks to send broadcast #{broadcast} to {n} "
        "member:\n\n{text}",
        "<b>Approval #{id}</b>\n{organiser} asks to send broadcast #{broadcast} to {n} "
        "members:\n\n{text}",
        requested.recipients,
        id=requested.approval_id,
        organiser=person_named(texts, requester),
        broadcast=broadcast_id,
        text=requested.text,
    )


def promotion_request(call: Call, telegram_id: int, requested: Requested) -> Wording:
    requester = _caller(call)
    return lambda texts: texts.t(
        "<b>Approval #{id}</b>\n{organiser} asks to make {person} an organiser.",
        id=requested.approval_id,
        organiser=person_named(texts, requester),
        person=telegram_id,
    )


def broadcast_notice(call: Call, broadcast_id: int, recipients: int) -> Wording:
    actor = _caller(call)
    return lambda texts: texts.tn(
        "{organiser} queued broadcast #{id} to {n} member.",
        "{organiser} queued broadcast #{id} to {n} members.",
        recipients,
        organiser=person_named(texts, actor),
        id=broadcast_id,
    )


def promotion_notice(call: Call, telegram_id: int) -> Wording:
    actor = _caller(call)
    return lambda texts: texts.t(
        "{organiser} promoted {person} to organiser.",
        organiser=person_named(texts, actor),
        person=telegram_id,
    )


@button(DECIDERS)
async def approve(call: Call) -> None:
    """Do the action the other organiser asked for."""
    await _decide(call, approve=True)


@button(DECIDERS)
async def reject(call: Call) -> None:
    """Turn the request down; nothing is done."""
    await _decide(call, approve=False)


async def _decide(call: Call, *, approve: bool) -> None:
    approval_id = call.number()
    settings = call.context.resources.settings
    async with call.transaction() as session:
        decision = await approvals.decide(
            session=session,
            approval_id=approval_id,
            approve=approve,
            organiser_id=call.caller.telegram_id,
            configured=settings.organiser_ids,
            language=settings.default_language,
            now=call.now(),
        )
    if approve and decision.action == ApprovalAction.BROADCAST:
        call.context.resources.wake_outbox()
    await call.edit(_outcome(call.texts, call, decision))
    if decision.requested_by is not None:
        await _tell_requester(call, decision, decision.requested_by)
    if not approve:
        return
    exclude = {call.caller.telegram_id, *([decision.requested_by] if decision.requested_by else [])}
    if decision.action == ApprovalAction.BROADCAST:
        assert decision.broadcast_id is not None
        notice = broadcast_notice(call, decision.broadcast_id, decision.recipients)
    else:
        assert decision.subject_id is not None
        person, texts = await identify_account(call.context, decision.subject_id)
        await show_menu(call.context, person, texts)
        notice = promotion_notice(call, decision.subject_id)
        exclude.add(decision.subject_id)  # the notice is for those who organised already
    await tell_organisers(call, notice, exclude=exclude)


def _outcome(texts: Texts, call: Call, decision: Decision) -> Markup:
    """What the decided action did, as the organiser who decided and the requester see it."""
    organiser = person_named(texts, _caller(call))
    if decision.action == ApprovalAction.BROADCAST:
        if decision.approved:
            return texts.tn(
                "Approval #{approval}: {organiser} approved broadcast #{id}; it is queued for "
                "{n} recipient.",
                "Approval #{approval}: {organiser} approved broadcast #{id}; it is queued for "
                "{n} recipients.",
                decision.recipients,
                approval=decision.approval_id,
                organiser=organiser,
                id=decision.broadcast_id,
            )
        return texts.t(
            "Approval #{approval}: {organiser} rejected broadcast #{id}; nothing was sent.",
            approval=decision.approval_id,
            organiser=organiser,
            id=decision.broadcast_id,
        )
    if decision.approved:
        return texts.t(
            "Approval #{approval}: {organiser} approved: {person} is now an organiser.",
            approval=decision.approval_id,
            organiser=organiser,
            person=decision.subject_id,
        )
    return texts.t(
        "Approval #{approval}: {organiser} rejected making {person} an organiser.",
        approval=decision.approval_id,
        organiser=organiser,
        person=decision.subject_id,
    )


async def _tell_requester(call: Call, decision: Decision, requester_id: int) -> None:
    _, texts = await identify_account(call.context, requester_id)
    try:
        await call.context.bot.send_message(requester_id, _outcome(texts, call, decision))
    except TelegramError as error:
        log.warning("approval %s: requester not told: %s", decision.approval_id, error)


def _caller(call: Call) -> User:
    user = call.update.effective_user
    assert user is not None
    return user


def register(app: CoalitionApplication) -> None:
    app.add_handler(CallbackQueryHandler(approve, pattern=r"^approval-approve:(\d+)$"))
    app.add_handler(CallbackQueryHandler(reject, pattern=r"^approval-reject:(\d+)$"))
