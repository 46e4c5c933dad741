"""RENDER: realised records as Web of Science export files (plain text or tab-delimited).

Plain text: an ``FN``/``VR`` header, one two-letter tag per field, continuation lines indented
by three spaces (line-item fields one item per line; text fields wrapped at about 70
characters, as WoS does), ``ER`` and a blank line after each record, ``EF`` at the end.
Tab-delimited: a header row of tags, one row per record, line items joined with ``'; '`` and
C1 addresses without their final full stop, in the column layouts of the current export
(71 columns, UT last) or of the older one (68 columns, every row ending in an empty column).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from collabscope.synth.realise import Record

PLAIN = "wos_plain"
TAB = "wos_tab"


def _tags(text: str) -> list[str]:
    return text.split()


HEADERS = {
    "clarivate": "FN Clarivate Analytics Web of Science",
    "thomson": "FN Thomson Reuters Web of Science™",
}
PLAIN_ORDER = _tags(
    "PT AU AF CA TI SO LA DT CT CY CL SP HO DE ID AB C1 C3 RP EM RI OI FU FX CR NR TC Z9 U1 U2 "
    "PU PI PA SN EI J9 JI PD PY VL IS PN SU SI BP EP AR DI EA PG WC WE SC GA UT PM OA HC HP DA"
)
TAB_LAYOUTS = {
    # Current Web of Science Core Collection export: 71 columns, UT last, no trailing tab.
    "modern71": _tags(
        "PT AU BA BE GP AF BF CA TI SO SE BS LA DT CT CY CL SP HO DE ID AB C1 C3 RP EM RI OI FU "
        "FP FX CR NR TC Z9 U1 U2 PU PI PA SN EI BN J9 JI PD PY VL IS PN SU SI MA BP EP AR DI DL "
        "D2 EA PG WC WE SC GA PM OA HC HP DA UT"
    ),
    # Older export: 68 columns, UT before PM, every data row ends with an extra empty column.
    "classic68": _tags(
        "PT AU BA BE GP AF BF CA TI SO SE BS LA DT CT CY CL SP HO DE ID AB C1 RP EM RI OI FU FX "
        "CR NR TC Z9 U1 U2 PU PI PA SN EI BN J9 JI PD PY VL IS PN SU SI MA BP EP AR DI D2 EA EY "
        "PG WC SC GA UT PM OA HC HP DA"
    ),
}
_ITEMS = frozenset({"AU", "AF", "CA", "C1", "CR"})
_WRAP = frozenset(
    {"TI", "SO", "DE", "ID", "C3", "EM", "RI", "OI", "FU", "FX", "WC", "SC", "PA", "CT"}
)
_WIDTH = 67


def wrap(text: str, width: int = _WIDTH) -> list[str]:
    """Split at spaces into lines of at most ``width`` characters (longer words kept whole)."""
    if len(text) <= width:
        return [text]
    lines = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width + 1)
        if cut <= 0:
            cut = text.find(" ", width)
            if cut < 0:
                break
        lines.append(text[:cut])
        text = text[cut + 1 :]
    lines.append(text)
    return lines


def plain_record(record: Record, da: str | None, *, drop: Iterable[str] = ()) -> str:
    """One record as plain text, from its first tag to ``ER`` (lines joined by LF).

    ``da=None``: an old export, which has neither DA nor the ESI flags HC/HP.
    """
    fields = record.fields
    skip = set(drop)
    if da is None:
        skip |= {"HC", "HP", "DA"}
    parts = []
    for tag in PLAIN_ORDER:
        value = da if tag == "DA" else fields.get(tag)
        if not value or tag in skip:
            continue
        if isinstance(value, list):
            parts.append(f"{tag} " + "\n   ".join(value))
        elif tag in _WRAP and len(value) > _WIDTH:
            parts.append(f"{tag} " + "\n   ".join(wrap(value)))
        else:
            parts.append(f"{tag} {value}")
    parts.append("ER")
    return "\n".join(parts)


def tab_row(record: Record, layout: str, da: str | None, *, drop: Iterable[str] = ()) -> str:
    fields = record.fields
    skip = set(drop)
    values = []
    for tag in TAB_LAYOUTS[layout]:
        if tag in skip:
            values.append("")
            continue
        if tag == "DA":
            values.append(da or "")
            continue
        if tag == "DL":
            doi = fields.get("DI")
            values.append(f"http://dx.doi.org/{doi}" if doi else "")
            continue
        value = fields.get(tag)
        if not value:
            values.append("")
        elif tag == "C1":
            values.append("; ".join(item.removesuffix(".") for item in value))
        elif isinstance(value, list):
            values.append("; ".join(value))
        else:
            values.append(value)
    row = "\t".join(values)
    return row + "\t" if layout == "classic68" else row


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if encoding == "utf-16le-bom":
        return b"\xff\xfe" + text.encode("utf-16-le")
    return text.encode("utf-8")


def export_text(
    records: Iterable[tuple[Record, bool]],
    fmt: str,
    *,
    header: str = "clarivate",
    layout: str = "modern71",
    da: str | None = "2021-03-15",
    eol: str = "\n",
) -> str:
    """One export file's text. ``records`` yields (record, broken): a broken record is written
    without its UT (it cannot be identified, so a reader must quarantine it)."""
    if fmt == PLAIN:
        blocks = [f"{HEADERS[header]}\nVR 1.0"]
        blocks.extend(
            plain_record(record, da, drop=("UT",) if broken else ()) + "\n"
            for record, broken in records
        )
        blocks.append("EF")
        text = "\n".join(blocks)
    else:
        rows = ["\t".join(TAB_LAYOUTS[layout])]
        rows.extend(
            tab_row(record, layout, da, drop=("UT",) if broken else ())
            for record, broken in records
        )
        text = "\n".join(rows) + "\n"
    return text.replace("\n", eol) if eol != "\n" else text


def write_export(path: Path, text: str, encoding: str) -> int:
    """Write atomically enough for a generator (whole file at once); return the byte size."""
    data = encode(text, encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)
