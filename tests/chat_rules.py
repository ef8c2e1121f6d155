"""The rules of the chat commands that tests/chat/test_any_conversation.py sends, as a plain model
of the coalition: what each command from each person should do, and what it changes."""

from dataclasses import dataclass
from enum import Enum

from models import AppealState, Disclosure
from models.appeal import TITLE_MAX
from tests.people import appeal_number
from tests.stories import (
    CLOSED_TITLE,
    CONTACTS,
    DRAFT_TITLE,
    OPEN_TITLE,
    ORGANISATIONS,
    ORGANISER,
    CoalitionOfThree,
)

# The words after `/cosign ID`, in English and in each language the bot offers.
WORDS = {
    "private": Disclosure.PRIVATE,
    "privé": Disclosure.PRIVATE,
    "приватно": Disclosure.PRIVATE,
    "anonymous": Disclosure.ANONYMOUS,
    "anonyme": Disclosure.ANONYMOUS,
    "анонімно": Disclosure.ANONYMOUS,
    "анонимно": Disclosure.ANONYMOUS,
}


class Outcome(Enum):
    CHANGED = "changed"  # done, and stored
    UNCHANGED = "unchanged"  # done, nothing to store (a reading, a subscription as it was)
    REFUSED = "refused"


@dataclass
class ModelAppeal:
    state: AppealState
    title: str


@dataclass
class ChatModel:
    """What the rules say is stored, and what each command should do to it."""

    names: dict[int, str]  # organisation id → name
    contacts: dict[int, int]  # Telegram id → organisation id
    subscribed: dict[int, bool]
    appeals: dict[int, ModelAppeal]
    signatures: dict[tuple[int, int], Disclosure]  # (appeal id, organisation id) → disclosure

    def shown(self, appeal_id: int | None, person: int) -> ModelAppeal | None:
        """The appeal as this person may see it: drafts only to the organiser."""
        appeal = self.appeals.get(appeal_id or 0)
        if appeal is None or (appeal.state is AppealState.DRAFT and person != ORGANISER):
            return None
        return appeal

    def expect(self, person: int, text: str) -> Outcome:
        """What the bot should do with `text` from `person`, by the rules in the README."""
        words = text.split()
        name, args = words[0].removeprefix("/"), words[1:]
        if not words[0].startswith("/") or name not in AUDIENCES:
            return Outcome.REFUSED  # "I only understand commands", "I do not know /…"
        organisation = self.contacts.get(person)
        roles = {"organiser"} if person == ORGANISER else set()
        roles |= {"contact"} if organisation is not None else set()
        if not roles & AUDIENCES[name]:
            return Outcome.REFUSED  # "Only organisers can use …", "Only contacts …"
        body = text.split(maxsplit=1)[1] if len(words) > 1 else ""
        appeal_id = number(args[0]) if args else None
        sole = appeal_id if len(args) == 1 else None
        match name:
            case "appeals":
                return Outcome.UNCHANGED
            case "appeal" | "status":
                return Outcome.UNCHANGED if self.shown(sole, person) else Outcome.REFUSED
            case "cosign":
                appeal = self.shown(appeal_id, person)
                options = args[1:]
                return refused_unless(
                    appeal is not None
                    and appeal.state is AppealState.OPEN
                    and (options == [] or (len(options) == 1 and options[0].lower() in WORDS))
                    and (appeal_id, organisation) not in self.signatures
                )
            case "withdraw":
                appeal = self.shown(sole, person)
                return refused_unless(
                    appeal is not None
                    and appeal.state is AppealState.OPEN
                    and (sole, organisation) in self.signatures
                )
            case "publish" | "close":
                appeal = self.appeals.get(sole or 0)
                before = AppealState.DRAFT if name == "publish" else AppealState.OPEN
                return refused_unless(appeal is not None and appeal.state is before)
            case "newappeal":
                title, _, wording = body.partition("\n")
                return refused_unless(tidy(title) is not None and bool(wording.strip()))
            case "edit":
                first_line, _, wording = body.partition("\n")
                after_id = first_line.split(maxsplit=1)[1:]
                appeal = self.appeals.get(appeal_id or 0)
                return refused_unless(
                    appeal is not None
                    and appeal.state is not AppealState.CLOSED
                    and bool(after_id)
                    and tidy(after_id[0]) is not None
                    and bool(wording.strip())
                )
            case "subscribe" | "unsubscribe":
                same = self.subscribed[person] == (name == "subscribe")
                return Outcome.UNCHANGED if same else Outcome.CHANGED
            case "revoke":
                target = int(args[0]) if args and args[0].isdecimal() else None
                return refused_unless(target in self.contacts)
        raise AssertionError(f"no rule for /{name}")

    def apply(self, person: int, text: str, reply: str) -> None:
        """Record what a command the rules allowed changed."""
        words = text.split()
        name, args = words[0].removeprefix("/"), words[1:]
        appeal_id = number(args[0]) if args else None
        if name == "cosign" and appeal_id is not None:
            disclosure = WORDS[args[1].lower()] if len(args) > 1 else Disclosure.PUBLIC
            self.signatures[appeal_id, self.contacts[person]] = disclosure
        elif name == "withdraw" and appeal_id is not None:
            del self.signatures[appeal_id, self.contacts[person]]
        elif name == "publish" and appeal_id is not None:
            self.appeals[appeal_id].state = AppealState.OPEN
        elif name == "close" and appeal_id is not None:
            self.appeals[appeal_id].state = AppealState.CLOSED
        elif name == "newappeal":
            title = tidy(text.split(maxsplit=1)[1].partition("\n")[0])
            self.appeals[appeal_number(reply)] = ModelAppeal(AppealState.DRAFT, title or "")
        elif name == "edit" and appeal_id is not None:
            title = tidy(text.partition("\n")[0].split(maxsplit=2)[2])
            self.appeals[appeal_id].title = title or ""
        elif name in ("subscribe", "unsubscribe"):
            self.subscribed[person] = name == "subscribe"
        elif name == "revoke":
            target = int(args[0])
            del self.contacts[target], self.subscribed[target]


# Who may use each command the steps send.
AUDIENCES = {
    **dict.fromkeys(("appeals", "appeal", "status"), frozenset({"organiser", "contact"})),
    **dict.fromkeys(("cosign", "withdraw", "subscribe", "unsubscribe"), frozenset({"contact"})),
    **dict.fromkeys(("publish", "close", "newappeal", "edit", "revoke"), frozenset({"organiser"})),
}


def number(typed: str) -> int | None:
    """An id as the bot reads one: decimal digits, within 32 bits."""
    return int(typed) if typed.isdecimal() and 0 < int(typed) < 2**31 else None


def tidy(title: str) -> str | None:
    """A title as stored (on one line, spaces collapsed), or None if it is refused."""
    title = " ".join(title.split())
    return title if 0 < len(title) <= TITLE_MAX else None


def refused_unless(allowed: bool) -> Outcome:
    return Outcome.CHANGED if allowed else Outcome.REFUSED


def arranged(coalition: CoalitionOfThree) -> ChatModel:
    """The model of the coalition as tests.stories arranged it."""
    ids = coalition.organisations
    memorial, ovd_info = ids[0], ids[1]
    return ChatModel(
        names=dict(zip(ids, ORGANISATIONS, strict=True)),
        contacts={person: ids[place] for person, place in CONTACTS.items()},
        subscribed=dict.fromkeys(CONTACTS, True),
        appeals={
            coalition.opened: ModelAppeal(AppealState.OPEN, OPEN_TITLE),
            coalition.drafted: ModelAppeal(AppealState.DRAFT, DRAFT_TITLE),
            coalition.closed: ModelAppeal(AppealState.CLOSED, CLOSED_TITLE),
        },
        signatures={
            (coalition.opened, memorial): Disclosure.PUBLIC,
            (coalition.closed, ovd_info): Disclosure.PUBLIC,
        },
    )
