"""Member organisations."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Organisation
from models.database import storable
from models.organisation import name_key
from services.errors import OrganisationNameInvalid

NAME_MAX = 200


def tidy_name(name: str) -> tuple[str, str]:
    """The name as stored (spacing tidied) and its key; refused if empty or too long."""
    tidy = " ".join(storable(name).split())
    key = name_key(tidy)
    # The key can be longer than the name ("ß" folds to "ss"): both must fit their columns.
    if not tidy or max(len(tidy), len(key)) > NAME_MAX:
        raise OrganisationNameInvalid(limit=NAME_MAX)
    return tidy, key


async def find_or_create(*, session: AsyncSession, name: str) -> tuple[Organisation, bool]:
    """The organisation with this name (case and spacing ignored), created if new."""
    tidy, key = tidy_name(name)
    existing = (
        await session.exec(select(Organisation).where(Organisation.name_key == key))
    ).first()
    if existing is not None:
        return existing, False
    organisation = Organisation(name=tidy, name_key=key)
    try:
        # A savepoint: if another transaction created it meanwhile, only this insert is undone.
        async with session.begin_nested():
            session.add(organisation)
    except IntegrityError:
        winner = (
            await session.exec(select(Organisation).where(Organisation.name_key == key))
        ).one()
        return winner, False
    return organisation, True
