"""Every real export parses to the same shard tables, byte for byte, from the parse job's token
cache as from the file itself: on the run that fills the cache and on one that reads no file;
a file the parser refuses is refused with the same message through the cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from collabscope import schemas
from collabscope.errors import UserInputError
from collabscope.parse.shard import TokenCache, parse_shard
from tests.conftest import REALDATA

FOLDERS = sorted(p for p in REALDATA.iterdir() if p.is_dir()) if REALDATA.is_dir() else []


def _tables(files: list[Path], out: Path, cache: Path | None) -> dict[str, bytes]:
    outputs = {t.name: out / f"{t.name}.parquet" for t in schemas.SHARD_TABLES}
    parse_shard({str(path): ["realdata"] for path in files}, outputs, cache)
    return {name: Path(path).read_bytes() for name, path in outputs.items()}


def _refusal(files: list[Path], out: Path, cache: Path | None) -> str | None:
    try:
        _tables(files, out, cache)
    except UserInputError as error:
        return str(error)
    return None


@pytest.mark.skipif(not FOLDERS, reason="../shared/realdata is absent")
@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_tables_from_the_cache_are_the_tables_from_the_files(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Every file counts as settled, so that the second cached run reads none of them.
    monkeypatch.setattr(TokenCache, "SETTLE_NS", -(10**12))
    files = sorted(path for path in folder.iterdir() if path.is_file())
    usable = []
    for number, path in enumerate(files):
        refused = _refusal([path], tmp_path / f"alone{number}", None)
        cached = _refusal([path], tmp_path / f"alone{number}c", tmp_path / "refused")
        assert cached == refused, path.name
        if refused is None:
            usable.append(path)
    assert usable, f"no file in {folder.name} parses"

    # All of a folder's usable files as one shard: records renumbered across files, and the
    # same work in several files settled the same way.
    expected = _tables(usable, tmp_path / "plain", None)
    counts = []
    for run in ("filling", "kept"):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="collabscope.parse.shard"):
            assert _tables(usable, tmp_path / run, tmp_path / "cache") == expected, run
        logged = [r.args for r in caplog.records if "files tokenised" in r.getMessage()]
        counts.append((logged[0][0], logged[0][2]))
    # Tokenised and read: every file on the first run, none on the second.
    assert counts == [(len(usable), len(usable)), (0, 0)]
