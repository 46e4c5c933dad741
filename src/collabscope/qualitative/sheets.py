"""Readers of the participants sheet and of coded-segment sheets (CSV or XLSX).

A sheet is read as text, its header matched to our columns by a few accepted spellings
("participant code", "Participant", "code" …), and every other column dropped on reading: a
participants sheet often carries names and e-mail addresses, and they must never reach an
output. Each row keeps its sheet line (header = line 1) so that an error names it.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from collabscope.errors import UserInputError

# Our column -> accepted header spellings (compared lower-cased, runs of space/_/- as one space).
PARTICIPANT_COLUMNS: dict[str, tuple[str, ...]] = {
    "participant": ("code", "participant", "participant code", "participant id", "case"),
    "stratum": ("stratum",),
    "role": ("role", "position"),
    "country": ("country",),
    "mode": ("mode", "interview mode", "channel"),
    "invited": ("invited", "date invited", "invited on", "invitation date"),
    "answered": ("answered", "date answered", "answered on", "response date", "responded"),
}
PARTICIPANT_REQUIRED = ("participant", "role", "country")
SEGMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "participant": ("participant", "participant code", "participant id", "case"),
    "question": ("question", "item"),
    "code": ("code", "code name"),
    "parent": ("parent", "parent code", "theme", "parent code or theme", "category"),
    "excerpt": ("excerpt", "segment", "quote", "text", "coded text"),
}
SEGMENT_REQUIRED = ("participant", "code", "excerpt")
MODES = ("face-to-face", "e-mail", "wechat", "online form", "telephone", "video call")
_MODE_SPELLINGS = {
    "face to face": "face-to-face",
    "f2f": "face-to-face",
    "in person": "face-to-face",
    "email": "e-mail",
    "online": "online form",
    "survey": "online form",
    "phone": "telephone",
    "video": "video call",
    "zoom": "video call",
    "teams": "video call",
}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _norm_header(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def read_sheet(path: str | Path) -> pl.DataFrame:
    """Every cell of the first sheet (XLSX) or of the CSV as text, header stripped, plus
    ``_line`` (the sheet line of the row; the header is line 1)."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(str(path), "no such file")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
            frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", comment_prefix="#")
    except Exception as error:  # any reader failure is the file's problem
        raise UserInputError(str(path), f"not a readable CSV/XLSX sheet ({error})") from None
    frame = frame.rename({c: c.strip() for c in frame.columns})
    frame = frame.with_columns(pl.all().cast(pl.String).str.strip_chars())
    return frame.with_row_index("_line", offset=2).with_columns(pl.col("_line").cast(pl.Int64))


def pick_columns(
    frame: pl.DataFrame,
    wanted: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    path: str | Path,
) -> pl.DataFrame:
    """Our columns (missing optional ones as nulls), ``_line``, nothing else."""
    found: dict[str, str] = {}
    for column in frame.columns:
        for ours, spellings in wanted.items():
            if _norm_header(column) in spellings and ours not in found:
                found[ours] = column
    missing = [c for c in required if c not in found]
    if missing:
        raise UserInputError(
            str(path),
            f"missing column(s) {', '.join(missing)} (header: {', '.join(frame.columns[1:])})",
            line=1,
        )
    return frame.select(
        pl.col("_line"),
        *[(pl.col(found[c]) if c in found else pl.lit(None, pl.String)).alias(c) for c in wanted],
    ).with_columns(pl.col(c).replace("", None) for c in wanted)


def _first_bad(frame: pl.DataFrame, bad: pl.Expr) -> dict | None:
    rows = frame.filter(bad).head(1).to_dicts()
    return rows[0] if rows else None


def _rows(
    path: str | Path, wanted: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> pl.DataFrame:
    """The sheet's non-empty rows, our columns; an empty required cell is an error."""
    frame = pick_columns(read_sheet(path), wanted, required, path)
    frame = frame.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in wanted))
    for column in required:
        row = _first_bad(frame, pl.col(column).is_null())
        if row is not None:
            raise UserInputError(str(path), f"{column} is empty", line=row["_line"])
    return frame


def _dates(frame: pl.DataFrame, column: str, path: str | Path) -> pl.Expr:
    parsed = pl.coalesce(
        pl.col(column).str.to_date("%Y-%m-%d", strict=False),
        pl.col(column).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        pl.col(column).str.to_date("%d/%m/%Y", strict=False),
    )
    row = _first_bad(frame, pl.col(column).is_not_null() & parsed.is_null())
    if row is not None:
        raise UserInputError(
            str(path),
            f"{column} {row[column]!r} is not a date (write YYYY-MM-DD)",
            line=row["_line"],
        )
    return parsed.alias(column)


def read_participants(path: str | Path) -> pl.DataFrame:
    """The participants sheet: participant, stratum, role, country, mode, invited, answered
    (dates), line. Names, e-mails and any other column are dropped here."""
    frame = _rows(path, PARTICIPANT_COLUMNS, PARTICIPANT_REQUIRED)
    row = _first_bad(frame, ~pl.col("participant").str.contains(_CODE.pattern))
    if row is not None:
        raise UserInputError(
            str(path),
            f"participant code {row['participant']!r} is not a code (letters, digits, - _ .): "
            "codes, never names, identify participants",
            line=row["_line"],
        )
    dup = _first_bad(frame, pl.col("participant").is_duplicated())
    if dup is not None:
        first = frame.filter(pl.col("participant") == dup["participant"])["_line"].to_list()
        raise UserInputError(
            str(path),
            f"participant {dup['participant']} is listed twice (lines {first[0]} and {first[1]})",
            line=first[1],
        )
    mode = pl.col("mode").str.to_lowercase().str.replace_all(r"[\s_]+", " ")
    mode = mode.replace(_MODE_SPELLINGS)
    row = _first_bad(
        frame.with_columns(mode), pl.col("mode").is_not_null() & ~pl.col("mode").is_in(MODES)
    )
    if row is not None:
        raise UserInputError(
            str(path),
            f"mode {row['mode']!r} is not one of {', '.join(MODES)}",
            line=row["_line"],
        )
    frame = frame.with_columns(mode)
    frame = frame.with_columns(_dates(frame, "invited", path), _dates(frame, "answered", path))
    row = _first_bad(frame, pl.col("answered") < pl.col("invited"))
    if row is not None:
        raise UserInputError(
            str(path),
            f"participant {row['participant']} answered ({row['answered']}) before being "
            f"invited ({row['invited']})",
            line=row["_line"],
        )
    return frame.rename({"_line": "line"}).with_columns(
        pl.col("country").str.to_uppercase(), pl.lit(str(path)).alias("file")
    )


def read_segment_sheet(path: str | Path) -> pl.DataFrame:
    """Coded segments from a CSV/XLSX: participant, question, code, parent, excerpt, plus
    file, location ("line N") and segment_id."""
    frame = _rows(path, SEGMENT_COLUMNS, SEGMENT_REQUIRED)
    name = Path(path).name
    return frame.select(
        pl.format("{}:{}", pl.lit(name), pl.col("_line").cast(pl.String).str.zfill(6)).alias(
            "segment_id"
        ),
        pl.lit(str(path)).alias("file"),
        pl.format("line {}", pl.col("_line")).alias("location"),
        pl.col("_line").alias("line"),
        "participant",
        "question",
        "code",
        "parent",
        "excerpt",
    )
