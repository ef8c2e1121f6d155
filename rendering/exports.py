"""The appeal's documents: the signature list as CSV and the letter to the addressees."""

import csv
import io

from foundation.i18n import Texts
from services.exports import Signatories

CSV_COLUMNS = (
    "organisation", "country", "signed_at_utc", "disclosure", "version", "awaiting_reconfirmation",
)  # fmt: skip


def signatures_csv(found: Signatories) -> bytes:
    """One row per signature; anonymous ones are counted with their name and country empty.
    Signatures given on an earlier text are listed too, marked as awaiting re-confirmation."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in found.signatures:
        writer.writerow(
            [
                s.organisation or "",
                s.country or "",
                s.signed_at.strftime("%Y-%m-%d %H:%M:%S"),
                s.disclosure.value,
                s.version,
                "yes" if found.awaiting_reconfirmation(s) else "no",
            ]
        )
    # A byte-order mark, so that spreadsheet programs read the names' accents and Cyrillic.
    return buffer.getvalue().encode("utf-8-sig")


def letter(texts: Texts, found: Signatories) -> str:
    """The appeal followed by its signatories, ready to send (plain text, not HTML)."""
    lines = [found.wording.title, "", found.wording.text, "", texts.plain("Signatories:")]
    for s in found.named_in_letter:
        name = f"{s.organisation} ({s.country})" if s.country else str(s.organisation)
        lines.append(f"— {name}")
    if found.unnamed:
        lines.append(
            texts.plain_n(
                "and {n} organisation that asked not to be named",
                "and {n} organisations that asked not to be named",
                found.unnamed,
            )
        )
    return "\n".join(lines) + "\n"


def file_names(appeal_id: int, language: str) -> tuple[str, str]:
    return f"appeal-{appeal_id}-signatures.csv", f"appeal-{appeal_id}-letter.{language}.txt"
