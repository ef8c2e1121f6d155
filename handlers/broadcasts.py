"""Organisers' alerts: preview, Send or Cancel, progress and the final report."""

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import CoalitionApplication
from bot.i18n import Texts
from handlers import approvals
from handlers.caller import PRIVATE_MESSAGES, Call, UsageError, button, command
from handlers.menu import N_
from handlers.to_organisers import tell_organisers
from services import approvals as services_approvals
from services import broadcasts
from services.broadcasts import DeliveryReport


def render_broadcast(texts: Texts, text: str) -> Markup:
    """A broadcast as each recipient sees it (and as its preview shows it)."""
    return texts.t("📣 <b>From the coalition's organisers</b>\n\n{text}", text=text)


def render_report(texts: Texts, report: DeliveryReport) -> Markup:
    """Progress, or the final report once nothing is pending."""
    if report.done:
        heading = texts.t("<b>Broadcast #{id} is done.</b>", id=report.broadcast_id)
    else:
        heading = texts.t(
            "<b>Broadcast #{id}</b>: {pending} of {n} still to send.",
            id=report.broadcast_id,
            pending=report.pending,
            n=report.recipients,
        )
    lines = [
        heading,
        texts.t("Delivered: {n}", n=report.sent),
        texts.t("Blocked the bot: {n}", n=report.blocked),
        texts.t("Failed: {n}", n=report.failed),
    ]
    lines += [texts.t("• {reason}: {n}", reason=r, n=n) for r, n in report.reasons.items()]
    return Markup("\n").join(lines)


@command("broadcast", usage=N_("/broadcast TEXT (it may span several lines)"))
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


@button("broadcast")
async def send(call: Call) -> None:
    """Queue the previewed broadcast for every subscribed member."""
    broadcast_id = call.number()
    if approvals.two_needed(call):
        await _ask_for_approval(call, broadcast_id)
        return
    async with call.transaction() as session:
        recipients = await broadcasts.queue_broadcast(
            session=session,
            broadcast_id=broadcast_id,
            now=call.now(),
            actor_id=call.caller.telegram_id,
        )
    call.context.resources.wake_outbox()
    await call.edit(
        call.texts.tn(
            "Broadcast #{id} queued for {n} recipient. You will get a report when it is done.",
            "Broadcast #{id} queued for {n} recipients. You will get a report when it is done.",
            recipients,
            id=broadcast_id,
        )
    )
    notice = approvals.broadcast_notice(call, broadcast_id, recipients)
    await tell_organisers(call, notice, exclude={call.caller.telegram_id})


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


@button("broadcast")
async def cancel(call: Call) -> None:
    """Drop the previewed broadcast; nothing is sent."""
    broadcast_id = call.number()
    async with call.transaction() as session:
        await broadcasts.cancel_broadcast(session=session, broadcast_id=broadcast_id)
    await call.edit(call.texts.t("Broadcast #{id} cancelled; nothing was sent.", id=broadcast_id))


@command("delivery", usage=N_("/delivery ID"))
async def delivery(call: Call) -> None:
    """Show how far a broadcast has gone."""
    broadcast_id = call.sole_number()
    async with call.transaction() as session:
        report = await broadcasts.delivery_report(session=session, broadcast_id=broadcast_id)
    await call.reply(render_report(call.texts, report))


def register(app: CoalitionApplication) -> None:
    app.add_handler(CommandHandler("broadcast", broadcast, filters=PRIVATE_MESSAGES))
    app.add_handler(CommandHandler("delivery", delivery, filters=PRIVATE_MESSAGES))
    app.add_handler(CallbackQueryHandler(send, pattern=r"^broadcast-send:(\d+)$"))
    app.add_handler(CallbackQueryHandler(cancel, pattern=r"^broadcast-cancel:(\d+)$"))
