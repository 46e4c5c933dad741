"""Stage functions of the sampling step. Everything with a name or an e-mail address is written
under a private directory (``results/private/``) that is made owner-only (0700) before anything
goes in, each file 0600; public outputs and the logs get counts and codes only."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from collabscope import schemas
from collabscope.classify import works
from collabscope.errors import UserInputError
from collabscope.normalise.countries import load_country_table
from collabscope.normalise.institutions import RegistryError, load_registry, load_tiers
from collabscope.parts import SHARD_FILE, PartStore, fill_together, library_code, settings_digest
from collabscope.sampling import draw as drawing
from collabscope.sampling import invitations as inv
from collabscope.sampling import pool as people_pool
from collabscope.tableio import Parts, parts_of, scan_table, write_table

log = logging.getLogger(__name__)

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and parents) and make it owner-only, whatever the umask."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def write_private_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path``, created 0600 (never readable by others, not even briefly),
    through a temporary file renamed into place."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    os.chmod(tmp, PRIVATE_FILE_MODE)
    os.replace(tmp, path)
    return path


def csv_text(frame: pl.DataFrame) -> str:
    """CSV with list columns joined by '; '."""
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    flat = frame.with_columns(
        pl.col(name).cast(pl.List(pl.String)).list.join("; ") for name in lists
    )
    return flat.write_csv()


def write_private_csv(frame: pl.DataFrame, path: str | Path) -> Path:
    return write_private_text(path, csv_text(frame))


def write_public_csv(frame: pl.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(csv_text(frame), encoding="utf-8")
    os.replace(tmp, path)
    return path


class PrivateStore(PartStore):
    """A store of personal data: its folder owner-only (0700), each file 0600."""

    def __init__(self, directory: str | Path, table: schemas.Table) -> None:
        # The folders made for it hold personal data only: each is owner-only too.
        directory = Path(directory)
        for folder in [*(p for p in directory.parents if not p.exists())][::-1]:
            private_dir(folder)
        super().__init__(private_dir(directory), table)

    def write(self, frame: pl.DataFrame | pl.LazyFrame, path: Path) -> Path:
        written = super().write(frame, path)
        os.chmod(written, PRIVATE_FILE_MODE)
        return written


_POOL_CODE = library_code("sampling/pool.py", "sampling/names.py")
# The tables a pool paper's rows come from, in the order paper_frames names them.
_POOL_SOURCES = (
    ("authorships", schemas.AUTHORSHIPS),
    ("records", schemas.RECORDS),
    ("author_address", schemas.AUTHOR_ADDRESS),
    ("addresses", schemas.ADDRESSES_NORMALISED),
)


def _pool_sources(tables: Mapping[str, str | Path]) -> list[tuple[Parts, schemas.Table]] | None:
    """The parts of the tables a pool paper's rows come from, when they are parts of the same
    shards (or single files); else None."""
    sources = [(parts_of(tables[name], table), table) for name, table in _POOL_SOURCES]
    shards = [[shard for shard, _ in parts.files] for parts, _ in sources]
    return sources if shards[1:] == shards[:-1] else None


def _paper_frames_by_shard(
    sources: list[tuple[Parts, schemas.Table]],
    focal_countries: Sequence[str],
    store: str | Path | None,
) -> tuple[people_pool.PaperFrames, int]:
    """Every pool paper's frames, kept per parse shard in ``store`` (None: a temporary
    folder), so that a new export file computes its shard's only; and how many shards were
    computed (all missing ones in one pass)."""
    settings = settings_digest({"focal": list(focal_countries), "code": _POOL_CODE})
    with tempfile.TemporaryDirectory(prefix="collabscope-pool-") as scratch:
        folder = Path(store if store is not None else scratch)
        stores = [
            PrivateStore(folder / table.name, table)
            for table in (schemas.POOL_NODES, schemas.POOL_PAPERS)
        ]

        def compute(kept: list[pl.LazyFrame]) -> list[pl.DataFrame]:
            tables = {name: frame for (name, _), frame in zip(_POOL_SOURCES, kept, strict=True)}
            frames = people_pool.paper_frames(tables, focal_countries, carry=SHARD_FILE)
            return [frames.nodes, frames.papers]

        (nodes, papers), computed = fill_together(stores, sources, settings, compute)
        # Read now: a temporary store is removed on exit.
        return people_pool.PaperFrames(nodes.collect(), papers.collect()), computed


def _registry_error(error: RegistryError) -> UserInputError:
    file, _, problem = str(error).partition(": ")
    return UserInputError(file, problem or str(error))


def build_pool(
    tables: Mapping[str, str | Path],
    institution_registries: Sequence[str | Path],
    tier_registries: Sequence[str | Path],
    focal_countries: Sequence[str],
    dataset: str,
    outputs: Mapping[str, str | Path],
    store: str | Path | None = None,
) -> dict[str, int]:
    """The pool (Parquet and CSV) and its merges (CSV), all private. ``tables``: authorships,
    records, author_address and dataset_records (canonical), addresses (normalised), and
    optionally the merge tables record_works and work_fields: then papers are works (see
    :func:`collabscope.classify.works.pool_tables`).

    A pool paper's authorships, keys, e-mails and lead depend on its own rows only: unless
    works merge records of several sources (a work can take its rows from several shards),
    they are kept per parse shard in ``store`` (private: names and e-mails; None: a temporary
    folder), and a new export file computes its shard's only; grouping the authorships into
    people is done over all of them. The dataset filter is applied to the stored papers: the
    store holds every paper with an address in each focal country."""
    for output in outputs.values():
        private_dir(Path(output).parent)
    try:
        registry = load_registry(list(institution_registries), list(tier_registries))
    except RegistryError as error:
        raise _registry_error(error) from error
    memberships = scan_table(tables["dataset_records"], schemas.DATASET_RECORDS)
    chosen = people_pool.dataset_records_of(memberships, dataset) if dataset else None
    if chosen is not None and chosen.is_empty():
        raise UserInputError("config", f"sampling.dataset: no records in dataset {dataset!r}")
    merged = "record_works" in tables and works.has_merged(
        record_works := scan_table(tables["record_works"], schemas.RECORD_WORKS)
    )
    sources = None if merged else _pool_sources(tables)
    computed = None
    if sources is None:
        frames = {name: scan_table(tables[name], table) for name, table in _POOL_SOURCES}
        frames["dataset_records"] = memberships
        if merged:
            frames = works.pool_tables(
                frames, record_works, scan_table(tables["work_fields"], schemas.WORK_FIELDS)
            )
        built = people_pool.build_pool(frames, registry, focal_countries, dataset or None)
    else:
        papers, computed = _paper_frames_by_shard(sources, focal_countries, store)
        log.info("pool parts of %d of %d shards computed", computed, len(sources[0][0].files))
        if chosen is not None:
            papers = people_pool.in_dataset(papers, chosen)
        built = people_pool.pool_of(papers, registry)
    write_table(built.people, schemas.POOL, outputs["pool"])
    os.chmod(outputs["pool"], PRIVATE_FILE_MODE)
    write_private_csv(pl.read_parquet(outputs["pool"]), outputs["csv"])
    write_private_csv(built.merges, outputs["merges"])
    counts = built.counts | ({} if computed is None else {"shards_computed": computed})
    # Counts only: the log is public.
    log.info("pool: %s", counts)
    log.info("links: %s", built.links)
    log.info("merges by rule: %s", built.merges_by_rule)
    return counts


def draw_sample(
    pool_path: str | Path,
    tier_registries: Sequence[str | Path],
    strata: Mapping[str, Mapping[str, Any]],
    size: int,
    reserves: int,
    filters: Mapping[str, Any],
    seed: int,
    exclusions: str | Path | None,
    outputs: Mapping[str, str | Path],
) -> drawing.Draw:
    """The stratified draw: results/private/sample.csv and the public summary."""
    private_dir(Path(outputs["sample"]).parent)
    try:
        tiers = load_tiers(list(tier_registries))
    except RegistryError as error:
        raise _registry_error(error) from error
    chosen = drawing.strata_from_config(strata, size, reserves, tiers["tier_id"].to_list())
    pool = scan_table(pool_path, schemas.POOL).collect()
    excluded = drawing.load_exclusions(exclusions) if exclusions else None
    result = drawing.draw_sample(pool, chosen, drawing.Filters(**dict(filters)), seed, excluded)
    write_private_csv(result.sample, outputs["sample"])
    write_public_csv(result.summary, outputs["summary"])
    log.info(
        "seed %d; %d people drawn (%d invitees) from a pool of %d; %d exclusion rows",
        seed,
        result.sample.height,
        result.sample.filter(pl.col("role") == "invitee").height,
        pool.height,
        0 if excluded is None else excluded.height,
    )
    return result


def write_invitations(
    sample: str | Path,
    pool: str | Path,
    records: str | Path,
    template: str | Path,
    countries: str | Path,
    title: str,
    focal_countries: Sequence[str],
    outputs: Mapping[str, str | Path],
) -> int:
    """One letter per person drawn (``<code>.txt``; reserves under ``reserves/``) and the
    mail-merge CSV of the invitees. Returns the number of letters."""
    folder = Path(outputs["invitations"])
    private_dir(Path(outputs["mail_merge"]).parent)
    if folder.exists():
        shutil.rmtree(folder)  # letters of an earlier draw must not linger
    private_dir(folder)
    compiled = inv.load_template(template)
    drawn = pl.read_csv(sample, infer_schema=False).with_columns(
        pl.col("n_pair_papers", "first_year", "last_year", "draw_order").cast(pl.Int64)
    )
    # The people drawn and their papers only, read through filters (the pool's papers are
    # the corpus's at scale).
    persons = (
        scan_table(pool, schemas.POOL)
        .filter(pl.col("person_id").is_in(drawn.get_column("person_id").implode()))
        .collect()
    )
    ids = persons.get_column("record_ids").explode().drop_nulls().unique()
    papers = (
        scan_table(records, schemas.RECORDS)
        .select("record_id", "title", "year", "journal", "doi")
        .filter(pl.col("record_id").is_in(ids.implode()))
    )
    table = load_country_table(countries)
    country_names = dict(zip(table["code"], table["name"], strict=True))
    letters = inv.invitations(drawn, persons, papers.collect(), country_names, focal_countries)
    study = inv.Study(
        title,
        tuple(focal_countries),
        tuple(country_names.get(c, c) for c in focal_countries),
    )
    suffix = "".join(Path(template).suffixes[:-1]) or ".txt"
    files = []
    for letter in letters:
        where = folder if letter.role == "invitee" else private_dir(folder / "reserves")
        path = where / f"{letter.code}{suffix}"
        write_private_text(path, inv.render(compiled, letter, study, str(template)))
        files.append(str(path))
    write_private_csv(inv.mail_merge(letters, files), outputs["mail_merge"])
    log.info(
        "%d letters written (%d invitees)", len(files), sum(i.role == "invitee" for i in letters)
    )
    return len(files)
