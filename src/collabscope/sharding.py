"""Expand dataset patterns into export files, group the files into stable shards, and remove
a per-shard store's folders of shards that no longer exist.

Called by the workflow while it builds the job graph, so it only lists files: it never reads
them. A file's shard depends on its path alone (crc32, stable across runs and machines, unlike
``hash()``), so adding a file changes one shard's inputs and leaves every other shard alone.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import shutil
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from collabscope.errors import UserInputError


def expand_exports(datasets: Mapping[str, Mapping[str, object]]) -> dict[str, list[str]]:
    """{dataset: {exports: [patterns]}} -> {file: [datasets]}, files and datasets sorted.

    A pattern that matches nothing is an error: a typo in a path must not silently shrink a
    dataset.
    """
    files: dict[str, set[str]] = {}
    for name, spec in datasets.items():
        patterns = spec.get("exports", [])
        assert isinstance(patterns, list)
        for pattern in patterns:
            matched = sorted(
                os.path.normpath(p)
                for p in glob.glob(str(pattern), recursive=True)
                if os.path.isfile(p)
            )
            if not matched:
                raise UserInputError(
                    f"dataset {name!r}", f"export pattern {pattern!r} matches no file"
                )
            for path in matched:
                files.setdefault(path, set()).add(name)
    return {path: sorted(files[path]) for path in sorted(files)}


def shard_of(path: str, n_shards: int) -> int:
    return zlib.crc32(path.encode("utf-8")) % n_shards


def assign_shards(
    file_datasets: Mapping[str, list[str]], n_shards: int
) -> dict[int, dict[str, list[str]]]:
    """{file: datasets} -> {shard: {file: datasets}}, only shards that hold files."""
    shards: dict[int, dict[str, list[str]]] = {}
    for path in sorted(file_datasets):
        shards.setdefault(shard_of(path, n_shards), {})[path] = file_datasets[path]
    return dict(sorted(shards.items()))


def code_version(paths: Iterable[str | Path]) -> str:
    """A short digest of source files, given to rules as a param so that editing the library
    code a rule runs makes Snakemake run it again (it does not track imported modules)."""
    digest = hashlib.sha256()
    for path in sorted(str(p) for p in paths):
        digest.update(Path(path).name.encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def remove_other_shard_folders(root: str | Path, shards: Iterable[str]) -> list[str]:
    """Remove the folders under ``root`` named after shards not in ``shards`` (a shard left
    with no file, or a changed shard count: no job of theirs will prune them); return their
    names. For a store of one folder per shard, once every job that writes it has ended."""
    keep = set(shards)
    root = Path(root)
    removed = sorted(p.name for p in root.glob("*") if p.is_dir() and p.name not in keep)
    for name in removed:
        shutil.rmtree(root / name, ignore_errors=True)
    if removed:
        logging.getLogger(__name__).info(
            "%s: removed the folders of %d shards with no files: %s",
            root,
            len(removed),
            ", ".join(removed),
        )
    return removed
