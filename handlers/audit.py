"""Organisers read the audit log: who changed what, and when."""

from markupsafe import Markup
from telegram.ext import CommandHandler

from bot.context import CoalitionApplication
from handlers.caller import PRIVATE_MESSAGES, Call, UsageError, command
from handlers.menu import N_
from services import audit

SHOWN = 20


@command("audit", usage=N_("/audit [APPEAL_ID]"))
async def show(call: Call) -> None:
    """The latest entries, or only those about one appeal (its signatures included)."""
    if len(call.args) > 1:
        raise UsageError()
    appeal_id = call.number() if call.args else None
    prefix = None if appeal_id is None else f"appeal:{appeal_id}"
    async with call.transaction() as session:
        lines = await audit.latest(session=session, limit=SHOWN, object_prefix=prefix)
    texts = call.texts
    if not lines:
        await call.reply(texts.t("Nothing has been recorded yet."))
        return
    shown = []
    for line in lines:
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
    # Who did what is for the organisers only: not to be forwarded.
    await call.reply(Markup("\n").join(shown), protect=True)


def register(app: CoalitionApplication) -> None:
    app.add_handler(CommandHandler("audit", show, filters=PRIVATE_MESSAGES))
