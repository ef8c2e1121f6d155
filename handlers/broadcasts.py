"""Organisers' alerts: preview, Send or Cancel, progress and the final report."""

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from handlers import approvals
from handlers.context import CoalitionApplication
from handlers.framework import Call, UsageError, button, command
from handlers.menu import N_, Audience
from handlers.to_organisers import tell_organisers
from rendering.broadcasts import render_broadcast, render_progress, render_report
from services import approvals as services_approvals
from services import broadcasts, progress
from services.progress import BulkSend, Tally


@command(
    "broadcast",
    N_("Alert every member"),
    Audience.ORGANISER,
    arguments=N_("TEXT"),
    usage=N_("/broadcast TEXT (it may span several lines)"),
)
async def broadcast(call: Call) -> None:
    """Preview an alert to every member, with Send and Cancel buttons."""
    if not call.body.strip():
        raise UsageError()
    async with call.transaction() as session:
        preview = await broadcasts.draft_broadcast(
            session=session, text=call.body, organiser_id=call.caller.telegram_id, now=call.now()
        )
    texts = call.texts
    shown = render_broadcast(texts, call.body.strip())
    send = texts.tn("Send to {n} member", "Send to {n} members", preview.recipients)
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    str(send), callback_data=f"broadcast-send:{preview.broadcast_id}"
                ),
                InlineKeyboardButton(
                    texts.plain("Cancel"), callback_data=f"broadcast-cancel:{preview.broadcast_id}"
                ),
            ]
        ]
    )
    heading = texts.t("Preview of broadcast #{id}:", id=preview.broadcast_id)
    # Not sent yet: the preview cannot be forwarded or saved.
    await call.reply(Markup("\n\n").join([heading, shown]), buttons, protect=True)


@button("broadcast", question=True)
async def send(call: Call) -> None:
    """Queue the previewed broadcast for every subscribed member, and show its progress."""
    broadcast_id = call.number()
    if approvals.two_needed(call):
        await _ask_for_approval(call, broadcast_id)
        return
    async with call.transaction() as session:
        sent = await broadcasts.send_broadcast(
            session=session,
            broadcast_id=broadcast_id,
            organiser_id=call.caller.telegram_id,
            chat_id=call.chat_id,
            now=call.now(),
        )
    call.context.resources.wake_outbox()
    texts = call.texts
    # The alert stays in the chat as its recipients see it, without the buttons.
    heading = texts.t("Broadcast #{id}:", id=broadcast_id)
    await call.edit(Markup("\n\n").join([heading, render_broadcast(texts, sent.text)]))
    await show_progress(
        call, sent.progress_id, BulkSend(broadcast_id=broadcast_id), sent.recipients
    )
    notice = approvals.broadcast_notice(call, broadcast_id, sent.recipients)
    await tell_organisers(call, notice, exclude={call.caller.telegram_id})


async def show_progress(call: Call, progress_id: int, send: BulkSend, recipients: int) -> None:
    """Send the progress message that the outbox worker keeps up to date from now on."""
    nothing_sent = Tally(pending=recipients, sent=0, blocked=0, failed=0)
    message = await call.reply(render_progress(call.texts, send, nothing_sent, None))
    async with call.transaction() as session:
        await progress.shown(
            session=session, progress_id=progress_id, message_id=message.message_id
        )


async def _ask_for_approval(call: Call, broadcast_id: int) -> None:
    """APPROVALS_REQUIRED=2: the draft waits for a second organiser's Approve."""
    async with call.transaction() as session:
        requested = await services_approvals.request_broadcast(
            session=session,
            broadcast_id=broadcast_id,
            requested_by=call.caller.telegram_id,
            now=call.now(),
        )
    await call.edit(
        call.texts.t(
            "Broadcast #{id} is waiting for a second organiser to approve it. "
            "I will tell you what they decide.",
            id=broadcast_id,
        )
    )
    wording = approvals.broadcast_request(call, broadcast_id, requested)
    await approvals.ask_second_organiser(call, requested, wording)


@button("broadcast", question=True)
async def cancel(call: Call) -> None:
    """Drop the previewed broadcast; nothing is sent."""
    broadcast_id = call.number()
    async with call.transaction() as session:
        await broadcasts.cancel_broadcast(session=session, broadcast_id=broadcast_id)
    await call.edit(call.texts.t("Broadcast #{id} cancelled; nothing was sent.", id=broadcast_id))


@command(
    "delivery",
    N_("How far a broadcast has gone"),
    Audience.ORGANISER,
    arguments=N_("BROADCAST_ID"),
    usage=N_("/delivery BROADCAST_ID (the number /broadcast gave the broadcast)"),
)
async def delivery(call: Call) -> None:
    """Show how far a broadcast has gone."""
    broadcast_id = call.sole_number()
    async with call.reading() as session:
        report = await broadcasts.delivery_report(session=session, broadcast_id=broadcast_id)
    await call.reply(render_report(call.texts, report))


def register(app: CoalitionApplication) -> None:
    app.add_handler(CallbackQueryHandler(send, pattern=r"^broadcast-send:(\d+)$"))
    app.add_handler(CallbackQueryHandler(cancel, pattern=r"^broadcast-cancel:(\d+)$"))
