"""Which text encoding an address book is in: from a byte order mark, else UTF-8 when every
byte sequence is valid UTF-8, else detected with ``charset_normalizer``.

Address books that are not UTF-8 are mostly Western Windows code pages (Outlook for Windows
and Thunderbird write Windows-1252 or ISO-8859-1), and a short file with one ``ü`` in it is
too little text to tell one Latin code page from another. So a detection that finds only
Latin letters is read as Windows-1252; one that finds another script (Japanese, Cyrillic,
Greek…) is read in the encoding detected.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

SAMPLE_MAX = 64 * 1024  # bytes of non-ASCII lines handed to detection
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LATIN = {
    "Basic Latin",
    "Latin-1 Supplement",
    "Latin Extended-A",
    "Latin Extended-B",
    "Latin Extended Additional",
    "General Punctuation",
    "Currency Symbols",
    "Letterlike Symbols",
    "Control character",
    "Spacing Modifier Letters",
}
_NAMES = {
    "utf_8": "UTF-8",
    "utf_8_sig": "UTF-8",
    "utf_16": "UTF-16",
    "utf_32": "UTF-32",
    "cp1252": "Windows-1252",
    "latin_1": "ISO-8859-1",
    "iso8859_15": "ISO-8859-15",
    "shift_jis": "Shift_JIS",
    "cp932": "Shift_JIS (Windows)",
    "euc_jp": "EUC-JP",
    "iso2022_jp": "ISO-2022-JP",
    "cp1251": "Windows-1251",
    "koi8_r": "KOI8-R",
    "gb2312": "GB2312",
    "gbk": "GBK",
    "gb18030": "GB18030",
    "big5": "Big5",
    "euc_kr": "EUC-KR",
    "cp949": "Windows-949",
    "cp1250": "Windows-1250",
    "cp1253": "Windows-1253",
    "ascii": "ASCII",
}


@dataclass(frozen=True)
class Encoding:
    """How a file's bytes are read: ``codec`` for Python, ``how`` it was chosen."""

    codec: str
    how: str  # "byte order mark", "UTF-8", "detected"

    @property
    def name(self) -> str:
        return display_name(self.codec)

    @property
    def note(self) -> str:
        """How the encoding was chosen, in words for the member."""
        if self.how == "byte order mark":
            return f"read as {self.name}, as its byte order mark says"
        if self.how == "detected":
            return f"read as {self.name}: it isn't UTF-8, so I went by its bytes"
        return f"read as {self.name}"


def display_name(codec: str) -> str:
    """An encoding's usual name (``Windows-1252``) for Python's codec name or an alias."""
    try:
        canonical = codecs.lookup(codec).name.replace("-", "_")
    except (LookupError, ValueError):
        return codec
    return _NAMES.get(canonical, canonical.upper().replace("_", "-"))


def codec_of(label: str) -> str | None:
    """Python's codec for a charset label a file declares (``SHIFT_JIS``, ``utf-8``), or
    ``None`` for a label Python does not know."""
    try:
        return codecs.lookup(label.strip().strip('"')).name
    except (LookupError, ValueError):  # unknown, or not even a name (a NUL inside)
        return None


def _valid_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8, checked a piece at a time so no copy of the text is made."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 64 * 1024
    try:
        for start in range(0, len(data), step):
            decoder.decode(data[start : start + step])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sample(data: bytes) -> bytes:
    """The lines that hold non-ASCII bytes, up to ``SAMPLE_MAX``: what detection weighs."""
    found: list[bytes] = []
    size = start = 0
    while size < SAMPLE_MAX and start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        line = data[start:end]
        if not line.isascii():
            found.append(line)
            size += len(line)
        start = end
    return b"".join(found)[:SAMPLE_MAX]


def detect(data: bytes) -> Encoding:
    """The encoding of ``data``: by its byte order mark, UTF-8 if valid, else detected."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            # UTF-32's LE mark starts with UTF-16's, which is why UTF-32 is tried first.
            return Encoding(codec, "byte order mark")
    if _valid_utf8(data):
        return Encoding("utf-8", "UTF-8")
    best = from_bytes(_sample(data)).best()
    if best is None or set(best.alphabets) <= _LATIN:
        return Encoding("cp1252", "detected")
    if best.encoding.startswith(("utf_16", "utf_32")) and b"\x00" not in data:
        return Encoding("cp1252", "detected")  # UTF-16 text without a byte order mark has NULs
    return Encoding(codecs.lookup(best.encoding).name, "detected")
