"""Coming in: /start, /help, and joining an organisation with an invite code."""

from datetime import timedelta

from markupsafe import Markup

from handlers.framework import (
    Call,
    UsageError,
    command,
    identify,
)
from handlers.menu import N_, Audience, entries_for, show_menu, shown_to
from services import invites

# How far ahead the dates in /help's examples are: a date in the past would be refused.
EXAMPLE_AHEAD = timedelta(days=14)


@command(
    "start",
    N_("Welcome and what you can do"),
    Audience.EVERYONE,
    arguments=N_("[CODE]"),
    usage=N_("/start or /start CODE"),
)
async def start(call: Call) -> None:
    """Greet the caller; with an invite code from a deep link, join its organisation."""
    if call.args:
        await _join(call)
        return
    texts, caller = call.texts, call.caller
    if caller.is_organiser:
        text = texts.t("Welcome, organiser. /help lists your commands.")
    elif caller.is_contact:
        text = texts.t(
            "Welcome back. You act for {organisation}. /appeals lists the open appeals.",
            organisation=caller.organisation_name,
        )
    else:
        text = texts.t(
            "Welcome to the coalition's bot. If an organiser sent you an invite link, open it, "
            "or send /join followed by the invite code. /help lists what you can do."
        )
    await call.reply(text)


@command("help", N_("The commands you can use"), Audience.EVERYONE)
async def help_(call: Call) -> None:
    """List the commands this caller may use."""
    texts = call.texts
    lines = [texts.t("<b>What you can do</b>")]
    for entry in entries_for(shown_to(call.caller)):
        arguments = f" {texts.plain(entry.arguments)}" if entry.arguments else ""
        lines.append(
            texts.t(
                "/{command}{arguments} — {description}",
                command=entry.command,
                arguments=arguments,
                description=texts.plain(entry.description),
            )
        )
        if entry.example:
            example = texts.plain(entry.example).format(
                date=f"{call.now() + EXAMPLE_AHEAD:%Y-%m-%d}"
            )
            lines.append(texts.t("    for example {example}", example=example))
    await call.reply(Markup("\n").join(lines))


@command("whoami", N_("Your role and organisation"), Audience.EVERYONE)
async def whoami(call: Call) -> None:
    """Tell the person how the coalition knows them: organiser or not, and whose contact."""
    caller, texts = call.caller, call.texts
    lines = []
    if caller.is_organiser:
        lines.append(texts.t("You are an organiser of the coalition."))
    if caller.is_contact:
        lines.append(texts.t("You act for {organisation}.", organisation=caller.organisation_name))
    else:
        lines.append(
            texts.t(
                "You act for no member organisation: /join CODE with an invite, or "
                "/request NAME to ask the organisers."
            )
        )
    await call.reply(Markup("\n").join(lines))


@command(
    "join",
    N_("Join your organisation with an invite code"),
    Audience.STRANGER,
    arguments=N_("CODE"),
)
async def join(call: Call) -> None:
    """Become a contact of the organisation an invite code was issued for."""
    await _join(call)


async def _join(call: Call) -> None:
    if len(call.args) != 1:
        raise UsageError()
    async with call.transaction() as session:
        organisation = await invites.join(
            session=session,
            code=call.args[0],
            telegram_id=call.caller.telegram_id,
            language=call.caller.language,
            now=call.now(),
        )
    # The menu first: by the time they read the reply, their commands are there.
    caller, texts = await identify(call.update, call.context)
    await show_menu(call.context, caller, texts)
    await call.reply(
        call.texts.t(
            "You are now a contact of {organisation}: you can co-sign appeals in its name. "
            "/appeals lists the open appeals.",
            organisation=organisation,
        )
    )
