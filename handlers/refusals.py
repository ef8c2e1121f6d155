"""How each refusal from the services is worded for the person who was refused."""

from markupsafe import Markup

from foundation.i18n import LANGUAGE_NAMES, Texts
from models import AppealState
from services.errors import (
    AlreadyContact,
    AlreadyOrganiser,
    AlreadySigned,
    AppealClosed,
    AppealNotFound,
    AppealNotOpen,
    AppealStateConflict,
    AppealTextMissing,
    AppealTitleInvalid,
    ApprovalAlreadyDecided,
    ApprovalNotFound,
    BroadcastAlreadyQueued,
    BroadcastCancelled,
    BroadcastNotFound,
    BroadcastTextInvalid,
    ConfiguredOrganiser,
    ContactNotFound,
    InviteExpired,
    InviteUnknown,
    InviteUsed,
    NotAContact,
    NotAnOrganiser,
    NotSigned,
    OrganisationNameInvalid,
    PhaseNameInvalid,
    PhaseNotFound,
    Refusal,
    RequestAlreadyDecided,
    RequestAlreadyPending,
    RequestNotFound,
    SecondOrganiserNeeded,
    TimeInPast,
    TranslationIsOriginal,
    VersionSuperseded,
)


def word_refusal(texts: Texts, refusal: Refusal) -> Markup:
    """One line that names the problem."""
    match refusal:
        case InviteUnknown():
            return texts.t(
                "This invite code is not valid. Check it, or ask an organiser for a new one."
            )
        case InviteUsed():
            return texts.t(
                "This invite code has already been used. Ask an organiser for a new one."
            )
        case InviteExpired():
            return texts.t("This invite code has expired. Ask an organiser for a new one.")
        case AlreadyContact(organisation=organisation):
            return texts.t(
                "You are already a contact of {organisation}.", organisation=organisation
            )
        case OrganisationNameInvalid(limit=limit):
            return texts.t(
                "An organisation's name must be 1 to {limit} characters long.", limit=limit
            )
        case AppealNotFound(appeal_id=appeal_id):
            return texts.t("There is no appeal #{id}. /appeals lists them.", id=appeal_id)
        case AppealTitleInvalid(limit=limit):
            return texts.t("An appeal's title must be 1 to {limit} characters long.", limit=limit)
        case AppealTextMissing():
            return texts.t("Write the appeal's text on the lines after the title.")
        case AppealNotOpen(appeal_id=appeal_id, state=AppealState.CLOSED):
            return texts.t("Appeal #{id} is closed: it no longer takes signatures.", id=appeal_id)
        case AppealNotOpen(appeal_id=appeal_id):
            return texts.t("Appeal #{id} is not open for signatures.", id=appeal_id)
        case AppealStateConflict(appeal_id=appeal_id, state=AppealState.OPEN):
            return texts.t("Appeal #{id} is already open.", id=appeal_id)
        case AppealStateConflict(appeal_id=appeal_id, state=AppealState.CLOSED):
            return texts.t("Appeal #{id} is closed; a closed appeal stays closed.", id=appeal_id)
        case AppealStateConflict(appeal_id=appeal_id):
            return texts.t("Appeal #{id} is a draft: /publish it first.", id=appeal_id)
        case AlreadySigned(appeal_id=appeal_id, organisation=organisation):
            return texts.t(
                "{organisation} has already signed appeal #{id}.",
                organisation=organisation,
                id=appeal_id,
            )
        case NotSigned(appeal_id=appeal_id, organisation=organisation):
            return texts.t(
                "{organisation} has not signed appeal #{id}.",
                organisation=organisation,
                id=appeal_id,
            )
        case VersionSuperseded(appeal_id=appeal_id, version=version):
            return texts.t(
                "Appeal #{id} was changed again after version {version}: nothing was confirmed. "
                "/appeal {id} shows its current text.",
                id=appeal_id,
                version=version,
            )
        case NotAContact():
            return texts.t(
                "Only contacts of member organisations have updates. "
                "Ask an organiser of the coalition for an invite."
            )
        case BroadcastTextInvalid(limit=limit):
            return texts.t("A broadcast's text must be 1 to {limit} characters long.", limit=limit)
        case BroadcastNotFound(broadcast_id=broadcast_id):
            return texts.t("There is no broadcast #{id}.", id=broadcast_id)
        case BroadcastAlreadyQueued(broadcast_id=broadcast_id):
            return texts.t(
                "Broadcast #{id} is already queued: it goes out once. /delivery {id} shows how far it has gone.",
                id=broadcast_id,
            )
        case BroadcastCancelled(broadcast_id=broadcast_id):
            return texts.t("Broadcast #{id} was cancelled; nothing was sent.", id=broadcast_id)
        case PhaseNotFound(phase_id=phase_id):
            return texts.t("There is no phase #{id}. /phases lists them.", id=phase_id)
        case PhaseNameInvalid(limit=limit):
            return texts.t("A phase's name must be 1 to {limit} characters long.", limit=limit)
        case TimeInPast():
            return texts.t("That time has already passed: give one in the future.")
        case AppealClosed(appeal_id=appeal_id):
            return texts.t("Appeal #{id} is closed.", id=appeal_id)
        case ContactNotFound(telegram_id=telegram_id):
            return texts.t(
                "{id} is not a contact of any organisation. /orgs lists them.", id=telegram_id
            )
        case NotAnOrganiser(telegram_id=telegram_id):
            return texts.t("{id} is not an organiser promoted from chat.", id=telegram_id)
        case AlreadyOrganiser(telegram_id=telegram_id):
            return texts.t("{id} is already an organiser.", id=telegram_id)
        case ConfiguredOrganiser(telegram_id=telegram_id):
            return texts.t(
                "{id} is an organiser through ORGANISER_IDS: only the bot's configuration can change that.",
                id=telegram_id,
            )
        case TranslationIsOriginal(appeal_id=appeal_id, language=language):
            return texts.t(
                "Appeal #{id} is written in {language}: a translation goes into another language.",
                id=appeal_id,
                language=LANGUAGE_NAMES.get(language, language),
            )
        case RequestAlreadyPending(organisation=organisation):
            return texts.t(
                "You have already asked to join {organisation}. The organisers have not decided "
                "yet; I will tell you when they do.",
                organisation=organisation,
            )
        case RequestNotFound(request_id=request_id):
            return texts.t("There is no join request #{id}.", id=request_id)
        case RequestAlreadyDecided(request_id=request_id, approved=True):
            return texts.t("Join request #{id} has already been approved.", id=request_id)
        case RequestAlreadyDecided(request_id=request_id):
            return texts.t("Join request #{id} has already been rejected.", id=request_id)
        case ApprovalNotFound(approval_id=approval_id):
            return texts.t("There is no approval #{id}.", id=approval_id)
        case ApprovalAlreadyDecided(approval_id=approval_id, approved=True):
            return texts.t("Approval #{id} has already been approved.", id=approval_id)
        case ApprovalAlreadyDecided(approval_id=approval_id):
            return texts.t("Approval #{id} has already been rejected.", id=approval_id)
        case SecondOrganiserNeeded(approval_id=approval_id):
            return texts.t(
                "You asked for approval #{id}: a second organiser must approve it.",
                id=approval_id,
            )
    raise TypeError(f"no wording for {refusal!r}")
