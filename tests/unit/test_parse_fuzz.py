"""Property tests: damaged exports never crash the parser and every record is accounted for.

From a few valid generated records, the text is damaged (truncated at a byte, lines shuffled,
deleted, duplicated, garbage inserted) and encoded in the encodings Web of Science uses. The
parser may refuse a whole file with a UserInputError; anything else must parse with
records_seen = parsed + duplicates + quarantined and unique record ids.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collabscope import schemas
from collabscope.errors import UserInputError
from collabscope.parse.shard import ShardTables, parse_files
from collabscope.parse.wos_items import _clean_tab_items, items_from_raw_records
from collabscope.parse.wos_tokens import iter_tab_records
from tests.unit.wos_builders import check_accounting, plain_text, record, tab_text

# FUZZ_EXAMPLES=2000 python -m pytest tests/unit/test_parse_fuzz.py searches longer.
SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16le-bom", "utf-16-be-bom"]
EOLS = ["\n", "\r\n", "\r"]
PROVENANCE = {"source_format", "source_file", "source_line"}


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16le-bom":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if encoding == "utf-16-be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(encoding)


@st.composite
def wos_records(draw: st.DrawFn) -> list[dict]:
    ids = draw(st.lists(st.integers(0, 40), min_size=1, max_size=6))
    out = []
    for i in ids:
        variant = draw(st.integers(0, 4))
        if variant == 0:
            out.append(record(i))
        elif variant == 1:  # non-ASCII names, an ESI flag, early access
            out.append(
                record(
                    i,
                    AU=["Müller, K", "Øster, Å", "Zhāng, W"],
                    AF=["Müller, Karl", "Øster, Åsa", "Zhāng, Wěi"],
                    C1=["[Müller, Karl; Zhāng, Wěi] Tech Univ München, D-80333 München, Germany."],
                    RP="Zhāng, W (通讯作者)，Tech Univ München, D-80333 München, Germany.",
                    HC="Y",
                    PY="",
                    EA="JAN 2021",
                )
            )
        elif variant == 2:  # an old record
            out.append(
                record(
                    i,
                    AU=["SMITH, J"],
                    AF="",
                    C1=["UNIV LONDON,INST EDUC,LONDON WC1H 0AL,ENGLAND."],
                    RP="SMITH, J (reprint author), UNIV LONDON,LONDON WC1H 0AL,ENGLAND.",
                    OI="",
                    RI="",
                )
            )
        elif variant == 3:  # no addresses at all, ISI: id
            out.append(record(i, C1="", RP="", UT=f"ISI:{i:015d}"))
        else:  # an unknown tag, no references
            out.append(record(i, CR="", NR="0", XY="an unknown field"))
    return out


GARBAGE_LINES = st.one_of(
    st.sampled_from(
        [
            "",
            "ER",
            "PT J",
            "EF",
            "FN Clarivate Analytics Web of Science",
            "VR 1.0",
            "UT WOS:000000000000099",
            "UT ",
            "AU",
            "C1 [Nobody, X] Nowhere",
            "RP (corresponding author)",
            "   a stray continuation",
            "#---reached at this spot---",
            "nullnullPT J",
            "TC ²",
            "PY ٢٠٢٠",
            "\t\t\t",
            '"',
            "[",
            "J\tZhang, W\tWOS:1",
        ]
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"),
        max_size=40,
    ),
)


def parse_bytes(directory: Path, data: bytes, name: str = "savedrecs.txt") -> ShardTables:
    path = directory / name
    path.write_bytes(data)
    return parse_files({str(path): ["fuzz"]})


def check(directory: Path, data: bytes) -> ShardTables | None:
    """Parse; a refusal must be a UserInputError naming the file. Check the invariants."""
    try:
        tables = parse_bytes(directory, data)
    except UserInputError as err:
        assert err.file == str(directory / "savedrecs.txt")
        assert err.problem
        return None
    check_accounting(tables)
    for table in schemas.SHARD_TABLES:
        assert tables[table.name].schema == table.schema, table.name
    authorships = tables["authorships"]
    if authorships.height:
        positions = authorships.group_by("record_id").agg(
            ok=(pl.col("position").sort() == pl.int_range(1, pl.len() + 1)).all()
        )
        assert positions["ok"].all()
    for name, key in (
        ("addresses", ["record_id", "address_pos"]),
        ("author_address", ["record_id", "position", "address_pos"]),
        ("references", ["record_id", "ref_pos"]),
        ("funding", ["record_id", "funder_pos"]),
    ):
        assert not tables[name].select(key).is_duplicated().any(), name
    links = tables["author_address"].join(
        tables["addresses"], on=["record_id", "address_pos"], how="anti"
    )
    assert links.height == 0  # every link points at an address of the record
    return tables


def canonical(tables: ShardTables) -> dict[str, list]:
    out = {}
    for table in schemas.SHARD_TABLES:
        if table in (schemas.QUARANTINE, schemas.ACCOUNTING):
            continue
        frame = tables[table.name]
        frame = frame.drop([c for c in frame.columns if c in PROVENANCE])
        out[table.name] = frame.sort(list(table.key)).to_dicts()
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@SETTINGS
@given(
    records=wos_records(),
    fmt=st.sampled_from(["plain", "tab"]),
    encoding=st.sampled_from(ENCODINGS),
    eol=st.sampled_from(EOLS),
    seed=st.integers(0, 2**32 - 1),
    deletions=st.integers(0, 4),
    duplications=st.integers(0, 4),
    garbage=st.lists(GARBAGE_LINES, max_size=5),
    shuffle=st.sampled_from(["none", "window", "all"]),
)
def test_damaged_lines_never_crash_and_accounting_adds_up(
    workdir: Path,
    records: list[dict],
    fmt: str,
    encoding: str,
    eol: str,
    seed: int,
    deletions: int,
    duplications: int,
    garbage: list[str],
    shuffle: str,
) -> None:
    rng = random.Random(seed)
    text = plain_text(records) if fmt == "plain" else tab_text(records, eol="\n")
    lines = text.split("\n")
    for _ in range(deletions):
        if len(lines) > 1:
            del lines[rng.randrange(len(lines))]
    for _ in range(duplications):
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    for line in garbage:
        lines.insert(rng.randrange(len(lines) + 1), line)
    if shuffle == "window" and len(lines) > 4:
        start = rng.randrange(len(lines) - 3)
        window = lines[start : start + 8]
        rng.shuffle(window)
        lines[start : start + 8] = window
    elif shuffle == "all":
        rng.shuffle(lines)
    check(workdir, encode(eol.join(lines), encoding))


@SETTINGS
@given(
    records=wos_records(),
    fmt=st.sampled_from(["plain", "tab"]),
    encoding=st.sampled_from(ENCODINGS),
    eol=st.sampled_from(EOLS),
    cut=st.floats(0, 1),
)
def test_truncation_at_any_byte(
    workdir: Path, records: list[dict], fmt: str, encoding: str, eol: str, cut: float
) -> None:
    text = plain_text(records, eol=eol) if fmt == "plain" else tab_text(records, eol=eol)
    data = encode(text, encoding)
    check(workdir, data[: int(len(data) * cut)])


@SETTINGS
@given(records=wos_records(), cut=st.floats(0, 1))
def test_truncated_plain_text_keeps_every_complete_record(
    workdir: Path, records: list[dict], cut: float
) -> None:
    # Exact oracle for plain text in UTF-8: a record is parsed iff its ER line survived the cut
    # (and it is the first occurrence of its id); a record begun but not ended is quarantined.
    text = plain_text(records)
    data = text.encode("utf-8")
    head = data[: int(len(data) * cut)]
    header = b"FN Clarivate Analytics Web of Science\n"
    try:
        kept = head.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(UserInputError, match="not valid utf-8"):
            parse_bytes(workdir, head)
        return
    if not head.startswith(header):
        # Too short to be recognised (or empty): either refused or no record at all.
        tables = check(workdir, head)
        assert tables is None or tables["records"].height == 0
        return
    tables = check(workdir, head)
    assert tables is not None
    lines = kept.split("\n")
    begun = sum(1 for line in lines if line in ("PT", "PT ", "PT J"))
    ended_ids, current = [], None
    for line in lines:
        if line.startswith("UT "):
            current = line[3:].replace("ISI:", "WOS:")
        elif line == "ER":
            ended_ids.append(current)
    acc = tables["accounting"].row(0, named=True)
    assert acc["records_seen"] == begun
    assert acc["quarantined"] == begun - len(ended_ids)
    assert acc["parsed"] == len(set(ended_ids))
    assert acc["duplicates"] == len(ended_ids) - len(set(ended_ids))
    assert sorted(tables["records"]["record_id"]) == sorted(set(ended_ids))


@SETTINGS
@given(
    records=wos_records(),
    fmt=st.sampled_from(["plain", "tab"]),
    encoding=st.sampled_from(ENCODINGS),
    eol=st.sampled_from(EOLS),
)
def test_encoding_and_line_endings_do_not_change_the_tables(
    workdir: Path, records: list[dict], fmt: str, encoding: str, eol: str
) -> None:
    text = plain_text(records) if fmt == "plain" else tab_text(records, eol="\n")
    reference = check(workdir, text.encode("utf-8"))
    other = check(workdir, encode(text.replace("\n", eol), encoding))
    assert reference is not None and other is not None
    assert canonical(reference) == canonical(other)
    a = reference["accounting"].row(0, named=True)
    b = other["accounting"].row(0, named=True)
    for column in ("format", "header", "records_seen", "parsed", "duplicates", "quarantined"):
        assert a[column] == b[column], column
    expected = {
        "utf-8": "ascii" if text.isascii() else "utf-8",
        "utf-16-be-bom": "utf-16be-bom",
    }.get(encoding, encoding)
    assert b["encoding"] == expected


@SETTINGS
@given(records=wos_records(), fmt=st.sampled_from(["plain", "tab"]), seed=st.integers(0, 999))
def test_record_order_only_changes_which_duplicate_is_first(
    workdir: Path, records: list[dict], fmt: str, seed: int
) -> None:
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    build = plain_text if fmt == "plain" else tab_text
    a = check(workdir, build(records).encode())
    b = check(workdir, build(shuffled).encode())
    assert a is not None and b is not None
    ids = {r["UT"].replace("ISI:", "WOS:") for r in records}
    assert set(a["records"]["record_id"]) == set(b["records"]["record_id"]) == ids
    if len(ids) == len(records):  # no duplicates: identical tables
        assert canonical(a) == canonical(b)
    for tables in (a, b):
        acc = tables["accounting"].row(0, named=True)
        assert (acc["parsed"], acc["duplicates"], acc["quarantined"]) == (
            len(ids),
            len(records) - len(ids),
            0,
        )


FIELD_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=0, max_size=30
)


@st.composite
def records_with_odd_values(draw: st.DrawFn) -> list[dict]:
    """Records whose text fields hold arbitrary (control-free) text, wrapped arbitrarily."""
    out = []
    for i in draw(st.lists(st.integers(0, 20), min_size=1, max_size=4)):
        fields = {
            tag: draw(st.lists(FIELD_TEXT, min_size=1, max_size=3))
            for tag in draw(st.lists(st.sampled_from(["TI", "AB", "DE", "ZZ", "FX"]), max_size=3))
        }
        # Plain text keeps list values as separate lines: continuation lines of the field.
        rec = record(i, **fields)
        if draw(st.booleans()):
            rec["AU"] = [*rec["AU"], draw(FIELD_TEXT.filter(lambda s: s.strip() != ""))]
        out.append(rec)
    return out


@SETTINGS
@given(records=records_with_odd_values())
def test_a_stray_line_does_not_change_how_records_are_read(
    workdir: Path, records: list[dict]
) -> None:
    # A clean file and the same file with a stray line after EF are read by different
    # tokenisers (vectorised and line by line); the records must come out the same.
    text = plain_text(records)
    clean = check(workdir, text.encode("utf-8"))
    stray = check(workdir, (text + "#---a stray comment---\n").encode("utf-8"))
    assert clean is not None and stray is not None
    assert canonical(clean) == canonical(stray)
    a = clean["accounting"].row(0, named=True)
    b = stray["accounting"].row(0, named=True)
    assert (a["stray_text"], b["stray_text"]) == (0, 1)
    for column in ("records_seen", "parsed", "duplicates", "quarantined"):
        assert a[column] == b[column], column


@pytest.mark.parametrize(
    "rec",
    [record(1, TI="A title\x1f"), record(1, AU=["Zhang, W1", "\x1c", "Smith, J"])],
    ids=["value-ending-in-US", "line-of-FS"],
)
def test_control_characters_read_the_same_by_both_tokenisers(workdir: Path, rec: dict) -> None:
    text = plain_text([rec])
    clean = check(workdir, text.encode("utf-8"))
    stray = check(workdir, (text + "#---a stray comment---\n").encode("utf-8"))
    assert clean is not None and stray is not None
    assert canonical(clean) == canonical(stray)


@SETTINGS
@given(records=records_with_odd_values())
def test_both_tab_readers_agree(records: list[dict]) -> None:
    # Well-formed tab files are read vectorised, others row by row; on a file both can read
    # they must give the same items.
    lines = tab_text(records, eol="\n").split("\n")
    fast = _clean_tab_items(lines, 0)
    slow = items_from_raw_records(iter_tab_records(lines), 0)
    if fast is None:
        return
    assert fast.meta.to_dicts() == slow.meta.to_dicts()
    assert fast.items.to_dicts() == slow.items.to_dicts()
