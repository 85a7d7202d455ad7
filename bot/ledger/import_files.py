"""Reading the address books a member can DM Ally: LinkedIn's ``Connections.csv``; the CSV
exports of Google Contacts, Outlook (desktop, on the web, and Google's "Outlook CSV"),
Thunderbird (English or German column names) and Windows Live Mail (separated by
semicolons); and vCard 2.1, 3.0 and 4.0 (``.vcf``, read by ``bot.ledger.vcard``).

Pure: bytes in, ``Imported`` people out, or ``InvalidInput`` naming the problem (field
``"file"``), so nothing is written for a file Ally cannot read. The text encoding comes from a
byte order mark, else UTF-8, else is detected (``bot.ledger.encodings``), and the preview says
which was assumed. A CSV layout is known by its column names, never by their order or count.
A file is read a row (or a card) at a time and reading stops at the first person over
``MAX_ROWS``: blank lines and rows past the limit are never kept.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.errors import InvalidInput
from bot.ledger import encodings, vcard

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
SPARE_ROWS = 1_000  # blank rows and notes (LinkedIn's, above its header) besides the people
CARD_MAX = vcard.CARD_MAX
LINE_MAX = 100_000  # characters in one line of a CSV file: no address book comes near it
SUPPORTED = (
    "LinkedIn's Connections.csv, a CSV export of Google Contacts, Outlook, Thunderbird or "
    "Windows Live Mail, or a vCard (.vcf) file"
)


@dataclass(frozen=True)
class Imported:
    """One person read from a file, as the file has them."""

    name: str
    organisation: str | None = None
    emails: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ReadFile:
    source: str  # "LinkedIn", "Google Contacts", "Outlook CSV", "vCard"…
    people: list[Imported]
    encoding: str = "read as UTF-8"  # which text encoding was assumed, and why


def _problem(text: str) -> InvalidInput:
    return InvalidInput("file", text)


def _check_size(data: bytes, filename: str) -> None:
    if len(data) > MAX_BYTES:
        raise _problem(f"{filename} is over {MAX_BYTES // (1024 * 1024)} MB: export fewer people.")


# Characters a database cannot keep in text (PostgreSQL refuses NUL) or that no name holds.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clean(value: str | None) -> str:
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _too_many(filename: str) -> InvalidInput:
    return _problem(f"{filename} has over {MAX_ROWS:,} people: split it into smaller files.")


def _delimiter(data: bytes) -> str:
    """The CSV file's separator, from its first line: Windows Live Mail (and Excel in many
    countries) separates cells with semicolons."""
    first = data[: data.find(b"\n") if b"\n" in data else LINE_MAX]
    counts = {d: first.count(d.encode()) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _csv_rows(data: bytes, filename: str, codec: str) -> Iterator[list[str]]:
    """The file's non-blank CSV rows, one at a time: decoded as they are read, so a file costs
    its bytes and one row, never a list of every row."""
    lines = _text_lines(data, filename, codec)
    try:
        reader = csv.reader(lines, delimiter=_delimiter(data), strict=True)
        for n, row in enumerate(reader):
            if n > MAX_ROWS + SPARE_ROWS:
                raise _problem(
                    f"{filename} has over {MAX_ROWS + SPARE_ROWS:,} rows: split it into "
                    "smaller files."
                )
            if any(cell.strip() for cell in row):
                yield row
    except csv.Error as error:
        raise _problem(f"{filename} isn't a well-formed CSV file ({error}).") from None


def _columns(header: list[str]) -> dict[str, int]:
    return {name.strip(): i for i, name in reversed(list(enumerate(header)))}


def _cell(row: list[str], at: dict[str, int], *names: str) -> str:
    for name in names:
        i = at.get(name)
        if i is not None and i < len(row) and row[i].strip():
            return _clean(row[i])
    return ""


@dataclass(frozen=True)
class _Layout:
    """A CSV layout, by the names of its columns (each field: the names it goes by)."""

    source: str
    marks: frozenset[str]  # a header holding any of these is this layout
    given: tuple[str, ...] = ()
    middle: tuple[str, ...] = ()
    family: tuple[str, ...] = ()
    full: tuple[str, ...] = ()  # the whole name in one cell
    full_first: bool = False  # the whole name before the parts
    organisation: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    email_pattern: re.Pattern[str] | None = None

    def person(self, row: list[str], at: dict[str, int], email_at: list[int]) -> Imported:
        parts = (
            _cell(row, at, *self.given),
            _cell(row, at, *self.middle),
            _cell(row, at, *self.family),
        )
        joined = " ".join(x for x in parts if x)
        whole = _cell(row, at, *self.full)
        name = (whole or joined) if self.full_first else (joined or whole)
        # Google keeps several addresses of one kind in one cell, separated by " ::: ".
        found = _emails([part for i in email_at if i < len(row) for part in row[i].split(":::")])
        return _person(name, _cell(row, at, *self.organisation), found)


_GOOGLE_EMAIL = re.compile(r"^E-mail \d+ - Value$")
_LAYOUTS = (
    _Layout(
        "Thunderbird",
        frozenset({"Primary Email", "Primäre E-Mail-Adresse"}),
        given=("First Name", "Vorname"),
        family=("Last Name", "Nachname"),
        full=("Display Name", "Anzeigename"),
        full_first=True,
        organisation=("Organization", "Organisation"),
        emails=(
            "Primary Email",
            "Secondary Email",
            "Primäre E-Mail-Adresse",
            "Sekundäre E-Mail-Adresse",
        ),
    ),
    _Layout(
        "Outlook CSV",
        frozenset({"E-mail Address", "E-mail 2 Address", "E-mail 3 Address"}),
        given=("First Name",),
        middle=("Middle Name",),
        family=("Last Name",),
        full=("Name",),  # Windows Live Mail in English
        organisation=("Company",),
        emails=("E-mail Address", "E-mail 2 Address", "E-mail 3 Address"),
    ),
    _Layout(
        "Windows Live Mail",
        frozenset({"E-Mail-Adresse"}),
        given=("Vorname",),
        middle=("2. Vorname", "Weitere Vornamen"),
        family=("Nachname",),
        full=("Name",),
        organisation=("Firma",),
        emails=("E-Mail-Adresse", "E-Mail 2: Adresse", "E-Mail 3: Adresse"),
    ),
    _Layout(
        "Google Contacts",
        frozenset({"Given Name", "Family Name", "Organization Name", "Organization 1 - Name"}),
        given=("First Name", "Given Name"),
        middle=("Middle Name", "Additional Name"),
        family=("Last Name", "Family Name"),
        full=("Name",),
        full_first=True,
        organisation=("Organization Name", "Organization 1 - Name"),
        email_pattern=_GOOGLE_EMAIL,
    ),
)


def _layout_of(cells: set[str]) -> _Layout | None:
    for layout in _LAYOUTS:
        if cells & layout.marks or (
            layout.email_pattern is not None and any(layout.email_pattern.match(c) for c in cells)
        ):
            return layout
    return None


def _rows_of(layout: _Layout, header: list[str], rows: Iterator[list[str]]) -> Iterator[Imported]:
    at = _columns(header)
    email_at = [
        i
        for i, name in enumerate(header)
        if name.strip() in layout.emails
        or (layout.email_pattern is not None and layout.email_pattern.match(name.strip()))
    ]
    for row in rows:
        yield layout.person(row, at, email_at)


def _linkedin(header: list[str], rows: Iterator[list[str]]) -> Iterator[Imported]:
    at = _columns(header)
    for row in rows:
        name = " ".join(x for x in (_cell(row, at, "First Name"), _cell(row, at, "Last Name")) if x)
        yield _person(name, _cell(row, at, "Company"), _emails([_cell(row, at, "Email Address")]))


def _at_most(people: Iterator[Imported], filename: str) -> list[Imported]:
    """The people read, stopping with ``InvalidInput`` at the first one over ``MAX_ROWS``."""
    found: list[Imported] = []
    for person in people:
        if len(found) >= MAX_ROWS:
            raise _too_many(filename)
        found.append(person)
    return found


def _read_csv(data: bytes, filename: str) -> ReadFile:
    encoding = encodings.detect(data)
    rows = _csv_rows(data, filename, encoding.codec)
    # LinkedIn puts a few lines of notes above its header; the others' header comes first.
    for i, row in enumerate(rows):
        cells = {c.strip() for c in row}
        if {"First Name", "Last Name"} <= cells and "Connected On" in cells:
            return ReadFile("LinkedIn", _at_most(_linkedin(row, rows), filename), encoding.note)
        layout = _layout_of(cells) if i == 0 else None
        if layout is not None:
            found = _at_most(_rows_of(layout, row, rows), filename)
            return ReadFile(layout.source, found, encoding.note)
        if i >= 9:
            break
    raise _problem(
        f"{filename} doesn't look like LinkedIn's Connections.csv or a Google Contacts, "
        "Outlook, Thunderbird or Windows Live Mail export: I couldn't find their columns "
        "(First Name, Last Name, E-mail Address…). Export it again as vCard (.vcf): most "
        "address books can."
    )


def _text_lines(data: bytes, filename: str, codec: str) -> Iterator[str]:
    """The file's lines, decoded as they are read, each at most ``LINE_MAX`` characters."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding=codec, errors="replace", newline="")
    while line := text.readline(LINE_MAX + 1):
        if len(line) > LINE_MAX:
            raise _problem(f"{filename} has a line over {LINE_MAX:,} characters.")
        yield line.lstrip("\ufeff") if line.startswith("\ufeff") else line


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _emails(values: Iterator[str] | list[str]) -> tuple[str, ...]:
    """The e-mail addresses among ``values``: trimmed, ``mailto:`` dropped, anything that is
    not an address (a run of letters, a column's own name) left out."""
    found: list[str] = []
    for value in values:
        email = _clean(value)
        if email.casefold().startswith("mailto:"):
            email = email[7:].strip()
        if _EMAIL.match(email) and email not in found:
            found.append(email)
    return tuple(found)


def _person(name: str, organisation: str, emails: tuple[str, ...]) -> Imported:
    """A person as a file has them, named by the name, else the organisation, else the first
    e-mail address (so no one read becomes a contact with an empty name)."""
    return Imported(
        name or organisation or (emails[0] if emails else ""), organisation or None, emails
    )


def _vcard_person(card: vcard.Card) -> Imported:
    name = next((x for x in (_clean(vcard.unescape(v)) for v in card.fn) if x), "")
    for n in card.n:
        if name:
            break
        parts = vcard.components(n) + [""] * 5
        family, given, additional = parts[0], parts[1], parts[2]
        name = _clean(" ".join(x.replace(",", " ") for x in (given, additional, family) if x))
    organisation = next((x for x in (_clean(vcard.components(o)[0]) for o in card.org) if x), "")
    return _person(name, organisation, _emails([vcard.unescape(e) for e in card.email]))


def _read_vcard(data: bytes, filename: str) -> ReadFile:
    encoding = encodings.detect(data)
    if encoding.codec.startswith(("utf-16", "utf-32")):
        # Lines and their ends are found in bytes, so text in UTF-16 is read as UTF-8.
        data = data.decode(encoding.codec, "replace").encode("utf-8")
        codec = "utf-8"
    elif encoding.codec == "utf-8-sig":
        data = data.removeprefix(codecs.BOM_UTF8)  # a copy, as large as the file
        codec = "utf-8"
    else:
        codec = encoding.codec
    people: list[Imported] = []
    declared: set[str] = set()
    fell_back = False
    try:
        for card in vcard.cards(data, codec):
            if len(people) >= MAX_ROWS:
                raise _too_many(filename)
            declared |= card.charsets
            fell_back = fell_back or card.fell_back
            people.append(_vcard_person(card))
    except vcard.CardTooLarge:
        raise _problem(f"{filename} has a card over {vcard.CARD_MAX:,} characters.") from None
    except vcard.NoEnd:
        raise _problem(
            f"{filename} isn't a well-formed vCard file (a card has no END:VCARD)."
        ) from None
    if not people:
        raise _problem(f"{filename} has no contacts in it (no BEGIN:VCARD).")
    # Values are UTF-8 where they are valid UTF-8: the detected encoding is named if it was used.
    note = encoding.note if fell_back or encoding.how != "detected" else "read as UTF-8"
    if declared:
        note += "; " + ", ".join(sorted(encodings.display_name(c) for c in declared))
        note += " where a card declares it"
    return ReadFile("vCard", people, note)


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
