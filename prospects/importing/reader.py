"""Reading CSV files as people export them: encodings, delimiters, line numbers.

Files are read from disk as a stream, one record at a time, so memory stays
flat however long the file is. Line numbers are physical lines of the file
(the header is line 1), counted by the csv module, so a quoted cell holding
line breaks does not shift the numbers of the rows after it.
"""

from __future__ import annotations

import codecs
import csv
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 1 << 20
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16 (Unicode text)",
    "utf-16-le": "UTF-16 (Unicode text)",
    "utf-16-be": "UTF-16 (Unicode text)",
    "cp1252": "Windows-1252",
    "cp1250": "Windows-1250 (Central European)",
    "latin-1": "Latin-1 (ISO-8859-1)",
}
# A cell longer than this is a broken quote swallowing the rest of the file.
csv.field_size_limit(1 << 20)

_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or a zip archive: save it as CSV first",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook: save it as CSV first",
    b"%PDF": "a PDF document, not a CSV file",
}


class FileRejected(ValueError):
    """A file that cannot be imported, with the reason in words for people."""


@dataclass
class FileInfo:
    encoding: str
    delimiter: str
    headers: list[str]
    samples: list[list[str]] = field(default_factory=list)
    total_rows: int = 0

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


@dataclass(frozen=True)
class Record:
    """One record of the file: its first physical line and its cells."""

    line: int
    cells: list[str]
    error: str = ""


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """Return the codec the file is written in.

    A BOM decides. Otherwise strict UTF-8 (what the guide asks for, and what
    plain ASCII also is), then the legacy code page that reads as words (see
    `_legacy_encoding`), then Latin-1, which decodes any byte.
    """
    with path.open("rb") as stream:
        head = stream.read(8192)
    if not head:
        raise FileRejected("The file is empty.")
    for signature, what in _SIGNATURES.items():
        if head.startswith(signature):
            raise FileRejected(f"This file is {what}.")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        # UTF-16 without a BOM puts a zero beside every ASCII letter.
        if head[1::2].count(0) > len(head) // 4:
            return "utf-16-le"
        if head[0::2].count(0) > len(head) // 4:
            return "utf-16-be"
        raise FileRejected("This is not a text file. Export your data as CSV.")
    if _decodes(path, "utf-8"):
        return "utf-8"
    return _legacy_encoding(path)


_LEGACY = ("cp1252", "cp1250")  # the first wins a tie: Excel's CSV in the Americas
# The bytes these two code pages read differently; all others count the same
# for both.
_DIFFERING = re.compile(
    b"[%s]"
    % re.escape(
        bytes(
            byte
            for byte in range(0x80, 0x100)
            if len({bytes([byte]).decode(e, "replace") for e in _LEGACY}) > 1
        )
    )
)


def _legacy_encoding(path: Path) -> str:
    """Return Windows-1252 or Windows-1250, whichever reads as words.

    Excel saves CSV in the computer's own code page: 1252 in the Americas
    and Western Europe, 1250 in Central Europe. The two share ASCII and many
    accented letters (José, Zoë read the same) but not all: Polish "Łukasz"
    read as 1252 is "£ukasz", "Paweł" is "Pawe³". So each is scored by the
    symbols it would put beside letters, and the one with fewer wins. A byte
    that is no character in it leaves Latin-1, which decodes any byte.
    """
    strays = dict.fromkeys(_LEGACY, 0)
    undecodable: set[str] = set()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            undecodable.update(e for e in _LEGACY if not _decodes_chunk(chunk, e))
            for found in _DIFFERING.finditer(chunk):
                at = found.start()  # chunk[-1:0] is empty: nothing before
                around = (chunk[at - 1 : at], found[0], chunk[at + 1 : at + 2])
                for encoding, stray in zip(_LEGACY, _strays(*around), strict=True):
                    strays[encoding] += stray
    best = min(_LEGACY, key=strays.__getitem__)
    return "latin-1" if best in undecodable else best


def _decodes_chunk(chunk: bytes, encoding: str) -> bool:
    """Tell whether a single-byte code page has a character for every byte."""
    try:
        chunk.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


@functools.cache
def _strays(before: bytes, byte: bytes, after: bytes) -> tuple[bool, ...]:
    """Tell, per code page, whether the byte reads as a symbol touching a letter.

    Spanish opens a sentence with "¿" or "¡", so those may lead a word.
    """
    found = []
    for encoding in _LEGACY:
        char = byte.decode(encoding, "replace")
        found.append(
            not char.isalpha()
            and (
                before.decode(encoding, "replace").isalpha()
                or (after.decode(encoding, "replace").isalpha() and char not in "¡¿")
            )
        )
    return tuple(found)


def detect_delimiter(first_line: str) -> str:
    """Return whichever of comma, semicolon and tab the header row uses most."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _first_line(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as stream:
        for line in stream:
            if line.strip():
                return line
    return ""


def iter_records(path: Path, encoding: str, delimiter: str) -> Iterator[Record]:
    """Yield the records below the header, skipping blank lines.

    A record the csv module cannot read comes back with `error` set, and
    reading carries on with the next line.
    """
    with path.open(encoding=encoding, newline="") as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        _read_header(reader)
        line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Record(line + 1, [], f"Unreadable row: {error}")
                line = reader.line_num
                continue
            start, line = line + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                yield Record(start, cells)


def _read_header(reader: Iterator[list[str]]) -> list[str]:
    for cells in reader:
        if any(cell.strip() for cell in cells):
            return [cell.replace("\ufeff", "").strip() for cell in cells]
    return []


def inspect_file(path: Path) -> FileInfo:
    """Read the file once: encoding, delimiter, header, samples and row count.

    Raise FileRejected with a message for people when it cannot be imported.
    """
    encoding = detect_encoding(path)
    delimiter = detect_delimiter(_first_line(path, encoding))
    with path.open(encoding=encoding, newline="") as stream:
        try:
            headers = _read_header(csv.reader(stream, delimiter=delimiter))
        except csv.Error as error:
            raise FileRejected(f"The header row cannot be read: {error}.") from None
    if not headers:
        raise FileRejected("The file is empty.")
    if not any(headers):
        raise FileRejected("The first row must name the columns.")
    info = FileInfo(encoding, delimiter, headers, [[] for _ in headers])
    for record in iter_records(path, encoding, delimiter):
        info.total_rows += 1
        for index, cell in enumerate(record.cells[: len(headers)]):
            column = info.samples[index]
            if len(column) < 3 and cell.strip():
                column.append(cell.strip()[:80])
    if not info.total_rows:
        raise FileRejected("The file has a header row but no rows below it.")
    return info
