"""An organiser's alert as members receive it, the live progress of a bulk send and its final
delivery report."""

import math
from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup

from foundation.i18n import Texts
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
