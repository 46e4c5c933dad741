"""A parse job records its tables' digests; the per-shard stages trust a recorded digest only
while the file has the size recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collabscope import schemas
from collabscope.errors import UserInputError
from collabscope.parse.shard import parse_shard
from collabscope.parts import DIGESTS, file_digest, part_digest, record_digests
from tests.workflow.helpers import wos_plain_file


def test_a_parse_job_records_its_tables_digests(tmp_path: Path) -> None:
    export = wos_plain_file(tmp_path / "a.txt", range(0, 5))
    out = tmp_path / "shard"
    outputs = {t.name: out / f"{t.name}.parquet" for t in schemas.SHARD_TABLES}
    parse_shard({str(export): ["world"]}, outputs)
    recorded = json.loads((out / DIGESTS).read_text(encoding="utf-8"))
    assert sorted(recorded) == sorted(f"{t.name}.parquet" for t in schemas.SHARD_TABLES)
    for path in outputs.values():
        assert recorded[path.name]["sha256"] == file_digest(path) == part_digest(path)
    first = (out / DIGESTS).read_bytes()
    parse_shard({str(export): ["world"]}, outputs)
    assert (out / DIGESTS).read_bytes() == first  # no time in it: runs compare byte for byte

    # A job that fails after it started leaves no digest of the tables of an earlier run.
    with pytest.raises(UserInputError, match="file not found"):
        parse_shard({str(tmp_path / "missing.txt"): ["world"]}, outputs)
    assert not (out / DIGESTS).exists()


def test_a_recorded_digest_counts_while_the_file_keeps_its_size(tmp_path: Path) -> None:
    part = tmp_path / "records.parquet"
    part.write_bytes(b"twelve bytes")
    record_digests([part], tmp_path / DIGESTS)
    assert part_digest(part) == file_digest(part)
    # Replaced behind the recorder's back: another size is read, not trusted.
    part.write_bytes(b"thirteen byte")
    assert part_digest(part) == file_digest(part)
    # A file the record does not list is read.
    other = tmp_path / "other.parquet"
    other.write_bytes(b"x")
    assert part_digest(other) == file_digest(other)
    with pytest.raises(ValueError, match="in its folder"):
        record_digests([other], tmp_path / "elsewhere" / DIGESTS)
