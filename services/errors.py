"""Why a domain operation was refused. Services raise these; handlers word them.

Raising inside a transaction rolls it back, so a refused operation changes nothing.
"""

from dataclasses import dataclass

from models.appeal import AppealState


class Refusal(Exception):
    """An operation the rules do not allow; nothing was stored."""


@dataclass
class InviteUnknown(Refusal):
    pass


@dataclass
class InviteUsed(Refusal):
    pass


@dataclass
class InviteExpired(Refusal):
    pass


@dataclass
class AlreadyContact(Refusal):
    organisation: str


@dataclass
class OrganisationNameInvalid(Refusal):
    limit: int


@dataclass
class AppealNotFound(Refusal):
    appeal_id: int


@dataclass
class AppealTitleInvalid(Refusal):
    limit: int


@dataclass
class AppealTextMissing(Refusal):
    pass


@dataclass
class AppealNotOpen(Refusal):
    """Signing or withdrawing needs an open appeal."""

    appeal_id: int
    state: AppealState


@dataclass
class AppealStateConflict(Refusal):
    """Publishing needs a draft and closing needs an open appeal."""

    appeal_id: int
    state: AppealState


@dataclass
class AlreadySigned(Refusal):
    appeal_id: int
    organisation: str


@dataclass
class NotSigned(Refusal):
    appeal_id: int
    organisation: str


@dataclass
class VersionSuperseded(Refusal):
    """A re-confirmation of a text that has since been changed again."""

    appeal_id: int
    version: int


@dataclass
class NotAContact(Refusal):
    """Only contacts of member organisations have subscriptions and signatures."""


@dataclass
class BroadcastTextInvalid(Refusal):
    limit: int


@dataclass
class BroadcastNotFound(Refusal):
    broadcast_id: int


@dataclass
class BroadcastAlreadyQueued(Refusal):
    broadcast_id: int


@dataclass
class BroadcastCancelled(Refusal):
    broadcast_id: int


@dataclass
class PhaseNotFound(Refusal):
    phase_id: int


@dataclass
class PhaseNameInvalid(Refusal):
    limit: int


@dataclass
class TimeInPast(Refusal):
    """A phase or a deadline must lie ahead."""


@dataclass
class AppealClosed(Refusal):
    """A closed appeal takes no phase, deadline or reminder."""

    appeal_id: int


@dataclass
class ContactNotFound(Refusal):
    telegram_id: int


@dataclass
class NotAnOrganiser(Refusal):
    telegram_id: int


@dataclass
class AlreadyOrganiser(Refusal):
    telegram_id: int


@dataclass
class ConfiguredOrganiser(Refusal):
    """The ids in ORGANISER_IDS are organisers by configuration, not from chat."""

    telegram_id: int


@dataclass
class TranslationIsOriginal(Refusal):
    """An appeal's own language is changed with its text, not translated into."""

    appeal_id: int
    language: str


@dataclass
class RequestAlreadyPending(Refusal):
    """A person has at most one pending join request."""

    organisation: str


@dataclass
class RequestNotFound(Refusal):
    request_id: int


@dataclass
class RequestAlreadyDecided(Refusal):
    """Another organiser (or an earlier tap) decided the join request first."""

    request_id: int
    approved: bool


@dataclass
class ApprovalNotFound(Refusal):
    approval_id: int


@dataclass
class ApprovalAlreadyDecided(Refusal):
    """Another organiser (or an earlier tap) decided the approval first."""

    approval_id: int
    approved: bool


@dataclass
class SecondOrganiserNeeded(Refusal):
    """With APPROVALS_REQUIRED=2, whoever asked for an action cannot approve it too."""

    approval_id: int
