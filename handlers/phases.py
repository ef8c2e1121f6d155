"""The negotiation timeline: phases, deadlines, reminders, and the time zone people read in."""

from datetime import timedelta

from markupsafe import Markup
from telegram.ext import CommandHandler

from foundation.i18n import Texts
from foundation.settings import zone
from handlers.caller import PRIVATE_MESSAGES, BadInput, Call, UsageError, command
from handlers.context import CoalitionApplication
from handlers.timing import parse_when
from rendering.time_spans import closes, countdown, shown
from services import accounts, phases, reminders

RECENT = timedelta(days=7)  # how long a started phase stays in /phases


class UnknownZone(BadInput):
    # IANA names are short: a longer one is echoed cut, not split over several messages.
    SHOWN = 64

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name if len(name) <= self.SHOWN else name[: self.SHOWN - 1] + "…"

    def word(self, texts: Texts) -> Markup:
        return texts.t(
            "There is no time zone {name}. Write it as Area/City, for example /timezone Europe/Kyiv.",
            name=self.name,
        )


@command("phase")
async def phase(call: Call) -> None:
    """Add a negotiation phase, or move one."""
    texts, reading_zone = call.texts, call.context.resources.settings.bot_timezone
    if call.args and call.args[0].isdecimal():
        phase_id = call.number()
        starts_at, rest = parse_when(call.args[1:], reading_zone)
        if rest:
            raise UsageError()
        async with call.transaction() as session:
            moved = await phases.reschedule_phase(
                session=session,
                phase_id=phase_id,
                starts_at=starts_at,
                actor_id=call.caller.telegram_id,
                now=call.now(),
            )
        reply = texts.t(
            "Moved phase #{id} “{name}”: it now starts {when} ({countdown}). "
            "Its reminders follow the new time.",
            id=phase_id,
            name=moved.name,
            when=shown(starts_at, call.zone),
            countdown=countdown(texts, starts_at, call.now()),
        )
    else:
        starts_at, rest = parse_when(call.args, reading_zone)
        if not rest:
            raise UsageError()
        async with call.transaction() as session:
            added = await phases.add_phase(
                session=session,
                name=" ".join(rest),
                starts_at=starts_at,
                organiser_id=call.caller.telegram_id,
                now=call.now(),
            )
        reply = texts.t(
            "Added phase #{id} “{name}”: it starts {when} ({countdown}). "
            "/attach APPEAL {id} times an appeal to it.",
            id=added.id,
            name=added.name,
            when=shown(starts_at, call.zone),
            countdown=countdown(texts, starts_at, call.now()),
        )
    await call.context.resources.timeline_changed()
    await call.reply(reply)


@command("phases")
async def list_phases(call: Call) -> None:
    """The upcoming and recent phases, with countdowns and their appeals."""
    async with call.transaction() as session:
        found = await phases.list_phases(session=session, now=call.now(), recent=RECENT)
    texts = call.texts
    if not found:
        await call.reply(texts.t("No negotiation phase is planned."))
        return
    lines = [texts.t("<b>Negotiation timeline</b>")]
    for summary in found:
        lines.append(
            texts.t(
                "#{id} {name} — {when} ({countdown})",
                id=summary.id,
                name=summary.name,
                when=shown(summary.starts_at, call.zone),
                countdown=countdown(texts, summary.starts_at, call.now()),
            )
        )
        for appeal in summary.appeals:
            line = texts.t("   • #{id} {title}", id=appeal.id, title=appeal.title)
            if appeal.deadline_at is not None:
                deadline = closes(texts, appeal.deadline_at, call.zone, call.now())
                line = texts.t("{appeal}: {deadline}", appeal=line, deadline=deadline)
            lines.append(line)
    await call.reply(Markup("\n").join(lines))


@command("attach")
async def attach(call: Call) -> None:
    """Time an appeal to a phase."""
    if len(call.args) != 2:
        raise UsageError()
    appeal_id, phase_id = call.number(0), call.number(1)
    async with call.transaction() as session:
        appeal, attached_to = await phases.attach(
            session=session,
            appeal_id=appeal_id,
            phase_id=phase_id,
            actor_id=call.caller.telegram_id,
            now=call.now(),
        )
    await call.context.resources.timeline_changed()
    await call.reply(
        call.texts.t(
            "Appeal #{appeal} “{title}” is timed to phase #{phase} “{name}”: organisations "
            "that have not signed it are reminded before the phase starts.",
            appeal=appeal_id,
            title=appeal.title,
            phase=phase_id,
            name=attached_to.name,
        )
    )


@command("deadline")
async def deadline(call: Call) -> None:
    """Set the moment an appeal stops taking signatures and closes by itself."""
    appeal_id = call.number()
    deadline_at, rest = parse_when(call.args[1:], call.context.resources.settings.bot_timezone)
    if rest:
        raise UsageError()
    async with call.transaction() as session:
        appeal = await phases.set_deadline(
            session=session,
            appeal_id=appeal_id,
            deadline_at=deadline_at,
            actor_id=call.caller.telegram_id,
            now=call.now(),
        )
    await call.context.resources.timeline_changed()
    await call.reply(
        call.texts.t(
            "Appeal #{id} “{title}” closes for signatures {when} ({countdown}).",
            id=appeal_id,
            title=appeal.title,
            when=shown(deadline_at, call.zone),
            countdown=countdown(call.texts, deadline_at, call.now()),
        )
    )


@command("remind")
async def remind(call: Call) -> None:
    """Nudge every organisation that has not signed, now."""
    appeal_id = call.sole_number()
    async with call.transaction() as session:
        reminded = await reminders.remind_now(
            session=session, appeal_id=appeal_id, actor_id=call.caller.telegram_id, now=call.now()
        )
    call.context.resources.wake_outbox()
    await call.reply(
        call.texts.tn(
            "Reminded {n} organisation that has not signed appeal #{id}.",
            "Reminded {n} organisations that have not signed appeal #{id}.",
            reminded,
            id=appeal_id,
        )
    )


@command("timezone")
async def timezone(call: Call) -> None:
    """Choose the time zone the bot shows times in."""
    if len(call.args) != 1:
        raise UsageError()
    name = call.args[0]
    try:
        zone(name)
    except ValueError:
        raise UnknownZone(name) from None
    async with call.transaction() as session:
        await accounts.set_timezone(
            session=session,
            telegram_id=call.caller.telegram_id,
            timezone=name,
            language=call.caller.language,
        )
    await call.reply(
        call.texts.t(
            "Times are now shown in {zone}: it is {now} there.",
            zone=name,
            now=shown(call.now(), name),
        )
    )


def register(app: CoalitionApplication) -> None:
    for name, callback in (
        ("phase", phase),
        ("phases", list_phases),
        ("attach", attach),
        ("deadline", deadline),
        ("remind", remind),
        ("timezone", timezone),
    ):
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE_MESSAGES))
