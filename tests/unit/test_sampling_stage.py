"""The sampling stage functions end to end on small tables: privacy (owner-only files, nothing
personal in the logs or public outputs), invitations and their template errors."""

from __future__ import annotations

import csv
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest

from collabscope import schemas
from collabscope.errors import UserInputError
from collabscope.sampling import stage
from collabscope.tableio import PARTS_SUFFIX, scan_table, write_parts_manifest, write_table
from tests.conftest import PROJECT
from tests.unit.sampling_builders import (
    TABLE_OF,
    Address,
    Author,
    Paper,
    pair_paper,
    tables,
    write_tables,
)

RESOURCES = PROJECT / "resources"
TEMPLATE = PROJECT / "config" / "templates" / "invitation.txt.j2"
STRATA = {
    "UK-R": {"country": "GBR", "tier": "russell-group"},
    "UK-NR": {"country": "GBR", "tier_not": "russell-group"},
    "MC-DF": {"country": "CHN", "tier": "double-first-class"},
    "MC-NDF": {"country": "CHN", "tier_not": "double-first-class"},
}
FILTERS = {"min_pair_papers": 1, "require_email": True}


CHINESE = ["Wei", "Lan", "Hong", "Jie", "Min", "Qing", "Yan", "Bo", "Tao", "Fang", "Jun", "Li"]
BRITISH = ["Anna", "Ben", "Clare", "David", "Emma", "Frank", "Grace", "Harry", "Iris", "Jack"]
BRITISH += ["Kate", "Liam"]


def papers() -> list:
    found = []
    for i in range(12):
        cn, uk = CHINESE[i], BRITISH[i]
        found.append(
            pair_paper(
                f"WOS:{i:04d}",
                2005 + i,
                [Author(f"Zhang, {cn[0]}", f"Zhang, {cn}")],
                [Author(f"Hughes, {uk[0]}", f"Hughes, {uk}")],
                chn="chn-beijing-normal" if i % 3 else "chn-ahjzu",
                gbr="gbr-leeds" if i % 2 else "gbr-bath-spa",
                emails=[f"zhang{cn.lower()}@bnu.edu.cn", f"{uk.lower()}.hughes@leeds.ac.uk"],
            )
        )
        found[-1].title = f"Study {i} of learning in two countries"
    return found


def run_all(tmp_path: Path, umask: int = 0o022) -> dict[str, Path]:
    tables = write_tables(papers(), tmp_path / "tables")
    private = tmp_path / "results" / "private"
    out = {
        "pool": private / "pool.parquet",
        "csv": private / "pool.csv",
        "merges": private / "pool_merges.csv",
        "sample": private / "sample.csv",
        "summary": tmp_path / "results" / "sampling" / "summary.csv",
        "invitations": private / "invitations",
        "mail_merge": private / "mail_merge.csv",
    }
    old = os.umask(umask)
    try:
        stage.build_pool(
            tables,
            [RESOURCES / "institutions" / "institutions.csv"],
            [RESOURCES / "institutions" / "tiers.csv"],
            ["CHN", "GBR"],
            "",
            {k: out[k] for k in ("pool", "csv", "merges")},
        )
        stage.draw_sample(
            out["pool"],
            [RESOURCES / "institutions" / "tiers.csv"],
            STRATA,
            2,
            1,
            FILTERS,
            11,
            None,
            {k: out[k] for k in ("sample", "summary")},
        )
        write_letters(tmp_path / "tables", out, TEMPLATE)
    finally:
        os.umask(old)
    return out


def write_letters(tables: Path, out: dict[str, Path], template: Path) -> int:
    return stage.write_invitations(
        out["sample"],
        out["pool"],
        tables / "records.parquet",
        template,
        RESOURCES / "countries" / "countries.csv",
        "A study",
        ["CHN", "GBR"],
        {k: out[k] for k in ("invitations", "mail_merge")},
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_private_directory_is_0700_and_its_files_0600(tmp_path: Path, umask: int) -> None:
    out = run_all(tmp_path, umask)
    private = tmp_path / "results" / "private"
    assert mode(private) == 0o700
    dirs = [p for p in private.rglob("*") if p.is_dir()]
    files = [p for p in private.rglob("*") if p.is_file()]
    assert {d.name for d in dirs} == {"invitations", "reserves"}
    assert all(mode(d) == 0o700 for d in dirs), [(d, oct(mode(d))) for d in dirs]
    assert len(files) > 10
    assert all(mode(f) == 0o600 for f in files), [(f, oct(mode(f))) for f in files]
    assert mode(out["summary"]) & 0o044  # the public summary stays readable


def test_nothing_personal_in_the_summary_or_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        out = run_all(tmp_path)
    pool = pl.read_parquet(out["pool"])
    secrets = set(pool["emails"].explode().drop_nulls()) | set(pool["full_name"])
    secrets |= set(pool["names"].explode()) | set(pool["full_names"].explode())
    secrets |= {s.split(",")[0] for s in pool["full_name"]}  # surnames alone
    assert len(secrets) > 40
    public = out["summary"].read_text(encoding="utf-8") + caplog.text
    assert [s for s in secrets if s.lower() in public.lower()] == []
    assert "UK-R1" in public


def test_invitations_are_rendered_per_person_with_their_papers(tmp_path: Path) -> None:
    out = run_all(tmp_path)
    with open(out["sample"], encoding="utf-8") as handle:
        sample = list(csv.DictReader(handle))
    invitees = [r for r in sample if r["role"] == "invitee"]
    reserves = [r for r in sample if r["role"] == "reserve"]
    assert len(invitees) == 8 and len(reserves) == 4  # 4 strata x (2 + 1)
    letters = sorted(p.name for p in out["invitations"].glob("*.txt"))
    assert letters == sorted(f"{r['code']}.txt" for r in invitees)
    assert sorted(p.name for p in (out["invitations"] / "reserves").glob("*.txt")) == sorted(
        f"{r['code']}.txt" for r in reserves
    )
    first = invitees[0]
    text = (out["invitations"] / f"{first['code']}.txt").read_text(encoding="utf-8")
    assert text.startswith(f"To: {first['email']}\n")
    assert f"({first['code']})" in text
    pool = pl.read_parquet(out["pool"]).filter(pl.col("person_id") == first["person_id"])
    i = int(pool["record_ids"][0][0].split(":")[1])
    assert f"Study {i} of learning in two countries ({2005 + i}, Journal Of Tests)" in text
    partner = "United Kingdom" if first["country"] == "CHN" else "China"
    assert f"based in the partner country ({partner})" in text
    merge = pl.read_csv(out["mail_merge"])
    assert merge["code"].to_list() == [r["code"] for r in invitees]
    assert merge["email"].to_list() == [r["email"] for r in invitees]


def test_a_template_error_names_the_template(tmp_path: Path) -> None:
    out = run_all(tmp_path)
    typo = tmp_path / "letter.txt.j2"
    typo.write_text("Dear {{ invitee.fullname }},\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"letter.txt.j2: rendering UK-R1: .*fullname"):
        write_letters(tmp_path / "tables", out, typo)
    typo.write_text("Dear {{ invitee.full_name }\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"letter.txt.j2, line 1: template syntax error"):
        write_letters(tmp_path / "tables", out, typo)


# --- the pool's per-shard store ---------------------------------------------------------------

LI_ORCID = "0000-0002-1825-0097"


def write_parts(
    shards: dict[str, list[Paper]],
    root: Path,
    superseded: Sequence[tuple[str, str, str]] = (),
) -> dict[str, str]:
    """Each shard's papers as its parts (``root/shards/<shard>/``), the tables' manifests,
    ``superseded`` rows (shard, record_id, kept_shard) and the combined memberships: every
    shard's, so a superseded copy's too (as the parse stage's combined table has them)."""
    files: dict[str, list[tuple[str, Path]]] = {name: [] for name in TABLE_OF}
    for shard, papers in shards.items():
        for name, frame in tables(papers).items():
            path = root / "shards" / shard / f"{name}.parquet"
            files[name].append((shard, write_table(frame, TABLE_OF[name], path)))
    rows = [
        {"shard": s, "record_id": r, "source_file": "x.txt", "source_line": 1, "kept_shard": k}
        for s, r, k in superseded
    ]
    hidden = write_table(
        pl.DataFrame(rows, schema=schemas.SUPERSEDED.schema),
        schemas.SUPERSEDED,
        root / "tables" / "superseded.parquet",
    )
    paths = {
        name: str(
            write_parts_manifest(
                TABLE_OF[name], files[name], hidden, root / "tables" / f"{name}{PARTS_SUFFIX}"
            )
        )
        for name in ("records", "authorships", "author_address", "addresses")
    }
    members = pl.concat(pl.read_parquet(file) for _, file in files["dataset_records"]).unique()
    combined = root / "tables" / "dataset_records.parquet"
    paths["dataset_records"] = str(write_table(members, schemas.DATASET_RECORDS, combined))
    return paths


def whole(paths: dict[str, str], root: Path) -> dict[str, str]:
    """The tables' kept rows as single files: the pool computed at once."""
    single = {"dataset_records": paths["dataset_records"]}
    for name in ("records", "authorships", "author_address", "addresses"):
        table = TABLE_OF[name]
        single[name] = str(write_table(scan_table(paths[name], table), table, root / name))
    return single


def build(
    paths: dict[str, str], out: Path, store: Path | None, dataset: str = ""
) -> tuple[dict[str, int], dict[str, bytes]]:
    """build_pool's counts and the bytes of its outputs."""
    outputs = {k: out / name for k, name in POOL_OUTPUTS.items()}
    counts = stage.build_pool(
        paths,
        [RESOURCES / "institutions" / "institutions.csv"],
        [RESOURCES / "institutions" / "tiers.csv"],
        ["CHN", "GBR"],
        dataset,
        outputs,
        store,
    )
    return counts, {name: Path(path).read_bytes() for name, path in outputs.items()}


POOL_OUTPUTS = {"pool": "pool.parquet", "csv": "pool.csv", "merges": "pool_merges.csv"}


def shard_papers() -> dict[str, list[Paper]]:
    """Four shards whose people merge across shards (Li by ORCID, Hughes by name and
    institution, Zhang by e-mail); the last has no pool paper."""
    li = Author("Li, X", "Li, Xin", orcid=LI_ORCID)
    hughes = Author("Hughes, A", "Hughes, Anna")
    return {
        "0000": [
            pair_paper("WOS:01", 2010, [li], [hughes], emails=["xin.li@bnu.edu.cn"]),
            pair_paper("WOS:02", 2011, [Author("Zhang, W", "Zhang, Wei")], [Author("Moss, B")]),
        ],
        "0001": [
            pair_paper(
                "WOS:11",
                2014,
                [Author("Li, XM", "Li, Xinming", orcid=LI_ORCID)],
                [hughes],
                chn="chn-tsinghua",
                emails=["anna.hughes@ox.ac.uk"],
            ),
        ],
        "0002": [
            pair_paper(
                "WOS:21",
                2016,
                [Author("Zhang, W", "Zhang, Wei")],
                [Author("Green, T", "Green, Tom")],
                emails=["zhangwei@bnu.edu.cn"],
            ),
            pair_paper(
                "WOS:22",
                2017,
                [Author("Zhang, WEI", "Zhang, W.")],
                [Author("Ward, C", "Ward, Claire")],
                chn="chn-hunan-normal",
                gbr="gbr-leeds",
                emails=["zhangwei@bnu.edu.cn"],
            ),
        ],
        "0003": [Paper("WOS:31", 2012, [Author("Brown, A")], [Address("gbr-leeds", "GBR")])],
    }


def test_a_refresh_computes_the_changed_shard_only_and_equals_a_fresh_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    papers = shard_papers()
    store = tmp_path / "store"
    paths = write_parts(papers, tmp_path / "run1")
    passes = []
    paper_frames = stage.people_pool.paper_frames
    monkeypatch.setattr(
        stage.people_pool,
        "paper_frames",
        lambda *args, **kwargs: passes.append(1) or paper_frames(*args, **kwargs),
    )
    counts, first = build(paths, tmp_path / "out", store)
    assert (counts["shards_computed"], len(passes)) == (4, 1)  # the missing shards at once
    assert (counts["papers"], counts["people"]) == (5, 6)  # Li, Hughes, Zhang merged
    assert build(paths, tmp_path / "out", store) == ({**counts, "shards_computed": 0}, first)
    assert build(whole(paths, tmp_path / "whole1"), tmp_path / "whole_out", None)[1] == first

    # A new export file in shard 0001: Li again (by ORCID), with a new co-author. Only that
    # shard is computed; people merge across the stored shards as in a build from scratch.
    papers["0001"].append(
        pair_paper(
            "WOS:12",
            2019,
            [Author("Li, X", "Li, Xin", orcid=LI_ORCID)],
            [Author("Ward, C", "Ward, Claire")],
            gbr="gbr-leeds",
        )
    )
    paths = write_parts(papers, tmp_path / "run2")
    with caplog.at_level(logging.INFO, logger="collabscope"):
        counts, refreshed = build(paths, tmp_path / "out", store)
    assert counts["shards_computed"] == 1
    assert "pool parts of 1 of 4 shards computed" in caplog.text
    fresh_counts, fresh = build(paths, tmp_path / "fresh", tmp_path / "fresh_store")
    assert fresh_counts == {**counts, "shards_computed": 4}
    assert refreshed == fresh
    assert build(whole(paths, tmp_path / "whole2"), tmp_path / "whole_out", None)[1] == fresh
    pool = pl.read_parquet(tmp_path / "out" / "pool.parquet")
    [li] = pool.filter(pl.col("orcids").list.contains(LI_ORCID)).to_dicts()
    assert li["record_ids"] == ["WOS:01", "WOS:11", "WOS:12"]
    [claire] = pool.filter(pl.col("full_name") == "Ward, Claire").to_dicts()
    assert claire["record_ids"] == ["WOS:12", "WOS:22"]  # same name, same institution
    # The store keeps the current shards' results only.
    for table in (schemas.POOL_NODES, schemas.POOL_PAPERS):
        assert len(list((store / table.name).glob("*.parquet"))) == 4


def test_superseded_copies_are_left_out_and_a_dataset_counts_duplicates_memberships(
    tmp_path: Path,
) -> None:
    """WOS:02's copy in shard 0002 is superseded (an earlier file in shard 0000 holds it): its
    author is nobody. A record belongs to a dataset through its superseded copy's export
    too (the combined memberships). A new file that supersedes another shard's record
    computes that shard again, although its files are unchanged."""
    papers = shard_papers()
    ghost = pair_paper("WOS:02", 2011, [Author("Ghost, G", "Ghost, Gina")], [Author("Moss, B")])
    ghost.datasets = ("uk",)
    papers["0002"].append(ghost)
    papers["0001"][0].datasets = ("uk",)
    hidden = [("0002", "WOS:02", "0000")]
    store = tmp_path / "store"
    paths = write_parts(papers, tmp_path / "run1", hidden)
    counts, first = build(paths, tmp_path / "out", store)
    assert counts["shards_computed"] == 4
    assert build(whole(paths, tmp_path / "whole"), tmp_path / "whole_out", None)[1] == first
    pool = pl.read_parquet(tmp_path / "out" / "pool.parquet")
    assert counts["papers"] == 5
    assert not pool.filter(pl.col("full_name") == "Ghost, Gina").height
    [zhang] = pool.filter(pl.col("full_name") == "Zhang, Wei").to_dicts()
    assert zhang["record_ids"] == ["WOS:02", "WOS:21", "WOS:22"]

    # The uk dataset: WOS:11 (its own export), and WOS:02 through the superseded copy's.
    counts, uk = build(paths, tmp_path / "uk", store, "uk")
    assert counts["shards_computed"] == 0  # the store holds every pool paper of any dataset
    assert (
        build(whole(paths, tmp_path / "whole_uk"), tmp_path / "whole_uk_out", None, "uk")[1] == uk
    )
    pool = pl.read_parquet(tmp_path / "uk" / "pool.parquet")
    assert counts["papers"] == 2
    assert sorted(pool["record_ids"].explode().unique()) == ["WOS:02", "WOS:11"]

    # A new file in shard 0002 holds WOS:11 earlier than shard 0001's: shard 0001's copy is
    # superseded, with its files unchanged.
    later = pair_paper(
        "WOS:11", 2015, [Author("Wu, T", "Wu, Tao")], [Author("Ward, C", "Ward, Claire")]
    )
    papers["0002"].insert(0, later)
    hidden.append(("0001", "WOS:11", "0002"))
    paths = write_parts(papers, tmp_path / "run2", hidden)
    counts, refreshed = build(paths, tmp_path / "out", store)
    assert counts["shards_computed"] == 2
    assert refreshed == build(paths, tmp_path / "fresh", tmp_path / "fresh_store")[1]
    assert build(whole(paths, tmp_path / "whole2"), tmp_path / "whole2_out", None)[1] == refreshed
    pool = pl.read_parquet(tmp_path / "out" / "pool.parquet")
    assert pool.filter(pl.col("full_name") == "Wu, Tao").height == 1
    assert pool.filter(pl.col("full_name") == "Li, Xinming").height == 0


def test_shards_without_records_share_one_stored_file(tmp_path: Path) -> None:
    """Two shards of empty tables have one digest: their file is written once."""
    papers = {"0000": [], "0001": shard_papers()["0000"], "0002": []}
    paths = write_parts(papers, tmp_path / "run")
    store = tmp_path / "store"
    counts, outputs = build(paths, tmp_path / "out", store)
    assert (counts["shards_computed"], counts["papers"]) == (3, 2)
    assert len(list((store / "pool_nodes").glob("*.parquet"))) == 2
    assert build(paths, tmp_path / "out", store) == ({**counts, "shards_computed": 0}, outputs)
    assert build(whole(paths, tmp_path / "whole"), tmp_path / "whole_out", None)[1] == outputs


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_the_pool_store_is_private(tmp_path: Path, umask: int) -> None:
    paths = write_parts(shard_papers(), tmp_path / "run")
    private = tmp_path / "results" / "private"
    store = private / "parts" / "build_pool"
    old = os.umask(umask)
    try:
        build(paths, private, store)
    finally:
        os.umask(old)
    dirs = [p for p in private.rglob("*") if p.is_dir()]
    files = [p for p in private.rglob("*") if p.is_file()]
    assert {d.relative_to(private).as_posix() for d in dirs} == {
        "parts",
        "parts/build_pool",
        "parts/build_pool/pool_nodes",
        "parts/build_pool/pool_papers",
    }
    assert all(mode(d) == 0o700 for d in [private, *dirs]), [(d, oct(mode(d))) for d in dirs]
    assert len([f for f in files if f.parent.parent == store]) == 8
    assert all(mode(f) == 0o600 for f in files), [(f, oct(mode(f))) for f in files]
    names = pl.read_parquet(list((store / "pool_nodes").glob("*.parquet")))["full_name"]
    assert "Li, Xin" in names  # personal data: hence the modes
