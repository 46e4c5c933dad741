"""Read an export file's bytes, decode them and recognise the format from the content alone.

Every refusal is a :class:`UserInputError` naming the file and saying what it is instead, so the
user knows what to do (re-export, unzip, convert the encoding) without reading a traceback.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from collabscope.errors import UserInputError

WOS_PLAIN = "wos_plain"
WOS_TAB = "wos_tab"
SCOPUS_CSV = "scopus_csv"
CSSCI = "cssci"
OPENALEX_JSON = "openalex_json"
OPENALEX_JSONL = "openalex_jsonl"
OPENALEX_CSV = "openalex_csv"
# The export family of each format: records.source.
SOURCE_OF_FORMAT = {
    WOS_PLAIN: "wos",
    WOS_TAB: "wos",
    SCOPUS_CSV: "scopus",
    CSSCI: "cssci",
    OPENALEX_JSON: "openalex",
    OPENALEX_JSONL: "openalex",
    OPENALEX_CSV: "openalex",
}
# CSSCI's field marker for the title, which every record begins with.
CSSCI_FIRST_FIELD = "【来源篇名】"

_MAGIC = (
    (
        b"PK\x03\x04",
        "a ZIP archive (or an .xlsx/.docx workbook); unzip it or export again as "
        "Plain text or Tab-delimited",
    ),
    (b"\x1f\x8b", "a gzip archive; decompress it first"),
    (b"%PDF", "a PDF document, not an export"),
    (
        b"\xd0\xcf\x11\xe0",
        "an old Excel/Word (OLE) file; export again as Plain text or Tab-delimited",
    ),
    (b"\x89PNG", "a PNG image, not an export"),
    (b"\xff\xd8\xff", "a JPEG image, not an export"),
)
_BLANK = re.compile(rb"[ \t\r\n\x00\xef\xbb\xbf\xff\xfe]*")
_TAG_LINE = re.compile(r"^[A-Z][A-Z0-9](?: |$)")
_PLAIN_HEADER = re.compile(r"Web of (?:Science|Knowledge)|ISI Export|^FN |^VR ", re.IGNORECASE)


@dataclass(frozen=True)
class DecodedExport:
    """An export file as text lines (line endings removed), with what was detected about it."""

    path: str
    lines: list[str]
    format: str
    encoding: str
    line_endings: str
    header: str
    sha256: str
    size: int


def read_export(path: str | Path) -> DecodedExport:
    """Read, decode and recognise one export file; raise :class:`UserInputError` if unusable."""
    return decode_export(str(path), read_export_bytes(path))


def read_export_bytes(path: str | Path) -> bytes:
    """An export file's bytes; raise :class:`UserInputError` if it cannot be read."""
    name = str(path)
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UserInputError(name, "file not found") from None
    except IsADirectoryError:
        raise UserInputError(name, "is a directory, not an export file") from None
    except PermissionError:
        raise UserInputError(name, "cannot be read (permission denied)") from None


SNIFF_BYTES = 8192


def sniff_export(path: str | Path) -> str:
    """Recognise a file from its first bytes only; raise :class:`UserInputError` if unusable.

    Cheap enough to run on thousands of files while the workflow builds its job graph, so
    most bad files (empty, binary, HTML, another format) stop the run before any job starts.
    Bytes further on are checked when the file is parsed.
    """
    name = str(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as err:
        raise UserInputError(name, f"cannot be read ({err.strerror})") from None
    complete = len(head) < SNIFF_BYTES
    if not complete:
        # Cut at the last line break so that a character split by the cut is not an error.
        cut = max(head.rfind(b"\n"), head.rfind(b"\r"))
        head = head[: cut + 1] if cut > 0 else head
    text, _ = decode_bytes(name, head, final=complete)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return detect_format(name, lines)[0]


def decode_export(name: str, data: bytes) -> DecodedExport:
    text, encoding = decode_bytes(name, data)
    line_endings = _line_endings(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    fmt, header = detect_format(name, lines)
    return DecodedExport(
        path=name,
        lines=lines,
        format=fmt,
        encoding=encoding,
        line_endings=line_endings,
        header=header,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def decode_bytes(name: str, data: bytes, final: bool = True) -> tuple[str, str]:
    """Decode by byte-order mark, else as UTF-8; refuse binary files and undecodable bytes.

    ``final=False`` decodes a file's head: an incomplete character at the end is not an error.
    """
    if final and _BLANK.fullmatch(data):
        raise UserInputError(name, "the file is empty")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise UserInputError(name, f"is {what}")
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode(name, data[3:], "utf-8", "utf-8-sig", final, skipped=3), "utf-8-sig"
    if data.startswith(b"\xff\xfe"):
        return _decode(name, data[2:], "utf-16-le", "utf-16le-bom", final, 2), "utf-16le-bom"
    if data.startswith(b"\xfe\xff"):
        return _decode(name, data[2:], "utf-16-be", "utf-16be-bom", final, 2), "utf-16be-bom"
    head = data[:4096]
    if b"\x00" in head:
        # UTF-16 without a mark puts a NUL beside nearly every character of Latin text (and
        # beside some CJK ones, U+4E00 '一'); a binary file has NULs anywhere.
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even <= odd // 8:
            return _decode(name, data, "utf-16-le", "utf-16le", final), "utf-16le"
        if even > len(head) // 4 and odd <= even // 8:
            return _decode(name, data, "utf-16-be", "utf-16be", final), "utf-16be"
        raise UserInputError(name, "is a binary file (it contains NUL bytes), not a text export")
    try:
        text = _decode(name, data, "utf-8", "utf-8", final)
    except UserInputError:
        # CSSCI exports made on Chinese Windows are GB18030 (a superset of GBK and GB2312).
        text = _gb18030_cssci(data, final)
        if text is None:
            raise
        return text, "gb18030"
    return text, "ascii" if text.isascii() else "utf-8"


def _gb18030_cssci(data: bytes, final: bool) -> str | None:
    """The text of a GB18030-encoded CSSCI export, or None when it is not one."""
    try:
        if final:
            text = data.decode("gb18030")
        else:
            text = codecs.getincrementaldecoder("gb18030")().decode(data, final=False)
    except UnicodeDecodeError:
        return None
    return text if CSSCI_FIRST_FIELD in text else None


def _decode(
    name: str, data: bytes, codec: str, label: str, final: bool = True, skipped: int = 0
) -> str:
    """Decode ``data`` (the file after a ``skipped``-byte byte-order mark)."""
    try:
        if final:
            return data.decode(codec)
        return codecs.getincrementaldecoder(codec)().decode(data, final=False)
    except UnicodeDecodeError as err:
        width = 2 if codec.startswith("utf-16") else 1
        before = data[: err.start - err.start % width]
        if codec == "utf-16-le":
            lf, cr = b"\n\x00", b"\r\x00"
        elif codec == "utf-16-be":
            lf, cr = b"\x00\n", b"\x00\r"
        else:
            lf, cr = b"\n", b"\r"
        # LF, CRLF and CR-only line endings all count once.
        line = before.count(lf) + before.count(cr) - before.count(cr + lf) + 1
        bad = data[err.start : err.end].hex(" ")
        hint = (
            " (is it Windows-1252/Latin-1? convert it with "
            "`iconv -f WINDOWS-1252 -t UTF-8` or export it again as UTF-8)"
            if label == "utf-8"
            else ""
        )
        raise UserInputError(
            name,
            f"byte(s) {bad} at offset {skipped + err.start} are not valid {label}{hint}",
            line=line,
        ) from None


def _line_endings(text: str) -> str:
    if "\r" not in text:
        return "LF" if "\n" in text else "none"
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    kinds = [k for k, n in (("CRLF", crlf), ("CR", cr), ("LF", lf)) if n]
    if not kinds:
        return "none"
    return kinds[0] if len(kinds) == 1 else "mixed"


def detect_format(name: str, lines: list[str]) -> tuple[str, str]:
    """Recognise the export format from its first lines; return (format, header)."""
    first_index, first = next(
        ((i, line.strip("\ufeff \t")) for i, line in enumerate(lines) if line.strip("\ufeff \t")),
        (0, ""),
    )
    lowered = first.lower()
    if lowered.startswith(("<!doctype html", "<html", "<head", "<?xml")) or "<html" in lowered:
        raise UserInputError(
            name,
            "is an HTML/XML page, not an export (a failed or expired download saved as a file?)",
            line=first_index + 1,
        )
    cssci = _detect_cssci(name, lines)
    if cssci:
        return cssci
    openalex = _detect_openalex(first, lines[:50])
    if openalex:
        return openalex
    csv_columns = _csv_header(first)
    if "EID" in csv_columns and ({"Authors", "Title"} & csv_columns):
        return SCOPUS_CSV, first
    if any(c.startswith("EID;") for c in csv_columns) and "Authors" in csv_columns:
        raise UserInputError(
            name,
            "is a Scopus CSV export re-saved by a spreadsheet that split it at ';' and appended "
            "';;;' to its rows (the columns cannot be recovered); export it again from Scopus "
            "as CSV and use that file unopened",
            line=first_index + 1,
        )
    if {"id", "publication_year"} <= csv_columns and ({"display_name", "title"} & csv_columns):
        return OPENALEX_CSV, first
    if "\t" in first:
        columns = {c.strip().strip('"') for c in first.split("\t")}
        if "UT" in columns and ({"PT", "AU", "TI"} & columns):
            return WOS_TAB, first
    if _TAG_LINE.match(first):
        if _PLAIN_HEADER.search(first) or first.startswith("PT "):
            return WOS_PLAIN, first
        if any(line.rstrip() == "ER" for line in lines[:5000]):
            return WOS_PLAIN, first
    raise UserInputError(name, _unsupported(first, lines[:50]), line=first_index + 1)


def _csv_header(first: str) -> set[str]:
    """The column names of a comma-separated header line (empty when it is not one)."""
    if "," not in first:
        return set()
    return {c.strip() for c in next(csv.reader([first]), [])}


def _detect_cssci(name: str, lines: list[str]) -> tuple[str, str] | None:
    # A CSSCI export begins with a banner (南京大学中国社会科学研究评价中心, version,
    # copyright) before its first 【来源篇名】 line; a bare one begins with that line.
    head = lines[:60]
    if not any(line.lstrip("\ufeff \t").startswith(CSSCI_FIRST_FIELD) for line in head):
        return None
    banner = next((line.strip("\ufeff \t") for line in head if line.strip("\ufeff \t")), "")
    return CSSCI, banner


_OPENALEX_WORK = re.compile(r'"id"\s*:\s*"https://openalex\.org/W\d+"')


def _detect_openalex(first: str, head: list[str]) -> tuple[str, str] | None:
    """OpenAlex works: one JSON document (a list, or an API page with ``results``) or JSON
    Lines (one work per line, as in API dumps and snapshot files)."""
    if not first.startswith(("[", "{")) or not _OPENALEX_WORK.search("\n".join(head)):
        return None
    if first.startswith("{") and first.rstrip().endswith("}") and _OPENALEX_WORK.search(first):
        return OPENALEX_JSONL, first[:200]
    return OPENALEX_JSON, first[:200]


def _unsupported(first: str, head: list[str]) -> str:
    shown = first[:80] + ("…" if len(first) > 80 else "")
    # A CSSCI export begins with a banner (南京大学中国社会科学研究评价中心, version,
    # copyright) before its first 【来源篇名】 line.
    if any("【" in line and "】" in line for line in head) or "CSSCI" in "".join(head[:5]):
        return (
            f"looks like a CSSCI export, but no record begins with {CSSCI_FIRST_FIELD} in its "
            "first lines"
        )
    if "UT (Unique WOS ID)" in first or first.startswith(
        ("Publication Type,", '"Publication Type"')
    ):
        return (
            "is a Web of Science export re-saved as CSV (e.g. by Excel); export it again from Web "
            "of Science as Plain text or Tab-delimited"
        )
    if first.startswith(("[", "{")):
        return (
            'looks like JSON but holds no OpenAlex works (no "id": "https://openalex.org/W…" '
            "in its first lines); only OpenAlex JSON is read"
        )
    if first.startswith(("TY  -", "%0 ", "@")):
        return "looks like a RIS/EndNote/BibTeX file; export from Web of Science as Plain text"
    return (
        f"is not a recognised export: first line {shown!r}; expected a Web of Science Plain text "
        "export ('FN Clarivate Analytics Web of Science' or a record starting 'PT '), a "
        "Tab-delimited export (a header row with PT … UT), a Scopus CSV (a header with EID), "
        "a CSSCI export (records starting 【来源篇名】) or OpenAlex works (JSON, JSON Lines or "
        "CSV with id and publication_year)"
    )
