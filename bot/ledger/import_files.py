"""Reading the address books a member can DM Ally: LinkedIn's ``Connections.csv``, a Google
Contacts CSV export, and vCard (``.vcf``, read with ``vobject``).

Pure: bytes in, ``Imported`` people out, or ``InvalidInput`` naming the problem (field
``"file"``), so nothing is written for a file Ally cannot read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import vobject

from bot.errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
SUPPORTED = "LinkedIn's Connections.csv, a Google Contacts CSV export or a vCard (.vcf) file"
_GOOGLE_EMAIL = re.compile(r"^E-mail \d+ - Value$")


@dataclass(frozen=True)
class Imported:
    """One person read from a file, as the file has them."""

    name: str
    organisation: str | None = None
    emails: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ReadFile:
    source: str  # "LinkedIn", "Google Contacts", "vCard"
    people: list[Imported]


def _problem(text: str) -> InvalidInput:
    return InvalidInput("file", text)


def _decode(data: bytes, filename: str) -> str:
    if len(data) > MAX_BYTES:
        raise _problem(f"{filename} is over {MAX_BYTES // (1024 * 1024)} MB: export fewer people.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _problem(
            f"{filename} isn't UTF-8 text, so I can't read its names. Export it again as "
            "UTF-8 (both LinkedIn and Google do by default)."
        ) from None


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _too_many(filename: str) -> InvalidInput:
    return _problem(f"{filename} has over {MAX_ROWS:,} people: split it into smaller files.")


def _csv_rows(text: str, filename: str) -> list[list[str]]:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise _problem(f"{filename} isn't a well-formed CSV file ({error}).") from None
    if len(rows) > MAX_ROWS + 10:  # room for LinkedIn's notes above the header
        raise _too_many(filename)
    return rows


def _linkedin(rows: list[list[str]], start: int) -> Iterator[Imported]:
    header = [h.strip() for h in rows[start]]
    at = {name: i for i, name in enumerate(header)}

    def cell(row: list[str], name: str) -> str:
        i = at.get(name)
        return _clean(row[i]) if i is not None and i < len(row) else ""

    for row in rows[start + 1 :]:
        if not any(c.strip() for c in row):
            continue
        name = " ".join(x for x in (cell(row, "First Name"), cell(row, "Last Name")) if x)
        email = cell(row, "Email Address")
        yield Imported(name, cell(row, "Company") or None, (email,) if email else ())


def _google(rows: list[list[str]]) -> Iterator[Imported]:
    header = [h.strip() for h in rows[0]]
    at = {name: i for i, name in enumerate(header)}
    emails = [i for i, name in enumerate(header) if _GOOGLE_EMAIL.match(name)]

    def cell(row: list[str], *names: str) -> str:
        for name in names:
            i = at.get(name)
            if i is not None and i < len(row) and row[i].strip():
                return _clean(row[i])
        return ""

    for row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        name = cell(row, "Name") or " ".join(
            x
            for x in (
                cell(row, "First Name", "Given Name"),
                cell(row, "Middle Name", "Additional Name"),
                cell(row, "Last Name", "Family Name"),
            )
            if x
        )
        organisation = cell(row, "Organization Name", "Organization 1 - Name") or None
        # Google keeps several addresses of one kind in one cell, separated by " ::: ".
        found = tuple(
            part.strip()
            for i in emails
            if i < len(row)
            for part in row[i].split(":::")
            if part.strip()
        )
        yield Imported(name, organisation, found)


def _read_csv(text: str, filename: str) -> ReadFile:
    rows = _csv_rows(text, filename)
    for i, row in enumerate(rows[:10]):
        cells = {c.strip() for c in row}
        if {"First Name", "Last Name"} <= cells and "Connected On" in cells:
            return ReadFile("LinkedIn", list(_linkedin(rows, i)))
    if rows:
        cells = {c.strip() for c in rows[0]}
        google = {"Given Name", "Family Name", "Organization Name", "Organization 1 - Name"}
        if cells & google or any(_GOOGLE_EMAIL.match(c) for c in cells):
            return ReadFile("Google Contacts", list(_google(rows)))
    raise _problem(
        f"{filename} doesn't look like LinkedIn's Connections.csv or a Google Contacts "
        "export: I couldn't find their columns (First Name, Last Name, E-mail 1 - Value…)."
    )


def _read_vcard(text: str, filename: str) -> ReadFile:
    people: list[Imported] = []
    try:
        for card in vobject.readComponents(text, ignoreUnreadable=False):
            if len(people) >= MAX_ROWS:
                raise _too_many(filename)
            if card.name != "VCARD":
                continue
            name = _clean(str(card.fn.value)) if hasattr(card, "fn") else ""
            if not name and hasattr(card, "n"):
                n = card.n.value
                name = _clean(" ".join(str(x) for x in (n.given, n.additional, n.family) if x))
            organisation = None
            if hasattr(card, "org"):
                org = card.org.value
                organisation = _clean(org[0] if isinstance(org, list) and org else str(org))
            emails = tuple(_clean(str(e.value)) for e in card.contents.get("email", []) if e.value)
            people.append(Imported(name, organisation or None, emails))
    except InvalidInput:
        raise
    except Exception as error:  # vobject raises its own errors and plain ones on bad input
        raise _problem(
            f"{filename} isn't a well-formed vCard file ({type(error).__name__})."
        ) from None
    if not people:
        raise _problem(f"{filename} has no contacts in it (no BEGIN:VCARD).")
    return ReadFile("vCard", people)


def check_kind(filename: str) -> None:
    """Refuse, by its name, a file that is none of the kinds Ally reads (before fetching it)."""
    if not filename.casefold().endswith((".csv", ".vcf", ".vcard")):
        raise _problem(f"I can import {SUPPORTED}; {filename} is none of these.")


def read_file(filename: str, data: bytes) -> ReadFile:
    """The people in a file a member sent; ``InvalidInput`` (field ``file``) when it is not one
    Ally reads, too large, badly encoded or malformed."""
    check_kind(filename)
    lower = filename.casefold()
    text = _decode(data, filename)
    found = _read_vcard(text, filename) if lower.endswith((".vcf", ".vcard")) else None
    found = found or _read_csv(text, filename)
    if len(found.people) > MAX_ROWS:
        raise _too_many(filename)
    return found
