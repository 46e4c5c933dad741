from __future__ import annotations

import re
import zlib
from pathlib import Path

import pytest

from collabscope.errors import UserInputError
from collabscope.sharding import (
    assign_shards,
    expand_exports,
    remove_other_shard_folders,
    shard_of,
)


def test_shard_is_a_stable_function_of_the_path() -> None:
    assert shard_of("exports/a.txt", 16) == zlib.crc32(b"exports/a.txt") % 16
    assert shard_of("exports/a.txt", 16) == shard_of("exports/a.txt", 16)


def test_adding_a_file_moves_no_other_file() -> None:
    files = {f"exports/f{i}.txt": ["d"] for i in range(200)}
    before = assign_shards(files, 8)
    after = assign_shards({**files, "exports/new.txt": ["d"]}, 8)
    changed = [s for s in after if after[s] != before.get(s)]
    assert changed == [shard_of("exports/new.txt", 8)]


def test_expand_exports_maps_files_to_all_their_datasets(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("a/1.txt", "a/2.txt", "b/3.txt"):
        Path(name).parent.mkdir(exist_ok=True)
        Path(name).write_text("x")
    found = expand_exports(
        {"world": {"exports": ["a/*.txt", "b/*.txt"]}, "sub": {"exports": ["a/2.txt"]}}
    )
    assert found == {"a/1.txt": ["world"], "a/2.txt": ["sub", "world"], "b/3.txt": ["world"]}


def test_a_pattern_matching_nothing_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        UserInputError, match=re.escape("export pattern 'nope/*.txt' matches no file")
    ):
        expand_exports({"world": {"exports": ["nope/*.txt"]}})


def test_the_folders_of_shards_with_no_files_are_removed(tmp_path: Path) -> None:
    for name in ("0000", "0002", "0007"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "entry.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("a file, not a shard's folder")
    assert remove_other_shard_folders(tmp_path, ["0000", "0002", "0003"]) == ["0007"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0000", "0002", "notes.txt"]
    assert remove_other_shard_folders(tmp_path / "absent", ["0000"]) == []
