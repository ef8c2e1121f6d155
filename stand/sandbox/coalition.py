"""The simulated coalition the sandbox opens with: an organiser, three member organisations in
three languages, and an appeal open for signatures with a phase and a deadline ahead."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from models import Database
from models.database import stored_id
from services import accounts, appeals, invites, phases

SAMPLES = Path(__file__).parent / "samples"
APPEAL_SAMPLE = SAMPLES / "appeal-2025-11-27.fr.txt"
PHASE_NAME = "Negotiation round in Geneva"
PHASE_STARTS_IN = timedelta(days=4)
DEADLINE_IN = timedelta(days=5)
# People added on the page get ids from here on.
FIRST_NEW_PERSON = 3001


@dataclass(frozen=True)
class Simulated:
    """A person on the sandbox's page."""

    user_id: int
    name: str
    language: str
    organisation: str | None = None


ORGANISER = Simulated(1001, "Olena", "en")
MEMBERS = (
    Simulated(2001, "Amélie", "fr", "Comité Liberté pour les détenus"),
    Simulated(2002, "Taras", "uk", "Правозахисна група «Світанок»"),
    Simulated(2003, "Irina", "ru", "Общество «Память и право»"),
)


async def gather(*, database: Database, now: datetime, invite_validity: timedelta) -> int:
    """Store the coalition, as if its people had joined through invites; returns the appeal id.

    The appeal is published, so its announcement is queued for each member.
    """
    title, text = APPEAL_SAMPLE.read_text(encoding="utf-8").split("\n", 1)
    organiser_id = ORGANISER.user_id
    async with database.transaction() as session:
        await accounts.ensure_account(
            session=session, telegram_id=organiser_id, language=ORGANISER.language
        )
        for member in MEMBERS:
            assert member.organisation is not None
            issued = await invites.issue_invite(
                session=session,
                organisation_name=member.organisation,
                organiser_id=organiser_id,
                now=now,
                valid_for=invite_validity,
            )
            await invites.join(
                session=session,
                code=issued.code,
                telegram_id=member.user_id,
                language=member.language,
                now=now,
            )
        appeal = await appeals.create_appeal(
            session=session, title=title, text=text, organiser_id=organiser_id, language="fr"
        )
        appeal_id = stored_id(appeal.id)
        phase = await phases.add_phase(
            session=session,
            name=PHASE_NAME,
            starts_at=now + PHASE_STARTS_IN,
            organiser_id=organiser_id,
            now=now,
        )
        await phases.attach(
            session=session,
            appeal_id=appeal_id,
            phase_id=stored_id(phase.id),
            actor_id=organiser_id,
            now=now,
        )
        await phases.set_deadline(
            session=session,
            appeal_id=appeal_id,
            deadline_at=now + DEADLINE_IN,
            actor_id=organiser_id,
            now=now,
        )
        await appeals.publish_appeal(
            session=session, appeal_id=appeal_id, now=now, actor_id=organiser_id
        )
    return appeal_id
