"""What the timeline sends: reminders (several due together in one message), a phase's start, the
deadline's report to organisers."""

from datetime import datetime

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from foundation.i18n import Texts
from rendering.time_spans import countdown, shown
from services.payloads import CountPayload, DueItem, PhaseStartPayload, ReminderPayload


def render_reminder(
    texts: Texts, payload: ReminderPayload, zone_name: str, now: datetime
) -> tuple[Markup, InlineKeyboardMarkup]:
    """A reminder as its recipient sees it: what starts now and what is coming (phase starts,
    deadlines), then what the organisation has not signed, with a Co-sign button per appeal."""
    appeals: list[tuple[int, str]] = [(int(i), str(t)) for i, t in payload["appeals"]]
    organisation = payload["organisation"]
    lines = []
    for item in payload["due"] if "due" in payload else _as_due(payload):
        if item["occasion"] == "start":
            lines.append(render_phase_start(texts, item))
            continue
        at = datetime.fromisoformat(item["at"])
        when, left = shown(at, zone_name), countdown(texts, at, now)
        if item["occasion"] == "phase":
            lines.append(
                texts.t(
                    "⏰ <b>{phase}</b> starts {when} ({countdown}).",
                    phase=item["phase"],
                    when=when,
                    countdown=left,
                )
            )
        else:
            lines.append(
                texts.t(
                    "⏰ Signatures for appeal #{id} close {when} ({countdown}).",
                    id=item["appeal_id"],
                    when=when,
                    countdown=left,
                )
            )
    if lines:
        lines.append(texts.t("{organisation} has not yet signed:", organisation=organisation))
    else:
        lines.append(
            texts.t(
                "⏰ The organisers ask {organisation} to consider signing:",
                organisation=organisation,
            )
        )
    lines += [texts.t("• #{id} {title}", id=i, title=t) for i, t in appeals]
    buttons = [
        [
            InlineKeyboardButton(
                texts.plain("Co-sign #{id}").format(id=i), callback_data=f"cosign:{i}"
            )
        ]
        for i, _ in appeals
    ]
    return Markup("\n").join(lines), InlineKeyboardMarkup(buttons)


def _as_due(payload: ReminderPayload) -> list[DueItem]:
    """A reminder queued by a release before reminders were merged: one occasion, or none."""
    occasion = payload.get("occasion")
    if occasion == "phase":
        return [DueItem(occasion="phase", at=payload["at"], phase=str(payload["phase"]))]
    if occasion == "deadline":
        appeal_id = int(payload["appeals"][0][0])
        return [DueItem(occasion="deadline", at=payload["at"], appeal_id=appeal_id)]
    return []


def render_phase_start(texts: Texts, payload: PhaseStartPayload | DueItem) -> Markup:
    return texts.t("🔔 <b>{phase}</b> starts now.", phase=payload["phase"])


def render_deadline_report(texts: Texts, payload: CountPayload) -> Markup:
    return texts.tn(
        "Appeal #{id} “{title}” reached its deadline and is closed with {n} signature.",
        "Appeal #{id} “{title}” reached its deadline and is closed with {n} signatures.",
        int(payload["signatures"]),
        id=payload["appeal_id"],
        title=payload["title"],
    )
