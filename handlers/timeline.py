"""The negotiation timeline: phases, deadlines and reminders."""

from datetime import timedelta

from markupsafe import Markup

from handlers.framework import Call, UsageError, command
from handlers.menu import N_, Audience
from handlers.timing import parse_when
from rendering.time_spans import closes, countdown, shown
from services import phases, reminders

RECENT = timedelta(days=7)  # how long a started phase stays in /phases


@command("phases", N_("The negotiation timeline"), Audience.CONTACT | Audience.ORGANISER)
async def list_phases(call: Call) -> None:
    """The upcoming and recent phases, with countdowns and their appeals."""
    async with call.reading() as session:
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


@command(
    "phase",
    N_("Add or move a negotiation phase"),
    Audience.ORGANISER,
    arguments=N_("YYYY-MM-DD HH:MM NAME, or ID YYYY-MM-DD HH:MM"),
    usage=N_(
        "/phase YYYY-MM-DD HH:MM NAME adds a phase; /phase ID YYYY-MM-DD HH:MM moves one. The time may end with an offset such as +02:00."
    ),
    example=N_("/phase {date} 09:00 Talks in Geneva"),
)
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


@command(
    "attach",
    N_("Time an appeal to a phase"),
    Audience.ORGANISER,
    arguments=N_("APPEAL_ID PHASE_ID"),
)
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


@command(
    "deadline",
    N_("Set an appeal's signing deadline"),
    Audience.ORGANISER,
    arguments=N_("APPEAL_ID YYYY-MM-DD HH:MM"),
    example=N_("/deadline 1 {date} 18:00"),
)
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


@command(
    "remind",
    N_("Remind the organisations that have not signed"),
    Audience.ORGANISER,
    arguments=N_("APPEAL_ID"),
)
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
