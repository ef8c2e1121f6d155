"""What an organiser sends the addressees: who signed an appeal, as the letter may name them."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Appeal, Disclosure, Organisation, Signature
from services.appeals import find_appeal
from services.translations import Wording, wording


@dataclass(frozen=True)
class SignedBy:
    # None for an anonymous signature: counted, named nowhere, not even in an export.
    organisation: str | None
    country: str | None
    signed_at: datetime
    disclosure: Disclosure
    # The appeal's version it was given on (or last re-confirmed on).
    version: int = 1


@dataclass(frozen=True)
class Signatories:
    appeal: Appeal
    wording: Wording  # in the letter's language where a translation exists
    signatures: list[SignedBy]  # every one, on whichever version

    def awaiting_reconfirmation(self, signature: SignedBy) -> bool:
        """Given on an earlier text, not yet re-confirmed on the current one."""
        return signature.version != self.appeal.version

    @property
    def on_current_version(self) -> list[SignedBy]:
        """The signatures the letter counts: nobody signs a text they never saw."""
        return [s for s in self.signatures if not self.awaiting_reconfirmation(s)]

    @property
    def named_in_letter(self) -> list[SignedBy]:
        """Public and private signatories of the current text: the letter goes to the
        addressees only."""
        return [s for s in self.on_current_version if s.disclosure is not Disclosure.ANONYMOUS]

    @property
    def unnamed(self) -> int:
        return sum(s.disclosure is Disclosure.ANONYMOUS for s in self.on_current_version)


async def signatories(*, session: AsyncSession, appeal_id: int, language: str) -> Signatories:
    """Every signature of the appeal (drafts included, for an organiser), oldest first, and
    its wording in `language` if it was translated."""
    appeal = await find_appeal(session=session, appeal_id=appeal_id, include_drafts=True)
    rows = await session.exec(
        select(Signature, Organisation)
        .join(Organisation, col(Organisation.id) == col(Signature.organisation_id))
        .where(Signature.appeal_id == appeal_id)
        .order_by(col(Signature.signed_at), col(Signature.id))
    )
    signatures = [
        SignedBy(
            organisation=None if s.disclosure is Disclosure.ANONYMOUS else o.name,
            country=None if s.disclosure is Disclosure.ANONYMOUS else o.country,
            signed_at=s.signed_at,
            disclosure=s.disclosure,
            version=s.version,
        )
        for s, o in rows
    ]
    return Signatories(
        appeal, await wording(session=session, appeal=appeal, language=language), signatures
    )
