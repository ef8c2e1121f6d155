"""Join requests: a stranger asks to join an organisation; an organiser approves or rejects."""

import logging

from markupsafe import Markup
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler

from handlers.context import CoalitionApplication
from handlers.framework import Call, UsageError, button, command, identify_account
from handlers.menu import N_, Audience, show_menu
from handlers.to_organisers import person_named, tell_organisers
from models.database import stored_id
from services import join_requests
from services.errors import AlreadyContact
from services.join_requests import Decided

log = logging.getLogger(__name__)

# Approving makes someone a contact, as an invite does: whoever may /invite decides, and a
# forged tap from anyone else is refused as /invite would be. No menu entry of its own.
DECIDERS = "invite"


@command(
    "request",
    N_("Ask to join an organisation"),
    Audience.STRANGER,
    arguments=N_("NAME OF THE ORGANISATION"),
)
async def request(call: Call) -> None:
    """Ask the organisers to make the caller a contact of an organisation."""
    name = " ".join(call.args)
    if not name:
        raise UsageError()
    async with call.transaction() as session:
        asked = await join_requests.request_to_join(
            session=session,
            telegram_id=call.caller.telegram_id,
            organisation_name=name,
            language=call.caller.language,
            now=call.now(),
        )
    await call.reply(
        call.texts.t(
            "I have asked the organisers to make you a contact of {organisation}. "
            "I will tell you what they decide.",
            organisation=asked.organisation_name,
        )
    )
    user = call.update.effective_user
    assert user is not None
    request_id, organisation = stored_id(asked.id), asked.organisation_name
    await tell_organisers(
        call,
        lambda texts: texts.t(
            "<b>Join request #{id}</b>\n{person} asks to become a contact of {organisation}.",
            id=request_id,
            person=person_named(texts, user),
            organisation=organisation,
        ),
        decide=f"join:{request_id}",
    )


@button(DECIDERS)
async def approve(call: Call) -> None:
    """Make the requester a contact of the organisation, creating it if new."""
    await _decide(call, approve=True)


@button(DECIDERS)
async def reject(call: Call) -> None:
    """Turn the request down; nothing else changes."""
    await _decide(call, approve=False)


async def _decide(call: Call, *, approve: bool) -> None:
    request_id = call.number()
    texts = call.texts
    try:
        async with call.transaction() as session:
            decided = await join_requests.decide(
                session=session,
                request_id=request_id,
                approve=approve,
                organiser_id=call.caller.telegram_id,
                now=call.now(),
            )
    except AlreadyContact as refusal:
        # Worded for the organiser, not the requester; the buttons stay for a Reject.
        await call.reply(
            texts.t(
                "The person who asked has meanwhile become a contact of {organisation}: "
                "join request #{id} cannot be approved. Reject it to close it.",
                organisation=refusal.organisation,
                id=request_id,
            )
        )
        return
    user = call.update.effective_user
    assert user is not None
    organiser = person_named(texts, user)
    if decided.approved:
        outcome = texts.t(
            "Join request #{id} approved by {organiser}: {requester} is now a contact of "
            "{organisation}.",
            id=request_id,
            organiser=organiser,
            requester=decided.telegram_id,
            organisation=decided.organisation,
        )
        if decided.organisation_is_new:
            outcome += Markup("\n") + texts.t(
                "New organisation {organisation}.", organisation=decided.organisation
            )
    else:
        outcome = texts.t(
            "Join request #{id} from {requester} to join {organisation} rejected by {organiser}.",
            id=request_id,
            organiser=organiser,
            requester=decided.telegram_id,
            organisation=decided.organisation,
        )
    await call.edit(outcome)
    await _tell_requester(call, decided)


async def _tell_requester(call: Call, decided: Decided) -> None:
    """The requester hears the decision in their language; once approved, their menu changes."""
    person, texts = await identify_account(call.context, decided.telegram_id, decided.language)
    if decided.approved:
        # The menu first: by the time they read the message, their commands are there.
        await show_menu(call.context, person, texts)
        text = texts.t(
            "The organisers approved your request: you are now a contact of {organisation} "
            "and can co-sign appeals in its name. /appeals lists the open appeals.",
            organisation=decided.organisation,
        )
    else:
        text = texts.t(
            "Thank you for your interest. The organisers did not approve your request to join "
            "{organisation}.",
            organisation=decided.organisation,
        )
    try:
        await call.context.bot.send_message(decided.telegram_id, text)
    except TelegramError as error:
        log.warning("join request %s: requester not told: %s", decided.request_id, error)


def register(app: CoalitionApplication) -> None:
    app.add_handler(CallbackQueryHandler(approve, pattern=r"^join-approve:(\d+)$"))
    app.add_handler(CallbackQueryHandler(reject, pattern=r"^join-reject:(\d+)$"))
