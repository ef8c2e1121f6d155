"""Importing a list of member organisations: each gets a fresh single-use invite.

The rows come already parsed (the command line reads them from a CSV file); every row is
checked before anything is written, and the caller runs the whole import in one transaction,
so a list with a bad row imports nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Organisation
from models.database import storable, stored_id
from models.organisation import name_key
from services.errors import Refusal
from services.invites import new_invite
from services.organisations import NAME_MAX, find_or_create

# As long as Organisation.country may be.
COUNTRY_MAX = 100


@dataclass(frozen=True)
class ImportRow:
    """One organisation as the list gives it; `line` only serves to name the row to people."""

    line: int
    name: str
    country: str | None = None


@dataclass(frozen=True)
class CountryKept:
    """A row gave another country than the one stored: the stored one was kept."""

    line: int
    given: str


@dataclass(frozen=True)
class ImportedOrganisation:
    name: str
    country: str | None
    is_new: bool
    # The first row that named it: an organisation listed twice gets one invite.
    line: int
    code: str
    expires_at: datetime
    countries_kept: tuple[CountryKept, ...] = ()


@dataclass
class ImportRowInvalid(Refusal):
    line: int
    problem: str


def tidy(text: str) -> str:
    """Spacing as organisation names are stored: single spaces, none at the ends."""
    return " ".join(storable(text).split())


def row_problem(name: str, country: str | None) -> str | None:
    """Why the row cannot be imported, in a few words; None if it can."""
    tidy_name = tidy(name)
    if not tidy_name:
        return "the organisation's name is missing"
    # As find_or_create checks it: the key can be longer than the name ("ß" folds to "ss").
    if max(len(tidy_name), len(name_key(tidy_name))) > NAME_MAX:
        return f"the name is over {NAME_MAX} characters ({len(tidy_name)})"
    if country is not None and len(tidy(country)) > COUNTRY_MAX:
        return f"the country is over {COUNTRY_MAX} characters ({len(tidy(country))})"
    return None


@dataclass
class _Found:
    organisation: Organisation
    is_new: bool
    line: int
    countries_kept: list[CountryKept] = field(default_factory=list)


async def import_organisations(
    *,
    session: AsyncSession,
    rows: Sequence[ImportRow],
    organiser_id: int | None = None,
    now: datetime,
    valid_for: timedelta,
) -> list[ImportedOrganisation]:
    """Create the organisations that are new, give each listed one a fresh invite.

    Names match as /invite matches them (case and spacing ignored). A country fills in an
    organisation that has none; a different stored country is kept and reported, never
    overwritten. One invite per organisation, in the order the rows first name them.
    Raises ImportRowInvalid for the first bad row before writing anything.
    """
    for row in rows:
        problem = row_problem(row.name, row.country)
        if problem is not None:
            raise ImportRowInvalid(line=row.line, problem=problem)
    found: dict[int, _Found] = {}
    for row in rows:
        organisation, is_new = await find_or_create(session=session, name=row.name)
        entry = found.setdefault(stored_id(organisation.id), _Found(organisation, is_new, row.line))
        country = tidy(row.country or "")
        if not country:
            continue
        if organisation.country is None:
            organisation.country = country
            session.add(organisation)
        elif name_key(organisation.country) != name_key(country):
            entry.countries_kept.append(CountryKept(line=row.line, given=country))
    imported = []
    for organisation_id, entry in found.items():
        code, invite = await new_invite(
            session=session,
            organisation_id=organisation_id,
            organiser_id=organiser_id,
            now=now,
            valid_for=valid_for,
        )
        imported.append(
            ImportedOrganisation(
                name=entry.organisation.name,
                country=entry.organisation.country,
                is_new=entry.is_new,
                line=entry.line,
                code=code,
                expires_at=invite.expires_at,
                countries_kept=tuple(entry.countries_kept),
            )
        )
    await session.flush()
    return imported
