"""The parse job's token cache: tables parsed from cached tokens are the tables parsed from the
files, byte for byte, in every format; a changed, new or removed file, changed code and an
entry a killed job left unfinished are each handled."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from collabscope import schemas
from collabscope.errors import UserInputError
from collabscope.parse import shard as parse_shard_module
from collabscope.parse.shard import TokenCache, parse_shard
from tests.unit.test_cssci import BANNER, RECORD_1, RECORD_2
from tests.unit.test_openalex import WORK
from tests.unit.test_scopus import ROW_1, ROW_2, scopus_csv
from tests.unit.wos_builders import plain_text, record, tab_text, write


def _exports(directory: Path) -> dict[str, list[str]]:
    """One shard of every format, with records in two files (the first one keeps them) and a
    stray line that sends a plain-text file through the line-by-line tokeniser."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        write(directory / "a_plain.txt", plain_text([record(i) for i in range(5)])): ["world"],
        write(
            directory / "b_plain_stray.txt",
            plain_text([record(i) for i in range(4, 8)]).replace("VR 1.0\n", "VR 1.0\nstray\n"),
        ): ["world", "uk"],
        write(
            directory / "c_tab.txt",
            tab_text([record(i) for i in range(7, 11)]),
            "utf-16le-bom",
        ): ["uk"],
        write(
            directory / "d_cssci.txt",
            (BANNER + RECORD_1 + RECORD_2).replace("\n", "\r\n"),
            "gb18030",
        ): ["china"],
        write(
            directory / "e_openalex.json",
            json.dumps({"meta": {"count": 1}, "results": [WORK]}, indent=1),
        ): ["world"],
        write(directory / "f_openalex.jsonl", json.dumps(WORK) + "\n{broken\n"): ["world"],
    }
    scopus = directory / "g_scopus.csv"
    scopus.write_bytes(scopus_csv([ROW_1, ROW_2]))
    files[str(scopus)] = ["uk"]
    return files


def _parse(
    files: dict[str, list[str]], out: Path, cache: Path | None, caplog: pytest.LogCaptureFixture
) -> tuple[dict[str, bytes], tuple[int, int] | None]:
    """Every shard table's bytes, and how many files were tokenised and how many read (None
    without a cache)."""
    outputs = {t.name: out / f"{t.name}.parquet" for t in schemas.SHARD_TABLES}
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="collabscope.parse.shard"):
        parse_shard(files, outputs, cache)
    counts = [r.args for r in caplog.records if "files tokenised" in r.getMessage()]
    tables = {name: Path(path).read_bytes() for name, path in outputs.items()}
    return tables, ((counts[0][0], counts[0][2]) if counts else None)


def _entries(cache: Path) -> set[str]:
    return {path.name.split(".")[0] for path in cache.iterdir()}


def test_tables_from_cached_tokens_are_the_tables_from_the_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = _exports(tmp_path / "exports")
    cache = tmp_path / "cache"
    expected, none = _parse(files, tmp_path / "plain", None, caplog)
    assert none is None and not cache.exists()
    first, counts = _parse(files, tmp_path / "first", cache, caplog)
    assert counts == (7, 7) and len(files) == 7
    # The files were written just now: each is read again to be sure, and not tokenised.
    again, counts = _parse(files, tmp_path / "again", cache, caplog)
    assert counts == (0, 7)
    assert first == expected and again == expected
    # Each file's entry: its tokens, its records and its description, nothing else.
    assert len(_entries(cache)) == len(files) and len(list(cache.iterdir())) == 3 * len(files)
    # Every format was in the shard, and the duplicate and the stray block were seen.
    tables = parse_shard_module.parse_files(files).tables
    assert set(tables["accounting"]["format"]) == {
        "wos_plain",
        "wos_tab",
        "cssci",
        "openalex_json",
        "openalex_jsonl",
        "scopus_csv",
    }
    # Record 4 in both plain files, 7 in plain and tab, the OpenAlex work in both of its files.
    assert tables["accounting"]["duplicates"].sum() == 3
    # The stray line and the broken JSON line, each with its line.
    quarantined = tables["quarantine"].select("line", "excerpt").sort("line").rows()
    assert quarantined == [(2, "{broken"), (3, "stray")]


def test_unchanged_files_are_not_read_and_changed_ones_are(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Files written before the parse (not in the same instant) get a stamp on their entry.
    monkeypatch.setattr(TokenCache, "SETTLE_NS", -(10**12))
    files = _exports(tmp_path / "exports")
    cache = tmp_path / "cache"
    assert _parse(files, tmp_path / "first", cache, caplog)[1] == (7, 7)
    before = {path.name: path.read_bytes() for path in cache.iterdir()}
    assert _parse(files, tmp_path / "again", cache, caplog)[1] == (0, 0)

    # Same size, same modification time, other bytes: the status-change time gives it away.
    changed = next(path for path in files if path.endswith("a_plain.txt"))
    stat = os.stat(changed)
    text = Path(changed).read_text(encoding="utf-8")
    assert "number 0" in text
    Path(changed).write_text(text.replace("number 0", "number 9", 1), encoding="utf-8")
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(changed).st_size == stat.st_size
    # Touched only: read, found the same, not tokenised.
    touched = next(path for path in files if path.endswith("d_cssci.txt"))
    os.utime(touched)
    new = write(tmp_path / "exports" / "h_new.txt", plain_text([record(i) for i in range(20, 23)]))
    removed = next(path for path in files if path.endswith("g_scopus.csv"))
    files = {**{p: d for p, d in files.items() if p != removed}, new: ["uk"]}

    expected, _ = _parse(files, tmp_path / "plain", None, caplog)
    cached, counts = _parse(files, tmp_path / "cached", cache, caplog)
    assert counts == (2, 3)  # the changed file and the new one tokenised; and the touched one
    assert cached == expected
    after = {path.name: path.read_bytes() for path in cache.iterdir()}
    # The removed file's entry is gone, the new one's is there, the changed one's rewritten.
    assert len(set(before) - set(after)) == 3 and len(set(after) - set(before)) == 3
    rewritten = {name for name in set(before) & set(after) if before[name] != after[name]}
    # Only the changed file's entry: its digest and tokens (its records table may not differ).
    assert len({name.split(".", 1)[0] for name in rewritten}) == 1
    assert {name.split(".", 1)[1] for name in rewritten} >= {"json", "tokens.parquet"}
    assert len(after) == 3 * len(files)
    assert _parse(files, tmp_path / "last", cache, caplog)[1] == (0, 0)


def test_a_file_changed_in_the_instant_it_was_read_is_read_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _exports(tmp_path / "exports")
    cache = tmp_path / "cache"
    assert _parse(files, tmp_path / "first", cache, caplog)[1] == (7, 7)
    # Its change time is taken as settled only when it was a while before the read: here no
    # file's is, and none is taken as unchanged without reading it.
    monkeypatch.setattr(TokenCache, "SETTLE_NS", 10**15)
    assert _parse(files, tmp_path / "again", cache, caplog)[1] == (0, 7)
    assert {p.stat().st_mtime_ns for p in cache.glob("*.json")} == {0}


def test_an_unfinished_entry_and_changed_code(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _exports(tmp_path / "exports")
    cache = tmp_path / "cache"
    expected, _ = _parse(files, tmp_path / "plain", None, caplog)
    _parse(files, tmp_path / "first", cache, caplog)

    # A job killed after an entry's tables, before its description; and a write's leftover.
    next(cache.glob("*.json")).unlink()
    (cache / ".x.records.parquet.123.tmp").write_bytes(b"partial")
    cached, counts = _parse(files, tmp_path / "resumed", cache, caplog)
    assert counts[0] == 1 and cached == expected
    assert len(list(cache.iterdir())) == 3 * len(files)

    # Other parse code: nothing in the cache is its tokens.
    old = _entries(cache)
    monkeypatch.setattr(parse_shard_module, "library_code", lambda *patterns: "other code")
    cached, counts = _parse(files, tmp_path / "new_code", cache, caplog)
    assert counts[0] == len(files) and cached == expected
    assert not old & _entries(cache)


def test_a_bad_file_is_still_named(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    files = _exports(tmp_path / "exports")
    cache = tmp_path / "cache"
    _parse(files, tmp_path / "first", cache, caplog)
    bad = next(path for path in files if path.endswith("c_tab.txt"))
    Path(bad).write_bytes(b"%PDF-1.7\n" + bytes(range(256)))
    with pytest.raises(UserInputError, match=r"c_tab\.txt"):
        _parse(files, tmp_path / "second", cache, caplog)
