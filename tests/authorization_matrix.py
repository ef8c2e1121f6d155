"""Who may do what: for every command, what each kind of person in the arranged coalition of
tests/chat/test_authorization.py gets from it: its answer, or the one line that refuses it."""

from dataclasses import dataclass
from datetime import timedelta

from models.utc import utcnow
from tests.stories import IRINA, OLEG

TARAS = 2010  # the contact of the other organisation
STRANGER = 3001
MYKOLA = 1001  # an organiser promoted from chat, whom /demote can demote

ORGANISATION_A, ORGANISATION_B = "Memorial", "Vostok SOS"
OPEN_TITLE, DRAFT_TITLE = "Free all detainees", "Still a draft"
PHASE = "Geneva round"
# Far enough ahead that no reminder falls due while a cell runs.
LATER_DATE = (utcnow() + timedelta(days=60)).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Allowed:
    """The command does its work: the reply starts with `reply`, mentions what it must and
    not what it must not, and exactly the tables in `changes` have other rows afterwards."""

    reply: str
    changes: frozenset[str] = frozenset()
    mentions: tuple[str, ...] = ()
    omits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refused:
    """The one line the person gets; nothing stored changes."""

    reply: str


Outcome = Allowed | Refused
ROLES = ("organiser", "contact", "other-contact", "revoked", "stranger")


@dataclass(frozen=True)
class Row:
    label: str  # the command as the test id names it
    sends: str
    outcomes: dict[str, Outcome]


def changes(*tables: str) -> frozenset[str]:
    return frozenset(tables)


def organisers_only(label: str, sends: str, allowed: Allowed) -> Row:
    command = label.split()[0].removeprefix("/")
    refused = Refused(f"Only organisers can use /{command}.")
    return Row(label, sends, {role: refused for role in ROLES} | {"organiser": allowed})


def contacts_only(
    label: str,
    sends: str,
    *,
    contact: Outcome,
    other_contact: Outcome,
    organiser: Outcome | None = None,
) -> Row:
    """A contacts' command: refused to strangers (the revoked contact is one again), and to the
    organiser, who is no contact, unless `organiser` says otherwise (the commands to read)."""
    command = label.split()[0].removeprefix("/")
    refused = Refused(
        f"Only contacts of member organisations can use /{command}. "
        "Ask an organiser of the coalition for an invite."
    )
    # An organiser is not sent to ask an organiser: told how their own organisation signs.
    organiser_refused = Refused(
        f"/{command} acts in the name of the organisation you are a contact of, and you are a "
        "contact of none. To sign for your own organisation, /invite it and open the link "
        "yourself."
    )
    return everyone(
        label,
        sends,
        organiser=organiser or organiser_refused,
        contact=contact,
        other_contact=other_contact,
        revoked=refused,
        stranger=refused,
    )


def everyone(
    label: str,
    sends: str,
    *,
    organiser: Outcome,
    contact: Outcome,
    other_contact: Outcome,
    revoked: Outcome,
    stranger: Outcome,
) -> Row:
    outcomes = (organiser, contact, other_contact, revoked, stranger)
    return Row(label, sends, dict(zip(ROLES, outcomes, strict=True)))


def alike(label: str, sends: str, outcome: Outcome) -> Row:
    """A command everyone may use to the same effect."""
    return Row(label, sends, dict.fromkeys(ROLES, outcome))


STRANGER_WELCOME = Allowed("Welcome to the coalition's bot.")
NO_DRAFT = Refused("There is no appeal #2. /appeals lists them.")


def joined_b(*also: str) -> Allowed:
    """Now a contact of B through the invite, with a contact's menu recorded in their account;
    `also`: their reference in the audit log, where they had none."""
    return Allowed(
        f"You are now a contact of {ORGANISATION_B}",
        changes("contact", "invite", "audit_entry", "account", *also),
    )


ASKED = Allowed(
    f"I have asked the organisers to make you a contact of {ORGANISATION_A}.",
    changes("join_request"),
)
EVERY_HELP = ("/start", "/help", "/whoami", "/mydata", "/forget", "/language", "/timezone")


MATRIX = [
    # Everyone
    everyone(
        "/start",
        "/start",
        organiser=Allowed("Welcome, organiser."),
        contact=Allowed(f"Welcome back. You act for {ORGANISATION_A}."),
        other_contact=Allowed(f"Welcome back. You act for {ORGANISATION_B}."),
        revoked=STRANGER_WELCOME,
        stranger=STRANGER_WELCOME,
    ),
    *(
        everyone(
            label,
            sends,
            # An organiser who is no contact may become one, as the README's "Everyone" says.
            organiser=joined_b(),
            contact=Refused(f"You are already a contact of {ORGANISATION_A}."),
            other_contact=Refused(f"You are already a contact of {ORGANISATION_B}."),
            revoked=joined_b(),
            stranger=joined_b("actor"),
        )
        # The invite link opens the chat with /start CODE; the code can also be typed.
        for label, sends in (("/join", "/join {code}"), ("/start invite", "/start {code}"))
    ),
    everyone(
        "/request",
        f"/request {ORGANISATION_A}",
        organiser=ASKED,
        contact=Refused(f"You are already a contact of {ORGANISATION_A}."),
        other_contact=Refused(f"You are already a contact of {ORGANISATION_B}."),
        revoked=ASKED,
        stranger=ASKED,
    ),
    everyone(
        "/help",
        "/help",
        organiser=Allowed("What you can do", mentions=(*EVERY_HELP, "/publish", "/demote")),
        contact=Allowed("What you can do", mentions=(*EVERY_HELP, "/cosign"), omits=("/publish",)),
        other_contact=Allowed("What you can do", mentions=("/withdraw",), omits=("/invite",)),
        revoked=Allowed("What you can do", mentions=("/join",), omits=("/cosign", "/appeal")),
        stranger=Allowed("What you can do", mentions=EVERY_HELP, omits=("/cosign", "/appeal")),
    ),
    everyone(
        "/whoami",
        "/whoami",
        organiser=Allowed("You are an organiser of the coalition.", mentions=("no member",)),
        contact=Allowed(f"You act for {ORGANISATION_A}."),
        other_contact=Allowed(f"You act for {ORGANISATION_B}."),
        revoked=Allowed("You act for no member organisation"),
        stranger=Allowed("You act for no member organisation"),
    ),
    # A stranger's choice creates their account: the one thing stored about them.
    alike("/language", "/language fr", Allowed("Je vous écrirai en Français.", changes("account"))),
    alike(
        "/timezone",
        "/timezone Europe/Kyiv",
        Allowed("Times are now shown in Europe/Kyiv", changes("account")),
    ),
    everyone(
        "/mydata",
        "/mydata",
        organiser=Allowed("What the bot stores about you", mentions=("Appeals you created",)),
        contact=Allowed("What the bot stores about you", mentions=(ORGANISATION_A,)),
        other_contact=Allowed("What the bot stores about you", mentions=(ORGANISATION_B,)),
        revoked=Allowed("What the bot stores about you", omits=("You are a contact",)),
        stranger=Allowed("The bot stores nothing about you."),
    ),
    # Only asked: nothing is erased before the Confirm.
    alike("/forget", "/forget", Allowed("Erase everything the bot stores about you?")),
    # Contacts (and, for reading, organisers)
    contacts_only(
        "/appeals",
        "/appeals",
        organiser=Allowed("Appeals", mentions=(OPEN_TITLE, DRAFT_TITLE)),
        contact=Allowed("Appeals", mentions=(OPEN_TITLE,), omits=(DRAFT_TITLE,)),
        other_contact=Allowed("Appeals", mentions=(OPEN_TITLE,), omits=(DRAFT_TITLE,)),
    ),
    contacts_only(
        "/appeal",
        "/appeal 1",
        organiser=Allowed(f"#1 {OPEN_TITLE}"),
        contact=Allowed(f"#1 {OPEN_TITLE}"),
        other_contact=Allowed(f"#1 {OPEN_TITLE}"),
    ),
    contacts_only(
        "/appeal draft",
        "/appeal 2",
        organiser=Allowed(f"#2 {DRAFT_TITLE}", mentions=("State: draft",)),
        contact=NO_DRAFT,
        other_contact=NO_DRAFT,
    ),
    contacts_only(
        "/status",
        "/status 1",
        organiser=Allowed(
            f"#1 {OPEN_TITLE}", mentions=(f"Signed publicly by:\n• {ORGANISATION_A}",)
        ),
        contact=Allowed(f"#1 {OPEN_TITLE}", mentions=(f"{ORGANISATION_A} has signed, publicly.",)),
        other_contact=Allowed(f"#1 {OPEN_TITLE}", mentions=(f"{ORGANISATION_B} has not signed.",)),
    ),
    contacts_only(
        "/status draft",
        "/status 2",
        organiser=Allowed(f"#2 {DRAFT_TITLE}", mentions=("State: draft",)),
        contact=NO_DRAFT,
        other_contact=NO_DRAFT,
    ),
    contacts_only(
        "/cosign",
        "/cosign 1",
        contact=Refused(f"{ORGANISATION_A} has already signed appeal #1."),
        other_contact=Allowed(
            f"{ORGANISATION_B} co-signed appeal #1", changes("signature", "audit_entry")
        ),
    ),
    contacts_only("/cosign draft", "/cosign 2", contact=NO_DRAFT, other_contact=NO_DRAFT),
    contacts_only(
        "/withdraw",
        "/withdraw 1",
        contact=Allowed(
            f"{ORGANISATION_A} no longer signs appeal #1.", changes("signature", "audit_entry")
        ),
        # Only ever the caller's own organisation's signature: A's stays.
        other_contact=Refused(f"{ORGANISATION_B} has not signed appeal #1."),
    ),
    contacts_only(
        "/phases",
        "/phases",
        organiser=Allowed("Negotiation timeline", mentions=(PHASE,)),
        contact=Allowed("Negotiation timeline", mentions=(PHASE,)),
        other_contact=Allowed("Negotiation timeline", mentions=(PHASE,)),
    ),
    contacts_only(
        "/subscribe",
        "/subscribe",
        contact=Allowed("You will receive the coalition's updates."),
        other_contact=Allowed("You will receive the coalition's updates."),
    ),
    contacts_only(
        "/unsubscribe",
        "/unsubscribe",
        contact=Allowed("You will no longer receive the coalition's updates.", changes("contact")),
        other_contact=Allowed(
            "You will no longer receive the coalition's updates.", changes("contact")
        ),
    ),
    # Organisers
    organisers_only(
        "/invite",
        "/invite Center for Civil Liberties",
        Allowed(
            "New organisation Center for Civil Liberties.",
            changes("organisation", "invite", "audit_entry"),
        ),
    ),
    organisers_only(
        "/newappeal",
        "/newappeal Release the journalists\nYour Excellencies,",
        Allowed(
            "Draft appeal #3 “Release the journalists” is saved.", changes("appeal", "audit_entry")
        ),
    ),
    organisers_only(
        "/edit",
        "/edit 2 A better title\nA better text.",
        Allowed(
            "Appeal #2 “A better title” now has the new text.", changes("appeal", "audit_entry")
        ),
    ),
    organisers_only(
        "/translate",
        "/translate 1 fr Libérez-les\nExcellences,",
        Allowed(
            "Appeal #1 now reads in Français too", changes("appeal_translation", "audit_entry")
        ),
    ),
    organisers_only(
        "/publish",
        "/publish 2",
        Allowed(
            f"Appeal #2 “{DRAFT_TITLE}” is open for signatures; it is announced to 2 members.",
            changes("appeal", "outbox", "audit_entry", "progress_message"),
        ),
    ),
    organisers_only(
        "/close",
        "/close 1",
        # The members are told it closed: a message for each is queued.
        Allowed(
            "Appeal #1 is closed with 1 signature.", changes("appeal", "audit_entry", "outbox")
        ),
    ),
    organisers_only(
        "/broadcast",
        "/broadcast The vigil moves to Saturday.",
        Allowed("Preview of broadcast #2:", changes("broadcast")),
    ),
    organisers_only(
        "/delivery",
        "/delivery 1",
        Allowed("Broadcast #1 is done.", mentions=("Delivered: 2",)),
    ),
    organisers_only(
        "/phase",
        f"/phase {LATER_DATE} 10:00 Vienna round",
        Allowed("Added phase #2 “Vienna round”", changes("phase", "audit_entry")),
    ),
    organisers_only(
        "/attach",
        "/attach 1 1",
        Allowed(
            f"Appeal #1 “{OPEN_TITLE}” is timed to phase #1 “{PHASE}”",
            changes("appeal", "audit_entry"),
        ),
    ),
    organisers_only(
        "/deadline",
        f"/deadline 1 {LATER_DATE} 18:00",
        Allowed(
            f"Appeal #1 “{OPEN_TITLE}” closes for signatures", changes("appeal", "audit_entry")
        ),
    ),
    organisers_only(
        "/remind",
        "/remind 1",
        Allowed(
            "Reminded 1 organisation that has not signed appeal #1.",
            changes("outbox", "audit_entry"),
        ),
    ),
    organisers_only("/export", "/export 1", Allowed("Appeal #1: 1 signature.")),
    organisers_only(
        "/orgs",
        "/orgs",
        Allowed(
            "2 member organisations",
            mentions=(f"contact {IRINA}", f"contact {TARAS}"),
            omits=(f"contact {OLEG}",),
        ),
    ),
    organisers_only(
        "/revoke",
        f"/revoke {IRINA}",
        Allowed(
            f"Contact {IRINA} no longer acts for {ORGANISATION_A}.",
            changes("contact", "audit_entry", "account"),  # her menu: a stranger's again
        ),
    ),
    # Entries start with their time; the newest are about the arrangement's last steps.
    organisers_only(
        "/audit", "/audit", Allowed("", mentions=("invite.issued", "organiser.promoted"))
    ),
    organisers_only(
        "/promote",
        f"/promote {STRANGER}",
        Allowed(f"{STRANGER} is now an organiser.", changes("account", "actor", "audit_entry")),
    ),
    organisers_only(
        "/demote",
        f"/demote {MYKOLA}",
        Allowed(f"{MYKOLA} is no longer an organiser.", changes("account", "audit_entry")),
    ),
]
