"""Organisers' alerts: preview, Send or Cancel, progress and the final report."""

import math
from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler

from foundation.i18n import Texts
from handlers import approvals
from handlers.caller import PRIVATE_MESSAGES, Call, UsageError, button, command
from handlers.context import CoalitionApplication
from handlers.to_organisers import tell_organisers
from services import approvals as services_approvals
from services import broadcasts, progress
from services.broadcasts import DeliveryReport
from services.progress import BulkSend, Tally

# Characters in a progress message's bar.
BAR_LENGTH = 20


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
    return Markup("\n").join([heading, *_fates(texts, report)])


def _fates(texts: Texts, tally: Tally | DeliveryReport) -> list[Markup]:
    """What became of the messages: delivered, blocked, failed and why."""
    lines = [
        texts.t("Delivered: {n}", n=tally.sent),
        texts.t("Blocked the bot: {n}", n=tally.blocked),
        texts.t("Failed: {n}", n=tally.failed),
    ]
    return lines + [texts.t("• {reason}: {n}", reason=r, n=n) for r, n in tally.reasons.items()]


@dataclass(frozen=True)
class Pace:
    """How fast a send goes, measured between two looks at it."""

    per_second: float
    left: timedelta


def render_progress(texts: Texts, send: BulkSend, tally: Tally, pace: Pace | None) -> Markup:
    """The organiser's progress message: a bar, the tally and the time left while the send goes
    out, then the final figures."""
    done = tally.pending == 0
    if send.appeal_id is not None:
        heading = texts.tn(
            "Appeal #{id} “{title}” is open for signatures; it is announced to {n} member.",
            "Appeal #{id} “{title}” is open for signatures; it is announced to {n} members.",
            tally.recipients,
            id=send.appeal_id,
            title=send.appeal_title,
        )
    elif done:
        heading = texts.t("<b>Broadcast #{id} is done.</b>", id=send.broadcast_id)
    else:
        heading = texts.tn(
            "<b>Broadcast #{id}</b> is going out to {n} recipient.",
            "<b>Broadcast #{id}</b> is going out to {n} recipients.",
            tally.recipients,
            id=send.broadcast_id,
        )
    if done:
        return Markup("\n").join([heading, *_fates(texts, tally)])
    share = tally.handled / tally.recipients
    filled = int(share * BAR_LENGTH)
    lines = [
        heading,
        Markup("{bar} {percent}%").format(
            bar="▓" * filled + "░" * (BAR_LENGTH - filled), percent=int(share * 100)
        ),
        *_fates(texts, tally),
        texts.t("Still to send: {n}", n=tally.pending),
    ]
    if pace is not None:
        lines.append(
            texts.t(
                "{rate} a second; {left} left",
                rate=round(pace.per_second),
                left=_time_left(texts, pace.left),
            )
        )
    return Markup("\n").join(lines)


def _time_left(texts: Texts, left: timedelta) -> Markup:
    """Rounded up as people say it: "about 40 seconds", "about 3 minutes"."""
    seconds = left.total_seconds()
    if seconds < 55:
        n = max(5, math.ceil(seconds / 5) * 5)
        return texts.tn("about {n} second", "about {n} seconds", n)
    n = math.ceil(seconds / 60)
    return texts.tn("about {n} minute", "about {n} minutes", n)


@command("broadcast")
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


@command("delivery")
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
