"""Reading the address books a member can DM Ally: LinkedIn's ``Connections.csv``, a Google
Contacts CSV export, and vCard (``.vcf``, read with ``vobject``).

Pure: bytes in, ``Imported`` people out, or ``InvalidInput`` naming the problem (field
``"file"``), so nothing is written for a file Ally cannot read. A CSV file is read a row at a
time and reading stops at the first person over ``MAX_ROWS``: blank lines and rows past the
limit are never kept.
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
SPARE_ROWS = 1_000  # blank rows and notes (LinkedIn's, above its header) besides the people
CARD_MAX = 100_000  # characters in one vCard, its photo left out
LINE_MAX = 100_000  # characters in one line of a CSV file: no address book comes near it
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


def _not_utf8(filename: str) -> InvalidInput:
    return _problem(
        f"{filename} isn't UTF-8 text, so I can't read its names. Export it again as "
        "UTF-8 (both LinkedIn and Google do by default)."
    )


def _check_size(data: bytes, filename: str) -> None:
    if len(data) > MAX_BYTES:
        raise _problem(f"{filename} is over {MAX_BYTES // (1024 * 1024)} MB: export fewer people.")


# Characters a database cannot keep in text (PostgreSQL refuses NUL) or that no name holds.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clean(value: str | None) -> str:
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _too_many(filename: str) -> InvalidInput:
    return _problem(f"{filename} has over {MAX_ROWS:,} people: split it into smaller files.")


def _csv_rows(data: bytes, filename: str) -> Iterator[list[str]]:
    """The file's non-blank CSV rows, one at a time: decoded as they are read, so a file costs
    its bytes and one row, never a list of every row."""
    try:
        for n, row in enumerate(csv.reader(_text_lines(data, filename), strict=True)):
            if n > MAX_ROWS + SPARE_ROWS:
                raise _problem(
                    f"{filename} has over {MAX_ROWS + SPARE_ROWS:,} rows: split it into "
                    "smaller files."
                )
            if any(cell.strip() for cell in row):
                yield row
    except csv.Error as error:
        raise _problem(f"{filename} isn't a well-formed CSV file ({error}).") from None
    except UnicodeDecodeError:
        raise _not_utf8(filename) from None


def _columns(header: list[str]) -> dict[str, int]:
    return {name.strip(): i for i, name in reversed(list(enumerate(header)))}


def _cell(row: list[str], at: dict[str, int], *names: str) -> str:
    for name in names:
        i = at.get(name)
        if i is not None and i < len(row) and row[i].strip():
            return _clean(row[i])
    return ""


def _linkedin(header: list[str], rows: Iterator[list[str]]) -> Iterator[Imported]:
    at = _columns(header)
    for row in rows:
        name = " ".join(x for x in (_cell(row, at, "First Name"), _cell(row, at, "Last Name")) if x)
        email = _cell(row, at, "Email Address")
        yield Imported(name, _cell(row, at, "Company") or None, (email,) if email else ())


def _google(header: list[str], rows: Iterator[list[str]]) -> Iterator[Imported]:
    at = _columns(header)
    emails = [i for i, name in enumerate(header) if _GOOGLE_EMAIL.match(name.strip())]
    for row in rows:
        name = _cell(row, at, "Name") or " ".join(
            x
            for x in (
                _cell(row, at, "First Name", "Given Name"),
                _cell(row, at, "Middle Name", "Additional Name"),
                _cell(row, at, "Last Name", "Family Name"),
            )
            if x
        )
        organisation = _cell(row, at, "Organization Name", "Organization 1 - Name") or None
        # Google keeps several addresses of one kind in one cell, separated by " ::: ".
        found = tuple(
            _clean(part)
            for i in emails
            if i < len(row)
            for part in row[i].split(":::")
            if part.strip()
        )
        yield Imported(name, organisation, found)


def _at_most(people: Iterator[Imported], filename: str) -> list[Imported]:
    """The people read, stopping with ``InvalidInput`` at the first one over ``MAX_ROWS``."""
    found: list[Imported] = []
    for person in people:
        if len(found) >= MAX_ROWS:
            raise _too_many(filename)
        found.append(person)
    return found


def _read_csv(data: bytes, filename: str) -> ReadFile:
    rows = _csv_rows(data, filename)
    google = {"Given Name", "Family Name", "Organization Name", "Organization 1 - Name"}
    # LinkedIn puts a few lines of notes above its header; Google's header comes first.
    for i, row in enumerate(rows):
        cells = {c.strip() for c in row}
        if {"First Name", "Last Name"} <= cells and "Connected On" in cells:
            return ReadFile("LinkedIn", _at_most(_linkedin(row, rows), filename))
        if i == 0 and (cells & google or any(_GOOGLE_EMAIL.match(c) for c in cells)):
            return ReadFile("Google Contacts", _at_most(_google(row, rows), filename))
        if i >= 9:
            break
    raise _problem(
        f"{filename} doesn't look like LinkedIn's Connections.csv or a Google Contacts "
        "export: I couldn't find their columns (First Name, Last Name, E-mail 1 - Value…)."
    )


# vCard properties that hold media (base64 photos, logos, sounds, keys): never kept.
_MEDIA = {"PHOTO", "LOGO", "SOUND", "KEY"}


def _text_lines(data: bytes, filename: str) -> Iterator[str]:
    """The file's lines, decoded as they are read, each at most ``LINE_MAX`` characters."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    try:
        while line := text.readline(LINE_MAX + 1):
            if len(line) > LINE_MAX:
                raise _problem(f"{filename} has a line over {LINE_MAX:,} characters.")
            yield line
    except UnicodeDecodeError:
        raise _not_utf8(filename) from None


def _vcards(data: bytes, filename: str) -> Iterator[str]:
    """Each card's text, one at a time, without its media: a file costs its bytes and one
    card, however many cards or lines it has."""
    card: list[str] | None = None
    size = 0
    media = False
    for line in _text_lines(data, filename):
        head = line.strip()
        if card is None:
            if head.upper().startswith("BEGIN:VCARD"):
                card, size, media = [line], len(line), False
            elif head:
                raise _problem(f"{filename} isn't a well-formed vCard file (text outside a card).")
            continue
        if line[:1] in (" ", "\t"):  # a folded line continues the property above it
            if media:
                continue
        else:
            name = head.split(":", 1)[0].split(";", 1)[0].rsplit(".", 1)[-1].upper()
            media = name in _MEDIA
            if media:
                continue
        card.append(line)
        size += len(line)
        if size > CARD_MAX:
            raise _problem(f"{filename} has a card over {CARD_MAX:,} characters.")
        if head.upper().startswith("END:VCARD"):
            yield "".join(card)
            card = None
    if card is not None:
        raise _problem(f"{filename} isn't a well-formed vCard file (a card has no END:VCARD).")


def _vcard_person(text: str) -> Imported | None:
    card = vobject.readOne(text, ignoreUnreadable=False)
    if card.name != "VCARD":
        return None
    name = _clean(str(card.fn.value)) if hasattr(card, "fn") else ""
    if not name and hasattr(card, "n"):
        n = card.n.value
        name = _clean(" ".join(str(x) for x in (n.given, n.additional, n.family) if x))
    organisation = None
    if hasattr(card, "org"):
        org = card.org.value
        organisation = _clean(org[0] if isinstance(org, list) and org else str(org))
    emails = tuple(_clean(str(e.value)) for e in card.contents.get("email", []) if e.value)
    return Imported(name, organisation or None, emails)


def _read_vcard(data: bytes, filename: str) -> ReadFile:
    people: list[Imported] = []
    for text in _vcards(data, filename):
        if len(people) >= MAX_ROWS:
            raise _too_many(filename)
        try:
            person = _vcard_person(text)
        except Exception as error:  # vobject raises its own errors and plain ones on bad input
            raise _problem(
                f"{filename} isn't a well-formed vCard file ({type(error).__name__})."
            ) from None
        if person is not None:
            people.append(person)
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
    _check_size(data, filename)
    if filename.casefold().endswith((".vcf", ".vcard")):
        return _read_vcard(data, filename)
    return _read_csv(data, filename)
