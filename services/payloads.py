"""What a queued message carries, by kind: fixed when the service queues it, stored as JSON on
the outbox row, and rendered by the outbox worker in each recipient's language."""

from typing import Literal, NotRequired, TypedDict


class ReconfirmationPayload(TypedDict):
    """To the contacts of an organisation that signed an earlier text of an edited appeal."""

    appeal_id: int
    version: int
    title: str
    organisation: str


class CountPayload(TypedDict):
    """An appeal closed, with its count: to every member, and as the organisers' report."""

    appeal_id: int
    title: str
    signatures: int


class PhaseStartPayload(TypedDict):
    """A negotiation phase starts now."""

    phase: str
    at: NotRequired[str]  # ISO 8601, UTC


class DueItem(TypedDict):
    """One thing a reminder says is coming: a phase's start or an appeal's deadline (`at`), or
    a phase that starts now ("start")."""

    occasion: Literal["phase", "deadline", "start"]
    at: NotRequired[str]  # ISO 8601, UTC
    phase: NotRequired[str]
    appeal_id: NotRequired[int]


class ReminderPayload(TypedDict):
    """What an organisation has not signed, and what is coming; `due` empty when the organisers
    ask. A reminder queued before reminders were merged has no `due` but one `occasion`."""

    organisation: str
    # [appeal id, title] pairs (JSON arrays once stored).
    appeals: list[list[int | str]]
    due: NotRequired[list[DueItem]]
    occasion: NotRequired[str]
    at: NotRequired[str]
    phase: NotRequired[str | None]


Payload = ReconfirmationPayload | CountPayload | PhaseStartPayload | ReminderPayload
