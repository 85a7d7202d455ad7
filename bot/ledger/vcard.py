"""A lenient vCard reader (versions 2.1, 3.0 and 4.0, as phones and mail programs write them).

Works on bytes, a line at a time, so that a file costs its bytes and one card:

- Line ends may be CRLF, LF, CR CR LF or a mix; a file with CR alone is split at CR.
- A line starting with a space or tab continues the one above it (the one whitespace
  character is dropped), also in the middle of a UTF-8 character: lines are joined as bytes
  and decoded afterwards.
- A quoted-printable value (vCard 2.1) whose line ends in ``=`` continues on the next line,
  whatever that line holds.
- A value is decoded in the charset its property declares (``CHARSET=SHIFT_JIS``), else as
  UTF-8 when it is valid UTF-8, else in the encoding detected for the file; a byte that does
  not decode becomes U+FFFD and the card is kept.
- Property names come in any case and may carry a group (``item1.EMAIL``). Only what names a
  person is kept (FN, N, ORG, EMAIL); media (PHOTO, LOGO, SOUND, KEY) is skipped as it is read,
  and any other property or stray line (base64 not indented, blank lines) is ignored.
"""

from __future__ import annotations

import binascii
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.ledger.encodings import codec_of

LINE_MAX = 100_000  # bytes of one physical line read at once; longer lines are read in parts
CARD_MAX = 100_000  # bytes in one card, its media left out

_MEDIA = {b"PHOTO", b"LOGO", b"SOUND", b"KEY"}
_KEPT = {b"FN", b"N", b"ORG", b"EMAIL"}
_NAME = re.compile(rb"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPED = {"n": "\n", "N": "\n"}


class CardTooLarge(Exception):
    """A card holds over ``CARD_MAX`` bytes besides its media."""


class NoEnd(Exception):
    """The file ends inside a card."""


@dataclass
class Card:
    """What one card says about who it is, as text (unescaped, not yet tidied)."""

    fn: list[str] = field(default_factory=list)
    n: list[str] = field(default_factory=list)
    org: list[str] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    charsets: set[str] = field(default_factory=set)  # declared charsets, other than UTF-8
    fell_back: bool = False  # a value declared no charset and was not UTF-8


def _physical_lines(data: bytes) -> Iterator[bytes]:
    """Each line without its line end; of a line longer than ``LINE_MAX`` (a photo on one
    line), only its start."""
    stream = io.BytesIO(data if b"\n" in data else data.replace(b"\r", b"\n"))
    while line := stream.readline(LINE_MAX):
        long = not line.endswith(b"\n") and len(line) == LINE_MAX
        while long and (rest := stream.readline(LINE_MAX)):
            if rest.endswith(b"\n"):
                break
        yield line.rstrip(b"\r\n")


def _split_head(line: bytes) -> tuple[bytes, bytes] | None:
    """``line`` as its head (name and parameters) and value, at the first colon outside
    double quotes; ``None`` for a line that is no property."""
    colon = line.find(b":")
    if colon < 0:
        return None
    if b'"' not in line[:colon]:
        name = line[:colon].split(b";", 1)[0].strip()
        return (line[:colon], line[colon + 1 :]) if _NAME.match(name) else None
    quoted = False
    for i, byte in enumerate(line):
        if byte == 0x22:  # "
            quoted = not quoted
        elif byte == 0x3A and not quoted:  # :
            head = line[:i]
            name = head.split(b";", 1)[0].strip()
            return (head, line[i + 1 :]) if _NAME.match(name) else None
    return None


def _name_of(head: bytes) -> bytes:
    return head.split(b";", 1)[0].strip().rsplit(b".", 1)[-1].upper()


def _params(head: bytes) -> tuple[bool, bool, str | None]:
    """Whether the value is quoted-printable, whether base64, and its declared charset."""
    qp = b64 = False
    charset = None
    for param in head.split(b";")[1:]:
        key, _, value = param.strip().partition(b"=")
        key, value = key.strip().upper(), value.strip().strip(b'"').upper()
        if not value:
            value, key = key, b"ENCODING" if key in (b"QUOTED-PRINTABLE", b"BASE64") else b""
        if key == b"ENCODING":
            qp = qp or value == b"QUOTED-PRINTABLE"
            b64 = b64 or value in (b"B", b"BASE64")
        elif key == b"CHARSET":
            charset = value.decode("ascii", "replace")
    return qp, b64, charset


def _logical_lines(data: bytes) -> Iterator[tuple[bytes, bytes] | None]:
    """Each property as (head, value bytes), unfolded, with media left out; ``None`` for a
    line that is no property (base64 left unindented, a stray word)."""
    head: bytes | None = None
    value = bytearray()
    skipping = soft_break = False
    qp = False
    for line in _physical_lines(data):
        if head is not None and soft_break:
            # A quoted-printable value ending in "=" goes on, whatever the next line holds.
            if not skipping:
                del value[-1:]
                value += line
            soft_break = qp and line.endswith(b"=")
            continue
        if line[:1] in (b" ", b"\t") and (head is not None or skipping):
            if not skipping:
                value += line[1:]
                soft_break = qp and line.endswith(b"=")
            continue
        if head is not None:
            yield head, bytes(value)
        head, value, skipping, soft_break = None, bytearray(), False, False
        parts = _split_head(line)
        if parts is None:
            if line.strip():
                yield None
            continue
        if _name_of(parts[0]) in _MEDIA:
            skipping, qp = True, False
            continue
        head, value = parts[0], bytearray(parts[1])
        qp = _params(head)[0]
        soft_break = qp and line.endswith(b"=")
    if head is not None:
        yield head, bytes(value)


def _decode(head: bytes, value: bytes, fallback: str, card: Card) -> str:
    qp, b64, declared = _params(head)
    if qp:
        value = binascii.a2b_qp(value)
    elif b64:
        try:
            value = binascii.a2b_base64(value)
        except binascii.Error:
            return ""
    known = codec_of(declared) if declared else None
    if declared and known is not None:
        try:
            text = value.decode(known, "replace")
        except (LookupError, UnicodeError):  # a codec that is no text encoding (rot13, idna)
            pass
        else:
            if known != "utf-8":
                card.charsets.add(declared.upper())
            return text
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        card.fell_back = True
        return value.decode(fallback, "replace")


def unescape(text: str) -> str:
    """``text`` with the escapes ``\\,`` ``\\;`` ``\\n`` ``\\\\`` undone."""
    return _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(1)), text)


def components(text: str, separator: str = ";") -> list[str]:
    """``text`` split at each ``separator`` not escaped with a backslash, each part unescaped."""
    parts = re.split(r"(?<!\\)" + re.escape(separator), text)
    # A part ending in an escaped backslash was split wrongly only in pathological text.
    return [unescape(part) for part in parts]


def cards(data: bytes, codec: str) -> Iterator[Card]:
    """Each card in ``data`` (bytes in ``codec`` where a property declares no charset)."""
    card: Card | None = None
    depth = 0
    size = 0
    for line in _logical_lines(data):
        if line is None:
            continue
        head, value = line
        name = _name_of(head)
        if name == b"BEGIN" and value.strip().upper() == b"VCARD":
            depth += 1
            if depth == 1:
                card, size = Card(), 0
            continue
        if card is None:
            continue  # text between cards
        if name == b"END" and value.strip().upper() == b"VCARD":
            depth -= 1
            if depth == 0:
                yield card
                card = None
            continue
        size += len(head) + len(value)
        if size > CARD_MAX:
            raise CardTooLarge
        if depth == 1 and name in _KEPT:
            text = _decode(head, value, codec, card)
            getattr(card, name.decode().lower()).append(text)
    if card is not None:
        raise NoEnd
