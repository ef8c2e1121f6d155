"""Organisers look after membership: invites, the organisations, their contacts, who
organises."""

from datetime import timedelta

from markupsafe import Markup

from handlers import approvals
from handlers.framework import Call, UsageError, command, identify_account
from handlers.menu import N_, Audience, show_menu
from handlers.to_organisers import tell_organisers
from services import approvals as services_approvals
from services import invites, membership

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


@command("orgs", N_("Member organisations and their contacts"), Audience.ORGANISER)
async def organisations(call: Call) -> None:
    """Each organisation, its contacts, and how many open appeals it signed."""
    async with call.reading() as session:
        found = await membership.organisations(session=session)
    texts = call.texts
    if not found:
        await call.reply(texts.t("No organisation has been invited yet. /invite NAME invites one."))
        return
    lines = [
        texts.tn("<b>{n} member organisation</b>", "<b>{n} member organisations</b>", len(found))
    ]
    for organisation in found:
        signed = texts.tn(
            "{n} open appeal signed", "{n} open appeals signed", organisation.open_appeals_signed
        )
        where = f" ({organisation.country})" if organisation.country else ""
        lines.append(
            texts.t(
                "<b>{name}</b>{where} — {signed}",
                name=organisation.name,
                where=where,
                signed=signed,
            )
        )
        for contact in organisation.contacts:
            if contact.unreachable:
                state = texts.t("blocked the bot")
            elif contact.subscribed:
                state = texts.t("subscribed")
            else:
                state = texts.t("unsubscribed")
            lines.append(texts.t("   contact {id} ({state})", id=contact.telegram_id, state=state))
        if not organisation.contacts:
            lines.append(texts.t("   no contact yet"))
    # A member list is exactly what must not be forwarded.
    await call.reply(Markup("\n").join(lines), protect=True)


@command(
    "revoke",
    N_("Unlink a contact from its organisation"),
    Audience.ORGANISER,
    arguments=N_("USER_ID"),
    usage=N_("/revoke USER_ID (the contact's Telegram id, as /orgs shows it)"),
)
async def revoke(call: Call) -> None:
    """Unlink a contact from its organisation; it can no longer sign."""
    telegram_id = call.telegram_id()
    async with call.transaction() as session:
        organisation = await membership.revoke(
            session=session,
            telegram_id=telegram_id,
            actor_id=call.caller.telegram_id,
            now=call.now(),
        )
    await _refresh_menu(call, telegram_id)
    await call.reply(
        call.texts.t(
            "Contact {id} no longer acts for {organisation}. The organisation's signatures stay.",
            id=telegram_id,
            organisation=organisation,
        )
    )


@command("promote", N_("Make someone an organiser"), Audience.ORGANISER, arguments=N_("USER_ID"))
async def promote(call: Call) -> None:
    """Make someone an organiser."""
    telegram_id = call.telegram_id()
    settings = call.context.resources.settings
    if approvals.two_needed(call):
        async with call.transaction() as session:
            requested = await services_approvals.request_promotion(
                session=session,
                telegram_id=telegram_id,
                configured=settings.organiser_ids,
                requested_by=call.caller.telegram_id,
                now=call.now(),
            )
        await call.reply(
            call.texts.t(
                "Making {id} an organiser is waiting for a second organiser to approve it. "
                "I will tell you what they decide.",
                id=telegram_id,
            )
        )
        wording = approvals.promotion_request(call, telegram_id, requested)
        await approvals.ask_second_organiser(call, requested, wording)
        return
    async with call.transaction() as session:
        await membership.promote(
            session=session,
            telegram_id=telegram_id,
            configured=settings.organiser_ids,
            language=settings.default_language,
            actor_id=call.caller.telegram_id,
            now=call.now(),
        )
    await _refresh_menu(call, telegram_id)
    await call.reply(call.texts.t("{id} is now an organiser.", id=telegram_id))
    notice = approvals.promotion_notice(call, telegram_id)
    await tell_organisers(call, notice, exclude={call.caller.telegram_id, telegram_id})


@command(
    "demote",
    N_("Make an organiser an ordinary member again"),
    Audience.ORGANISER,
    arguments=N_("USER_ID"),
)
async def demote(call: Call) -> None:
    """Make a promoted organiser an ordinary person again."""
    telegram_id = call.telegram_id()
    async with call.transaction() as session:
        await membership.demote(
            session=session,
            telegram_id=telegram_id,
            configured=call.context.resources.settings.organiser_ids,
            actor_id=call.caller.telegram_id,
            now=call.now(),
        )
    await _refresh_menu(call, telegram_id)
    await call.reply(call.texts.t("{id} is no longer an organiser.", id=telegram_id))


async def _refresh_menu(call: Call, telegram_id: int) -> None:
    """Their command menu follows what they may now do (set before the organiser is told)."""
    person, texts = await identify_account(call.context, telegram_id)
    await show_menu(call.context, person, texts)


@command(
    "invite",
    N_("Invite an organisation"),
    Audience.ORGANISER,
    arguments=N_("NAME OF THE ORGANISATION"),
)
async def invite(call: Call) -> None:
    """Issue a single-use invite code for an organisation, creating it if new."""
    name = " ".join(call.args)
    if not name:
        raise UsageError()
    settings = call.context.resources.settings
    async with call.transaction() as session:
        issued = await invites.issue_invite(
            session=session,
            organisation_name=name,
            organiser_id=call.caller.telegram_id,
            now=call.now(),
            valid_for=timedelta(days=settings.invite_validity_days),
        )
    texts = call.texts
    link = f"https://t.me/{call.context.bot.username}?start={issued.code}"
    if issued.organisation_is_new:
        heading = texts.t("New organisation {organisation}.", organisation=issued.organisation_name)
    else:
        heading = texts.t(
            "{organisation} is already a member.", organisation=issued.organisation_name
        )
    await call.reply(
        texts.t(
            "{heading}\nSend this single-use invite link to one of its contacts. "
            "It is valid until {expires}:\n{link}\n"
            "Or they can send this to the bot: <code>/join {code}</code>",
            heading=heading,
            expires=issued.expires_at.strftime(TIME_FORMAT),
            link=link,
            code=issued.code,
        )
    )
