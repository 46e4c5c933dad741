"""Stages that compute again only the parts of a table whose inputs changed.

A stage over a table held as parts (one per parse shard, see tableio.write_parts_manifest)
keeps each part's result in a store, under the digest of everything the result was computed
from: the input part's bytes, the stage's settings and input files, the library code. When a
new export file changes one shard, every other part finds its result in the store and the
stage computes one part; its output is a manifest of store files. Snakemake deletes a job's
outputs before running it, so the store lives beside them, outside the job graph. Files are
written atomically (tableio.write_table) and each run removes the files its manifest does not
list, so a crash or an interrupted run leaves nothing a later run could mistake for a result.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from collabscope.schemas import DATASET_RECORDS, SUPERSEDED, Table
from collabscope.sharding import code_version
from collabscope.tableio import (
    PARTS_SUFFIX,
    Parts,
    scan_parts,
    scan_table,
    write_parts_manifest,
    write_table,
)

_CHUNK = 1 << 20
_PACKAGE = Path(__file__).resolve().parent


def library_code(*patterns: str) -> str:
    """Digest of the package's modules matching ``patterns`` (globs relative to the package)
    and of those every stored part goes through (schemas, tableio, this one): part of a
    store's settings, so that editing the code computes every part again."""
    files = {
        path
        for pattern in (*patterns, "schemas.py", "tableio.py", "parts.py")
        for path in _PACKAGE.glob(pattern)
    }
    return code_version(files)


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# A parse job records the SHA-256 of the tables it writes in DIGESTS beside them: the stages
# that keep per-shard results digest those parts by it rather than reading every shard's
# records again (a third of a second a stage at two million records). An entry counts only
# while the file has the size it records; the job removes the file before writing anything.
DIGESTS = "digests.json"


def record_digests(paths: Sequence[str | Path], target: str | Path) -> Path:
    """Write ``target`` (a DIGESTS file in the folder of ``paths``): each file's SHA-256 and
    size, by name; the same files give the same bytes."""
    target = Path(target)
    entries = {
        Path(path).name: {"sha256": file_digest(path), "bytes": Path(path).stat().st_size}
        for path in sorted(map(str, paths))
    }
    if any(Path(path).parent.resolve() != target.parent.resolve() for path in paths):
        raise ValueError(f"{target}: the files it records must be in its folder")
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def part_digest(path: str | Path) -> str:
    """SHA-256 of a part's bytes: as the DIGESTS file beside it records it, when it does and
    the file has the size recorded; else read from the file."""
    path = Path(path)
    recorded = path.parent / DIGESTS
    if recorded.exists():
        entry = json.loads(recorded.read_text(encoding="utf-8")).get(path.name)
        if entry is not None and entry["bytes"] == path.stat().st_size:
            return str(entry["sha256"])
    return file_digest(path)


def settings_digest(settings: object, files: Iterable[str | Path] = ()) -> str:
    """Digest of JSON-able ``settings`` and of the bytes of ``files`` (in the order given:
    registries are read in order, and a later one overrides an earlier one)."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in files:
        digest.update(file_digest(path).encode())
    return digest.hexdigest()


def aligned(sources: Sequence[Parts]) -> list[tuple[str, list[Path]]]:
    """(shard, [its file in each of ``sources``]) for tables held as parts of the same shards
    (records and its child tables, the normalised addresses)."""
    shards = [[shard for shard, _ in parts.files] for parts in sources]
    if shards[1:] != shards[:-1]:
        names = ", ".join(parts.table for parts in sources)
        raise ValueError(f"{names} are parts of different shards: {shards}")
    return [
        (shard, [parts.files[i][1] for parts in sources])
        for i, (shard, _) in enumerate(sources[0].files)
    ]


class PartStore:
    """Results of ``table``, one file per part, named by the digest of their inputs."""

    def __init__(self, directory: str | Path, table: Table) -> None:
        self.directory = Path(directory)
        self.table = table

    def path(self, part_digest: str, settings: str) -> Path:
        key = hashlib.sha256(f"{part_digest}:{settings}".encode()).hexdigest()[:32]
        return self.directory / f"{key}.parquet"

    def write(self, frame: pl.DataFrame | pl.LazyFrame, path: Path) -> Path:
        return write_table(frame, self.table, path)

    def prune(self, keep: Iterable[Path]) -> int:
        """Remove the store's files not in ``keep``, and the temporary files of writes a killed
        run left (one job owns a store: none is being written); return how many."""
        kept = {Path(p).resolve() for p in keep}
        removed = 0
        for path in [*self.directory.glob("*.parquet"), *self.directory.glob(".*.tmp")]:
            if path.resolve() not in kept:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def fill(
        self,
        sources: Sequence[Parts],
        settings: str,
        compute: Callable[[list[list[Path]]], Iterable[pl.DataFrame]],
    ) -> tuple[Parts, int]:
        """Every shard's result, and how many were computed: ``compute`` is called (once, and
        only if any is missing) with the files of each shard the store does not hold yet (a
        shard's file in each source) and yields their results in that order; the others are
        read. The store keeps these only. The parts have the superseded rows of the first
        source."""
        (parts,), computed = fill_stores(
            [self], sources, settings, lambda missing: ([result] for result in compute(missing))
        )
        return parts, computed


def fill_stores(
    stores: Sequence[PartStore],
    sources: Sequence[Parts],
    settings: str,
    compute: Callable[[list[list[Path]]], Iterable[Sequence[pl.DataFrame]]],
) -> tuple[list[Parts], int]:
    """:meth:`PartStore.fill` for a stage with several tables per shard, one store each:
    ``compute`` yields one result per store for each missing shard. A shard is computed again
    when any store lacks it (a run killed between two writes)."""
    stored: list[tuple[str, list[Path]]] = []
    missing: list[tuple[list[Path], list[Path]]] = []
    for shard, files in aligned(sources):
        digest = settings_digest([part_digest(f) for f in files])
        targets = [store.path(digest, settings) for store in stores]
        if not all(target.exists() for target in targets):
            missing.append((files, targets))
        stored.append((shard, targets))
    if missing:
        results = compute([files for files, _ in missing])
        for (_, targets), result in zip(missing, results, strict=True):
            for store, frame, target in zip(stores, result, targets, strict=True):
                store.write(frame, target)
    parts = []
    for i, store in enumerate(stores):
        store.prune(targets[i] for _, targets in stored)
        files = tuple((shard, targets[i]) for shard, targets in stored)
        parts.append(Parts(store.table.name, files, sources[0].superseded))
    return parts, len(missing)


def _superseded_ids(parts: Parts) -> dict[str, pl.Series]:
    """{shard: the sorted record ids the superseded table of ``parts`` lists for it}."""
    if parts.superseded is None:
        return {}
    frame = scan_table(parts.superseded, SUPERSEDED).select("shard", "record_id").collect()
    return {
        str(shard): group.get_column("record_id").sort()
        for (shard,), group in frame.partition_by("shard", as_dict=True).items()
    }


@dataclass(frozen=True)
class Memberships:
    """Where the dataset memberships of each shard's kept records are: the shards' own
    dataset_records files (``shards``, beside their record tables) and the combined table
    (``combined``). A record kept in one shard can be in another dataset's export too, as a
    duplicate another shard superseded (superseded.kept_shard names the keeping shard): that
    membership is in the combined table only."""

    shards: Parts
    combined: Path

    @classmethod
    def of(cls, records: Parts, combined: str | Path) -> Memberships:
        """The memberships of the shards of ``records`` (a manifest of the parse shards; one
        file, not a manifest: its memberships are the combined table)."""
        if records.superseded is None and [shard for shard, _ in records.files] == [""]:
            return cls(Parts(DATASET_RECORDS.name, (("", Path(combined)),), None), Path(combined))
        files = tuple(
            (shard, file.parent / f"{DATASET_RECORDS.name}.parquet")
            for shard, file in records.files
        )
        return cls(Parts(DATASET_RECORDS.name, files, records.superseded), Path(combined))

    def foreign(self) -> dict[str, pl.DataFrame]:
        """{shard: the memberships of its kept records that copies in other shards bring}."""
        if self.shards.superseded is None:
            return {}
        moved = (
            scan_table(self.shards.superseded, SUPERSEDED)
            .select("record_id", "kept_shard")
            .unique()
            .collect()
        )
        if moved.is_empty():
            return {}
        rows = (
            scan_table(self.combined, DATASET_RECORDS)
            .filter(pl.col("record_id").is_in(moved["record_id"].implode()))
            .join(moved.lazy(), on="record_id")
            .sort("kept_shard", "dataset", "record_id")
            .collect()
        )
        return {
            str(shard): group.drop("kept_shard")
            for (shard,), group in rows.partition_by("kept_shard", as_dict=True).items()
        }

    def kept(self, shard: str, file: Path, foreign: pl.DataFrame | None) -> pl.LazyFrame:
        """The memberships of ``shard``'s kept records: its own file's, less those of its
        superseded records, and those ``foreign`` brings."""
        own = scan_parts(
            Parts(self.shards.table, ((shard, file),), self.shards.superseded), DATASET_RECORDS
        )
        if foreign is None:
            return own
        return pl.concat([own, foreign.lazy()]).unique().sort("dataset", "record_id")


@dataclass(frozen=True)
class _Shard:
    """A shard's files (one per source, then its memberships), the memberships other shards'
    copies bring to it, and its result's file in each store."""

    shard: str
    files: list[Path]
    brought: pl.DataFrame | None
    targets: list[Path]

    def stored(self) -> bool:
        return all(target.exists() for target in self.targets)


def _plan(
    stores: Sequence[PartStore],
    sources: Sequence[tuple[Parts, Table]],
    settings: str,
    members: Memberships | None = None,
) -> list[_Shard]:
    """Each shard's files and where its results are: named by the digest of its files, of the
    ids superseded in it (a new file in another shard can supersede its rows without changing
    its files) and, with ``members``, of the memberships other shards' copies bring to it."""
    superseded = {parts.superseded: _superseded_ids(parts) for parts, _ in sources}
    groups = [parts for parts, _ in sources]
    foreign: dict[str, pl.DataFrame] = {}
    if members is not None:
        groups.append(members.shards)
        foreign = members.foreign()
    plan = []
    for shard, files in aligned(groups):
        dropped = [superseded[parts.superseded].get(shard) for parts, _ in sources]
        brought = foreign.get(shard)
        digest = settings_digest(
            [
                [part_digest(f) for f in files],
                [[] if i is None else i.to_list() for i in dropped],
                [] if brought is None else brought.rows(),
            ]
        )
        plan.append(
            _Shard(shard, files, brought, [store.path(digest, settings) for store in stores])
        )
    return plan


def _stored_frames(stores: Sequence[PartStore], plan: Sequence[_Shard]) -> list[pl.LazyFrame]:
    """Each store's files of every shard, concatenated in shard order; the store keeps these
    only."""
    frames = []
    for i, store in enumerate(stores):
        files = [item.targets[i] for item in plan]
        store.prune(files)
        frames.append(pl.scan_parquet(files) if files else store.table.empty().lazy())
    return frames


def tally_shards(
    stores: Sequence[PartStore],
    sources: Sequence[tuple[Parts, Table]],
    settings: str,
    tally: Callable[[list[pl.LazyFrame]], Sequence[pl.DataFrame]],
    members: Memberships | None = None,
) -> tuple[list[pl.LazyFrame], int]:
    """Partial aggregates of each shard's rows, kept in ``stores`` so that a new export file
    aggregates its shard only; and how many shards were aggregated.

    ``tally`` gets one shard's rows, one frame per source less the rows of its superseded
    records, and returns one frame per store; with ``members``, one more frame last: the
    dataset memberships of the shard's kept records. The result is each store's frames of
    every shard, concatenated in shard order, for the caller to add up: a kept record lives in
    exactly one shard, so counts of rows and of distinct records per shard add up to the
    corpus's. A shard's digest includes the ids superseded in it, because a new file in
    another shard can supersede its rows without changing its files; and with ``members``,
    its own memberships file and the memberships other shards' copies bring to it."""
    plan = _plan(stores, sources, settings, members)
    computed = 0
    for item in plan:
        if item.stored():
            continue
        kept = [
            scan_parts(Parts(parts.table, ((item.shard, file),), parts.superseded), table)
            for (parts, table), file in zip(sources, item.files[: len(sources)], strict=True)
        ]
        if members is not None:
            kept.append(members.kept(item.shard, item.files[-1], item.brought))
        results = tally(kept)
        for store, frame, target in zip(stores, results, item.targets, strict=True):
            store.write(frame, target)
        computed += 1
    return _stored_frames(stores, plan), computed


SHARD_FILE = "_shard_file"
"""The column :func:`fill_together` gives each source row: the file it was read from."""


def fill_together(
    stores: Sequence[PartStore],
    sources: Sequence[tuple[Parts, Table]],
    settings: str,
    compute: Callable[[list[pl.LazyFrame]], Sequence[pl.DataFrame]],
) -> tuple[list[pl.LazyFrame], int]:
    """Results of each shard's kept rows, kept in ``stores`` under the digests
    :func:`tally_shards` uses (without memberships), computed for all the shards the store
    lacks in one pass: a pass over every shard one by one costs a fixed overhead per shard
    that a stage with little work per shard would pay 129 times on a first build. Returns
    each store's frames of every shard, concatenated in shard order, and how many shards
    were computed.

    ``compute`` gets, per source, the missing shards' rows less their superseded records as
    one frame with a column :data:`SHARD_FILE` (made only where it is read): the file each
    row comes from. It returns one frame per store whose every row has the SHARD_FILE of a
    source row of its own shard: each frame is split by it into the shards' results (a shard
    without rows has an empty one). Rows must therefore depend on their own shard's rows
    only, such as each record's on its own rows: a kept record lives in one shard."""
    plan = _plan(stores, sources, settings)
    missing = [item for item in plan if not item.stored()]
    if missing:
        owner = {file.resolve(): item.shard for item in missing for file in item.files}
        kept = [
            scan_parts(
                Parts(
                    parts.table,
                    tuple((item.shard, item.files[i]) for item in missing),
                    parts.superseded,
                ),
                table,
                path_column=SHARD_FILE,
            )
            for i, (parts, table) in enumerate(sources)
        ]
        # Shards with the same digest (empty ones) share a file: it is written once.
        writes: dict[Path, tuple[PartStore, pl.DataFrame]] = {}
        for i, (store, frame) in enumerate(zip(stores, compute(kept), strict=True)):
            by_shard: dict[str, list[pl.DataFrame]] = {}
            for (file,), rows in frame.partition_by(SHARD_FILE, as_dict=True).items():
                by_shard.setdefault(owner[Path(str(file)).resolve()], []).append(rows)
            for item in missing:
                rows = by_shard.get(item.shard)
                result = pl.concat(rows) if rows else store.table.empty()
                writes.setdefault(item.targets[i], (store, result))

        def write(target: Path) -> Path:
            store, frame = writes[target]
            return store.write(frame, target)

        # Many small files: written side by side (Polars releases the GIL while it writes).
        with ThreadPoolExecutor(max_workers=pl.thread_pool_size()) as pool:
            list(pool.map(write, writes))
    return _stored_frames(stores, plan), len(missing)


@contextmanager
def stage_stores(
    tables: Sequence[Table],
    outputs: Mapping[str, str | Path],
    store: str | Path | None,
    stage: str,
) -> Iterator[list[PartStore]]:
    """One store per table, in a folder of ``store`` named after it; without ``store`` (a stage
    called outside the workflow, writing single ``.parquet`` outputs), in a temporary folder
    removed on exit. Outputs named ``*.parts.json`` list store files: they need ``store``."""
    if store is None and any(str(outputs[t.name]).endswith(PARTS_SUFFIX) for t in tables):
        raise ValueError(f"{stage}: outputs listed as parts need a store")
    with tempfile.TemporaryDirectory(prefix=f"collabscope-{stage}-") as scratch:
        yield [PartStore(Path(store or scratch) / t.name, t) for t in tables]


def keep_whole(
    stores: Sequence[PartStore], frames: Sequence[pl.DataFrame], settings: str
) -> list[Parts]:
    """Results computed over the whole corpus at once (rows that can span shards, such as a
    work merged from records of several sources), kept as the one part of each store."""
    parts = []
    for store, frame in zip(stores, frames, strict=True):
        target = store.write(frame, store.path("whole", settings))
        store.prune([target])
        parts.append(Parts(store.table.name, (("", target),), None))
    return parts


def write_outputs(
    stores: Sequence[PartStore], parts: Sequence[Parts], outputs: Mapping[str, str | Path]
) -> None:
    """Each store's table at ``outputs[name]``: the manifest of its parts (``*.parts.json``),
    or the parts read into one Parquet file."""
    for store, table_parts in zip(stores, parts, strict=True):
        table, path = store.table, outputs[store.table.name]
        if str(path).endswith(PARTS_SUFFIX):
            write_parts_manifest(table, table_parts.files, table_parts.superseded, path)
        else:
            write_table(scan_parts(table_parts, table), table, path)
