"""Organisers read the audit log: who changed what, and when, a page at a time."""

from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from handlers.context import CoalitionApplication
from handlers.framework import Call, UsageError, button, command
from handlers.menu import N_, Audience
from services import audit

PAGE = 20


@command(
    "audit", N_("The latest recorded changes"), Audience.ORGANISER, arguments=N_("[APPEAL_ID]")
)
async def show(call: Call) -> None:
    """The latest entries, or only those about one appeal (its signatures included)."""
    if len(call.args) > 1:
        raise UsageError()
    await _page(call, appeal_id=call.number() if call.args else None, offset=0)


@button("audit")
async def older(call: Call) -> None:
    """The page of entries before the one shown."""
    # The pattern let only digits through; 0 stands for "every appeal". Data the bot never
    # put on a button (a modified client's) may hold numbers no database column does.
    appeal_id, offset = int(call.args[0]), int(call.args[1])
    if max(appeal_id, offset) >= 2**31:
        raise UsageError()
    await _page(call, appeal_id=appeal_id or None, offset=offset)


async def _page(call: Call, *, appeal_id: int | None, offset: int) -> None:
    prefix = None if appeal_id is None else f"appeal:{appeal_id}"
    async with call.reading() as session:
        # One more than a page: whether there are older entries to offer.
        lines = await audit.latest(
            session=session, limit=PAGE + 1, offset=offset, object_prefix=prefix
        )
    texts = call.texts
    if not lines:
        await call.reply(texts.t("Nothing has been recorded yet."))
        return
    shown = []
    for line in lines[:PAGE]:
        if line.actor_id is not None:
            actor = Markup(str(line.actor_id))
        elif line.forgotten:
            actor = texts.t("a forgotten person")
        else:
            actor = texts.t("no one: the schedule or the command line")
        shown.append(
            texts.t(
                "{at} UTC · {action} · {object} · by {actor}",
                at=line.at.strftime("%Y-%m-%d %H:%M"),
                action=line.action,
                object=line.object,
                actor=actor,
            )
        )
    more = None
    if len(lines) > PAGE:
        data = f"audit-older:{appeal_id or 0}:{offset + PAGE}"
        label = texts.plain("Older entries")
        more = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
    # Who did what is for the organisers only: not to be forwarded.
    await call.reply(Markup("\n").join(shown), more, protect=True)


def register(app: CoalitionApplication) -> None:
    app.add_handler(CallbackQueryHandler(older, pattern=r"^audit-older:(\d+):(\d+)$"))
