"""Reading an address book costs bounded memory whatever the file: under 50 MB above the file
itself for any file up to the 5 MB limit, measured with tracemalloc (not timed)."""

from __future__ import annotations

import base64
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import InvalidInput
from bot.ledger.import_files import MAX_BYTES, MAX_ROWS, Imported, ReadFile, read_file

EXTRA_MAX = 50 * 1024 * 1024
HEADER = b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
ROW = b"Maria,Lopez,https://www.linkedin.com/in/maria,maria@acme.test,Acme,CTO,01 Jan 2024\n"
PHOTO = base64.b64encode(bytes(range(256)) * 8).decode()
CARD_WITH_PHOTO = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lee Wong\r\nORG:Globex\r\nEMAIL:lee@globex.test\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:"
    + "\r\n ".join(PHOTO[i : i + 74] for i in range(0, len(PHOTO), 74))
    + "\r\nEND:VCARD\r\n"
).encode()


def fill(unit: bytes, head: bytes = b"") -> bytes:
    """``head`` then ``unit`` repeated up to the size limit."""
    return head + unit * ((MAX_BYTES - len(head)) // len(unit))


def read_measured(name: str, data: bytes) -> tuple[ReadFile | str, int]:
    """What reading gives (the people, or the refusal) and its peak memory beyond ``data``."""
    tracemalloc.start()
    try:
        try:
            found: ReadFile | str = read_file(name, data)
        except InvalidInput as refused:
            found = refused.message
        return found, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("name", "data", "answer"),
    [
        ("blank.csv", fill(b"\n"), "has over 21,000 rows"),
        ("many.csv", fill(ROW, HEADER), f"has over {MAX_ROWS:,} people"),
        ("one-line.csv", fill(b","), "has a line over 100,000 characters"),
        ("long-lines.csv", fill(b"," * 99_000 + b"\n"), "doesn't look like LinkedIn"),
        ("one-card.vcf", fill(b"NOTE:x\r\n", b"BEGIN:VCARD\r\n"), "has a card over 100,000"),
    ],
    ids=["5 MB of newlines", "rows over the limit", "one line", "long lines", "one huge card"],
)
def test_a_file_at_the_size_limit_is_refused_in_bounded_memory(
    name: str, data: bytes, answer: str
) -> None:
    assert len(data) <= MAX_BYTES
    found, peak = read_measured(name, data)
    assert isinstance(found, str) and answer in found
    assert peak < EXTRA_MAX, f"{peak / 1e6:.0f} MB"


def test_the_most_people_a_file_may_hold_fit_in_bounded_memory() -> None:
    data = HEADER + ROW * MAX_ROWS
    found, peak = read_measured("Connections.csv", data)
    assert isinstance(found, ReadFile) and len(found.people) == MAX_ROWS
    assert peak < EXTRA_MAX, f"{peak / 1e6:.0f} MB"


OUTLOOK_ROW = "Jürgen,Groß,Müller AG,j@mueller.test\n".encode("cp1252")
CARD_QP = (
    b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Gro=DF;J=\r\n"
    b"=FCrgen\r\nORG:M\xfcller\r\nEND:VCARD\r\n"
)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("outlook.csv", b"First Name,Last Name,Company,E-mail Address\n" + OUTLOOK_ROW * MAX_ROWS),
        ("latin.vcf", CARD_QP * MAX_ROWS),
    ],
    ids=["a Windows-1252 CSV", "a vCard in quoted-printable and Latin-1"],
)
def test_the_most_people_a_file_not_in_utf8_may_hold_fit_in_bounded_memory(
    name: str, data: bytes
) -> None:
    found, peak = read_measured(name, data)
    assert isinstance(found, ReadFile), found
    assert len(found.people) == MAX_ROWS
    assert found.people[-1].name == "Jürgen Groß"
    assert found.people[-1].organisation in ("Müller AG", "Müller")
    assert "Windows-1252" in found.encoding or "ISO-8859-1" in found.encoding
    assert peak < EXTRA_MAX, f"{peak / 1e6:.0f} MB"


def test_a_photo_on_one_line_longer_than_a_card_is_skipped_in_bounded_memory() -> None:
    card = (
        b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Lee Wong\r\nPHOTO;ENCODING=BASE64;JPEG:"
        + PHOTO.encode() * 1000
        + b"\r\n\r\nEMAIL:lee@globex.test\r\nEND:VCARD\r\n"
    )
    found, peak = read_measured("phone.vcf", fill(card))
    assert isinstance(found, ReadFile) and len(found.people) == MAX_BYTES // len(card)
    assert found.people[0] == Imported("Lee Wong", None, ("lee@globex.test",))
    assert peak < EXTRA_MAX, f"{peak / 1e6:.0f} MB"


def test_photos_in_vcards_are_never_kept() -> None:
    data = fill(CARD_WITH_PHOTO)
    found, peak = read_measured("contacts.vcf", data)
    assert isinstance(found, ReadFile)
    assert len(found.people) == len(data) // len(CARD_WITH_PHOTO)
    assert found.people[0].name == "Lee Wong" and found.people[0].emails == ("lee@globex.test",)
    assert peak < EXTRA_MAX, f"{peak / 1e6:.0f} MB"


PIECES = [
    b"\r",
    b"\n",
    b"\r\r\n",
    b" ",
    b"=",
    b";",
    b":",
    b'"',
    b"\\",
    b"\xc3",
    b"\x80",
    b"\x00",
    b"\xff\xfe",
    b"BEGIN:VCARD\r\n",
    b"END:VCARD\r\n",
    b";CHARSET=",
    b"SHIFT_JIS",
    b"idna",
    b"rot13",
    b";ENCODING=QUOTED-PRINTABLE",
    b";ENCODING=B",
    b"item1.EMAIL:",
    b",",
    b"\t",
]
SAMPLE_CARD = (
    b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=\r\n"
    b"=C3=B6rg\r\nFN:J\\, M\r\nORG:Acme;Sales\r\nitem1.EMAIL;type=INTERNET:j@acme.test\r\n"
    b"PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQ\r\n SkZJRg\r\n\r\nEND:VCARD\r\n"
)
SAMPLE_CSV = (
    b"\xef\xbb\xbfFirst Name,Last Name,Company,E-mail Address\n"
    b'Ana,Silva,"Acme\nSales",ana@acme.test\n\nBo,Chen,Initech,bo@initech.test,extra\n'
)


@given(
    st.sampled_from([("a.vcf", SAMPLE_CARD), ("a.csv", SAMPLE_CSV)]),
    st.lists(
        st.tuples(st.integers(0, 400), st.sampled_from(PIECES) | st.binary(max_size=3)),
        max_size=12,
    ),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_damage_to_a_file_gives_people_or_a_clear_refusal(
    sample: tuple[str, bytes], edits: list[tuple[int, bytes]]
) -> None:
    name, data = sample
    for at, piece in edits:
        data = data[:at] + piece + data[at + len(piece) // 2 :]
    try:
        found = read_file(name, data)
    except InvalidInput as refused:
        assert name in refused.message
        return
    assert all(person.name == person.name.strip() for person in found.people)
    assert all("\x00" not in person.name for person in found.people)
