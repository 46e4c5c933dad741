"""Reading, decoding and recognising export files, and every refusal with its exact message."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from collabscope.errors import UserInputError
from collabscope.parse import decode
from collabscope.parse.decode import (
    SNIFF_BYTES,
    WOS_PLAIN,
    WOS_TAB,
    decode_export,
    read_export,
    sniff_export,
)
from tests.unit.wos_builders import plain_text, record, tab_text, write

NAME = "exports/savedrecs.txt"
PLAIN = plain_text([record(1), record(2)])
TAB = tab_text([record(1), record(2)])
ICONV_HINT = (
    " (is it Windows-1252/Latin-1? convert it with `iconv -f WINDOWS-1252 -t UTF-8` or export it "
    "again as UTF-8)"
)
NOT_RECOGNISED = (
    "is not a recognised export: first line {!r}; expected a Web of Science Plain text export "
    "('FN Clarivate Analytics Web of Science' or a record starting 'PT '), a Tab-delimited "
    "export (a header row with PT … UT), a Scopus CSV (a header with EID), a CSSCI export "
    "(records starting 【来源篇名】) or OpenAlex works (JSON, JSON Lines or CSV with id and "
    "publication_year)"
)


def refusal(data: bytes) -> UserInputError:
    with pytest.raises(UserInputError) as caught:
        decode_export(NAME, data)
    assert caught.value.file == NAME
    return caught.value


# --- encodings and line endings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (PLAIN.encode("ascii"), "ascii"),
        (PLAIN.replace("Zhang", "Zhäng").encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + PLAIN.encode("utf-8"), "utf-8-sig"),
        (b"\xff\xfe" + PLAIN.encode("utf-16-le"), "utf-16le-bom"),
        (b"\xfe\xff" + PLAIN.encode("utf-16-be"), "utf-16be-bom"),
        (PLAIN.encode("utf-16-le"), "utf-16le"),
        (PLAIN.encode("utf-16-be"), "utf-16be"),
    ],
)
def test_encodings_decode_to_the_same_lines(data: bytes, encoding: str) -> None:
    decoded = decode_export(NAME, data)
    assert decoded.encoding == encoding
    assert decoded.format == WOS_PLAIN
    expected = PLAIN.replace("Zhang", "Zhäng") if encoding == "utf-8" else PLAIN
    assert decoded.lines == expected.split("\n")
    assert decoded.lines[0] == "FN Clarivate Analytics Web of Science"  # no BOM left
    assert decoded.size == len(data)


@pytest.mark.parametrize(
    ("eol", "label"), [("\n", "LF"), ("\r\n", "CRLF"), ("\r", "CR")], ids=["LF", "CRLF", "CR"]
)
@pytest.mark.parametrize("text", [PLAIN, TAB], ids=["plain", "tab"])
def test_line_endings_are_detected_and_removed(text: str, eol: str, label: str) -> None:
    lf = text.replace("\r\n", "\n")
    decoded = decode_export(NAME, lf.replace("\n", eol).encode("utf-8"))
    assert decoded.line_endings == label
    assert decoded.lines == lf.split("\n")
    assert not any("\r" in line for line in decoded.lines)


def test_mixed_and_missing_line_endings() -> None:
    mixed = decode_export(NAME, b"PT J\r\nAU A\rUT WOS:1\nER\n")
    assert (mixed.line_endings, mixed.lines) == ("mixed", ["PT J", "AU A", "UT WOS:1", "ER", ""])
    none = decode_export(NAME, b"PT J")
    assert (none.line_endings, none.lines, none.format) == ("none", ["PT J"], WOS_PLAIN)


def test_utf16le_tab_export_with_bom_and_cr_rows() -> None:
    data = b"\xff\xfe" + TAB.replace("\r\n", "\r").replace("Smith", "Smíth").encode("utf-16-le")
    decoded = decode_export(NAME, data)
    assert (decoded.format, decoded.encoding, decoded.line_endings) == (
        WOS_TAB,
        "utf-16le-bom",
        "CR",
    )
    assert decoded.header.split("\t")[:3] == ["PT", "AU", "BA"]
    assert decoded.lines[1].startswith("J\tZhang, W1; Smíth, J; Li, XM\t")


def test_sha256_and_size_are_of_the_bytes() -> None:
    import hashlib

    data = b"\xef\xbb\xbf" + PLAIN.encode()
    decoded = decode_export(NAME, data)
    assert decoded.sha256 == hashlib.sha256(data).hexdigest()
    assert decoded.size == len(data)
    assert decoded.path == NAME


# --- recognising the format ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_lines", "header"),
    [
        (
            ["FN Clarivate Analytics Web of Science", "VR 1.0"],
            "FN Clarivate Analytics Web of Science",
        ),
        (["FN Thomson Reuters Web of Science™", "VR 1.0"], "FN Thomson Reuters Web of Science™"),
        (["FN Thomson Reuters Web of Knowledge", "VR 1.0"], "FN Thomson Reuters Web of Knowledge"),
        (["FN ISI Export Format", "VR 1.0"], "FN ISI Export Format"),
        (["FN ISI Export Format VR 1.0 "], "FN ISI Export Format VR 1.0"),
        ([], "PT J"),  # no header at all: the file starts with the first record
    ],
)
def test_plain_header_variants(first_lines: list[str], header: str) -> None:
    text = plain_text([record(1)], header=first_lines)
    decoded = decode_export(NAME, text.encode("utf-8"))
    assert (decoded.format, decoded.header) == (WOS_PLAIN, header)


def test_plain_without_header_recognised_by_its_er_lines() -> None:
    # A record whose first line is damaged is still a plain export when an ER line follows.
    decoded = decode_export(NAME, b"AU Zhang, W\nTI A title\nUT WOS:1\nER\n")
    assert (decoded.format, decoded.header) == (WOS_PLAIN, "AU Zhang, W")


def test_tab_header_variants() -> None:
    quoted = '"PT"\t"AU"\t"TI"\t"UT"\r\nJ\tA\tT\tWOS:1\r\n'
    assert decode_export(NAME, quoted.encode()).format == WOS_TAB
    leading_blank = "\r\n\r\nPT\tAU\tUT\t\r\n"
    decoded = decode_export(NAME, leading_blank.encode())
    assert (decoded.format, decoded.header) == (WOS_TAB, "PT\tAU\tUT")
    all_databases = "PT\tAU\tBA\tCA\tGP\tRI\tOI\tBE\tZ2\tTI\tX1\tY1\tZ1\tSO\tUT\tPM\t\r\n"
    assert decode_export(NAME, all_databases.encode()).format == WOS_TAB


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf \r\n\t\n", "the file is empty"),
        (b"\xff\xfe\r\x00\n\x00", "the file is empty"),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            "is a ZIP archive (or an .xlsx/.docx workbook); unzip it or export again as Plain "
            "text or Tab-delimited",
        ),
        (b"\x1f\x8b\x08\x00\x00\x00", "is a gzip archive; decompress it first"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "is a PDF document, not an export"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "is a PNG image, not an export"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "is a JPEG image, not an export"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00",
            "is an old Excel/Word (OLE) file; export again as Plain text or Tab-delimited",
        ),
        (
            b"PT J\nAU Zhang, W\n\x00\x01\x02\x03\x04\xff\x00",
            "is a binary file (it contains NUL bytes), not a text export",
        ),
    ],
    ids=["empty", "blank", "utf16-blank", "zip", "gzip", "pdf", "png", "jpeg", "ole", "nul"],
)
def test_refusals_without_a_line(data: bytes, problem: str) -> None:
    err = refusal(data)
    assert (err.problem, err.line) == (problem, None)
    assert str(err) == f"{NAME}: {problem}"


HTML_PROBLEM = "is an HTML/XML page, not an export (a failed or expired download saved as a file?)"


@pytest.mark.parametrize(
    ("data", "line", "problem"),
    [
        (
            b"\r\n\r\n<!DOCTYPE html>\r\n<html lang='en'><head><title>Error 500</title>",
            3,
            HTML_PROBLEM,
        ),
        (b"<html><body>Session expired</body></html>\n", 1, HTML_PROBLEM),
        (b'<?xml version="1.0"?>\n<records/>\n', 1, HTML_PROBLEM),
        (
            b"TY  - JOUR\nAU  - Zhang, Wei\nTI  - A title\nER  - \n",
            1,
            "looks like a RIS/EndNote/BibTeX file; export from Web of Science as Plain text",
        ),
        (
            b"%0 Journal Article\n%A Zhang, Wei\n",
            1,
            "looks like a RIS/EndNote/BibTeX file; export from Web of Science as Plain text",
        ),
        (
            b"@article{zhang2015,\n  title={A title}\n}\n",
            1,
            "looks like a RIS/EndNote/BibTeX file; export from Web of Science as Plain text",
        ),
        (
            b'[{"id": "W1", "title": "not from OpenAlex"}]\n',
            1,
            'looks like JSON but holds no OpenAlex works (no "id": '
            '"https://openalex.org/W…" in its first lines); only OpenAlex JSON is read',
        ),
        (
            b'"Publication Type","Authors","Article Title","UT (Unique WOS ID)"\n',
            1,
            "is a Web of Science export re-saved as CSV (e.g. by Excel); export it again from "
            "Web of Science as Plain text or Tab-delimited",
        ),
        (
            b"Publication Type,Authors,Book Authors,Article Title\n",
            1,
            "is a Web of Science export re-saved as CSV (e.g. by Excel); export it again from "
            "Web of Science as Plain text or Tab-delimited",
        ),
        (b"\n  \nhello world\n", 3, NOT_RECOGNISED.format("hello world")),
        (
            b"AU Zhang, W\nTI A title without any ER line\n",
            1,
            NOT_RECOGNISED.format("AU Zhang, W"),
        ),
        (
            b"X" * 100 + b"\n",
            1,
            NOT_RECOGNISED.format("X" * 80 + "…"),
        ),
        (
            # A tab-separated table without the WoS tags is not a WoS tab export.
            b"id\ttitle\tyear\n1\tA\t2020\n",
            1,
            NOT_RECOGNISED.format("id\ttitle\tyear"),
        ),
    ],
    ids=[
        "html-doctype",
        "html",
        "xml",
        "ris",
        "endnote",
        "bibtex",
        "json-not-openalex",
        "wos-csv-quoted",
        "wos-csv",
        "unknown",
        "tags-without-er",
        "long-first-line",
        "other-tsv",
    ],
)
def test_refusals_with_a_line(data: bytes, line: int, problem: str) -> None:
    err = refusal(data)
    assert (err.problem, err.line) == (problem, line)
    assert str(err) == f"{NAME}, line {line}: {problem}"


def test_cssci_export_with_its_banner_is_named() -> None:
    data = (
        "南京大学中国社会科学研究评价中心\n数字文献处理系统 版本：2.1\n"
        "版权所有 (C) 2000 - 2001 CSSCI Corp.\n\n\n【来源篇名】基于本体的突发事件研究\n"
        "【来源作者】徐蓓蓓/杨子江\n"
    ).encode()
    decoded = decode_export(NAME, data)
    assert (decoded.format, decoded.header) == ("cssci", "南京大学中国社会科学研究评价中心")


@pytest.mark.parametrize(
    ("data", "fmt", "encoding"),
    [
        (
            "\ufeffAuthors,Author full names,Author(s) ID,Title,Year,Source title,Volume,"
            "Issue,DOI,Link,Affiliations,Document Type,Source,EID\n".encode(),
            "scopus_csv",
            "utf-8-sig",
        ),
        (
            b'"Authors","Title","Year","Source title","EID"\n"Li X.","T","2020","J","2-s2.0-1"\n',
            "scopus_csv",
            "ascii",
        ),
        (
            "【来源篇名】基于本体的突发事件研究\n【来源作者】徐蓓蓓/杨子江\n".encode(),
            "cssci",
            "utf-8",
        ),
        (
            "南京大学中国社会科学研究评价中心\n\n【来源篇名】研究\n【来源作者】李强\n".encode(
                "gb18030"
            ),
            "cssci",
            "gb18030",
        ),
        (
            b'{\n  "results": [{"id": "https://openalex.org/W1"}]\n}\n',
            "openalex_json",
            "ascii",
        ),
        (b'[{"id": "https://openalex.org/W1", "title": "A"}]\n', "openalex_json", "ascii"),
        (
            b'{"id": "https://openalex.org/W1"}\n{"id": "https://openalex.org/W2"}\n',
            "openalex_jsonl",
            "ascii",
        ),
        (
            b"id,display_name,publication_year,doi\nhttps://openalex.org/W1,A,2020,\n",
            "openalex_csv",
            "ascii",
        ),
    ],
    ids=[
        "scopus-bom",
        "scopus-quoted",
        "cssci",
        "cssci-gb18030",
        "openalex-page",
        "openalex-list",
        "openalex-jsonl",
        "openalex-csv",
    ],
)
def test_other_sources_are_recognised(data: bytes, fmt: str, encoding: str) -> None:
    decoded = decode_export(NAME, data)
    assert (decoded.format, decoded.encoding) == (fmt, encoding)


def test_gbk_text_that_is_not_cssci_is_refused_as_not_utf8() -> None:
    err = refusal("题名\n作者\n".encode("gb18030"))
    assert "are not valid utf-8" in err.problem


def test_scopus_csv_mangled_by_a_spreadsheet_is_refused() -> None:
    err = refusal(
        b"\xef\xbb\xbfAuthors,Author(s) ID,Title,Year,Source,EID;;;;;;\n"
        b'"Yu, X.,""5948"";55584305000;",T"",2025,Scopus,2-s2.0-85216717704";;;;\n'
    )
    assert err.line == 1
    assert err.problem.startswith("is a Scopus CSV export re-saved by a spreadsheet")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"PT J\nUT WOS:1\nTI caf\xe9\nER\n",
            f"{NAME}, line 3: byte(s) e9 at offset 20 are not valid utf-8{ICONV_HINT}",
        ),
        (
            b"PT J\r\nTI \x93smart\x94 quotes\r\nER\r\n",
            f"{NAME}, line 2: byte(s) 93 at offset 9 are not valid utf-8{ICONV_HINT}",
        ),
        (
            # A file cut in the middle of a multi-byte character.
            b"PT J\nAU X\nTI \xe4\xb8",
            f"{NAME}, line 3: byte(s) e4 b8 at offset 13 are not valid utf-8{ICONV_HINT}",
        ),
    ],
    ids=["latin1", "cp1252-crlf", "cut-character"],
)
def test_undecodable_bytes_name_byte_offset_and_line(data: bytes, message: str) -> None:
    err = refusal(data)
    assert str(err) == message
    offset = int(message.split(" at offset ")[1].split()[0])
    assert data[offset] >= 0x80  # the offset points at the bad byte in the file


def test_undecodable_utf16_names_the_unpaired_surrogate() -> None:
    body = (
        "PT\tAU\tUT\r\nJ\tA\tWOS:1\r\n".encode("utf-16-le") + b"\x00\xdc" + "x".encode("utf-16-le")
    )
    err = refusal(b"\xff\xfe" + body)
    assert err.line == 3
    assert err.problem.startswith("byte(s) 00 dc at offset ")
    assert err.problem.endswith(" are not valid utf-16le-bom")


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"\xef\xbb\xbfPT J\nUT WOS:1\nTI caf\xe9\nER\n", 23),
        (b"\xff\xfe" + "PT\tUT\r\n".encode("utf-16-le") + b"\x00\xdc", 16),
    ],
    ids=["utf8-bom", "utf16-bom"],
)
def test_undecodable_offset_counts_the_bom(data: bytes, offset: int) -> None:
    err = refusal(data)
    assert f" at offset {offset} " in err.problem


def test_undecodable_line_in_cr_only_file() -> None:
    err = refusal(b"PT J\rUT WOS:1\rTI caf\xe9\rER\r")
    assert err.line == 3


def test_utf16le_without_bom_with_cjk_text() -> None:
    text = "PT\tAU\tTI\tUT\r\nJ\tZhang, W\t一种方法\tWOS:1\r\n"
    decoded = decode_export(NAME, text.encode("utf-16-le"))
    assert (decoded.format, decoded.encoding) == (WOS_TAB, "utf-16le")


# --- reading files ------------------------------------------------------------------------------


def test_read_export_refuses_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(UserInputError) as caught:
        read_export(missing)
    assert str(caught.value) == f"{missing}: file not found"
    with pytest.raises(UserInputError) as caught:
        read_export(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a directory, not an export file"


def test_read_export_reads_a_file(tmp_path: Path) -> None:
    path = write(tmp_path / "savedrecs.txt", TAB, "utf-16le-bom")
    decoded = read_export(path)
    assert (decoded.path, decoded.format, decoded.encoding) == (path, WOS_TAB, "utf-16le-bom")
    assert len([line for line in decoded.lines if line]) == 3


# --- sniffing the head of a file ----------------------------------------------------------------


def test_sniff_recognises_formats_and_refuses_like_decode(tmp_path: Path) -> None:
    assert sniff_export(write(tmp_path / "p.txt", PLAIN)) == WOS_PLAIN
    assert sniff_export(write(tmp_path / "t.txt", TAB, "utf-16le-bom")) == WOS_TAB
    html = write(tmp_path / "h.txt", "<!DOCTYPE html>\n<html></html>\n")
    with pytest.raises(UserInputError) as caught:
        sniff_export(html)
    assert str(caught.value) == f"{html}, line 1: {HTML_PROBLEM}"
    empty = write(tmp_path / "e.txt", "")
    with pytest.raises(UserInputError) as caught:
        sniff_export(empty)
    assert str(caught.value) == f"{empty}: the file is empty"
    with pytest.raises(UserInputError, match="cannot be read"):
        sniff_export(tmp_path / "missing.txt")


class _CountingFile:
    def __init__(self, handle, counter: list[int]) -> None:
        self._handle = handle
        self._counter = counter

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._counter.append(len(data))
        return data

    def __enter__(self) -> _CountingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def test_sniff_reads_only_the_start_of_a_large_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1 MB of records, then bytes that are not UTF-8: sniffing does not see them, parsing does.
    records = plain_text([record(i) for i in range(700)], trailer=False).encode()
    assert len(records) > 1_000_000
    path = tmp_path / "big.txt"
    path.write_bytes(records + b"TI caf\xe9\nER\nEF\n")
    counter: list[int] = []

    def counting_open(file, mode="r", *args, **kwargs):
        return _CountingFile(builtins.open(file, mode, *args, **kwargs), counter)

    monkeypatch.setattr(decode, "open", counting_open, raising=False)
    assert sniff_export(path) == WOS_PLAIN
    assert sum(counter) == SNIFF_BYTES
    monkeypatch.undo()
    with pytest.raises(UserInputError, match=r"byte\(s\) e9 at offset \d+ are not valid utf-8"):
        read_export(path)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16le-bom"])
def test_sniff_tolerates_a_character_split_by_the_cut(tmp_path: Path, encoding: str) -> None:
    # Non-ASCII characters everywhere; shifting the text by 0-3 bytes puts the cut at
    # SNIFF_BYTES inside a multi-byte character (or a UTF-16 code unit) at least once.
    for shift in range(4):
        header = ("FN Clarivate Analytics Web of Science", "VR 1.0" + " " * shift)
        text = plain_text([record(i, TI="Çé漢字 " * 40) for i in range(30)], header=header)
        path = write(tmp_path / f"s{shift}.txt", text, encoding)
        assert Path(path).stat().st_size > 3 * SNIFF_BYTES
        assert sniff_export(path) == WOS_PLAIN


def test_sniff_head_without_any_line_break(tmp_path: Path) -> None:
    path = tmp_path / "one-line.txt"
    path.write_bytes(b"PT J " + "é".encode() * SNIFF_BYTES)
    assert sniff_export(path) == WOS_PLAIN
