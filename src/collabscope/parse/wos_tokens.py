"""Split Web of Science exports (plain text and tab-delimited) into raw records.

A raw record maps each tag to a list of strings. For the line-item fields (authors, addresses,
cited references) each string is one item; for every other field the strings are the pieces of
one text, joined with a space by the record builder. Both formats give the same shape, so one
builder serves both.

A record that cannot be trusted is still yielded, with ``problem`` set, so that it is quarantined
and counted rather than lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from collabscope.parse.text import ENTITY, ENTITY_END, WHITESPACE

# Fields whose lines (plain) or '; '-separated parts (tab) are separate items.
LINE_ITEM_TAGS = frozenset({"AU", "AF", "BA", "BF", "BE", "CA", "GP", "C1", "CR", "ED"})

_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER_DIGIT = _UPPER | frozenset("0123456789")
_HEADER_TAGS = frozenset({"FN", "VR"})
_EXCERPT = 200


@dataclass
class RawRecord:
    line: int
    fields: dict[str, list[str]] = field(default_factory=dict)
    problem: str | None = None
    excerpt: str = ""
    # Stray text between records (a pasted comment, a corrupted line) is no record: it is
    # reported in quarantine but not counted among the records seen.
    is_record: bool = True


def _stray(number: int, line: str) -> RawRecord:
    return RawRecord(
        number,
        problem=f"line {number}: text outside any record",
        excerpt=line[:_EXCERPT],
        is_record=False,
    )


def _is_tag_line(line: str) -> bool:
    return (
        len(line) >= 2
        and line[0] in _UPPER
        and line[1] in _UPPER_DIGIT
        and (len(line) == 2 or line[2] in " \t")
    )


def iter_plain_records(lines: list[str]) -> Iterator[RawRecord]:
    """Records of a WoS plain-text export; ``lines`` without line endings, 1-based numbering.

    Consecutive stray lines between two records are reported once, as one block.
    """
    block: RawRecord | None = None
    block_end = 0
    for item in _iter_plain_items(lines):
        if not item.is_record and item.problem and item.problem.endswith("outside any record"):
            if block is None:
                block = item
            else:
                block.excerpt = (block.excerpt + "\n" + item.excerpt)[:_EXCERPT]
            block_end = item.line
            continue
        if block is not None:
            if block_end > block.line:
                block.problem = f"lines {block.line}-{block_end}: text outside any record"
            yield block
            block = None
        yield item
    if block is not None:
        if block_end > block.line:
            block.problem = f"lines {block.line}-{block_end}: text outside any record"
        yield block


def _iter_plain_items(lines: list[str]) -> Iterator[RawRecord]:
    record: RawRecord | None = None
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    seen_record = False
    for number, line in enumerate(lines, start=1):
        if not line.strip(WHITESPACE):
            continue
        if line[0] in " \t":
            if current is not None:
                current.append(line.strip(WHITESPACE))
            elif record is not None:
                record.problem = (
                    record.problem or f"line {number}: continuation line before any tag"
                )
            else:
                yield _stray(number, line)
            continue
        if not _is_tag_line(line):
            if record is None and not seen_record and _looks_like_header(line):
                continue  # a mangled file header before the first record, not a record
            if record is None:
                yield _stray(number, line)
            else:
                record.problem = record.problem or (
                    f"line {number}: malformed line (not a tag, not a continuation): {line[:60]!r}"
                )
            current = None
            continue
        tag = line[:2]
        value = line[3:].strip(WHITESPACE)
        if record is None:
            if tag in _HEADER_TAGS or tag == "EF":
                current = None
                continue
            if tag == "ER":
                yield RawRecord(
                    number,
                    problem=f"line {number}: ER without a record",
                    excerpt=line,
                    is_record=False,
                )
                continue
            if not seen_record and _looks_like_header(line):
                continue
            record = RawRecord(number, excerpt=line[:_EXCERPT])
            fields = record.fields
            seen_record = True
            if tag != "PT":
                record.problem = f"line {number}: record does not begin with PT"
        elif tag == "ER":
            yield record
            record, current = None, None
            continue
        elif tag == "PT" or tag in _HEADER_TAGS or tag == "EF":
            record.problem = record.problem or (
                f"no ER before line {number} ({tag}): record truncated"
            )
            yield record
            record, current = None, None
            if tag != "PT":
                continue
            record = RawRecord(number, excerpt=line[:_EXCERPT])
            fields = record.fields
        current = fields.get(tag)
        if current is None:
            current = fields[tag] = []
        if value:
            current.append(value)
    if record is not None:
        record.problem = record.problem or "the file ends inside this record (no ER): truncated?"
        yield record


def _looks_like_header(line: str) -> bool:
    return "Web of" in line or "ISI Export" in line


_C1_SPLIT = re.compile(r";\s*(?![^\[]*\])")


_ENTITY = re.compile(ENTITY)


def split_tab_items(tag: str, value: str) -> list[str]:
    """Items of a line-item field in tab-delimited form ('; '-separated, brackets kept whole;
    the ';' ending an HTML entity such as '&amp;' is not a separator)."""
    value = _ENTITY.sub(lambda m: f"&{m.group(1)}{ENTITY_END}", value)
    parts = _C1_SPLIT.split(value) if tag == "C1" and "[" in value else value.split(";")
    return [p.replace(ENTITY_END, ";").strip() for p in parts if p.strip()]


def _unquote(value: str) -> str:
    # Excel re-saves quote fields with tabs, quotes or commas. Only a field whose inner quotes
    # are all doubled is a quoted field; '"Smart" and "dumb"' is a title, not quoting.
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        inner = value[1:-1]
        if '"' not in inner.replace('""', ""):
            return inner.replace('""', '"')
    return value


def tab_header(lines: list[str]) -> tuple[int, list[str]]:
    """Index of the header line of a tab-delimited export and its column names."""
    start = next(i for i, line in enumerate(lines) if line.strip("\ufeff \t"))
    return start, [_unquote(c.strip("\ufeff ").strip()) for c in lines[start].split("\t")]


def iter_tab_records(lines: list[str]) -> Iterator[RawRecord]:
    """Records of a WoS tab-delimited export, the first non-empty line being the header."""
    start, header = tab_header(lines)
    named = len(header)
    while named and not header[named - 1]:
        named -= 1  # a trailing tab leaves an empty column name
    first_of: dict[str, int] = {}
    for index, name in enumerate(header[:named]):
        first_of.setdefault(name, index)
    # Every export ends with a line break: a last row without one was cut off.
    last = len(lines) - 1 if lines and lines[-1].strip() else -1
    index = start + 1
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        if not line.strip():
            continue
        values = line.split("\t")
        # A quoted field (Excel re-save) may hold line breaks: read on until the row is whole.
        while len(values) < named and line.count('"') % 2 and index < len(lines):
            line += "\n" + lines[index]
            index += 1
            values = line.split("\t")
        record = RawRecord(number, excerpt=line[:_EXCERPT])
        extra = [v for v in values[named:] if v.strip()]
        if index - 1 == last:
            record.problem = (
                f"line {number}: the file ends inside this row (no line break after it): "
                "a truncated download?"
            )
            yield record
            continue
        if len(values) < named or extra:
            record.problem = (
                f"line {number}: row has {len(values)} fields where the header has {named} "
                "(a line break or tab inside a field?)"
            )
            yield record
            continue
        fields = record.fields
        for column, name in enumerate(header[:named]):
            value = values[column]
            if not value or not name:
                continue
            value = _unquote(value.strip())
            if not value:
                continue
            if first_of[name] != column and name in fields:
                # A repeated column (AU twice in some all-databases exports) keeps its first
                # value; a differing later value is kept as an extra field, not dropped.
                if value != _joined(fields[name], name):
                    fields[f"{name}#{column + 1}"] = [value]
                continue
            if name in LINE_ITEM_TAGS:
                fields[name] = split_tab_items(name, value)
            else:
                fields[name] = [value]
        yield record


def _joined(parts: list[str], tag: str) -> str:
    return "; ".join(parts) if tag in LINE_ITEM_TAGS else " ".join(parts)
